//! The algorithm catalogue: every primitive meshtls can select a backend for.
//!
//! An [`AlgorithmId`] is the unit of selection (`aes-128-gcm=boring`): one engine serves it
//! for the whole process. Hash ids also cover HMAC and HKDF over that hash, and signature ids
//! cover signing and verifying with every [`SigScheme`] of that key type.

use std::fmt;
use std::str::FromStr;

/// What kind of primitive an algorithm is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlgorithmKind {
    /// Authenticated encryption with associated data (TLS record protection).
    Aead,
    /// Hash, with HMAC and HKDF built over it.
    Hash,
    /// Key exchange (TLS `NamedGroup`).
    KeyExchange,
    /// Signature key type (signing and verification).
    Signature,
}

macro_rules! algorithms {
    ($($variant:ident => $name:literal, $kind:ident;)*) => {
        /// One selectable algorithm.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AlgorithmId {
            $(#[doc = $name] $variant,)*
        }

        impl AlgorithmId {
            /// Every algorithm of the catalogue, in display order.
            pub const ALL: &'static [AlgorithmId] = &[$(AlgorithmId::$variant,)*];

            /// The stable, lower-case name used on the command line and in JSON.
            pub const fn name(self) -> &'static str {
                match self { $(AlgorithmId::$variant => $name,)* }
            }

            /// What kind of primitive this is.
            pub const fn kind(self) -> AlgorithmKind {
                match self { $(AlgorithmId::$variant => AlgorithmKind::$kind,)* }
            }
        }
    };
}

algorithms! {
    Aes128Gcm => "aes-128-gcm", Aead;
    Aes256Gcm => "aes-256-gcm", Aead;
    Chacha20Poly1305 => "chacha20-poly1305", Aead;
    Sha256 => "sha256", Hash;
    Sha384 => "sha384", Hash;
    X25519 => "x25519", KeyExchange;
    P256 => "p256", KeyExchange;
    P384 => "p384", KeyExchange;
    X25519MlKem768 => "x25519mlkem768", KeyExchange;
    EcdsaP256 => "ecdsa-p256", Signature;
    EcdsaP384 => "ecdsa-p384", Signature;
    Ed25519 => "ed25519", Signature;
    RsaPss => "rsa-pss", Signature;
    RsaPkcs1 => "rsa-pkcs1", Signature;
    Sm4Gcm => "sm4-gcm", Aead;
    Sm4Ccm => "sm4-ccm", Aead;
    Sm3 => "sm3", Hash;
    CurveSm2 => "curvesm2", KeyExchange;
    Sm2 => "sm2", Signature;
}

impl AlgorithmId {
    /// AEAD key length in bytes; `None` for other kinds.
    pub const fn aead_key_len(self) -> Option<usize> {
        match self {
            AlgorithmId::Aes128Gcm | AlgorithmId::Sm4Gcm | AlgorithmId::Sm4Ccm => Some(16),
            AlgorithmId::Aes256Gcm | AlgorithmId::Chacha20Poly1305 => Some(32),
            _ => None,
        }
    }

    /// Hash output length in bytes; `None` for other kinds.
    pub const fn hash_len(self) -> Option<usize> {
        match self {
            AlgorithmId::Sha256 | AlgorithmId::Sm3 => Some(32),
            AlgorithmId::Sha384 => Some(48),
            _ => None,
        }
    }

    /// The signature schemes a signature algorithm covers (empty for other kinds).
    ///
    /// Certificate-only combinations (e.g. a P-256 key signing with SHA-384) are included so
    /// that chains issued by other CAs verify.
    pub const fn schemes(self) -> &'static [SigScheme] {
        match self {
            AlgorithmId::EcdsaP256 => &[SigScheme::EcdsaP256Sha256, SigScheme::EcdsaP256Sha384],
            AlgorithmId::EcdsaP384 => &[SigScheme::EcdsaP384Sha384, SigScheme::EcdsaP384Sha256],
            AlgorithmId::Ed25519 => &[SigScheme::Ed25519],
            AlgorithmId::RsaPss => &[
                SigScheme::RsaPssSha256,
                SigScheme::RsaPssSha384,
                SigScheme::RsaPssSha512,
            ],
            AlgorithmId::RsaPkcs1 => &[
                SigScheme::RsaPkcs1Sha256,
                SigScheme::RsaPkcs1Sha384,
                SigScheme::RsaPkcs1Sha512,
            ],
            AlgorithmId::Sm2 => &[SigScheme::Sm2Sm3, SigScheme::Sm2Sm3Tls13],
            _ => &[],
        }
    }
}

impl fmt::Display for AlgorithmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for AlgorithmId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An algorithm name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm {0:?} (known: {known})", known = AlgorithmId::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownAlgorithm(pub String);

