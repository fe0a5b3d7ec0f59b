//! Key exchange over aws-lc-rs: ephemeral ECDH (X25519, P-256, P-384) and X25519MLKEM768.
//!
//! Shares use the TLS wire encoding: 32 raw bytes for X25519 (RFC 7748), the uncompressed
//! SEC1 point for the NIST curves (RFC 8446 §4.2.8.2). aws-lc-rs also parses SPKI, compressed
//! and hybrid points; TLS allows none of them, so those are refused here. Malformed shares,
//! points off the curve and all-zero X25519 results map to `InvalidPeerShare`.
//!
//! X25519MLKEM768 follows draft-ietf-tls-ecdhe-mlkem §3: the client share is the ML-KEM-768
//! encapsulation key followed by an X25519 share, the server share the ML-KEM ciphertext
//! followed by an X25519 share, and the secret the ML-KEM secret followed by the X25519 one.

use aws_lc_rs::agreement::{
    self as lib, ParsedPublicKey, ParsedPublicKeyFormat, PrivateKey, PublicKey, UnparsedPublicKey,
};
use aws_lc_rs::kem::{Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_768};
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, KeyExchange, KxSecret, SharedSecret};
use meshtls_tls_core::{AlgorithmId, CryptoError};

/// s2n-bignum `curve25519_x25519` uses MULX/ADX, its `_alt` twin runs without
/// (`third_party/s2n-bignum/s2n-bignum_aws-lc.h`, `use_s2n_bignum_alt`).
const X25519_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// nistz256 asm tests BMI2+ADX (`OPENSSL_ia32cap_P & 0x80100`) and s2n-bignum
/// `p256_montjscalarmul` uses MULX/ADX (`crypto/fipsmodule/ec/p256-nistz.c`).
const P256_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// P-384 field arithmetic is s2n-bignum's, MULX/ADX or `_alt` (`crypto/fipsmodule/ec/p384.c`).
const P384_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// mlkem-native's x86-64 backend needs AVX2+BMI2 (`crypto/fipsmodule/ml_kem/
/// mlkem_native_config.h`); the X25519 half is as [`X25519_CPU`].
const HYBRID_CPU: &[&[CpuFeature]] = &[
    &[CpuFeature::Avx2, CpuFeature::Bmi2, CpuFeature::Adx],
    &[CpuFeature::Avx2, CpuFeature::Bmi2],
    &[CpuFeature::Bmi2, CpuFeature::Adx],
];

/// ML-KEM-768 encapsulation key and ciphertext sizes (FIPS 203 §8, table 3).
const MLKEM768_EK_LEN: usize = 1184;
const MLKEM768_CT_LEN: usize = 1088;
/// An X25519 public key (RFC 7748 §5).
const X25519_LEN: usize = 32;

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

pub(crate) static X25519MLKEM768: Hybrid = Hybrid;

// === impl Group ===

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
        Ok(Box::new(Ecdh::generate(self.alg)?))
    }
}

/// Our ephemeral ECDH private key and its public share.
struct Ecdh {
    key: PrivateKey,
    public: PublicKey,
}

impl Ecdh {
    fn generate(alg: &'static lib::Algorithm) -> Result<Ecdh, CryptoError> {
        Ecdh::from_key(PrivateKey::generate(alg).map_err(crate::backend)?)
    }

    fn from_key(key: PrivateKey) -> Result<Ecdh, CryptoError> {
        let public = key.compute_public_key().map_err(crate::backend)?;
        Ok(Ecdh { key, public })
    }

    fn agree(&self, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        let unparsed = UnparsedPublicKey::new(self.key.algorithm(), peer_share);
        let peer =
            ParsedPublicKey::try_from(&unparsed).map_err(|_| CryptoError::InvalidPeerShare)?;
        if !matches!(
            peer.format(),
            ParsedPublicKeyFormat::Raw | ParsedPublicKeyFormat::Uncompressed
        ) {
            return Err(CryptoError::InvalidPeerShare);
        }
        lib::agree(&self.key, peer, CryptoError::InvalidPeerShare, |secret| {
            Ok(SharedSecret::new(secret.to_vec()))
        })
    }
}

impl KxSecret for Ecdh {
    fn public_key(&self) -> &[u8] {
        self.public.as_ref()
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        self.agree(peer_share)
    }
}

// === impl Hybrid ===

