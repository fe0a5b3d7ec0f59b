//! Composition of one rustls `CryptoProvider` from a [`Selection`], through one adapter
//! layer from tls-core's engine traits to rustls' crypto traits (not one provider per
//! combination of engines).
//!
//! - [`aead`]: record protection (TLS 1.3, TLS 1.2 AES-GCM and ChaCha20-Poly1305);
//! - [`hash`]: hash, HMAC, HKDF and the TLS 1.2 PRF;
//! - [`kx`]: key-exchange groups, including the X25519MLKEM768 KEM;
//! - [`sign`]: private-key loading and signing; [`verify`]: signature verification;
//! - [`suites`]: the TLS 1.3 suites (with RFC 8998's SM suites) and the TLS 1.2 ECDHE + AEAD
//!   suites; [`rfc8998`]: the SM code points rustls does not name.
//!
//! rustls wants `&'static` algorithm objects; adapters are interned ([`intern`]) so the
//! memory kept is bounded by the engines x algorithms combinations, not by providers built.
//!
//! Randomness comes from the engine chosen for `aes-128-gcm` (the suite most connections
//! negotiate), so a policy naming one engine for it gets that engine's generator too.

mod aead;
mod hash;
mod intern;
mod kx;
pub mod rfc8998;
mod sign;
mod suites;
mod verify;

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, GetRandomFailed, SecureRandom};
use rustls::{Error, OtherError, PeerMisbehaved};

use crate::engine::Engine;
use crate::error::CryptoError;
use crate::registry::Selection;

/// The rustls provider running on the engines `selection` chose.
///
/// Suites appear when both their AEAD and hash are selected; groups and signature schemes
/// when their algorithm is.
pub fn provider(selection: &Selection) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: suites::cipher_suites(selection),
        kx_groups: kx::groups(selection),
        signature_verification_algorithms: verify::algorithms(selection),
        secure_random: random(selection.random_engine()),
        key_provider: sign::key_provider(selection),
    })
}

/// An engine's random source as rustls'.
#[derive(Debug)]
struct Random(&'static Engine);

fn random(engine: &'static Engine) -> &'static Random {
    intern::intern(engine.name.to_owned(), || Random(engine))
}

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.0.random.fill(buf).map_err(|error| {
            tracing::error!(engine = self.0.name, %error, "random source failed");
            GetRandomFailed
        })
    }
}

/// An engine failure as a rustls error: a bad peer share is the peer's fault; anything else
/// is kept as its source.
fn crypto_error(error: CryptoError) -> Error {
    match error {
        CryptoError::InvalidPeerShare => PeerMisbehaved::InvalidKeyShare.into(),
        other => Error::Other(OtherError(Arc::new(other))),
    }
}
