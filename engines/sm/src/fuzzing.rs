//! Fuzz entry points: one plain function per cargo-fuzz target, taking the raw fuzz input.
//!
//! The targets in `fuzz/fuzz_targets/` are three-line wrappers around these functions, and
//! `tests/fuzz_corpus.rs` replays the kept corpus (`fuzz/corpus/<target>/`) and the regression
//! inputs (`fuzz/regressions/<target>/`) through the same functions in the normal test run, so
//! the harness is compiled and checked with the crate and needs no libFuzzer types.
//!
//! Targets: [`sm2_ciphertext`] (SM2 ciphertext decoding and decryption), [`tlcp_record`] (the
//! TLCP record layer), [`tlcp_message`] (handshake message decoding), and
//! [`tlcp_handshake_server`] / [`tlcp_handshake_client`] (a whole connection fed the peer's
//! bytes). The other items build the seed inputs the targets start from.
//!
//! Each function must never panic on its input: every parser and every state machine has to
//! answer with a typed error. The functions do panic (through `assert!`) when a property they
//! check fails, such as a decode/re-encode round trip, because that is the fuzzer's signal.
//! Keys and certificates are fixed, so record-layer crashes replay exactly; the handshakes
//! draw their randoms and SM2 nonces from the OS, which only changes how far a replayed
//! transcript gets, not what is parsed.
//!
//! Not part of the public API: hidden from the docs and free to change.

mod handshake;
mod message;
mod peer;
mod record;
mod sm2;

pub use handshake::{
    client_config, server_config, tlcp_handshake_client, tlcp_handshake_server, ClientControl,
    ServerControl,
};
pub use message::{check_handshake_message, tlcp_message};
pub use record::{tlcp_record, tlcp_record_input, RecordControl};
pub use sm2::{sm2_ciphertext, sm2_fixed_key};
