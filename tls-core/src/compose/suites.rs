//! The cipher suites a selection supports: TLS 1.3 suites, TLS 1.2 ECDHE + AEAD suites and
//! RFC 8998's TLS 1.3 SM suites, each built from the engines chosen for its AEAD and its hash
//! (so `sm4-gcm=sm,sm3=openssl` composes `TLS_SM4_GCM_SM3` from two engines).
//!
//! The SM suites come last: a provider that gains them keeps every earlier preference.

use rustls::crypto::{CipherSuiteCommon, KeyExchangeAlgorithm};
use rustls::{
    CipherSuite, SignatureScheme, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite,
};

use super::intern::intern;
use super::rfc8998::{TLS_SM4_CCM_SM3, TLS_SM4_GCM_SM3};
use super::{aead, hash};
use crate::algorithm::AlgorithmId;
use crate::registry::Selection;

/// Records per key for AES-GCM: 2^24 full records keep the attack advantage under 2^-60
/// (draft-irtf-cfrg-aead-limits-08 §5.1.1, AEBounds table 1), as rustls cites.
const AES_GCM_LIMIT: u64 = 1 << 24;
/// ChaCha20-Poly1305 has no practical confidentiality limit
/// (draft-irtf-cfrg-aead-limits-08 §5.2.1).
const CHACHA_LIMIT: u64 = u64::MAX;
/// SM4-GCM: GCM's bound depends only on the 128-bit block size, so AES-GCM's limit holds
/// (draft-irtf-cfrg-aead-limits-08 §5.1.1).
const SM4_GCM_LIMIT: u64 = AES_GCM_LIMIT;
/// SM4-CCM: CCM runs the block cipher twice per block (CBC-MAC and CTR), so half the GCM
/// limit keeps at least the same margin (draft-irtf-cfrg-aead-limits-08 §5.3).
const SM4_CCM_LIMIT: u64 = AES_GCM_LIMIT / 2;

/// Schemes an ECDHE_ECDSA suite authenticates with (RFC 8422 §5.1.1 also admits EdDSA).
static TLS12_ECDSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ED25519,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP256_SHA256,
];

/// Schemes an ECDHE_RSA suite authenticates with (RFC 5246 §7.4.1.4.1, RFC 8446 §4.2.3).
static TLS12_RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

/// One suite of the table.
struct SuiteDef {
    suite: CipherSuite,
    aead: AlgorithmId,
    hash: AlgorithmId,
    limit: u64,
    /// `None`: TLS 1.3; `Some`: the TLS 1.2 suite's authentication schemes.
    tls12_sign: Option<&'static [SignatureScheme]>,
}

const fn tls13(suite: CipherSuite, aead: AlgorithmId, hash: AlgorithmId, limit: u64) -> SuiteDef {
    SuiteDef {
        suite,
        aead,
        hash,
        limit,
        tls12_sign: None,
    }
}

const fn tls12(
    suite: CipherSuite,
    aead: AlgorithmId,
    hash: AlgorithmId,
    limit: u64,
    sign: &'static [SignatureScheme],
) -> SuiteDef {
    SuiteDef {
        suite,
        aead,
        hash,
        limit,
        tls12_sign: Some(sign),
    }
}

/// Every suite, in preference order: TLS 1.3 first; AES-128-GCM (the cheapest) first; the SM
/// suites (RFC 8998 §2, TLS 1.3 only) last.
const SUITES: &[SuiteDef] = {
    use AlgorithmId::{
        Aes128Gcm, Aes256Gcm, Chacha20Poly1305, Sha256, Sha384, Sm3, Sm4Ccm, Sm4Gcm,
    };
    &[
        tls13(
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            Aes128Gcm,
            Sha256,
            AES_GCM_LIMIT,
        ),
        tls13(
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            Aes256Gcm,
            Sha384,
            AES_GCM_LIMIT,
        ),
        tls13(
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            Chacha20Poly1305,
            Sha256,
            CHACHA_LIMIT,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            Aes128Gcm,
            Sha256,
            AES_GCM_LIMIT,
            TLS12_ECDSA_SCHEMES,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            Aes256Gcm,
            Sha384,
            AES_GCM_LIMIT,
            TLS12_ECDSA_SCHEMES,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            Chacha20Poly1305,
            Sha256,
            CHACHA_LIMIT,
            TLS12_ECDSA_SCHEMES,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            Aes128Gcm,
            Sha256,
            AES_GCM_LIMIT,
            TLS12_RSA_SCHEMES,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            Aes256Gcm,
            Sha384,
            AES_GCM_LIMIT,
            TLS12_RSA_SCHEMES,
        ),
        tls12(
            CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            Chacha20Poly1305,
            Sha256,
            CHACHA_LIMIT,
            TLS12_RSA_SCHEMES,
        ),
        tls13(TLS_SM4_GCM_SM3, Sm4Gcm, Sm3, SM4_GCM_LIMIT),
        tls13(TLS_SM4_CCM_SM3, Sm4Ccm, Sm3, SM4_CCM_LIMIT),
    ]
};

/// The suites whose AEAD and hash are both selected, in preference order.
pub(crate) fn cipher_suites(selection: &Selection) -> Vec<SupportedCipherSuite> {
    SUITES
        .iter()
        .filter_map(|def| build(def, selection))
        .collect()
}

fn build(def: &SuiteDef, selection: &Selection) -> Option<SupportedCipherSuite> {
    let (aead_engine, aead_impl) = selection.aead(def.aead)?;
    let (hash_engine, hash_impl) = selection.hash(def.hash)?;
    let aead = aead::adapter(aead_engine, aead_impl);
    let hash_provider = hash::adapter(hash_engine, hash_impl)?;
    let common = CipherSuiteCommon {
        suite: def.suite,
        hash_provider,
        confidentiality_limit: def.limit,
    };
    let key = format!("{:?}/{}/{}", def.suite, aead_engine.name, hash_engine.name);
    Some(match def.tls12_sign {
        None => {
            let hkdf_provider = hash::hkdf(hash_engine, hash_impl)?;
            SupportedCipherSuite::Tls13(intern(key, || Tls13CipherSuite {
                common,
                hkdf_provider,
                aead_alg: aead,
                quic: None,
            }))
        }
        Some(sign) => {
            let prf_provider = hash::prf(hash_engine, hash_impl)?;
            SupportedCipherSuite::Tls12(intern(key, || Tls12CipherSuite {
                common,
                prf_provider,
                kx: KeyExchangeAlgorithm::ECDHE,
                sign,
                aead_alg: aead,
            }))
        }
    })
}
