//! The CLI's error type: what went wrong, with a stable label for JSON output.

use std::path::PathBuf;

use meshtls_tls_core::{ConfigError, CryptoError, TlsError};

/// A failed subcommand.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A file named on the command line could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS handshake or connection failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The configuration (policy, credentials, stack choice) is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An engine failed a primitive.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// Socket or terminal I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// JSON output could not be produced.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The SVG chart could not be drawn.
    #[error("chart: {0}")]
    Chart(String),
    /// The arguments ask for nothing that can be done.
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// A short stable label for the JSON error line (the [`TlsError::label`] where there is one).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            CliError::Tls(e) => e.label(),
            CliError::Config(_) | CliError::File { .. } | CliError::Usage(_) => "config",
            CliError::Crypto(_) => "crypto",
            CliError::Io(_) => "io",
            CliError::Json(_) | CliError::Chart(_) => "output",
        }
    }

    /// Reading or writing `path` failed with `source`.
    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::File {
            path: path.into(),
            source,
        }
    }
}
