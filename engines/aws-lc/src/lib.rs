//! meshtls engine over aws-lc-rs (AWS-LC): pure-library primitives for tls-core's traits.
//!
//! Owns: the tables of AWS-LC-backed algorithm objects ([`ALL_AEADS`], [`ALL_HASHES`],
//! [`ALL_KEY_EXCHANGES`], [`ALL_SIGNATURES`]) and the [`ENGINE`] that exports them, with no
//! TLS stack of its own (`stack: None`).
//!
//! Covers AES-128/256-GCM, ChaCha20-Poly1305, SHA-256/384 with HMAC, X25519, P-256 and P-384
//! ECDH, the X25519MLKEM768 hybrid (aws-lc-rs' stable `kem` ML-KEM-768), and
//! ECDSA/Ed25519/RSA signatures, including RSA-2048 key generation.
//!
//! Must not: depend on another engine, do any I/O, or hold `unsafe` code; every primitive is
//! AWS-LC's own, and this crate only adapts types, frames the hybrid share and maps errors.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::sync::Arc;

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Aead, Hash, KeyExchange, Signature};
use meshtls_tls_core::{CryptoError, Engine};

mod aead;
mod hash;
mod kx;
mod random;
mod sign;

/// The aws-lc-rs release line this crate is built against (workspace pins `1.19`).
const AWS_LC_RS_VERSION: &str = "aws-lc-rs 1.19";

/// AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
pub static ALL_AEADS: &[&dyn Aead] = &[
    &aead::AES_128_GCM,
    &aead::AES_256_GCM,
    &aead::CHACHA20_POLY1305,
];

/// SHA-256 and SHA-384, each with its HMAC.
pub static ALL_HASHES: &[&dyn Hash] = &[&hash::SHA256, &hash::SHA384];

/// X25519, P-256 and P-384 ephemeral ECDH, and the X25519MLKEM768 hybrid.
pub static ALL_KEY_EXCHANGES: &[&dyn KeyExchange] =
    &[&kx::X25519, &kx::P256, &kx::P384, &kx::X25519MLKEM768];

/// ECDSA P-256/P-384, Ed25519, RSA-PSS and RSA PKCS#1 v1.5.
pub static ALL_SIGNATURES: &[&dyn Signature] = &[
    &sign::ECDSA_P256,
    &sign::ECDSA_P384,
    &sign::ED25519,
    &sign::RSA_PSS,
    &sign::RSA_PKCS1,
];

/// The AWS-LC engine, for registration in tls-core's registry.
pub static ENGINE: Engine = Engine {
    name: "aws-lc",
    version,
    aeads: ALL_AEADS,
    hashes: ALL_HASHES,
    key_exchanges: ALL_KEY_EXCHANGES,
    signatures: ALL_SIGNATURES,
    random: &random::RANDOM,
    stack: None,
};

/// `aws-lc-rs 1.19 (AWS-LC 1.x.y)`: the crate line and the linked library's release.
fn version() -> String {
    format!(
        "{AWS_LC_RS_VERSION} (AWS-LC {})",
        aws_lc_rs::awslc_version()
    )
}

/// Keeps AWS-LC's (detail-free) failure as the error source.
fn backend(e: aws_lc_rs::error::Unspecified) -> CryptoError {
    CryptoError::Backend(Arc::new(e))
}

/// The features of the first code path (most preferred first) this CPU can run: what AWS-LC's
/// runtime dispatch picks. Empty when only the portable path fits.
fn cpu_path(paths: &[&[CpuFeature]]) -> CpuFeatures {
    paths
        .iter()
        .map(|path| (path, CpuFeatures::available(path)))
        .find(|(path, here)| path.iter().all(|f| here.contains(*f)))
        .map_or(CpuFeatures::NONE, |(_, here)| here)
}
