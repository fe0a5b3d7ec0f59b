//! Ephemeral Diffie-Hellman key exchange over OpenSSL: X25519 (RFC 7748), the NIST curves
//! P-256/P-384 (SEC 1) and curveSM2 (GB/T 32918.5; plain ECDH as RFC 8998 §3.1 uses it),
//! with shares in TLS wire encoding (RFC 8446 §4.2.8.2). For the EC groups the shared
//! secret is the x-coordinate of the shared point (SEC 1 §3.3.1).
//!
//! curveSM2 cannot use `EVP_PKEY_derive`: OpenSSL 3.0 turns every EC key on the SM2 curve
//! into an `SM2` key (`EVP_PKEY_assign`), whose provider has no key exchange. Its ECDH is
//! therefore `EC_POINT_mul` on the validated peer point, which for a single point and
//! scalar is OpenSSL's constant-time Montgomery ladder (`ossl_ec_scalar_mul_ladder`), the
//! same call OpenSSL's own ECDH makes (`ecdh_simple_compute_key`; the cofactor is 1).

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, KeyExchange, KxSecret, SharedSecret};
use meshtls_tls_core::{AlgorithmId, CryptoError};
use openssl::bn::{BigNum, BigNumContext};
use openssl::derive::Deriver;
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};

use crate::backend;

/// P-256 uses `ecp_nistz256` with MULX/ADCX/ADOX (BMI2+ADX) where the CPU has them.
const P256_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx];
/// X25519's ladder uses `x25519_fe64_*` (MULX/ADCX/ADOX, `x25519-x86_64.pl`) on BMI2+ADX.
const X25519_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx];

/// Length of an X25519 public key and shared secret (RFC 7748 §6.1).
const X25519_LEN: usize = 32;

/// Tag of an uncompressed SEC 1 point, the only form TLS 1.3 allows (RFC 8446 §4.2.8.2).
const UNCOMPRESSED: u8 = 0x04;

/// A key-exchange group backed by OpenSSL.
#[derive(Debug)]
pub struct OpensslKx {
    id: AlgorithmId,
    features: &'static [CpuFeature],
}

/// X25519 (RFC 7748).
pub static X25519: OpensslKx = OpensslKx {
    id: AlgorithmId::X25519,
    features: X25519_FEATURES,
};

/// ECDH over P-256 (secp256r1).
pub static P256: OpensslKx = OpensslKx {
    id: AlgorithmId::P256,
    features: P256_FEATURES,
};

/// ECDH over P-384 (secp384r1). OpenSSL 3.0 has no P-384-specific assembly.
pub static P384: OpensslKx = OpensslKx {
    id: AlgorithmId::P384,
    features: &[],
};

/// ECDH over curveSM2 (TLS group 41, RFC 8998). OpenSSL 3.0 runs it on its generic
/// prime-field code: it has no curve-specific code for SM2.
pub static CURVESM2: OpensslKx = OpensslKx {
    id: AlgorithmId::CurveSm2,
    features: &[],
};

impl Algorithm for OpensslKx {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl KeyExchange for OpensslKx {
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError> {
        if self.id == AlgorithmId::CurveSm2 {
            let group = EcGroup::from_curve_name(Nid::SM2).map_err(backend)?;
            let key = EcKey::generate(&group).map_err(backend)?;
            let public = uncompressed(&key)?;
            return Ok(Box::new(Sm2KxSecret { key, public }));
        }
        let (key, public) = match curve(self.id) {
            None => {
                let key = PKey::generate_x25519().map_err(backend)?;
                let public = key.raw_public_key().map_err(backend)?;
                (key, public)
            }
            Some(nid) => {
                let group = EcGroup::from_curve_name(nid).map_err(backend)?;
                let ec = EcKey::generate(&group).map_err(backend)?;
                let public = uncompressed(&ec)?;
                (PKey::from_ec_key(ec).map_err(backend)?, public)
            }
        };
        Ok(Box::new(OpensslKxSecret {
            id: self.id,
            key,
            public,
        }))
    }
}

/// The curve of an EC group; `None` for X25519.
fn curve(id: AlgorithmId) -> Option<Nid> {
    match id {
        AlgorithmId::P256 => Some(Nid::X9_62_PRIME256V1),
        AlgorithmId::P384 => Some(Nid::SECP384R1),
        AlgorithmId::CurveSm2 => Some(Nid::SM2),
        _ => None,
    }
}

/// An ephemeral private key and its public share.
struct OpensslKxSecret {
    id: AlgorithmId,
    key: PKey<Private>,
    public: Vec<u8>,
}

impl KxSecret for OpensslKxSecret {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        let peer = peer_key(self.id, peer_share)?;
        let mut deriver = Deriver::new(&self.key).map_err(backend)?;
        // Fails for a low-order X25519 point (all-zero output) or a mismatched key.
        deriver
            .set_peer(&peer)
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        let secret = deriver
            .derive_to_vec()
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        Ok(SharedSecret::new(secret))
    }
}

