//! Key types the CA issues, and fresh key generation as PKCS#8 v1.
//!
//! Keys are generated with aws-lc-rs directly (not through rcgen) so that Ed25519 keys are
//! PKCS#8 v1: BoringSSL's PKCS#8 parser rejects the v2 form rcgen would produce. SM2 keys come
//! from RustCrypto's `sm2` (see `sm2_pki`), as rcgen and aws-lc-rs know no SM2.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
};
use rustls_pki_types::PrivatePkcs8KeyDer;

use crate::error::CaError;
use crate::sm2_pki;

/// A key (and signature) type for CAs and SVIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyType {
    /// ECDSA over P-256, signing with SHA-256.
    EcdsaP256,
    /// ECDSA over P-384, signing with SHA-384.
    EcdsaP384,
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// RSA with a 2048-bit modulus, signing certificates with PKCS#1 v1.5 and SHA-256.
    Rsa2048,
    /// SM2 (GB/T 32918), signing certificates with SM2-with-SM3 and the default signer ID
    /// `1234567812345678`.
    Sm2,
}

impl KeyType {
    /// Every key type, in display order.
    pub const ALL: &'static [KeyType] = &[
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
        KeyType::Rsa2048,
        KeyType::Sm2,
    ];

    /// The stable name used on the command line (`ecdsa-p256`, `rsa-2048`).
    pub const fn name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Sm2 => "sm2",
        }
    }

    /// The rcgen algorithm a key of this type signs with; `None` for SM2, which rcgen lacks.
    pub(crate) fn rcgen_algorithm(self) -> Option<&'static rcgen::SignatureAlgorithm> {
        match self {
            KeyType::EcdsaP256 => Some(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyType::EcdsaP384 => Some(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyType::Ed25519 => Some(&rcgen::PKCS_ED25519),
            KeyType::Rsa2048 => Some(&rcgen::PKCS_RSA_SHA256),
            KeyType::Sm2 => None,
        }
    }

    /// Generates a fresh key of this type.
    pub(crate) fn generate(self) -> Result<Key, CaError> {
        let failed = |_| CaError::KeyGeneration(self);
        let der: Vec<u8> = match self {
            KeyType::EcdsaP256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeyType::EcdsaP384 => EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeyType::Ed25519 => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            KeyType::Rsa2048 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(failed)?;
                let der: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
            KeyType::Sm2 => {
                let key = sm2_pki::generate();
                let pkcs8 = sm2_pki::to_pkcs8(&key)?;
                return Ok(Key {
                    pair: KeyPair::Sm2(key),
                    pkcs8,
                });
            }
        };
        Key::from_pkcs8(self, PrivatePkcs8KeyDer::from(der))
    }
}

/// A private key, in the form the library that signs with it takes.
pub(crate) enum KeyPair {
    /// ECDSA, Ed25519 and RSA keys: rcgen signs with them.
    Rcgen(rcgen::KeyPair),
    /// SM2 keys: RustCrypto's `sm2` signs with them.
    Sm2(sm2::SecretKey),
}

impl KeyPair {
    /// The public key as a DER `SubjectPublicKeyInfo`.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, CaError> {
        match self {
            KeyPair::Rcgen(pair) => Ok(rcgen::PublicKeyData::subject_public_key_info(pair)),
            KeyPair::Sm2(key) => sm2_pki::spki_der(&key.public_key()),
        }
    }
}

/// A key pair with its PKCS#8 v1 encoding.
pub(crate) struct Key {
    /// The key to sign or certify with.
    pub(crate) pair: KeyPair,
    /// The key as PKCS#8 v1 DER.
    pub(crate) pkcs8: PrivatePkcs8KeyDer<'static>,
}

impl Key {
    /// Loads a PKCS#8 key of `key_type`.
    pub(crate) fn from_pkcs8(
        key_type: KeyType,
        pkcs8: PrivatePkcs8KeyDer<'static>,
    ) -> Result<Key, CaError> {
        let pair = match key_type.rcgen_algorithm() {
            Some(alg) => KeyPair::Rcgen(rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, alg)?),
            None => KeyPair::Sm2(sm2_pki::from_pkcs8(pkcs8.secret_pkcs8_der())?),
        };
        Ok(Key { pair, pkcs8 })
    }

    /// The key as a PEM `PRIVATE KEY` (PKCS#8) block.
    pub(crate) fn pem(&self) -> Result<String, CaError> {
        pkcs8_pem(&self.pkcs8)
    }
}

/// A PKCS#8 key as a PEM `PRIVATE KEY` block (LF line endings).
pub(crate) fn pkcs8_pem(key: &PrivatePkcs8KeyDer<'_>) -> Result<String, CaError> {
    crate::x509::to_pem("PRIVATE KEY", key.secret_pkcs8_der())
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key-type name that is not one of [`KeyType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key type {0:?} (known: ecdsa-p256, ecdsa-p384, ed25519, rsa-2048, sm2)")]
pub struct UnknownKeyType(pub String);

impl FromStr for KeyType {
    type Err = UnknownKeyType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        KeyType::ALL
            .iter()
            .copied()
            .find(|k| k.name() == lower)
            .ok_or_else(|| UnknownKeyType(s.to_owned()))
    }
}
