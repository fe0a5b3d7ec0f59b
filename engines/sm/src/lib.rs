//! meshtls' own national-cryptography engine: SM2, SM3 and SM4 in pure Rust, with SIMD
//! kernels chosen at run time.
//!
//! Owns: the SM primitives ([`sm3`] with [`hmac`] and [`hkdf`], [`sm4`] with its [`modes`] and
//! [`ghash`], [`sm2`]), their code-path dispatch ([`dispatch`]), and the [`ENGINE`] table that
//! plugs them into tls-core (`sm4-gcm`, `sm4-ccm`, `sm3`, `curvesm2`, `sm2`).
//!
//! Also owns the SM TLS protocols: [`tlcp`] (GB/T 38636-2020), a sans-I/O core with a thin
//! tokio wrapper, offered to tls-core as the `tlcp` stack.
//!
//! Must not: depend on another engine or on any C library, do I/O outside `tlcp::stream`
//! and `tlcp::stack`, or index a table by secret data. Unsafe code is denied at the root and allowed only in the `x86_*` kernel
//! modules, each block with a `// SAFETY:` comment naming the CPU check that makes it sound.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::sync::Arc;

use meshtls_tls_core::engine::{Aead, Engine, Hash, KeyExchange, Signature};
use meshtls_tls_core::CryptoError;

pub mod dispatch;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod ghash;
pub mod hkdf;
pub mod hmac;
pub mod modes;
pub mod sm2;
pub mod sm3;
pub mod sm4;
pub mod tlcp;

mod aead;
mod hash;
mod kx;
mod paths;
mod random;
mod sign;

pub use error::SmError;

/// SM4-GCM and SM4-CCM (RFC 8998).
pub static ALL_AEADS: &[&dyn Aead] = &[&aead::SM4_GCM, &aead::SM4_CCM];

/// SM3 with HMAC-SM3.
pub static ALL_HASHES: &[&dyn Hash] = &[&hash::SM3];

/// ECDH on curveSM2 (RFC 8998's `curveSM2` group).
pub static ALL_KEY_EXCHANGES: &[&dyn KeyExchange] = &[&kx::CURVE_SM2];

/// SM2 signatures with SM3 (`sm2sig_sm3`).
pub static ALL_SIGNATURES: &[&dyn Signature] = &[&sign::SM2];

/// The SM engine, for registration in tls-core's registry.
pub static ENGINE: Engine = Engine {
    name: "sm",
    version,
    aeads: ALL_AEADS,
    hashes: ALL_HASHES,
    key_exchanges: ALL_KEY_EXCHANGES,
    signatures: ALL_SIGNATURES,
    random: &random::RANDOM,
    stack: Some(&tlcp::stack::TLCP_STACK),
};

/// The crate version and the code path of every primitive on this CPU.
fn version() -> String {
    format!(
        "meshtls-sm {} (sm4={}, ghash={}, sm3={}, sm2={})",
        env!("CARGO_PKG_VERSION"),
        sm4::Sm4Path::detect().name(),
        ghash::GhashPath::detect().name(),
        sm3::Sm3Path::detect().name(),
        sm2::scalar::Sm2Path::detect().name(),
    )
}

/// tls-core's view of an SM failure: the typed kinds it knows, the rest kept as the source.
fn crypto_error(err: SmError) -> CryptoError {
    match err {
        SmError::InvalidKeyLength | SmError::InvalidScalar => CryptoError::InvalidKey,
        SmError::BadTag => CryptoError::DecryptFailed,
        SmError::InvalidPoint | SmError::PointNotOnCurve | SmError::PointAtInfinity => {
            CryptoError::InvalidPeerShare
        }
        SmError::BadSignature | SmError::MalformedSignature => CryptoError::BadSignature,
        other => CryptoError::Backend(Arc::new(other)),
    }
}
