//! The `--backend ALG=ENGINE` flags shared by every subcommand that runs crypto, and their
//! resolution into a selection and a composed rustls provider.

use std::sync::Arc;

use clap::Args;
use meshtls_tls_core::autoselect::AutoSelect;
use meshtls_tls_core::policy::Policy;
use meshtls_tls_core::registry::Selection;
use meshtls_tls_core::{compose, Registry};

use crate::error::CliError;

/// Which engine serves each algorithm.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct BackendArgs {
    /// Engine for one algorithm, e.g. `aes-128-gcm=boring`; `all=ENGINE` sets the default for
    /// every algorithm that engine implements; `ALG=auto` measures. Repeatable, later wins.
    /// Unnamed algorithms are auto: the fastest engine measured on this CPU (cached under
    /// $MESHTLS_CACHE_DIR or ~/.cache/meshtls).
    #[arg(long = "backend", value_name = "ALG=ENGINE")]
    backends: Vec<String>,
    /// Ignore cached auto-selection scores and measure again.
    #[arg(long)]
    remeasure: bool,
}

impl BackendArgs {
    /// Resolves the flags against `registry`: one engine per algorithm, with the reason.
    pub(crate) fn select(&self, registry: &Registry) -> Result<Selection, CliError> {
        let policy = Policy::from_backends(&self.backends)?;
        let auto = AutoSelect {
            remeasure: self.remeasure,
            ..AutoSelect::default()
        };
        Ok(registry.select(&policy, &auto)?)
    }

    /// The rustls provider composed from the selection.
    pub(crate) fn provider(
        &self,
        registry: &Registry,
    ) -> Result<Arc<rustls::crypto::CryptoProvider>, CliError> {
        Ok(compose::provider(&self.select(registry)?))
    }
}
