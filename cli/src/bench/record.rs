//! The JSON records both benchmarks write, one per measurement.

use std::path::Path;

use meshtls_tls_core::AlgorithmId;
use serde::Serialize;

use crate::error::CliError;

/// What was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Op {
    /// AEAD encryption in place.
    Seal,
    /// AEAD decryption in place (with tag check).
    Open,
    /// One-shot hash.
    Hash,
    /// A full key exchange: both sides' key generation and both shared secrets.
    Exchange,
    /// Signing a 64-byte message.
    Sign,
    /// Verifying a signature over a 64-byte message.
    Verify,
}

impl Op {
    /// The name used in JSON and tables.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Seal => "seal",
            Op::Open => "open",
            Op::Hash => "hash",
            Op::Exchange => "exchange",
            Op::Sign => "sign",
            Op::Verify => "verify",
        }
    }

    /// Whether the op is measured in bytes per second (per message size) rather than calls.
    pub(crate) fn is_throughput(self) -> bool {
        matches!(self, Op::Seal | Op::Open | Op::Hash)
    }
}

/// A measured value: throughput for a message size, or operations per second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Metric {
    /// Megabytes (10^6 bytes) per second for messages of `size` bytes.
    Throughput {
        /// Message size in bytes.
        size: usize,
        /// 10^6 bytes per second.
        mb_per_s: f64,
    },
    /// Completed operations per second.
    Rate {
        /// Operations per second.
        ops_per_s: f64,
    },
}

impl Metric {
    /// The number compared across backends (MB/s or ops/s).
    pub(crate) fn value(self) -> f64 {
        match self {
            Metric::Throughput { mb_per_s, .. } => mb_per_s,
            Metric::Rate { ops_per_s } => ops_per_s,
        }
    }

    /// The message size, for throughput metrics.
    pub(crate) fn size(self) -> Option<usize> {
        match self {
            Metric::Throughput { size, .. } => Some(size),
            Metric::Rate { .. } => None,
        }
    }
}

/// One cipher measurement: `{"algorithm","backend","op","size","mb_per_s"}` or
/// `{"algorithm","backend","op","ops_per_s"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct CipherRecord {
    /// The algorithm.
    pub(crate) algorithm: AlgorithmId,
    /// The engine that ran it.
    pub(crate) backend: &'static str,
    /// The operation.
    pub(crate) op: Op,
    /// The result.
    #[serde(flatten)]
    pub(crate) metric: Metric,
}

/// One handshake measurement: `{"stack","mode","handshakes_per_s"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct HandshakeRecord {
    /// The TLS stack (client and server alike).
    pub(crate) stack: &'static str,
    /// `full` or `resumed`.
    pub(crate) mode: &'static str,
    /// Completed mutual-TLS handshakes per second.
    pub(crate) handshakes_per_s: f64,
}

/// Writes `records` to `path` as a pretty-printed JSON array.
pub(crate) fn write_json<T: Serialize>(path: &Path, records: &[T]) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(records)?;
    std::fs::write(path, text + "\n").map_err(|e| CliError::file(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_the_documented_shape() {
        let seal = CipherRecord {
            algorithm: AlgorithmId::Aes128Gcm,
            backend: "openssl",
            op: Op::Seal,
            metric: Metric::Throughput {
                size: 16384,
                mb_per_s: 1.5,
            },
        };
        assert_eq!(
            serde_json::to_value(&seal).unwrap(),
            serde_json::json!({"algorithm":"aes-128-gcm","backend":"openssl","op":"seal","size":16384,"mb_per_s":1.5})
        );
        let sign = CipherRecord {
            algorithm: AlgorithmId::EcdsaP256,
            backend: "ring",
            op: Op::Sign,
            metric: Metric::Rate { ops_per_s: 2.0 },
        };
        assert_eq!(
            serde_json::to_value(&sign).unwrap(),
            serde_json::json!({"algorithm":"ecdsa-p256","backend":"ring","op":"sign","ops_per_s":2.0})
        );
    }
}
