//! The small algorithm traits every engine implements, and the [`Engine`] table it exports.
//!
//! An engine is data: static tables of algorithm objects (in the spirit of rustls'
//! `CryptoProvider`). tls-core never names an engine; the binary's wiring code registers them
//! in a [`crate::Registry`], and the composition layer adapts the chosen ones to rustls.

use std::fmt::Debug;

use crate::algorithm::{AlgorithmId, SigScheme};
use crate::cpu::CpuFeatures;
use crate::error::CryptoError;

/// Length of every AEAD nonce in the catalogue (RFC 5116 recommends 12 bytes; TLS uses it).
pub const AEAD_NONCE_LEN: usize = 12;
/// Length of every AEAD tag in the catalogue.
pub const AEAD_TAG_LEN: usize = 16;
/// The longest hash output in the catalogue (SHA-512 for RSA schemes' internal use excluded).
pub const MAX_DIGEST_LEN: usize = 64;

/// Facts common to every algorithm object.
pub trait Algorithm: Send + Sync + Debug {
    /// Which catalogue entry this object implements.
    fn id(&self) -> AlgorithmId;

    /// The CPU features this implementation uses on this machine (empty: portable code).
    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::NONE
    }

    /// The name of the code path that runs here, for engines that dispatch among their own
    /// kernels (`sm4=aesni-avx2,ghash=vpclmulqdq`); `None` when the library decides internally.
    fn code_path(&self) -> Option<String> {
        None
    }
}

/// An AEAD algorithm (AES-GCM, ChaCha20-Poly1305, ...).
pub trait Aead: Algorithm {
    /// Expands a key; `key` must be `self.id().aead_key_len()` bytes.
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError>;
}

/// An expanded AEAD key.
pub trait AeadKey: Send + Sync {
    /// Encrypts `in_out` in place and returns the tag.
    fn seal_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError>;

    /// Checks `tag` and decrypts `in_out` in place. On failure `in_out` holds no plaintext.
    fn open_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError>;
}

/// A hash output of at most [`MAX_DIGEST_LEN`] bytes.
#[derive(Clone, Copy)]
pub struct Digest {
    buf: [u8; MAX_DIGEST_LEN],
    len: usize,
}

