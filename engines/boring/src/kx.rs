//! Key exchange over BoringSSL: X25519 (RFC 7748), the NIST curves P-256/P-384 (SEC 1) and
//! the hybrid X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem), with shares in TLS wire encoding.

use btls::bn::BigNumContext;
use btls::derive::Deriver;
use btls::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use btls::mlkem::{self, MlKemPrivateKey, MlKemPublicKey};
use btls::nid::Nid;
use btls::pkey::{Id, PKey, Private, Public};
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, KeyExchange, KxSecret, SharedSecret};
use meshtls_tls_core::{AlgorithmId, CryptoError};
use zeroize::Zeroizing;

use crate::backend;

/// P-256 uses `p256-x86_64-asm` (nistz256) with MULX/ADCX/ADOX where the CPU has BMI2+ADX.
const P256_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx];
/// X25519 uses fiat-crypto's `fiat_curve25519_adx_*` assembly when the CPU has BMI2+ADX.
const X25519_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx];

/// Length of an X25519 public key and shared secret (RFC 7748 §6.1).
const X25519_LEN: usize = 32;

/// DER prefix of an X25519 SubjectPublicKeyInfo (RFC 8410 §4): BoringSSL takes raw X25519
/// and Ed25519 keys through SPKI, as `btls` wraps no raw-key constructor.
const X25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
];

/// Tag of an uncompressed SEC 1 point, the only form TLS 1.3 allows (RFC 8446 §4.2.8.2).
const UNCOMPRESSED: u8 = 0x04;

/// A key-exchange group backed by BoringSSL.
#[derive(Debug)]
pub struct BoringKx {
    id: AlgorithmId,
    features: &'static [CpuFeature],
}

/// X25519 (RFC 7748).
pub static X25519: BoringKx = BoringKx {
    id: AlgorithmId::X25519,
    features: X25519_FEATURES,
};

/// ECDH over P-256 (secp256r1).
pub static P256: BoringKx = BoringKx {
    id: AlgorithmId::P256,
    features: P256_FEATURES,
};

/// ECDH over P-384 (secp384r1): portable fiat-crypto/bignum code in BoringSSL.
pub static P384: BoringKx = BoringKx {
    id: AlgorithmId::P384,
    features: &[],
};

/// X25519MLKEM768: ML-KEM-768 (FIPS 203, portable C) combined with X25519 (whose features
/// are reported).
pub static X25519_MLKEM768: BoringKx = BoringKx {
    id: AlgorithmId::X25519MlKem768,
    features: X25519_FEATURES,
};

impl Algorithm for BoringKx {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl KeyExchange for BoringKx {
    fn start(&self) -> Result<Box<dyn KxSecret>, CryptoError> {
        match self.id {
            AlgorithmId::X25519MlKem768 => Ok(Box::new(HybridSecret::generate()?)),
            id => Ok(Box::new(DhSecret::generate(id)?)),
        }
    }

    fn respond(&self, peer_share: &[u8]) -> Result<(Vec<u8>, SharedSecret), CryptoError> {
        if self.id != AlgorithmId::X25519MlKem768 {
            let ours = DhSecret::generate(self.id)?;
            let share = ours.public.clone();
            return Ok((share, Box::new(ours).complete(peer_share)?));
        }
        hybrid_respond(peer_share)
    }
}

/// The curve of a NIST group; `None` for X25519.
fn curve(id: AlgorithmId) -> Option<Nid> {
    match id {
        AlgorithmId::P256 => Some(Nid::X9_62_PRIME256V1),
        AlgorithmId::P384 => Some(Nid::SECP384R1),
        _ => None,
    }
}

// === Diffie-Hellman groups ===

/// An ephemeral Diffie-Hellman private key and its public share.
struct DhSecret {
    id: AlgorithmId,
    key: PKey<Private>,
    public: Vec<u8>,
}

impl DhSecret {
    fn generate(id: AlgorithmId) -> Result<DhSecret, CryptoError> {
        let (key, public) = match curve(id) {
            None => {
                let key = PKey::generate(Id::X25519).map_err(backend)?;
                let mut public = vec![0u8; X25519_LEN];
                let len = key.raw_public_key(&mut public).map_err(backend)?.len();
                public.truncate(len);
                (key, public)
            }
            Some(nid) => {
                let group = EcGroup::from_curve_name(nid).map_err(backend)?;
                let ec = EcKey::generate(&group).map_err(backend)?;
                let mut ctx = BigNumContext::new().map_err(backend)?;
                let public = ec
                    .public_key()
                    .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
                    .map_err(backend)?;
                (PKey::from_ec_key(ec).map_err(backend)?, public)
            }
        };
        Ok(DhSecret { id, key, public })
    }

    fn agree(&self, peer_share: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let peer = peer_key(self.id, peer_share)?;
        let mut deriver = Deriver::new(&self.key).map_err(backend)?;
        // Fails for a low-order X25519 point (all-zero output) or a mismatched key.
        deriver
            .set_peer(&peer)
            .map_err(|_| CryptoError::InvalidPeerShare)?;
        deriver
            .derive_to_vec()
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::InvalidPeerShare)
    }
}

