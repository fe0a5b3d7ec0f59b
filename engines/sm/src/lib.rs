//! meshtls' own national-cryptography engine: SM2, SM3 and SM4 in pure Rust, with SIMD
//! kernels chosen at run time.
//!
//! Owns: the SM primitives ([`sm3`], [`sm4`] with its [`modes`] and [`ghash`], [`sm2`]) and
//! their code-path dispatch ([`dispatch`]).
//!
//! Must not: depend on another engine or on any C library, do I/O, or index a table by
//! secret data. Unsafe code is denied at the root and allowed only in the `x86_*` kernel
//! modules, each block with a `// SAFETY:` comment naming the CPU check that makes it sound.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod dispatch;
mod error;
pub mod ghash;
pub mod hkdf;
pub mod hmac;
pub mod modes;
pub mod sm2;
pub mod sm3;
pub mod sm4;

pub use error::SmError;
