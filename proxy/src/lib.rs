//! meshtls proxy: the mesh-wide mutual-TLS sidecar.
//!
//! Will own: the outbound listener (plaintext from the local app, mTLS to the peer's inbound),
//! the inbound listener (mTLS from peers, plaintext to the local app), authorization of peers
//! by SPIFFE ID, metrics and the admin endpoint. Nothing is implemented yet: this crate only
//! fixes its place in the workspace (see the open issues).
//!
//! Must not: name an engine or a TLS stack implementation; it takes tls-core's composed
//! provider and stack API from the binary.

#![forbid(unsafe_code)]
