//! SHA-2 and SM3 hashes, and HMAC over them, with OpenSSL.
//!
//! Incremental SHA-2 uses OpenSSL's `SHA256_CTX`/`SHA512_CTX` (`openssl::sha`): plain
//! structs, so forking a transcript hash is a copy and nothing can fail. SM3 has no such
//! struct in the `openssl` crate and goes through an `EVP_MD_CTX` (`openssl::hash::Hasher`),
//! forked with `EVP_MD_CTX_copy_ex`. HMAC goes through `EVP_DigestSign` with an HMAC
//! `EVP_PKEY`, OpenSSL's own construction.
//!
//! Every SM3 context is a copy of one initialised context: initialising from `EVP_sm3()`
//! makes OpenSSL 3 fetch the provider's implementation by name each time, which costs
//! several microseconds, more than hashing a short message; a copy reuses the fetched one.

use std::sync::OnceLock;

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Digest, Hash, HashContext, HmacKey};
use meshtls_tls_core::AlgorithmId;
use openssl::hash::{Hasher, MessageDigest};
use openssl::pkey::{PKey, Private};
use openssl::sha;
use openssl::sign::Signer;

/// `sha256_block_data_order` uses SHA-NI where present (`sha256-x86_64.pl`); SHA-512 (and so
/// SHA-384) has no SHA-NI path, only AVX2 (`sha512-x86_64.pl`).
const SHA256_FEATURES: &[CpuFeature] = &[CpuFeature::ShaNi];
/// SHA-384 runs the SHA-512 block function, whose fastest x86-64 path is AVX2.
const SHA384_FEATURES: &[CpuFeature] = &[CpuFeature::Avx2];

/// A hash with HMAC, backed by OpenSSL.
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

/// SM3 (GB/T 32905-2016). OpenSSL 3.0's SM3 is portable C only (`crypto/sm3/sm3.c`).
pub static SM3: OpensslHash = OpensslHash {
    id: AlgorithmId::Sm3,
    features: &[],
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
            AlgorithmId::Sm3 => MessageDigest::sm3(),
            _ => MessageDigest::sha256(),
        }
    }
}

impl Hash for OpensslHash {
    /// # Panics
    /// SM3 only, if OpenSSL cannot allocate a digest context: the trait is infallible.
    fn start(&self) -> Box<dyn HashContext> {
        match self.id {
            AlgorithmId::Sha384 => Box::new(Context::Sha384(sha::Sha384::new())),
            AlgorithmId::Sm3 => Box::new(Context::Evp(sm3_initialised().clone())),
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

/// The initialised SM3 context every SM3 hash starts as a copy of (see the module header).
///
/// # Panics
/// If OpenSSL cannot allocate or fetch SM3 the first time: the `Hash` trait is infallible.
fn sm3_initialised() -> &'static Hasher {
    static SM3_START: OnceLock<Hasher> = OnceLock::new();
    SM3_START.get_or_init(|| {
        Hasher::new(MessageDigest::sm3()).expect("OpenSSL failed to start an SM3 hash")
    })
}

/// An incremental hash state.
#[derive(Clone)]
enum Context {
    Sha256(sha::Sha256),
    Sha384(sha::Sha384),
    /// An `EVP_MD_CTX` (SM3); cloning copies it.
    Evp(Hasher),
}

impl HashContext for Context {
    /// # Panics
    /// SM3 only, if OpenSSL reports a failure hashing in memory, which it cannot on valid state.
    fn update(&mut self, data: &[u8]) {
        match self {
            Context::Sha256(h) => h.update(data),
            Context::Sha384(h) => h.update(data),
            Context::Evp(h) => h.update(data).expect("OpenSSL hash update failed"),
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
            Context::Evp(mut h) => Digest::new(&h.finish().expect("OpenSSL hash finish failed")),
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
