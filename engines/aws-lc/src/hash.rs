//! SHA-256/384 and their HMACs over aws-lc-rs' `digest` and `hmac`.

use aws_lc_rs::{digest, hmac};
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Digest, Hash, HashContext, HmacKey};
use meshtls_tls_core::AlgorithmId;

/// sha256-x86_64 has SHA-NI (`_hw`), AVX and SSSE3 entry points, picked in that order
/// (`crypto/fipsmodule/sha/internal.h`).
const SHA256_CPU: &[&[CpuFeature]] = &[&[CpuFeature::ShaNi], &[CpuFeature::Avx]];

/// sha512-x86_64 has only AVX and portable entry points (`crypto/fipsmodule/sha/internal.h`).
const SHA384_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Avx]];

pub(crate) static SHA256: HashAlg = HashAlg {
    id: AlgorithmId::Sha256,
    digest: &digest::SHA256,
    hmac: &hmac::HMAC_SHA256,
    cpu: SHA256_CPU,
};

pub(crate) static SHA384: HashAlg = HashAlg {
    id: AlgorithmId::Sha384,
    digest: &digest::SHA384,
    hmac: &hmac::HMAC_SHA384,
    cpu: SHA384_CPU,
};

/// One aws-lc-rs hash with its HMAC.
#[derive(Debug)]
pub(crate) struct HashAlg {
    id: AlgorithmId,
    digest: &'static digest::Algorithm,
    hmac: &'static hmac::Algorithm,
    cpu: &'static [&'static [CpuFeature]],
}

impl Algorithm for HashAlg {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(self.cpu)
    }
}

impl Hash for HashAlg {
    fn start(&self) -> Box<dyn HashContext> {
        Box::new(Context(digest::Context::new(self.digest)))
    }

    fn hmac_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(Key(hmac::Key::new(*self.hmac, key)))
    }
}

/// An incremental hash; aws-lc-rs' context is `Clone`, which gives `fork`.
struct Context(digest::Context);

impl HashContext for Context {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn fork_finish(&self) -> Digest {
        Digest::new(self.0.clone().finish().as_ref())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(Context(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> Digest {
        Digest::new(self.0.finish().as_ref())
    }
}

/// An HMAC key.
struct Key(hmac::Key);

impl HmacKey for Key {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Digest {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(first);
        for part in middle {
            ctx.update(part);
        }
        ctx.update(last);
        Digest::new(ctx.sign().as_ref())
    }

    fn tag_len(&self) -> usize {
        self.0.algorithm().digest_algorithm().output_len()
    }
}
