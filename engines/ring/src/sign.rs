//! Signatures over *ring*: PKCS#8 key loading and generation, signing and verification.
//!
//! ECDSA signatures are ASN.1 DER as TLS uses them. *ring* signs P-256 only with SHA-256 and
//! P-384 only with SHA-384 (it verifies all four combinations), and cannot generate RSA keys.

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Algorithm, Signature, SigningKey};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};
use ring::error::KeyRejected;
use ring::rand::SystemRandom;
use ring::signature::{self as lib, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use zeroize::Zeroizing;

/// nistz256 `_adx` routines need MULX+ADCX/ADOX (`crypto/fipsmodule/ec/p256-nistz.c`).
const P256_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// P-384 runs on `bn_mul_mont_nohw`, portable code (`crypto/fipsmodule/bn/internal.h`).
const P384_CPU: &[&[CpuFeature]] = &[];

/// Ed25519 base-point multiplication uses the fiat ADX field code when ADX+BMI2 are present
/// (`src/ec/curve25519/ops.rs`, `has_fe25519_adx`).
const ED25519_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

/// RSA exponentiation uses `bn_mulx4x_mont` and the mont5 MULX code given ADX+BMI2
/// (`src/arithmetic/limbs/x86_64/mont.rs`).
const RSA_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Bmi2, CpuFeature::Adx]];

pub(crate) static ECDSA_P256: Ecdsa = Ecdsa {
    id: AlgorithmId::EcdsaP256,
    signing: &lib::ECDSA_P256_SHA256_ASN1_SIGNING,
    signs: &[SigScheme::EcdsaP256Sha256],
    cpu: P256_CPU,
};

pub(crate) static ECDSA_P384: Ecdsa = Ecdsa {
    id: AlgorithmId::EcdsaP384,
    signing: &lib::ECDSA_P384_SHA384_ASN1_SIGNING,
    signs: &[SigScheme::EcdsaP384Sha384],
    cpu: P384_CPU,
};

pub(crate) static ED25519: Ed25519 = Ed25519;

pub(crate) static RSA_PSS: Rsa = Rsa {
    id: AlgorithmId::RsaPss,
};

pub(crate) static RSA_PKCS1: Rsa = Rsa {
    id: AlgorithmId::RsaPkcs1,
};

/// *ring*'s verification algorithm for each scheme (RSA: 2048 to 8192-bit moduli).
/// `None` for SM2, which this library lacks.
fn verification_alg(scheme: SigScheme) -> Option<&'static dyn lib::VerificationAlgorithm> {
    Some(match scheme {
        SigScheme::EcdsaP256Sha256 => &lib::ECDSA_P256_SHA256_ASN1,
        SigScheme::EcdsaP256Sha384 => &lib::ECDSA_P256_SHA384_ASN1,
        SigScheme::EcdsaP384Sha384 => &lib::ECDSA_P384_SHA384_ASN1,
        SigScheme::EcdsaP384Sha256 => &lib::ECDSA_P384_SHA256_ASN1,
        SigScheme::Ed25519 => &lib::ED25519,
        SigScheme::RsaPssSha256 => &lib::RSA_PSS_2048_8192_SHA256,
        SigScheme::RsaPssSha384 => &lib::RSA_PSS_2048_8192_SHA384,
        SigScheme::RsaPssSha512 => &lib::RSA_PSS_2048_8192_SHA512,
        SigScheme::RsaPkcs1Sha256 => &lib::RSA_PKCS1_2048_8192_SHA256,
        SigScheme::RsaPkcs1Sha384 => &lib::RSA_PKCS1_2048_8192_SHA384,
        SigScheme::RsaPkcs1Sha512 => &lib::RSA_PKCS1_2048_8192_SHA512,
        SigScheme::Sm2Sm3 | SigScheme::Sm2Sm3Tls13 => return None,
    })
}

/// *ring*'s padding-and-hash for an RSA scheme; `None` for non-RSA schemes.
fn rsa_encoding(scheme: SigScheme) -> Option<&'static dyn lib::RsaEncoding> {
    match scheme {
        SigScheme::RsaPssSha256 => Some(&lib::RSA_PSS_SHA256),
        SigScheme::RsaPssSha384 => Some(&lib::RSA_PSS_SHA384),
        SigScheme::RsaPssSha512 => Some(&lib::RSA_PSS_SHA512),
        SigScheme::RsaPkcs1Sha256 => Some(&lib::RSA_PKCS1_SHA256),
        SigScheme::RsaPkcs1Sha384 => Some(&lib::RSA_PKCS1_SHA384),
        SigScheme::RsaPkcs1Sha512 => Some(&lib::RSA_PKCS1_SHA512),
        _ => None,
    }
}

