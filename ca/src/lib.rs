//! meshtls CA: issues X.509-SVIDs for workloads.
//!
//! Owns certificate issuance: self-signed SPIFFE signing CAs, intermediate CAs beneath them,
//! and leaf X.509-SVIDs of every supported [`KeyType`], each following the SPIFFE
//! X.509-SVID rules (one URI SAN, `cA=false`, critical key usage, serverAuth + clientAuth,
//! random serial, `not_before` backdated for clock skew), and TLCP (GB/T 38636-2020)
//! signing + encryption certificate pairs. Certificates are built with `rcgen`, or, when an
//! SM2 key signs or is certified, with RustCrypto's `x509-cert` and `sm2` (SM2-with-SM3, the
//! default signer ID). Keys are PKCS#8 v1, which every meshtls engine and stack loads: from
//! aws-lc-rs, or RustCrypto `sm2` for SM2. CAs load back from their PEM files.
//! Later: workload attestation, rotation of SVIDs and CA keys, the SPIFFE Workload API, and
//! the SQLite/PostgreSQL datastore.
//!
//! Must not: name an engine or a TLS stack; it builds on tls-core's SPIFFE types only.
//! Non-goals: revocation (CRLs) and CSR handling.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod authority;
mod error;
mod issued;
mod key;
mod load;
mod serial;
mod sm2_pki;
mod validity;
mod x509;

pub use authority::{CertificateAuthority, LeafOptions};
pub use error::CaError;
pub use issued::{IssuedSvid, IssuedTlcpPair};
pub use key::{KeyType, UnknownKeyType};
pub use load::LoadError;
pub use validity::{Validity, BACKDATE};

/// rcgen, re-exported so tests can craft non-conforming certificates with
/// [`CertificateAuthority::sign_custom`] against the same version.
pub use rcgen;
