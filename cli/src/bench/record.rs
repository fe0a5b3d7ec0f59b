//! The JSON records the benchmarks write, one per measurement.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use meshtls_tls_core::algorithm::UnknownAlgorithm;
use meshtls_tls_core::AlgorithmId;
use serde::Serialize;

use crate::error::CliError;

/// What a row of `bench ciphers` measures: a catalogue algorithm (every engine that has it),
/// or an SM4 mode the catalogue lacks, measured for the peers only (see `sm_peers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Subject {
    /// A catalogue algorithm.
    Algorithm(AlgorithmId),
    /// SM4 in CTR mode, 128-bit big-endian counter (NIST SP 800-38A, as OpenSSL's `sm4-ctr`).
    Sm4Ctr,
    /// SM4 in CBC mode on whole blocks, no padding (GB/T 17964 / SP 800-38A).
    Sm4Cbc,
}

impl Subject {
    /// The rows the catalogue lacks, in display order.
    pub(crate) const EXTRA: [Subject; 2] = [Subject::Sm4Ctr, Subject::Sm4Cbc];

    /// The name used on the command line, in tables and in JSON (`aes-128-gcm`, `sm4-ctr`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Subject::Algorithm(id) => id.name(),
            Subject::Sm4Ctr => "sm4-ctr",
            Subject::Sm4Cbc => "sm4-cbc",
        }
    }

    /// The catalogue algorithm, if this row is one.
    pub(crate) fn algorithm(self) -> Option<AlgorithmId> {
        match self {
            Subject::Algorithm(id) => Some(id),
            Subject::Sm4Ctr | Subject::Sm4Cbc => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A `--algs` name that is neither in the catalogue nor an extra row.
#[derive(Debug, thiserror::Error)]
#[error("{catalogue}; or one of the extra rows: sm4-ctr, sm4-cbc")]
pub(crate) struct UnknownSubject {
    catalogue: UnknownAlgorithm,
}

impl FromStr for Subject {
    type Err = UnknownSubject;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(extra) = Subject::EXTRA.into_iter().find(|e| e.name() == lower) {
            return Ok(extra);
        }
        s.parse()
            .map(Subject::Algorithm)
            .map_err(|catalogue| UnknownSubject { catalogue })
    }
}

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
    /// Unauthenticated encryption in place (the SM4 modes the catalogue lacks).
    Encrypt,
    /// Unauthenticated decryption in place.
    Decrypt,
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
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
        }
    }

    /// Whether the op is measured in bytes per second (per message size) rather than calls.
    pub(crate) fn is_throughput(self) -> bool {
        matches!(
            self,
            Op::Seal | Op::Open | Op::Hash | Op::Encrypt | Op::Decrypt
        )
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
    /// The algorithm (or extra SM4 mode).
    pub(crate) algorithm: Subject,
    /// The engine or peer library that ran it (`openssl`, `rustcrypto`, `sm/soft`, ...).
    pub(crate) backend: String,
    /// The operation.
    pub(crate) op: Op,
    /// The result.
    #[serde(flatten)]
    pub(crate) metric: Metric,
}

/// One handshake measurement: `{"client","server","protocol","suite","group","key","mode",
/// "handshakes_per_s","cpu_us_per_handshake"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct HandshakeRecord {
    /// The client's stack (`rustls`, `openssl`, `boring`, `tlcp`, `tongsuo`).
    pub(crate) client: &'static str,
    /// The server's stack.
    pub(crate) server: &'static str,
    /// The protocol version (`TLSv1.3`, `TLCP`).
    pub(crate) protocol: &'static str,
    /// The suite (`TLS_SM4_GCM_SM3`, `ECDHE_SM4_GCM_SM3`).
    pub(crate) suite: &'static str,
    /// The key-exchange group; `null` for TLCP's ECC key transport.
    pub(crate) group: Option<&'static str>,
    /// Both sides' credentials (`ecdsa-p256`, `sm2`, `sm2 sign+enc`).
    pub(crate) key: &'static str,
    /// `full` or `resumed`.
    pub(crate) mode: &'static str,
    /// Completed mutual-TLS handshakes per second.
    pub(crate) handshakes_per_s: f64,
    /// CPU microseconds per handshake, client and server together; `null` when they ran in
    /// different processes.
    pub(crate) cpu_us_per_handshake: Option<f64>,
}

