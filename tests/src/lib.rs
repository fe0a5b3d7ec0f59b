//! Shared helpers for meshtls' cross-stack tests: every engine registered, the named provider
//! variants and stacks under test, a test PKI, a loopback client/server pair, raw
//! misbehaving peers, and child processes (the openssl CLI, curl) that die with the test.
//!
//! Everything here runs real components: real sockets on 127.0.0.1, real TLS stacks, real
//! certificates from `meshtls-ca`. Helpers panic on setup failures (they are test code);
//! outcomes under test are returned as typed results.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod pair;
pub mod pki;
pub mod process;
pub mod raw;
pub mod stacks;
pub mod tongsuo;
