//! meshtls engine over *ring* 0.17: pure-library primitives for tls-core's traits.
//!
//! Owns: the tables of *ring*-backed algorithm objects ([`ALL_AEADS`], [`ALL_HASHES`],
//! [`ALL_KEY_EXCHANGES`], [`ALL_SIGNATURES`]) and the [`ENGINE`] that exports them, with no
//! TLS stack of its own (`stack: None`).
//!
//! Covers AES-128/256-GCM, ChaCha20-Poly1305, SHA-256/384 with HMAC, X25519, P-256 and P-384
//! ECDH, and ECDSA/Ed25519/RSA signatures. *ring* has no ML-KEM, so X25519MLKEM768 is absent,
//! and it cannot generate RSA keys (`generate_key` returns [`CryptoError::Unsupported`]).
//!
//! Must not: depend on another engine, do any I/O, or hold `unsafe` code; every primitive is
//! *ring*'s own, and this crate only adapts types and maps errors.

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

/// The *ring* release this crate is built against (Cargo.toml pins `0.17.14` or later 0.17).
const RING_VERSION: &str = "ring 0.17.x";

/// AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
pub static ALL_AEADS: &[&dyn Aead] = &[
    &aead::AES_128_GCM,
    &aead::AES_256_GCM,
    &aead::CHACHA20_POLY1305,
];

/// SHA-256 and SHA-384, each with its HMAC.
pub static ALL_HASHES: &[&dyn Hash] = &[&hash::SHA256, &hash::SHA384];

/// X25519, P-256 and P-384 ephemeral ECDH.
pub static ALL_KEY_EXCHANGES: &[&dyn KeyExchange] = &[&kx::X25519, &kx::P256, &kx::P384];

/// ECDSA P-256/P-384, Ed25519, RSA-PSS and RSA PKCS#1 v1.5.
pub static ALL_SIGNATURES: &[&dyn Signature] = &[
    &sign::ECDSA_P256,
    &sign::ECDSA_P384,
    &sign::ED25519,
    &sign::RSA_PSS,
    &sign::RSA_PKCS1,
];

/// The *ring* engine, for registration in tls-core's registry.
pub static ENGINE: Engine = Engine {
    name: "ring",
    version,
    aeads: ALL_AEADS,
    hashes: ALL_HASHES,
    key_exchanges: ALL_KEY_EXCHANGES,
    signatures: ALL_SIGNATURES,
    random: &random::RANDOM,
    stack: None,
};

fn version() -> String {
    RING_VERSION.to_owned()
}

/// Keeps *ring*'s (detail-free) failure as the error source.
fn backend(e: ring::error::Unspecified) -> CryptoError {
    CryptoError::Backend(Arc::new(e))
}

/// The features of the first code path (most preferred first) this CPU can run: what *ring*'s
/// runtime dispatch picks. Empty when only the portable path fits.
fn cpu_path(paths: &[&[CpuFeature]]) -> CpuFeatures {
    paths
        .iter()
        .map(|path| (path, CpuFeatures::available(path)))
        .find(|(path, here)| path.iter().all(|f| here.contains(*f)))
        .map_or(CpuFeatures::NONE, |(_, here)| here)
}
