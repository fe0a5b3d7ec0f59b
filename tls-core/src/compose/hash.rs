//! rustls hashing, HMAC, HKDF and the TLS 1.2 PRF over an engine's [`Hash`].
//!
//! HKDF (RFC 5869) and the PRF (RFC 5246 §5) are rustls' generic constructions over the
//! engine's HMAC, so tls-core does no crypto of its own. SM3 gets HKDF-SM3, the key schedule
//! of RFC 8998's suites, the same way.

use rustls::crypto::hash::{self, HashAlgorithm};
use rustls::crypto::hmac;
use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;

use super::intern::intern;
use crate::algorithm::AlgorithmId;
use crate::engine::{Engine, Hash, HashContext, HmacKey};

/// SM3's rustls hash id. TLS assigns SM3 no HashAlgorithm code; 7 is the hash byte of
/// `sm2sig_sm3` (0x0708) and is reserved in the TLS 1.2 registry, so no other hash has it.
///
/// It must never be SHA-256's: rustls keys its precomputed empty-input hash and its
/// cross-suite resumption checks on this id, so an SM3 suite claiming SHA-256 would derive
/// wrong TLS 1.3 secrets (and mix transcripts with SHA-256 suites).
pub(crate) const SM3_HASH_ALGORITHM: HashAlgorithm = HashAlgorithm::Unknown(7);

/// The rustls name of a catalogue hash.
pub(crate) fn hash_algorithm(id: AlgorithmId) -> Option<HashAlgorithm> {
    match id {
        AlgorithmId::Sha256 => Some(HashAlgorithm::SHA256),
        AlgorithmId::Sha384 => Some(HashAlgorithm::SHA384),
        AlgorithmId::Sm3 => Some(SM3_HASH_ALGORITHM),
        _ => None,
    }
}

/// An engine's hash seen as a rustls hash and HMAC.
pub(crate) struct HashAdapter {
    hash: &'static dyn Hash,
    algorithm: HashAlgorithm,
    output_len: usize,
}

/// The interned hash adapter for `engine`'s `hash`; `None` for hashes rustls does not name.
pub(crate) fn adapter(
    engine: &'static Engine,
    hash: &'static dyn Hash,
) -> Option<&'static HashAdapter> {
    let id = hash.id();
    let algorithm = hash_algorithm(id)?;
    let output_len = id.hash_len()?;
    Some(intern(format!("{}/{id}", engine.name), || HashAdapter {
        hash,
        algorithm,
        output_len,
    }))
}

/// The interned HKDF over `engine`'s HMAC-`hash`.
pub(crate) fn hkdf(
    engine: &'static Engine,
    hash: &'static dyn Hash,
) -> Option<&'static HkdfUsingHmac<'static>> {
    let hmac: &'static dyn hmac::Hmac = adapter(engine, hash)?;
    Some(intern(format!("{}/{}", engine.name, hash.id()), || {
        HkdfUsingHmac(hmac)
    }))
}

/// The interned TLS 1.2 PRF over `engine`'s HMAC-`hash`.
pub(crate) fn prf(
    engine: &'static Engine,
    hash: &'static dyn Hash,
) -> Option<&'static PrfUsingHmac<'static>> {
    let hmac: &'static dyn hmac::Hmac = adapter(engine, hash)?;
    Some(intern(format!("{}/{}", engine.name, hash.id()), || {
        PrfUsingHmac(hmac)
    }))
}

impl hash::Hash for HashAdapter {
    fn start(&self) -> Box<dyn hash::Context> {
        Box::new(Context(self.hash.start()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(self.hash.hash(data).as_ref())
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }
}

impl hmac::Hmac for HashAdapter {
    fn with_key(&self, key: &[u8]) -> Box<dyn hmac::Key> {
        Box::new(Key(self.hash.hmac_key(key)))
    }

    fn hash_output_len(&self) -> usize {
        self.output_len
    }
}

struct Context(Box<dyn HashContext>);

impl hash::Context for Context {
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(self.0.fork_finish().as_ref())
    }

    fn fork(&self) -> Box<dyn hash::Context> {
        Box::new(Context(self.0.fork()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(self.0.finish().as_ref())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

struct Key(Box<dyn HmacKey>);

impl hmac::Key for Key {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> hmac::Tag {
        hmac::Tag::new(self.0.sign_concat(first, middle, last).as_ref())
    }

    fn tag_len(&self) -> usize {
        self.0.tag_len()
    }
}
