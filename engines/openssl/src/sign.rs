//! Signatures over OpenSSL: ECDSA (P-256, P-384; DER signatures), Ed25519 (RFC 8032),
//! RSASSA-PSS (salt = hash length, MGF1 with the same hash) and RSASSA-PKCS1-v1_5.
//!
//! Private keys come in as PKCS#8 DER; public keys are the subjectPublicKey bits of an SPKI.
//! SM2 lives in [`crate::sm2`].

use std::fmt;

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Signature, SigningKey};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use zeroize::Zeroizing;

use crate::{backend, kx};

/// ECDSA P-256 uses `ecp_nistz256` with MULX/ADCX/ADOX (BMI2+ADX) where the CPU has them.
const ECDSA_P256_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx];
/// RSA: `rsaz-x86_64`/`x86_64-mont5` use MULX/ADX, and OpenSSL 3.0 adds AVX-512 IFMA RSAZ
/// (`rsaz-avx512.pl`) for 2048-bit moduli.
const RSA_FEATURES: &[CpuFeature] = &[CpuFeature::Bmi2, CpuFeature::Adx, CpuFeature::Avx512];

/// Accepted RSA modulus sizes in bits, as in rustls' providers (`RSA_PKCS1_2048_8192_*`).
const RSA_BITS: std::ops::RangeInclusive<u32> = 2048..=8192;
/// Size of generated RSA keys (the trait's contract).
const RSA_GENERATE_BITS: u32 = 2048;
/// Ed25519 public key length (RFC 8032 §5.1.5).
const ED25519_PUBLIC_LEN: usize = 32;

/// A signature key type backed by OpenSSL.
#[derive(Debug)]
pub struct OpensslSignature {
    id: AlgorithmId,
    features: &'static [CpuFeature],
}

/// ECDSA over P-256.
pub static ECDSA_P256: OpensslSignature = OpensslSignature {
    id: AlgorithmId::EcdsaP256,
    features: ECDSA_P256_FEATURES,
};

/// ECDSA over P-384 (no P-384-specific assembly in OpenSSL 3.0).
pub static ECDSA_P384: OpensslSignature = OpensslSignature {
    id: AlgorithmId::EcdsaP384,
    features: &[],
};

/// Ed25519 (OpenSSL 3.0 uses its generic 51-bit field code here, no CPU-specific path).
pub static ED25519: OpensslSignature = OpensslSignature {
    id: AlgorithmId::Ed25519,
    features: &[],
};

/// RSASSA-PSS.
pub static RSA_PSS: OpensslSignature = OpensslSignature {
    id: AlgorithmId::RsaPss,
    features: RSA_FEATURES,
};

/// RSASSA-PKCS1-v1_5.
pub static RSA_PKCS1: OpensslSignature = OpensslSignature {
    id: AlgorithmId::RsaPkcs1,
    features: RSA_FEATURES,
};

impl Algorithm for OpensslSignature {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

/// The key shape of an algorithm.
#[derive(Clone, Copy)]
enum KeyType {
    Ec(Nid),
    Ed25519,
    Rsa,
}

fn key_type(id: AlgorithmId) -> Result<KeyType, CryptoError> {
    match id {
        AlgorithmId::EcdsaP256 => Ok(KeyType::Ec(Nid::X9_62_PRIME256V1)),
        AlgorithmId::EcdsaP384 => Ok(KeyType::Ec(Nid::SECP384R1)),
        AlgorithmId::Ed25519 => Ok(KeyType::Ed25519),
        AlgorithmId::RsaPss | AlgorithmId::RsaPkcs1 => Ok(KeyType::Rsa),
        _ => Err(CryptoError::Unsupported("not a signature algorithm")),
    }
}

/// The digest a scheme signs over; `None` for Ed25519, which hashes internally.
fn message_digest(scheme: SigScheme) -> Option<MessageDigest> {
    match scheme {
        SigScheme::EcdsaP256Sha256
        | SigScheme::EcdsaP384Sha256
        | SigScheme::RsaPssSha256
        | SigScheme::RsaPkcs1Sha256 => Some(MessageDigest::sha256()),
        SigScheme::EcdsaP256Sha384
        | SigScheme::EcdsaP384Sha384
        | SigScheme::RsaPssSha384
        | SigScheme::RsaPkcs1Sha384 => Some(MessageDigest::sha384()),
        SigScheme::RsaPssSha512 | SigScheme::RsaPkcs1Sha512 => Some(MessageDigest::sha512()),
        // SM2 (`crate::sm2`) hashes Z || message itself; `check_scheme` refuses it here.
        SigScheme::Ed25519 | SigScheme::Sm2Sm3 | SigScheme::Sm2Sm3Tls13 => None,
    }
}

fn is_pss(scheme: SigScheme) -> bool {
    matches!(
        scheme,
        SigScheme::RsaPssSha256 | SigScheme::RsaPssSha384 | SigScheme::RsaPssSha512
    )
}

/// Refuses a scheme of another key type: the key (or public key) is of the wrong type for it.
fn check_scheme(id: AlgorithmId, scheme: SigScheme) -> Result<(), CryptoError> {
    if scheme.algorithm() != id {
        return Err(CryptoError::WrongKeyType);
    }
    Ok(())
}

impl Signature for OpensslSignature {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        let key = PKey::private_key_from_pkcs8(pkcs8_der).map_err(|_| CryptoError::InvalidKey)?;
        let matches = match key_type(self.id)? {
            KeyType::Ec(nid) => {
                key.id() == Id::EC
                    && key.ec_key().map_err(backend)?.group().curve_name() == Some(nid)
            }
            KeyType::Ed25519 => key.id() == Id::ED25519,
            KeyType::Rsa => key.id() == Id::RSA,
        };
        if !matches {
            return Err(CryptoError::WrongKeyType);
        }
        if key.id() == Id::RSA && !RSA_BITS.contains(&key.bits()) {
            return Err(CryptoError::Unsupported(
                "RSA key size outside 2048..=8192 bits",
            ));
        }
        let public = public_key_bits(&key)?;
        Ok(Box::new(OpensslSigningKey {
            id: self.id,
            key,
            public,
        }))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = match key_type(self.id)? {
            KeyType::Ec(nid) => {
                let group = EcGroup::from_curve_name(nid).map_err(backend)?;
                PKey::from_ec_key(EcKey::generate(&group).map_err(backend)?).map_err(backend)?
            }
            KeyType::Ed25519 => PKey::generate_ed25519().map_err(backend)?,
            KeyType::Rsa => PKey::from_rsa(Rsa::generate(RSA_GENERATE_BITS).map_err(backend)?)
                .map_err(backend)?,
        };
        key.private_key_to_pkcs8()
            .map(Zeroizing::new)
            .map_err(backend)
    }

