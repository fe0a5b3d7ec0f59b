//! meshtls engine over the system OpenSSL (3.x, through the `openssl` crate).
//!
//! Owns: OpenSSL implementations of tls-core's algorithm traits (AEAD, SHA-2 and SM3 with
//! HMAC, ECDH/X25519/curveSM2, ECDSA/Ed25519/RSA/SM2 signatures, randomness), exported as the
//! [`ENGINE`] table and the `ALL_*` slices, and (in `stack`) OpenSSL as a native TLS stack.
//! OpenSSL 3.0 has no SM4-GCM or SM4-CCM (they arrived in 3.2), so no SM AEAD here.
//!
//! Must not: pick algorithms or policy (tls-core composes engines), load another TLS library,
//! or reach for `-lcrypto` by plain name: `build.rs` links the system OpenSSL by soname so
//! that BoringSSL's archives (the `boring` engine, in the same binary) cannot shadow it.
//!
//! Unsafe code is denied, not forbidden: the algorithm modules are safe wrappers only, but
//! some OpenSSL calls are not wrapped by the `openssl` crate (SM2's signer ID for the
//! algorithms, in `ffi`; one in the TLS stack). Such a module opts in with
//! `#[allow(unsafe_code)]` and a `// SAFETY:` comment on every block.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::sync::Arc;

use meshtls_tls_core::engine::{Aead, Engine, Hash, KeyExchange, Signature};
use meshtls_tls_core::CryptoError;

pub mod aead;
mod ffi;
pub mod hash;
pub mod kx;
pub mod random;
pub mod sign;
pub mod sm2;
pub mod stack;

/// Every AEAD of the engine.
pub static ALL_AEADS: &[&dyn Aead] = &[
    &aead::AES_128_GCM,
    &aead::AES_256_GCM,
    &aead::CHACHA20_POLY1305,
];

/// Every hash (with HMAC) of the engine.
pub static ALL_HASHES: &[&dyn Hash] = &[&hash::SHA256, &hash::SHA384, &hash::SM3];

/// Every key-exchange group of the engine. OpenSSL 3.0 has no ML-KEM, so no X25519MLKEM768.
pub static ALL_KEY_EXCHANGES: &[&dyn KeyExchange] =
    &[&kx::X25519, &kx::P256, &kx::P384, &kx::CURVESM2];

/// Every signature key type of the engine.
pub static ALL_SIGNATURES: &[&dyn Signature] = &[
    &sign::ECDSA_P256,
    &sign::ECDSA_P384,
    &sign::ED25519,
    &sign::RSA_PSS,
    &sign::RSA_PKCS1,
    &sm2::SM2,
];

/// The OpenSSL engine.
pub static ENGINE: Engine = Engine {
    name: "openssl",
    version,
    aeads: ALL_AEADS,
    hashes: ALL_HASHES,
    key_exchanges: ALL_KEY_EXCHANGES,
    signatures: ALL_SIGNATURES,
    random: &random::RANDOM,
    stack: Some(&stack::STACK),
};

/// The linked OpenSSL's version string (`OpenSSL 3.0.19 27 Jan 2026`).
fn version() -> String {
    openssl::version::version().to_owned()
}

/// Keeps an OpenSSL error as the source of a [`CryptoError`].
fn backend(err: openssl::error::ErrorStack) -> CryptoError {
    CryptoError::Backend(Arc::new(err))
}
