//! SHA-2 hashes and HMAC over OpenSSL.
//!
//! Incremental hashing uses OpenSSL's `SHA256_CTX`/`SHA512_CTX` (`openssl::sha`): plain
//! structs, so forking a transcript hash is a copy and nothing can fail. HMAC goes through
//! `EVP_DigestSign` with an HMAC `EVP_PKEY`, OpenSSL's own construction.

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Digest, Hash, HashContext, HmacKey};
use meshtls_tls_core::AlgorithmId;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sha;
use openssl::sign::Signer;

/// `sha256_block_data_order` uses SHA-NI where present (`sha256-x86_64.pl`); SHA-512 (and so
/// SHA-384) has no SHA-NI path, only AVX2 (`sha512-x86_64.pl`).
const SHA256_FEATURES: &[CpuFeature] = &[CpuFeature::ShaNi];
/// SHA-384 runs the SHA-512 block function, whose fastest x86-64 path is AVX2.
const SHA384_FEATURES: &[CpuFeature] = &[CpuFeature::Avx2];

/// A SHA-2 hash with HMAC, backed by OpenSSL.
#[derive(Debug)]
pub struct OpensslHash {
    id: AlgorithmId,
    features: &'static [CpuFeature],
}

/// SHA-256 (FIPS 180-4).
pub static SHA256: OpensslHash = OpensslHash {
    id: AlgorithmId::Sha256,
    features: SHA256_FEATURES,
};

/// SHA-384 (FIPS 180-4).
pub static SHA384: OpensslHash = OpensslHash {
    id: AlgorithmId::Sha384,
    features: SHA384_FEATURES,
};

impl Algorithm for OpensslHash {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl OpensslHash {
    fn message_digest(&self) -> MessageDigest {
        match self.id {
            AlgorithmId::Sha384 => MessageDigest::sha384(),
            _ => MessageDigest::sha256(),
        }
    }
}

impl Hash for OpensslHash {
    fn start(&self) -> Box<dyn HashContext> {
        match self.id {
            AlgorithmId::Sha384 => Box::new(Context::Sha384(sha::Sha384::new())),
            _ => Box::new(Context::Sha256(sha::Sha256::new())),
        }
    }

    fn hmac_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(OpensslHmacKey {
            key: hmac_pkey(key),
            md: self.message_digest(),
            tag_len: self.message_digest().size(),
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

/// Makes the HMAC key object.
///
/// An empty key is given as one zero byte: HMAC zero-pads keys to the block size (RFC 2104
/// §2), so both are the same key, and OpenSSL 3.0 refuses zero-length raw keys.
///
/// # Panics
/// Only if OpenSSL cannot allocate: the trait is infallible and any key bytes are valid.
fn hmac_pkey(key: &[u8]) -> PKey<Private> {
    let key = if key.is_empty() { &[0u8][..] } else { key };
    PKey::hmac(key).expect("OpenSSL failed to allocate an HMAC key")
}

/// An HMAC key over one hash.
struct OpensslHmacKey {
    key: PKey<Private>,
    md: MessageDigest,
    tag_len: usize,
}

impl HmacKey for OpensslHmacKey {
    /// # Panics
    /// Only if OpenSSL cannot allocate a signing context: HMAC cannot fail on its input.
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Digest {
        let mut signer = Signer::new(self.md, &self.key).expect("OpenSSL failed to start an HMAC");
        for part in std::iter::once(first)
            .chain(middle.iter().copied())
            .chain([last])
        {
            signer.update(part).expect("OpenSSL HMAC update failed");
        }
        let tag = signer.sign_to_vec().expect("OpenSSL HMAC finish failed");
        Digest::new(&tag)
    }

    fn tag_len(&self) -> usize {
        self.tag_len
    }
}
