//! meshtls engine over BoringSSL (the `btls` crate, built with prefixed symbols).
//!
//! Owns: BoringSSL implementations of tls-core's algorithm traits (AEAD, SHA-2 with HMAC,
//! ECDH/X25519 and X25519MLKEM768, ECDSA/Ed25519/RSA signatures, randomness), exported as
//! the [`ENGINE`] table and the `ALL_*` slices, and (in `stack`) BoringSSL as a native TLS
//! stack.
//!
//! Must not: pick algorithms or policy (tls-core composes engines), or link BoringSSL
//! without `prefix-symbols`: the OpenSSL engine shares the binary, and unprefixed
//! `libcrypto` symbols from two libraries would bind to each other.
//!
//! Unsafe code is denied, not forbidden: the algorithm modules are safe wrappers only, but a
//! TLS stack module may need a BoringSSL call `btls` does not wrap. Such a module opts in
//! with `#[allow(unsafe_code)]` and a `// SAFETY:` comment on every block.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::sync::Arc;

use meshtls_tls_core::engine::{Aead, Engine, Hash, KeyExchange, Signature};
use meshtls_tls_core::CryptoError;

pub mod aead;
pub mod hash;
pub mod kx;
pub mod random;
pub mod sign;
pub mod stack;

/// Every AEAD of the engine.
pub static ALL_AEADS: &[&dyn Aead] = &[
    &aead::AES_128_GCM,
    &aead::AES_256_GCM,
    &aead::CHACHA20_POLY1305,
];

/// Every hash (with HMAC) of the engine.
pub static ALL_HASHES: &[&dyn Hash] = &[&hash::SHA256, &hash::SHA384];

/// Every key-exchange group of the engine, the post-quantum hybrid included.
pub static ALL_KEY_EXCHANGES: &[&dyn KeyExchange] =
    &[&kx::X25519, &kx::P256, &kx::P384, &kx::X25519_MLKEM768];

/// Every signature key type of the engine.
pub static ALL_SIGNATURES: &[&dyn Signature] = &[
    &sign::ECDSA_P256,
    &sign::ECDSA_P384,
    &sign::ED25519,
    &sign::RSA_PSS,
    &sign::RSA_PKCS1,
];

/// The BoringSSL engine.
pub static ENGINE: Engine = Engine {
    name: "boring",
    version,
    aeads: ALL_AEADS,
    hashes: ALL_HASHES,
    key_exchanges: ALL_KEY_EXCHANGES,
    signatures: ALL_SIGNATURES,
    random: &random::RANDOM,
    stack: Some(&stack::STACK),
};

/// BoringSSL's version string (it reports itself as OpenSSL-compatible BoringSSL).
fn version() -> String {
    btls::version::version().to_owned()
}

/// Keeps a BoringSSL error as the source of a [`CryptoError`].
fn backend(err: btls::error::ErrorStack) -> CryptoError {
    CryptoError::Backend(Arc::new(err))
}