impl FromStr for AlgorithmId {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        AlgorithmId::ALL
            .iter()
            .copied()
            .find(|a| a.name() == lower)
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

/// A concrete signature scheme: key type plus hash (and padding for RSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigScheme {
    /// ECDSA over P-256 with SHA-256 (TLS `ecdsa_secp256r1_sha256`).
    EcdsaP256Sha256,
    /// ECDSA over P-256 with SHA-384 (certificates only).
    EcdsaP256Sha384,
    /// ECDSA over P-384 with SHA-384 (TLS `ecdsa_secp384r1_sha384`).
    EcdsaP384Sha384,
    /// ECDSA over P-384 with SHA-256 (certificates only).
    EcdsaP384Sha256,
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt = hash length.
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512.
    RsaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// SM2 with SM3 over Z || message (GB/T 32918.2), signer ID 1234567812345678
    /// ([`SM2_DEFAULT_ID`]); DER (r, s). Certificates and TLCP sign with it.
    Sm2Sm3,
    /// SM2 with SM3 as TLS 1.3 CertificateVerify uses it (RFC 8998 `sm2sig_sm3`, 0x0708):
    /// signer ID "TLSv1.3+GM+Cipher+Suite" ([`SM2_TLS13_ID`]); DER (r, s).
    Sm2Sm3Tls13,
}

/// The SM2 signer ID of certificates and TLCP (GB/T 35276-2017 §5.2 default).
pub const SM2_DEFAULT_ID: &[u8] = b"1234567812345678";

/// The SM2 signer ID of TLS 1.3 CertificateVerify with `sm2sig_sm3`, as Tongsuo and GmSSL
/// implement RFC 8998.
pub const SM2_TLS13_ID: &[u8] = b"TLSv1.3+GM+Cipher+Suite";

impl SigScheme {
    /// The signature algorithm (key type) this scheme belongs to.
    pub const fn algorithm(self) -> AlgorithmId {
        match self {
            SigScheme::EcdsaP256Sha256 | SigScheme::EcdsaP256Sha384 => AlgorithmId::EcdsaP256,
            SigScheme::EcdsaP384Sha384 | SigScheme::EcdsaP384Sha256 => AlgorithmId::EcdsaP384,
            SigScheme::Ed25519 => AlgorithmId::Ed25519,
            SigScheme::RsaPssSha256 | SigScheme::RsaPssSha384 | SigScheme::RsaPssSha512 => {
                AlgorithmId::RsaPss
            }
            SigScheme::RsaPkcs1Sha256 | SigScheme::RsaPkcs1Sha384 | SigScheme::RsaPkcs1Sha512 => {
                AlgorithmId::RsaPkcs1
            }
            SigScheme::Sm2Sm3 | SigScheme::Sm2Sm3Tls13 => AlgorithmId::Sm2,
        }
    }

    /// The hash the scheme signs over; `None` for Ed25519, which hashes internally.
    pub const fn hash(self) -> Option<AlgorithmId> {
        match self {
            SigScheme::EcdsaP256Sha256
            | SigScheme::EcdsaP384Sha256
            | SigScheme::RsaPssSha256
            | SigScheme::RsaPkcs1Sha256 => Some(AlgorithmId::Sha256),
            SigScheme::EcdsaP256Sha384
            | SigScheme::EcdsaP384Sha384
            | SigScheme::RsaPssSha384
            | SigScheme::RsaPkcs1Sha384 => Some(AlgorithmId::Sha384),
            SigScheme::Sm2Sm3 | SigScheme::Sm2Sm3Tls13 => Some(AlgorithmId::Sm3),
            SigScheme::RsaPssSha512 | SigScheme::RsaPkcs1Sha512 => None,
            SigScheme::Ed25519 => None,
        }
    }

    /// The SM2 signer ID (hashed into Z) of an SM2 scheme; `None` for other key types.
    pub const fn sm2_id(self) -> Option<&'static [u8]> {
        match self {
            SigScheme::Sm2Sm3 => Some(SM2_DEFAULT_ID),
            SigScheme::Sm2Sm3Tls13 => Some(SM2_TLS13_ID),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in AlgorithmId::ALL {
            assert_eq!(a.name().parse::<AlgorithmId>().unwrap(), *a);
        }
        assert!("sm4-ocb".parse::<AlgorithmId>().is_err());
        assert_eq!(
            "AES-128-GCM".parse::<AlgorithmId>().unwrap(),
            AlgorithmId::Aes128Gcm
        );
    }

    #[test]
    fn every_scheme_belongs_to_its_algorithm() {
        for a in AlgorithmId::ALL {
            for s in a.schemes() {
                assert_eq!(s.algorithm(), *a);
                assert_eq!(s.sm2_id().is_some(), *a == AlgorithmId::Sm2);
            }
        }
    }
}
