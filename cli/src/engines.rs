//! Engine wiring: the only place in meshtls that names engines.
//!
//! Every engine is compiled in and registered here; everything else takes the [`Registry`]
//! and chooses per algorithm at run time (policy flags, or measured speed).

use meshtls_tls_core::Registry;

/// Every engine of this build, in preference order for ties.
pub(crate) fn registry() -> Registry {
    Registry::new(vec![
        &meshtls_engine_aws_lc::ENGINE,
        &meshtls_engine_ring::ENGINE,
        &meshtls_engine_boring::ENGINE,
        &meshtls_engine_openssl::ENGINE,
        &meshtls_engine_sm::ENGINE,
    ])
}