impl Digest {
    /// Copies `bytes` (at most [`MAX_DIGEST_LEN`]) into a digest.
    ///
    /// # Panics
    /// If `bytes` is longer than [`MAX_DIGEST_LEN`]: a programming error in an engine.
    pub fn new(bytes: &[u8]) -> Digest {
        let mut buf = [0u8; MAX_DIGEST_LEN];
        buf[..bytes.len()].copy_from_slice(bytes);
        Digest {
            buf,
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.as_ref() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A hash function with HMAC over it (HKDF is built from the HMAC by tls-core).
pub trait Hash: Algorithm {
    /// Starts an incremental hash.
    fn start(&self) -> Box<dyn HashContext>;

    /// Hashes `data` in one call.
    fn hash(&self, data: &[u8]) -> Digest {
        let mut ctx = self.start();
        ctx.update(data);
        ctx.finish()
    }

    /// Makes an HMAC key over this hash.
    fn hmac_key(&self, key: &[u8]) -> Box<dyn HmacKey>;
}

/// An incremental hash computation.
pub trait HashContext: Send + Sync {
    /// Adds `data`.
    fn update(&mut self, data: &[u8]);
    /// The digest of what was added so far, leaving `self` usable.
    fn fork_finish(&self) -> Digest;
    /// A copy of the current state.
    fn fork(&self) -> Box<dyn HashContext>;
    /// The digest of everything added.
    fn finish(self: Box<Self>) -> Digest;
}

/// A keyed HMAC.
pub trait HmacKey: Send + Sync {
    /// HMAC over the concatenation of `first`, every item of `middle`, and `last`.
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Digest;
    /// The tag length (the hash length).
    fn tag_len(&self) -> usize;
}

/// A key-exchange group.
pub trait KeyExchange: Algorithm {
    /// Makes an ephemeral key pair.
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError>;

    /// The responder side in one step: for KEM-based groups this encapsulates to `peer_share`;
    /// for Diffie-Hellman groups it is `start()` then `complete()`.
    /// Returns (our share, shared secret).
    fn respond(&self, peer_share: &[u8]) -> Result<(Vec<u8>, SharedSecret), CryptoError> {
        let ours = self.start()?;
        let share = ours.public_key().to_vec();
        Ok((share, ours.complete(peer_share)?))
    }
}

/// An ephemeral key-exchange private key.
pub trait KxSecret: Send + Sync {
    /// Our public share, in TLS wire encoding.
    fn public_key(&self) -> &[u8];
    /// Completes with the peer's share (TLS wire encoding).
    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError>;
}

/// A shared secret, zeroed on drop.
pub struct SharedSecret(zeroize::Zeroizing<Vec<u8>>);

impl SharedSecret {
    /// Wraps secret bytes.
    pub fn new(bytes: Vec<u8>) -> SharedSecret {
        SharedSecret(zeroize::Zeroizing::new(bytes))
    }

    /// The secret bytes.
    pub fn secret_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A signature key type: loads signing keys and verifies signatures.
pub trait Signature: Algorithm {
    /// Loads a PKCS#8 DER private key of this key type.
    /// Returns [`CryptoError::WrongKeyType`] when the key is of another type.
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError>;

    /// Generates a fresh private key of this type (RSA: 2048 bits) as PKCS#8 DER.
    /// Engines that cannot generate this type return [`CryptoError::Unsupported`]; callers
    /// then take a key from another engine (keys are interchangeable as PKCS#8).
    fn generate_key(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError>;

    /// Verifies `signature` over `message` with `public_key`, the subjectPublicKey bits of an
    /// SPKI (EC: uncompressed point; RSA: RSAPublicKey DER; Ed25519: 32 bytes).
    fn verify(
        &self,
        scheme: SigScheme,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;
}

/// A loaded private signing key.
pub trait SigningKey: Send + Sync + Debug {
    /// The schemes this key can sign with, most preferred first.
    fn schemes(&self) -> &[SigScheme];
    /// Signs `message` (the engine hashes it as `scheme` says).
    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// The public key in the form [`Signature::verify`] takes (subjectPublicKey bits).
    fn public_key(&self) -> Vec<u8>;
}

/// A cryptographically secure random source.
pub trait SecureRandom: Send + Sync + Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError>;
}

/// What an engine exports: its name and its algorithm tables.
#[derive(Debug)]
pub struct Engine {
    /// Short name used in policies (`openssl`, `boring`, `ring`, `aws-lc`, `sm`).
    pub name: &'static str,
    /// Human-readable library and version (`OpenSSL 3.0.19 27 Jan 2026`).
    pub version: fn() -> String,
    /// AEAD algorithms.
    pub aeads: &'static [&'static dyn Aead],
    /// Hash algorithms (with their HMAC).
    pub hashes: &'static [&'static dyn Hash],
    /// Key-exchange groups.
    pub key_exchanges: &'static [&'static dyn KeyExchange],
    /// Signature key types.
    pub signatures: &'static [&'static dyn Signature],
    /// The engine's random source.
    pub random: &'static dyn SecureRandom,
    /// A native TLS stack, if the engine brings one (OpenSSL and BoringSSL do).
    pub stack: Option<&'static dyn crate::stack::TlsStack>,
}

impl Engine {
    /// Every algorithm object of the engine, for listing.
    pub fn algorithms(&self) -> Vec<&'static dyn Algorithm> {
        let mut all: Vec<&'static dyn Algorithm> = Vec::new();
        all.extend(self.aeads.iter().map(|a| *a as &dyn Algorithm));
        all.extend(self.hashes.iter().map(|a| *a as &dyn Algorithm));
        all.extend(self.key_exchanges.iter().map(|a| *a as &dyn Algorithm));
        all.extend(self.signatures.iter().map(|a| *a as &dyn Algorithm));
        all
    }

    /// The implementation of `id`, if this engine has one.
    pub fn find(&self, id: AlgorithmId) -> Option<&'static dyn Algorithm> {
        self.algorithms().into_iter().find(|a| a.id() == id)
    }

    /// The AEAD `id`, if present.
    pub fn aead(&self, id: AlgorithmId) -> Option<&'static dyn Aead> {
        self.aeads.iter().copied().find(|a| a.id() == id)
    }

    /// The hash `id`, if present.
    pub fn hash(&self, id: AlgorithmId) -> Option<&'static dyn Hash> {
        self.hashes.iter().copied().find(|a| a.id() == id)
    }

    /// The key exchange `id`, if present.
    pub fn key_exchange(&self, id: AlgorithmId) -> Option<&'static dyn KeyExchange> {
        self.key_exchanges.iter().copied().find(|a| a.id() == id)
    }

    /// The signature algorithm `id`, if present.
    pub fn signature(&self, id: AlgorithmId) -> Option<&'static dyn Signature> {
        self.signatures.iter().copied().find(|a| a.id() == id)
    }
}