impl KxSecret for DhSecret {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        Ok(SharedSecret::new(self.agree(peer_share)?.to_vec()))
    }
}

/// Parses and validates a peer's share.
fn peer_key(id: AlgorithmId, share: &[u8]) -> Result<PKey<Public>, CryptoError> {
    match curve(id) {
        Some(nid) => ec_public_key(nid, share)?.ok_or(CryptoError::InvalidPeerShare),
        None if share.len() == X25519_LEN => {
            let spki = [&X25519_SPKI_PREFIX[..], share].concat();
            PKey::public_key_from_der(&spki).map_err(|_| CryptoError::InvalidPeerShare)
        }
        None => Err(CryptoError::InvalidPeerShare),
    }
}

/// Parses an uncompressed SEC 1 point on curve `nid` into a public key; `Ok(None)` when the
/// bytes are not a valid point (wrong length or form, off the curve, the point at infinity).
pub(crate) fn ec_public_key(nid: Nid, bytes: &[u8]) -> Result<Option<PKey<Public>>, CryptoError> {
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
    PKey::from_ec_key(ec).map(Some).map_err(backend)
}

// === X25519MLKEM768 ===

/// ML-KEM-768 encapsulation key length (FIPS 203, Table 3).
const MLKEM768_PUBLIC_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length (FIPS 203, Table 3).
const MLKEM768_CIPHERTEXT_LEN: usize = 1088;

/// The client side of X25519MLKEM768. Its share is the ML-KEM-768 encapsulation key followed
/// by the X25519 share; the secret is the ML-KEM secret followed by the X25519 secret
/// (draft-ietf-tls-ecdhe-mlkem §3).
struct HybridSecret {
    mlkem: MlKemPrivateKey,
    x25519: DhSecret,
    public: Vec<u8>,
}

impl HybridSecret {
    fn generate() -> Result<HybridSecret, CryptoError> {
        let (mlkem_public, mlkem) =
            MlKemPrivateKey::generate(mlkem::Algorithm::MlKem768).map_err(backend)?;
        let x25519 = DhSecret::generate(AlgorithmId::X25519)?;
        let public = [mlkem_public.as_bytes(), &x25519.public].concat();
        Ok(HybridSecret {
            mlkem,
            x25519,
            public,
        })
    }
}

impl KxSecret for HybridSecret {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer_share: &[u8]) -> Result<SharedSecret, CryptoError> {
        if peer_share.len() != MLKEM768_CIPHERTEXT_LEN + X25519_LEN {
            return Err(CryptoError::InvalidPeerShare);
        }
        let (ciphertext, x25519_share) = peer_share.split_at(MLKEM768_CIPHERTEXT_LEN);
        // ML-KEM decapsulation rejects implicitly: a bad ciphertext yields an unrelated secret.
        let mlkem_secret = Zeroizing::new(
            self.mlkem
                .decapsulate(ciphertext)
                .map_err(|_| CryptoError::InvalidPeerShare)?,
        );
        let x25519_secret = self.x25519.agree(x25519_share)?;
        Ok(SharedSecret::new(
            [&mlkem_secret[..], &x25519_secret[..]].concat(),
        ))
    }
}

/// The server side of X25519MLKEM768: encapsulates to the client's key and answers with the
/// ciphertext followed by our X25519 share.
fn hybrid_respond(peer_share: &[u8]) -> Result<(Vec<u8>, SharedSecret), CryptoError> {
    if peer_share.len() != MLKEM768_PUBLIC_LEN + X25519_LEN {
        return Err(CryptoError::InvalidPeerShare);
    }
    let (encaps_key, x25519_share) = peer_share.split_at(MLKEM768_PUBLIC_LEN);
    // Parsing checks the FIPS 203 §7.2 modulus check on the encapsulation key.
    let encaps_key = MlKemPublicKey::from_slice(mlkem::Algorithm::MlKem768, encaps_key)
        .map_err(|_| CryptoError::InvalidPeerShare)?;
    let (ciphertext, mlkem_secret) = encaps_key.encapsulate().map_err(backend)?;
    let mlkem_secret = Zeroizing::new(mlkem_secret);
    let x25519 = DhSecret::generate(AlgorithmId::X25519)?;
    let x25519_secret = x25519.agree(x25519_share)?;
    let share = [&ciphertext[..], &x25519.public].concat();
    let secret = [&mlkem_secret[..], &x25519_secret[..]].concat();
    Ok((share, SharedSecret::new(secret)))
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
        // Alice's key as PKCS#8 (RFC 8410 §7): BoringSSL has no raw private-key import in btls.
        let alice = hex("302e020100300506032b656e04220420\
                         77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let alice_public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

        let key = PKey::private_key_from_pkcs8(&alice).unwrap();
        let mut public = vec![0u8; X25519_LEN];
        key.raw_public_key(&mut public).unwrap();
        assert_eq!(public, alice_public);
        let secret = Box::new(DhSecret {
            id: AlgorithmId::X25519,
            key,
            public,
        });
        let got = secret.complete(&bob_public).unwrap();
        assert_eq!(got.secret_bytes(), shared);
    }
}