/// X25519MLKEM768 (TLS `NamedGroup` 0x11EC).
#[derive(Debug)]
pub(crate) struct Hybrid;

impl Algorithm for Hybrid {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::X25519MlKem768
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(HYBRID_CPU)
    }
}

impl KeyExchange for Hybrid {
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError> {
        let mlkem = DecapsulationKey::generate(&ML_KEM_768).map_err(crate::backend)?;
        let ek = mlkem
            .encapsulation_key()
            .and_then(|ek| ek.key_bytes())
            .map_err(crate::backend)?;
        let x25519 = Ecdh::generate(&lib::X25519)?;
        let share = [ek.as_ref(), x25519.public.as_ref()].concat();
        Ok(Box::new(HybridSecret {
            mlkem,
            x25519,
            share,
        }))
    }

    /// The server side: encapsulates to the client's ML-KEM key and answers its X25519 share.
    fn respond(&self, peer_share: &[u8]) -> Result<(Vec<u8>, SharedSecret), CryptoError> {
        if peer_share.len() != MLKEM768_EK_LEN + X25519_LEN {
            return Err(CryptoError::InvalidPeerShare);
        }
        let (ek, x25519_peer) = peer_share.split_at(MLKEM768_EK_LEN);
        // Both steps only fail on a bad client key (FIPS 203 §7.2 input checks).
        let (ct, mlkem_secret) = EncapsulationKey::new(&ML_KEM_768, ek)
            .map_err(|_| CryptoError::InvalidPeerShare)?
            .encapsulate()
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        let x25519 = Ecdh::generate(&lib::X25519)?;
        let x25519_secret = x25519.agree(x25519_peer)?;
        let share = [ct.as_ref(), x25519.public.as_ref()].concat();
        let secret = [mlkem_secret.as_ref(), x25519_secret.secret_bytes()].concat();
        Ok((share, SharedSecret::new(secret)))
    }
}

/// The client's ML-KEM decapsulation key and X25519 key, with the share they make.
struct HybridSecret {
    mlkem: DecapsulationKey,
    x25519: Ecdh,
    share: Vec<u8>,
}

impl KxSecret for HybridSecret {
    fn public_key(&self) -> &[u8] {
        &self.share
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        if peer_share.len() != MLKEM768_CT_LEN + X25519_LEN {
            return Err(CryptoError::InvalidPeerShare);
        }
        let (ct, x25519_peer) = peer_share.split_at(MLKEM768_CT_LEN);
        // ML-KEM rejects implicitly: a forged ciphertext yields an unrelated secret, not an error.
        let mlkem_secret = self
            .mlkem
            .decapsulate(Ciphertext::from(ct))
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        let x25519_secret = self.x25519.agree(x25519_peer)?;
        let secret = [mlkem_secret.as_ref(), x25519_secret.secret_bytes()].concat();
        Ok(SharedSecret::new(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 7748 §6.1, both directions.
    #[test]
    fn x25519_rfc7748_vector() {
        let alice_priv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
        let alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
        let bob_priv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
        let bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
        let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

        let load = |private: &str| {
            Ecdh::from_key(PrivateKey::from_private_key(&lib::X25519, &hex(private)).unwrap())
                .unwrap()
        };
        let (alice, bob) = (load(alice_priv), load(bob_priv));
        assert_eq!(alice.public.as_ref(), hex(alice_pub));
        assert_eq!(bob.public.as_ref(), hex(bob_pub));
        assert_eq!(alice.agree(&hex(bob_pub)).unwrap().secret_bytes(), shared);
        assert_eq!(bob.agree(&hex(alice_pub)).unwrap().secret_bytes(), shared);
    }

    /// SPKI and compressed forms parse in aws-lc-rs but are not TLS shares.
    #[test]
    fn non_tls_encodings_refused() {
        let ours = Ecdh::generate(&lib::ECDH_P256).unwrap();
        let peer = Ecdh::generate(&lib::ECDH_P256).unwrap();
        let mut compressed = peer.public.as_ref()[..33].to_vec();
        compressed[0] = 0x02 | (peer.public.as_ref()[64] & 1);
        let got = ours.agree(&compressed);
        assert!(matches!(got, Err(CryptoError::InvalidPeerShare)));
        assert!(ours.agree(peer.public.as_ref()).is_ok());
    }
}