/// One record-throughput measurement:
/// `{"stack","protocol","suite","bytes","write_size","mb_per_s","cpu_ms_per_mb"}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct TransferRecord {
    /// The stack on both sides.
    pub(crate) stack: &'static str,
    /// The protocol version (`TLSv1.3`, `TLCP`).
    pub(crate) protocol: &'static str,
    /// The suite protecting the records.
    pub(crate) suite: &'static str,
    /// Application bytes sent, client to server.
    pub(crate) bytes: u64,
    /// Bytes per write call.
    pub(crate) write_size: usize,
    /// 10^6 application bytes per second, from the first write to the server's receipt.
    pub(crate) mb_per_s: f64,
    /// CPU milliseconds per 10^6 bytes, both sides together; `null` where unknown.
    pub(crate) cpu_ms_per_mb: Option<f64>,
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
            algorithm: Subject::Algorithm(AlgorithmId::Aes128Gcm),
            backend: "openssl".into(),
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
            algorithm: Subject::Algorithm(AlgorithmId::EcdsaP256),
            backend: "ring".into(),
            op: Op::Sign,
            metric: Metric::Rate { ops_per_s: 2.0 },
        };
        assert_eq!(
            serde_json::to_value(&sign).unwrap(),
            serde_json::json!({"algorithm":"ecdsa-p256","backend":"ring","op":"sign","ops_per_s":2.0})
        );
        let cbc = CipherRecord {
            algorithm: Subject::Sm4Cbc,
            backend: "sm-crypto".into(),
            op: Op::Decrypt,
            metric: Metric::Throughput {
                size: 64,
                mb_per_s: 3.0,
            },
        };
        assert_eq!(
            serde_json::to_value(&cbc).unwrap(),
            serde_json::json!({"algorithm":"sm4-cbc","backend":"sm-crypto","op":"decrypt","size":64,"mb_per_s":3.0})
        );
    }

    #[test]
    fn tls_records_have_the_documented_shape() {
        let handshake = HandshakeRecord {
            client: "tlcp",
            server: "tongsuo",
            protocol: "TLCP",
            suite: "ECC_SM4_GCM_SM3",
            group: None,
            key: "sm2 sign+enc",
            mode: "full",
            handshakes_per_s: 10.0,
            cpu_us_per_handshake: None,
        };
        assert_eq!(
            serde_json::to_value(&handshake).unwrap(),
            serde_json::json!({"client":"tlcp","server":"tongsuo","protocol":"TLCP",
                "suite":"ECC_SM4_GCM_SM3","group":null,"key":"sm2 sign+enc","mode":"full",
                "handshakes_per_s":10.0,"cpu_us_per_handshake":null})
        );
        let transfer = TransferRecord {
            stack: "rustls",
            protocol: "TLSv1.3",
            suite: "TLS_SM4_GCM_SM3",
            bytes: 1024,
            write_size: 16384,
            mb_per_s: 5.0,
            cpu_ms_per_mb: Some(4.0),
        };
        assert_eq!(
            serde_json::to_value(&transfer).unwrap(),
            serde_json::json!({"stack":"rustls","protocol":"TLSv1.3","suite":"TLS_SM4_GCM_SM3",
                "bytes":1024,"write_size":16384,"mb_per_s":5.0,"cpu_ms_per_mb":4.0})
        );
    }

    #[test]
    fn subjects_parse_catalogue_and_extra_names() {
        for s in Subject::EXTRA {
            assert_eq!(s.name().parse::<Subject>().unwrap(), s);
        }
        assert_eq!(
            "SM4-GCM".parse::<Subject>().unwrap(),
            Subject::Algorithm(AlgorithmId::Sm4Gcm)
        );
        let err = "sm4-ofb".parse::<Subject>().unwrap_err().to_string();
        assert!(err.contains("sm4-ofb") && err.contains("sm4-ctr"), "{err}");
    }
}
