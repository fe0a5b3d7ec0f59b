//! Errors: one enum per concern, typed so callers (and metrics) can tell reasons apart.
//!
//! Peer faults ([`PeerError`]) are kept apart from our own misconfiguration
//! ([`ConfigError`]) and from engine failures ([`CryptoError`]); library errors of a TLS
//! stack stay as their source (never stringified) in [`TlsError::Stack`].

use std::sync::Arc;

use crate::algorithm::AlgorithmId;

/// A backend's own error, kept as its source.
pub type BackendError = Arc<dyn std::error::Error + Send + Sync>;

/// An engine's failure to perform a primitive.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key of the wrong length or form was given.
    #[error("invalid key")]
    InvalidKey,
    /// AEAD authentication failed: tampered data, wrong key, nonce or AAD.
    #[error("decryption failed: bad tag")]
    DecryptFailed,
    /// The peer's key-exchange share is malformed or a low-order point.
    #[error("invalid peer key share")]
    InvalidPeerShare,
    /// A private key of another key type was offered to a signature algorithm.
    #[error("private key is not of this key type")]
    WrongKeyType,
    /// A signature did not verify.
    #[error("bad signature")]
    BadSignature,
    /// The engine does not support this combination (e.g. a scheme or key size).
    #[error("unsupported by this engine: {0}")]
    Unsupported(&'static str),
    /// The backend library reported an error.
    #[error("backend error: {0}")]
    Backend(BackendError),
}

/// An error in configuration or in how the API was used: our fault, not the peer's.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No registered engine has this name.
    #[error("unknown engine {0:?}")]
    UnknownEngine(String),
    /// The named engine does not implement the algorithm.
    #[error("engine {engine} does not implement {algorithm}")]
    EngineLacksAlgorithm {
        /// The engine asked for.
        engine: String,
        /// The algorithm it lacks.
        algorithm: AlgorithmId,
    },
    /// No registered engine implements the algorithm.
    #[error("no engine implements {0}")]
    NoEngineFor(AlgorithmId),
    /// The named TLS stack is not available.
    #[error("unknown TLS stack {0:?}")]
    UnknownStack(String),
    /// A policy string could not be parsed.
    #[error("invalid policy {input:?}: {reason}")]
    BadPolicy {
        /// What was given.
        input: String,
        /// Why it is wrong.
        reason: String,
    },
    /// A certificate, key or bundle file could not be used.
    #[error("bad credentials: {0}")]
    BadCredentials(String),
    /// A cipher suite, group or version the stack does not know.
    #[error("unsupported {what}: {name}")]
    Unsupported {
        /// suite, group, version...
        what: &'static str,
        /// The name given.
        name: String,
    },
}

/// Why a peer's identity was rejected. Each reason is distinct so that logs, metrics and
/// tests can tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The peer sent no certificate.
    #[error("peer sent no certificate")]
    NoCertificate,
    /// The chain does not lead to a trust anchor of the peer's trust domain.
    #[error("untrusted certificate chain: {0}")]
    UntrustedChain(String),
    /// A certificate in the chain has expired.
    #[error("certificate expired")]
    Expired,
    /// A certificate in the chain is not valid yet.
    #[error("certificate not yet valid")]
    NotYetValid,
    /// The leaf carries more than one URI SAN (SPIFFE X.509-SVID forbids it).
    #[error("certificate has {0} URI SANs; an X.509-SVID has exactly one")]
    MultipleUriSans(usize),
    /// The leaf has no URI SAN.
    #[error("certificate has no URI SAN (not an X.509-SVID)")]
    NoUriSan,
    /// The URI SAN is not a valid SPIFFE ID.
    #[error("invalid SPIFFE ID: {0}")]
    InvalidSpiffeId(#[from] crate::spiffe::SpiffeIdError),
    /// The leaf is a CA certificate (basicConstraints cA=true) or may sign certificates.
    #[error("CA certificate used as a leaf")]
    CaAsLeaf,
    /// The leaf's key usage or extended key usage violates the X.509-SVID rules.
    #[error("leaf key usage not allowed: {0}")]
    BadKeyUsage(&'static str),
    /// The certificate could not be parsed.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// We hold no trust bundle for the peer's trust domain.
    #[error("no trust bundle for trust domain {0}")]
    UnknownTrustDomain(String),
    /// The peer's trust domain is not among those allowed.
    #[error("trust domain {0} not allowed")]
    WrongTrustDomain(String),
    /// The peer's SPIFFE ID is not allowed by the authorization policy.
    #[error("SPIFFE ID {0} not allowed")]
    IdNotAllowed(String),
    /// The peer's ID differs from the one the client expected.
    #[error("expected peer {expected}, got {got}")]
    UnexpectedId {
        /// What the client asked for.
        expected: String,
        /// What the server presented.
        got: String,
    },
    /// A signature in the chain did not verify.
    #[error("bad signature in certificate chain")]
    BadSignature,
}

impl PeerError {
    /// A short stable label for metrics and JSON (`untrusted_chain`, `expired`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            PeerError::NoCertificate => "no_certificate",
            PeerError::UntrustedChain(_) => "untrusted_chain",
            PeerError::Expired => "expired",
            PeerError::NotYetValid => "not_yet_valid",
            PeerError::MultipleUriSans(_) => "multiple_uri_sans",
            PeerError::NoUriSan => "no_uri_san",
            PeerError::InvalidSpiffeId(_) => "invalid_spiffe_id",
            PeerError::CaAsLeaf => "ca_as_leaf",
            PeerError::BadKeyUsage(_) => "bad_key_usage",
            PeerError::Malformed(_) => "malformed_certificate",
            PeerError::UnknownTrustDomain(_) => "unknown_trust_domain",
            PeerError::WrongTrustDomain(_) => "wrong_trust_domain",
            PeerError::IdNotAllowed(_) => "id_not_allowed",
            PeerError::UnexpectedId { .. } => "unexpected_id",
            PeerError::BadSignature => "bad_signature",
        }
    }
}

/// A failed TLS connection or handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// We rejected the peer's identity.
    #[error("peer rejected: {0}")]
    Peer(#[from] PeerError),
    /// The peer rejected us or aborted the handshake with an alert.
    #[error("peer sent alert: {0}")]
    AlertReceived(String),
    /// The handshake failed in the TLS stack for another reason (no common suite, protocol error...).
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// Our configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Socket I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The stack's library reported an error (kept as its source).
    #[error("tls stack error: {0}")]
    Stack(BackendError),
}

impl TlsError {
    /// A short stable label for metrics and JSON.
    pub fn label(&self) -> &'static str {
        match self {
            TlsError::Peer(p) => p.label(),
            TlsError::AlertReceived(_) => "alert_received",
            TlsError::Handshake(_) => "handshake_failed",
            TlsError::Config(_) => "config",
            TlsError::Io(_) => "io",
            TlsError::Stack(_) => "stack",
        }
    }
}
