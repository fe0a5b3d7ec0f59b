//! criterion benches of the crypto engines, side by side; the benches live in `benches/`.
//!
//! This library only lists the engines the benches compare, so that the bench files name no
//! engine themselves. Run with `cargo bench -p meshtls-benches`.

#![forbid(unsafe_code)]

use meshtls_tls_core::Engine;

/// Every engine compared, in the order their bars appear in criterion's reports.
pub fn engines() -> [&'static Engine; 5] {
    [
        &meshtls_engine_aws_lc::ENGINE,
        &meshtls_engine_ring::ENGINE,
        &meshtls_engine_boring::ENGINE,
        &meshtls_engine_openssl::ENGINE,
        &meshtls_engine_sm::ENGINE,
    ]
}