    fn verify(
        &self,
        scheme: SigScheme,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        check_scheme(self.id, scheme)?;
        let key = public_key_from_bits(key_type(self.id)?, public_key)?;
        let valid = match message_digest(scheme) {
            None => Verifier::new_without_digest(&key)
                .map_err(backend)?
                .verify_oneshot(signature, message),
            Some(md) => {
                let mut verifier = Verifier::new(md, &key).map_err(backend)?;
                if is_pss(scheme) {
                    verifier
                        .set_rsa_padding(Padding::PKCS1_PSS)
                        .map_err(backend)?;
                    verifier
                        .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                        .map_err(backend)?;
                    verifier.set_rsa_mgf1_md(md).map_err(backend)?;
                }
                verifier.update(message).map_err(backend)?;
                verifier.verify(signature)
            }
        };
        // A malformed signature is an error in OpenSSL, a wrong one is `false`: both are bad.
        match valid {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(CryptoError::BadSignature),
        }
    }
}

/// The subjectPublicKey bits of a key.
fn public_key_bits<T: HasPublic>(key: &PKeyRef<T>) -> Result<Vec<u8>, CryptoError> {
    if key.id() == Id::EC {
        let ec = key.ec_key().map_err(backend)?;
        let mut ctx = BigNumContext::new().map_err(backend)?;
        ec.public_key()
            .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
            .map_err(backend)
    } else if key.id() == Id::RSA {
        key.rsa()
            .and_then(|rsa| rsa.public_key_to_der_pkcs1())
            .map_err(backend)
    } else {
        key.raw_public_key().map_err(backend)
    }
}

/// Builds a verification key from subjectPublicKey bits.
fn public_key_from_bits(kind: KeyType, bits: &[u8]) -> Result<PKey<Public>, CryptoError> {
    match kind {
        KeyType::Ec(nid) => kx::ec_public_key(nid, bits)?.ok_or(CryptoError::InvalidKey),
        KeyType::Ed25519 => {
            if bits.len() != ED25519_PUBLIC_LEN {
                return Err(CryptoError::InvalidKey);
            }
            PKey::public_key_from_raw_bytes(bits, Id::ED25519).map_err(|_| CryptoError::InvalidKey)
        }
        KeyType::Rsa => {
            let rsa = Rsa::public_key_from_der_pkcs1(bits).map_err(|_| CryptoError::InvalidKey)?;
            if !RSA_BITS.contains(&rsa.n().num_bits().unsigned_abs()) {
                return Err(CryptoError::Unsupported(
                    "RSA key size outside 2048..=8192 bits",
                ));
            }
            PKey::from_rsa(rsa).map_err(backend)
        }
    }
}

/// A loaded private key, with the algorithm it was loaded for.
struct OpensslSigningKey {
    id: AlgorithmId,
    key: PKey<Private>,
    public: Vec<u8>,
}

impl fmt::Debug for OpensslSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpensslSigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SigningKey for OpensslSigningKey {
    fn schemes(&self) -> &[SigScheme] {
        self.id.schemes()
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_scheme(self.id, scheme)?;
        match message_digest(scheme) {
            None => Signer::new_without_digest(&self.key)
                .and_then(|mut signer| signer.sign_oneshot_to_vec(message))
                .map_err(backend),
            Some(md) => {
                let mut signer = Signer::new(md, &self.key).map_err(backend)?;
                if is_pss(scheme) {
                    signer
                        .set_rsa_padding(Padding::PKCS1_PSS)
                        .map_err(backend)?;
                    signer
                        .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                        .map_err(backend)?;
                    signer.set_rsa_mgf1_md(md).map_err(backend)?;
                }
                signer.update(message).map_err(backend)?;
                signer.sign_to_vec().map_err(backend)
            }
        }
    }

    fn public_key(&self) -> Vec<u8> {
        self.public.clone()
    }
}
