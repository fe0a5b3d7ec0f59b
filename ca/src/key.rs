//! Key types the CA issues, and fresh key generation as PKCS#8 v1.
//!
//! Keys are generated with aws-lc-rs directly (not through rcgen) so that Ed25519 keys are
//! PKCS#8 v1: BoringSSL's PKCS#8 parser rejects the v2 form rcgen would produce.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
};
use rustls_pki_types::PrivatePkcs8KeyDer;

use crate::error::CaError;

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
}

impl KeyType {
    /// Every key type, in display order.
    pub const ALL: &'static [KeyType] = &[
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
        KeyType::Rsa2048,
    ];

    /// The stable name used on the command line (`ecdsa-p256`, `rsa-2048`).
    pub const fn name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa2048 => "rsa-2048",
        }
    }

    /// The algorithm a CA of this key type signs certificates with.
    pub(crate) fn signature_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            KeyType::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        }
    }

    /// Generates a fresh key: the rcgen key pair to sign or certify with, and its PKCS#8 v1 DER.
    pub(crate) fn generate(self) -> Result<(rcgen::KeyPair, PrivatePkcs8KeyDer<'static>), CaError> {
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
        };
        let pkcs8 = PrivatePkcs8KeyDer::from(der);
        let pair =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, self.signature_algorithm())?;
        Ok((pair, pkcs8))
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A key-type name that is not one of [`KeyType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key type {0:?} (known: ecdsa-p256, ecdsa-p384, ed25519, rsa-2048)")]
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