fn verify(
    id: AlgorithmId,
    scheme: SigScheme,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let alg = verification_alg(scheme).filter(|_| scheme.algorithm() == id);
    let alg = alg.ok_or(CryptoError::WrongKeyType)?;
    lib::UnparsedPublicKey::new(alg, public_key)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// Whether a key of type `id` that signs `offered` can sign with `scheme`.
fn check_scheme(
    id: AlgorithmId,
    offered: &[SigScheme],
    scheme: SigScheme,
) -> Result<(), CryptoError> {
    if scheme.algorithm() != id {
        Err(CryptoError::WrongKeyType)
    } else if offered.contains(&scheme) {
        Ok(())
    } else {
        Err(CryptoError::Unsupported(
            "ring signs this key type with another hash only",
        ))
    }
}

/// *ring* names the reason only in `Display`; `WrongAlgorithm` is its key-type mismatch
/// (the PKCS#8 AlgorithmIdentifier, curve included, differs).
fn rejected(e: KeyRejected) -> CryptoError {
    if e.to_string() == "WrongAlgorithm" {
        CryptoError::WrongKeyType
    } else {
        CryptoError::InvalidKey
    }
}

fn pkcs8(doc: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(doc.to_vec())
}

// === impl Ecdsa ===

/// ECDSA over one NIST curve.
#[derive(Debug)]
pub(crate) struct Ecdsa {
    id: AlgorithmId,
    signing: &'static lib::EcdsaSigningAlgorithm,
    signs: &'static [SigScheme],
    cpu: &'static [&'static [CpuFeature]],
}

impl Algorithm for Ecdsa {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(self.cpu)
    }
}

impl Signature for Ecdsa {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        let key = EcdsaKeyPair::from_pkcs8(self.signing, pkcs8_der, &SystemRandom::new())
            .map_err(rejected)?;
        Ok(Box::new(EcdsaKey {
            id: self.id,
            key,
            signs: self.signs,
        }))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let doc = EcdsaKeyPair::generate_pkcs8(self.signing, &SystemRandom::new())
            .map_err(crate::backend)?;
        Ok(pkcs8(doc.as_ref()))
    }

    fn verify(
        &self,
        scheme: SigScheme,
        pk: &[u8],
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        verify(self.id, scheme, pk, msg, sig)
    }
}

#[derive(Debug)]
struct EcdsaKey {
    id: AlgorithmId,
    key: EcdsaKeyPair,
    signs: &'static [SigScheme],
}

impl SigningKey for EcdsaKey {
    fn schemes(&self) -> &[SigScheme] {
        self.signs
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_scheme(self.id, self.signs, scheme)?;
        let sig = self
            .key
            .sign(&SystemRandom::new(), message)
            .map_err(crate::backend)?;
        Ok(sig.as_ref().to_vec())
    }

    fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }
}

// === impl Ed25519 ===

/// Ed25519 (RFC 8032).
#[derive(Debug)]
pub(crate) struct Ed25519;

impl Algorithm for Ed25519 {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::Ed25519
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(ED25519_CPU)
    }
}

impl Signature for Ed25519 {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        // PKCS#8 v1 (OpenSSL, rcgen) carries no public key; v2 ones are checked against it.
        let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_der).map_err(rejected)?;
        Ok(Box::new(Ed25519Key(key)))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(crate::backend)?;
        Ok(pkcs8(doc.as_ref()))
    }

    fn verify(
        &self,
        scheme: SigScheme,
        pk: &[u8],
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        verify(AlgorithmId::Ed25519, scheme, pk, msg, sig)
    }
}

#[derive(Debug)]
struct Ed25519Key(Ed25519KeyPair);

impl SigningKey for Ed25519Key {
    fn schemes(&self) -> &[SigScheme] {
        &[SigScheme::Ed25519]
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_scheme(AlgorithmId::Ed25519, self.schemes(), scheme)?;
        Ok(self.0.sign(message).as_ref().to_vec())
    }

    fn public_key(&self) -> Vec<u8> {
        self.0.public_key().as_ref().to_vec()
    }
}

// === impl Rsa ===

/// RSA with one padding (PSS or PKCS#1 v1.5); both load the same PKCS#8 keys.
#[derive(Debug)]
pub(crate) struct Rsa {
    id: AlgorithmId,
}

impl Algorithm for Rsa {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(RSA_CPU)
    }
}

impl Signature for Rsa {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        let key = RsaKeyPair::from_pkcs8(pkcs8_der).map_err(rejected)?;
        Ok(Box::new(RsaKey { id: self.id, key }))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        Err(CryptoError::Unsupported("ring cannot generate RSA keys"))
    }

    fn verify(
        &self,
        scheme: SigScheme,
        pk: &[u8],
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        verify(self.id, scheme, pk, msg, sig)
    }
}

#[derive(Debug)]
struct RsaKey {
    id: AlgorithmId,
    key: RsaKeyPair,
}

impl SigningKey for RsaKey {
    fn schemes(&self) -> &[SigScheme] {
        self.id.schemes()
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_scheme(self.id, self.schemes(), scheme)?;
        let encoding = rsa_encoding(scheme).ok_or(CryptoError::WrongKeyType)?;
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(encoding, &SystemRandom::new(), message, &mut sig)
            .map_err(crate::backend)?;
        Ok(sig)
    }

    fn public_key(&self) -> Vec<u8> {
        self.key.public().as_ref().to_vec()
    }
}
