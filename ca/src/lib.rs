//! meshtls CA: issues X.509-SVIDs for workloads.
//!
//! Owns certificate issuance (signing CAs and leaf SVIDs of every supported key type). Later:
//! workload attestation, rotation of SVIDs and CA keys, the SPIFFE Workload API, and the
//! SQLite/PostgreSQL datastore.
//!
//! Must not: name an engine or a TLS stack; it builds on tls-core's SPIFFE types only.

#![forbid(unsafe_code)]
