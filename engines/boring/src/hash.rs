//! SHA-2 hashes and HMAC over BoringSSL.
//!
//! Incremental hashing uses BoringSSL's `SHA256_CTX`/`SHA512_CTX` (`btls::sha`): plain
//! structs, so forking a transcript hash is a copy and nothing can fail. HMAC goes through
//! BoringSSL's `HMAC_CTX`, its own construction.

use btls::hash::MessageDigest;
use btls::hmac::Hmac;
use btls::sha;
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Digest, Hash, HashContext, HmacKey};
use meshtls_tls_core::AlgorithmId;
use zeroize::Zeroizing;

/// `sha256_block_data_order` uses SHA-NI where present (`sha256-x86_64.pl`).
const SHA256_FEATURES: &[CpuFeature] = &[CpuFeature::ShaNi];
/// SHA-384 runs the SHA-512 block function, whose fastest x86-64 path uses AVX (on Intel).
const SHA384_FEATURES: &[CpuFeature] = &[CpuFeature::Avx];

/// A SHA-2 hash with HMAC, backed by BoringSSL.
#[derive(Debug)]
pub struct BoringHash {
    id: AlgorithmId,
    features: &'static [CpuFeature],
}

/// SHA-256 (FIPS 180-4).
pub static SHA256: BoringHash = BoringHash {
    id: AlgorithmId::Sha256,
    features: SHA256_FEATURES,
};

/// SHA-384 (FIPS 180-4).
pub static SHA384: BoringHash = BoringHash {
    id: AlgorithmId::Sha384,
    features: SHA384_FEATURES,
};

impl Algorithm for BoringHash {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl BoringHash {
    fn message_digest(&self) -> MessageDigest {
        match self.id {
            AlgorithmId::Sha384 => MessageDigest::sha384(),
            _ => MessageDigest::sha256(),
        }
    }
}

impl Hash for BoringHash {
    fn start(&self) -> Box<dyn HashContext> {
        match self.id {
            AlgorithmId::Sha384 => Box::new(Context::Sha384(sha::Sha384::new())),
            _ => Box::new(Context::Sha256(sha::Sha256::new())),
        }
    }

    fn hmac_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(BoringHmacKey {
            key: Zeroizing::new(key.to_vec()),
            md: self.message_digest(),
        })
    }
}

/// An incremental SHA-2 state.
#[derive(Clone)]
enum Context {
    Sha256(sha::Sha256),
    Sha384(sha::Sha384),
}

impl HashContext for Context {
    fn update(&mut self, data: &[u8]) {
        match self {
            Context::Sha256(h) => h.update(data),
            Context::Sha384(h) => h.update(data),
        }
    }

    fn fork_finish(&self) -> Digest {
        Box::new(self.clone()).finish()
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Digest {
        match *self {
            Context::Sha256(h) => Digest::new(&h.finish()),
            Context::Sha384(h) => Digest::new(&h.finish()),
        }
    }
}

/// An HMAC key over one hash. `HMAC_CTX` cannot be shared between threads, so the key is
/// kept (zeroed on drop) and a context is keyed per call.
struct BoringHmacKey {
    key: Zeroizing<Vec<u8>>,
    md: MessageDigest,
}

impl HmacKey for BoringHmacKey {
    /// # Panics
    /// Only if BoringSSL cannot allocate an `HMAC_CTX`: HMAC cannot fail on its input.
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Digest {
        let mut hmac = Hmac::init(&self.key, &self.md).expect("BoringSSL failed to start an HMAC");
        for part in std::iter::once(first)
            .chain(middle.iter().copied())
            .chain([last])
        {
            hmac.update(part).expect("BoringSSL HMAC update failed");
        }
        let tag = hmac.finalize().expect("BoringSSL HMAC finish failed");
        Digest::new(&tag)
    }

    fn tag_len(&self) -> usize {
        self.md.size()
    }
}