/// The uncompressed SEC 1 encoding of a key's public point.
fn uncompressed(key: &EcKey<Private>) -> Result<Vec<u8>, CryptoError> {
    let mut ctx = BigNumContext::new().map_err(backend)?;
    key.public_key()
        .to_bytes(key.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
        .map_err(backend)
}

/// An ephemeral curveSM2 key (kept as an `EC_KEY`: see the module header).
struct Sm2KxSecret {
    key: EcKey<Private>,
    public: Vec<u8>,
}

impl KxSecret for Sm2KxSecret {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        let peer = ec_point_key(Nid::SM2, peer_share)?.ok_or(CryptoError::InvalidPeerShare)?;
        let group = self.key.group();
        let mut ctx = BigNumContext::new().map_err(backend)?;
        let mut shared = EcPoint::new(group).map_err(backend)?;
        shared
            .mul2(group, peer.public_key(), self.key.private_key(), &mut ctx)
            .map_err(backend)?;
        // Unreachable for a validated point of order n and a private key in [1, n-1].
        if shared.is_infinity(group) {
            return Err(CryptoError::InvalidPeerShare);
        }
        // Secure-heap numbers are cleared when freed (`BN_clear_free`).
        let mut x = BigNum::new_secure().map_err(backend)?;
        let mut y = BigNum::new_secure().map_err(backend)?;
        shared
            .affine_coordinates(group, &mut x, &mut y, &mut ctx)
            .map_err(backend)?;
        let len = i32::try_from(group.degree().div_ceil(8))
            .map_err(|_| CryptoError::Unsupported("field size out of range"))?;
        Ok(SharedSecret::new(x.to_vec_padded(len).map_err(backend)?))
    }
}

/// Parses and validates a peer's share.
fn peer_key(id: AlgorithmId, share: &[u8]) -> Result<PKey<Public>, CryptoError> {
    match curve(id) {
        Some(nid) => ec_public_key(nid, share)?.ok_or(CryptoError::InvalidPeerShare),
        None if share.len() == X25519_LEN => PKey::public_key_from_raw_bytes(share, Id::X25519)
            .map_err(|_| CryptoError::InvalidPeerShare),
        None => Err(CryptoError::InvalidPeerShare),
    }
}

/// Parses an uncompressed SEC 1 point on curve `nid` into a public key; `Ok(None)` when the
/// bytes are not a valid point (wrong length or form, off the curve, the point at infinity).
/// On the SM2 curve OpenSSL 3.0 makes it an `SM2` key (see the module header).
pub(crate) fn ec_public_key(nid: Nid, bytes: &[u8]) -> Result<Option<PKey<Public>>, CryptoError> {
    match ec_point_key(nid, bytes)? {
        Some(ec) => PKey::from_ec_key(ec).map(Some).map_err(backend),
        None => Ok(None),
    }
}

/// [`ec_public_key`] as an `EC_KEY`.
fn ec_point_key(nid: Nid, bytes: &[u8]) -> Result<Option<EcKey<Public>>, CryptoError> {
    let group = EcGroup::from_curve_name(nid).map_err(backend)?;
    let field_len = (group.degree() as usize).div_ceil(8);
    // Exactly one uncompressed point: this also refuses the one-byte point at infinity.
    if bytes.len() != 1 + 2 * field_len || bytes[0] != UNCOMPRESSED {
        return Ok(None);
    }
    let mut ctx = BigNumContext::new().map_err(backend)?;
    // oct2point refuses points off the curve; check_key refuses infinity and wrong order.
    let Ok(point) = EcPoint::from_bytes(&group, bytes, &mut ctx) else {
        return Ok(None);
    };
    let Ok(ec) = EcKey::from_public_key(&group, &point) else {
        return Ok(None);
    };
    if ec.check_key().is_err() {
        return Ok(None);
    }
    Ok(Some(ec))
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

    /// RFC 7748 §6.1: Alice's private key with Bob's public key gives the shared secret K.
    #[test]
    fn x25519_rfc7748_known_answer() {
        let alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let alice_public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

        let key = PKey::private_key_from_raw_bytes(&alice, Id::X25519).unwrap();
        let secret = Box::new(OpensslKxSecret {
            id: AlgorithmId::X25519,
            public: key.raw_public_key().unwrap(),
            key,
        });
        assert_eq!(secret.public_key(), alice_public);
        let got = secret.complete(&bob_public).unwrap();
        assert_eq!(got.secret_bytes(), shared);
    }
}
