//! meshtls tls-core: the pluggable provider layer.
//!
//! Owns:
//! - the algorithm catalogue ([`AlgorithmId`]) and the small traits an engine implements
//!   ([`engine`]): AEAD, hash+HMAC, key exchange, signatures, randomness;
//! - the [`Registry`] of engines and the per-algorithm selection [`Policy`] (explicit, or
//!   `auto` by measured speed on this CPU, cached on disk);
//! - composition of one rustls `CryptoProvider` per selection through one adapter layer
//!   ([`compose`]);
//! - the TLS stack API ([`stack`]) with the rustls stack, and SPIFFE identities ([`spiffe`],
//!   [`identity`]) shared by every stack.
//!
//! Must not: name or depend on any engine (engines depend on us; the binary wires them in),
//! or do crypto of its own beyond composing engines' primitives (HKDF and the TLS 1.2 PRF are
//! built from an engine's HMAC by rustls' generic constructions).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod algorithm;
pub mod autoselect;
pub mod compose;
pub mod cpu;
pub mod engine;
pub mod error;
pub mod identity;
pub mod policy;
pub mod registry;
pub mod spiffe;
pub mod stack;

pub use algorithm::{AlgorithmId, AlgorithmKind, SigScheme};
pub use engine::Engine;
pub use error::{ConfigError, CryptoError, PeerError, TlsError};
pub use identity::{Credentials, IdentityStore, SvidSet};

pub use autoselect::AutoSelect;
pub use compose::provider;
pub use policy::{Choice, Policy};
pub use registry::{Reason, Registry, Selection};
