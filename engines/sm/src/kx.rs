//! ECDH on curveSM2 for TLS 1.3 (RFC 8998 `curveSM2`, group 41): uncompressed SEC1 shares,
//! shared secret = the x-coordinate. Invalid, off-curve and identity points are rejected.

use meshtls_tls_core::cpu::CpuFeatures;
use meshtls_tls_core::engine::{Algorithm, KeyExchange, KxSecret, SharedSecret};
use meshtls_tls_core::{AlgorithmId, CryptoError};

use crate::sm2::scalar::Sm2Path;
use crate::sm2::{EphemeralSecret, PublicKey};

pub(crate) static CURVE_SM2: Group = Group;

/// The curveSM2 group.
#[derive(Debug)]
pub(crate) struct Group;

impl Algorithm for Group {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::CurveSm2
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::paths::features(Sm2Path::detect().cpu_features())
    }

    fn code_path(&self) -> Option<String> {
        Some(format!("sm2={}", Sm2Path::detect().name()))
    }
}

impl KeyExchange for Group {
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError> {
        let key = EphemeralSecret::generate().map_err(crate::crypto_error)?;
        let share = key.public_key_bytes();
        Ok(Box::new(Secret { key, share }))
    }
}

/// Our ephemeral private key and its public share.
struct Secret {
    key: EphemeralSecret,
    share: [u8; 65],
}

impl KxSecret for Secret {
    fn public_key(&self) -> &[u8] {
        &self.share
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        // TLS 1.3 shares are uncompressed points (RFC 8446 §4.2.8.2, RFC 8998 §3.2).
        let peer =
            PublicKey::from_uncompressed(peer_share).map_err(|_| CryptoError::InvalidPeerShare)?;
        let secret = self
            .key
            .diffie_hellman(&peer)
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        Ok(SharedSecret::new(secret.as_bytes().to_vec()))
    }
}
