//! Ephemeral ECDH (X25519, P-256, P-384) over *ring*'s `agreement`.
//!
//! Shares use the TLS wire encoding: 32 raw bytes for X25519 (RFC 7748), the uncompressed
//! SEC1 point for the NIST curves (RFC 8446 §4.2.8.2). *ring* rejects malformed shares,
//! points off the curve and all-zero X25519 results; all map to `InvalidPeerShare`.

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, KeyExchange, KxSecret, SharedSecret};
use meshtls_tls_core::{AlgorithmId, CryptoError};
use ring::agreement::{self as lib, EphemeralPrivateKey, PublicKey, UnparsedPublicKey};
use ring::rand::SystemRandom;

/// The fiat-crypto ADX field code needs ADX+BMI1+BMI2 (`src/ec/curve25519/ops.rs`,
/// `has_fe25519_adx`).
const X25519_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// nistz256 takes its `_adx` (MULX+ADCX/ADOX) routines when both are present
/// (`crypto/fipsmodule/ec/p256-nistz.c`).
const P256_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// P-384 runs on `bn_mul_mont_nohw`, portable code (`crypto/fipsmodule/bn/internal.h`).
const P384_CPU: &[&[CpuFeature]] = &[];

pub(crate) static X25519: Group = Group {
    id: AlgorithmId::X25519,
    alg: &lib::X25519,
    cpu: X25519_CPU,
};

pub(crate) static P256: Group = Group {
    id: AlgorithmId::P256,
    alg: &lib::ECDH_P256,
    cpu: P256_CPU,
};

pub(crate) static P384: Group = Group {
    id: AlgorithmId::P384,
    alg: &lib::ECDH_P384,
    cpu: P384_CPU,
};

/// One ECDH group.
#[derive(Debug)]
pub(crate) struct Group {
    id: AlgorithmId,
    alg: &'static lib::Algorithm,
    cpu: &'static [&'static [CpuFeature]],
}

impl Algorithm for Group {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(self.cpu)
    }
}

impl KeyExchange for Group {
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError> {
        let key = EphemeralPrivateKey::generate(self.alg, &SystemRandom::new())
            .map_err(crate::backend)?;
        let public = key.compute_public_key().map_err(crate::backend)?;
        Ok(Box::new(Secret {
            alg: self.alg,
            key,
            public,
        }))
    }
}

/// Our ephemeral private key and its public share.
struct Secret {
    alg: &'static lib::Algorithm,
    key: EphemeralPrivateKey,
    public: PublicKey,
}

impl KxSecret for Secret {
    fn public_key(&self) -> &[u8] {
        self.public.as_ref()
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        let peer = UnparsedPublicKey::new(self.alg, peer_share);
        lib::agree_ephemeral(self.key, &peer, |secret| SharedSecret::new(secret.to_vec()))
            .map_err(|_| CryptoError::InvalidPeerShare)
    }
}
