//! The typed TLCP error and its mapping to alerts.
//!
//! One enum, [`TlcpError`], for everything a TLCP connection can fail with: malformed input
//! (which message and field), record-layer faults (bad MAC, overflow, sequence exhaustion),
//! handshake faults, the peer's identity being rejected ([`PeerError`]), SM primitive
//! failures ([`SmError`]), alerts received from the peer, and closure. [`TlcpError::alert`]
//! names the alert to send for each, so the protocol code never picks one by hand.

use meshtls_tls_core::PeerError;

use super::alert::{AlertDescription, AlertLevel};
use crate::SmError;

/// How a field failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended before the field did.
    #[error("truncated")]
    Truncated,
    /// Bytes were left over after the last field.
    #[error("trailing bytes")]
    TrailingBytes,
    /// A length or count outside what the field allows.
    #[error("bad length")]
    BadLength,
    /// A value the field does not allow.
    #[error("invalid value")]
    InvalidValue,
    /// A value too long for its length prefix (when encoding).
    #[error("too long for its length prefix")]
    TooLongToEncode,
}

/// Everything a TLCP connection can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlcpError {
    /// A message or field could not be decoded; `what` names it (`"ClientHello.session_id"`).
    #[error("cannot decode {what}: {kind}")]
    Decode {
        /// The message and field, `Message.field`.
        what: &'static str,
        /// How decoding failed.
        kind: DecodeErrorKind,
    },
    /// A record failed its MAC, tag or padding check (the three are not told apart).
    #[error("bad record MAC")]
    BadRecordMac,
    /// A record longer than the protocol allows (plaintext 2^14, ciphertext 2^14 + 2048).
    #[error("record overflow: {len} bytes")]
    RecordOverflow {
        /// The length the record claimed or decrypted to.
        len: usize,
    },
    /// A record or handshake message that is not allowed at this point.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(&'static str),
    /// The handshake cannot go on (no common suite, missing certificate, ...).
    #[error("handshake failure: {0}")]
    HandshakeFailure(&'static str),
    /// A certificate that is unusable for reasons outside the peer-identity checks.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// A signature or Finished value did not verify, or the pre-master secret did not decrypt.
    #[error("decrypt error: {0}")]
    DecryptError(&'static str),
    /// A well-formed field with a value the protocol forbids here.
    #[error("illegal parameter: {0}")]
    IllegalParameter(&'static str),
    /// The peer spoke another protocol version (the value it sent).
    #[error("protocol version {0:#06x} is not TLCP")]
    ProtocolVersion(u16),
    /// The 64-bit record sequence number would wrap; the connection must end.
    #[error("record sequence number exhausted")]
    SequenceExhausted,
    /// The peer asked to renegotiate, which is refused.
    #[error("renegotiation refused")]
    NoRenegotiation,
    /// The peer sent a fatal alert (or a warning we treat as fatal).
    #[error("peer sent alert {0}")]
    AlertReceived(AlertDescription),
    /// We rejected the peer's identity.
    #[error("peer rejected: {0}")]
    Peer(#[from] PeerError),
    /// An SM primitive failed (bad point, bad key, ...).
    #[error("crypto: {0}")]
    Crypto(#[from] SmError),
    /// The peer closed the connection with close_notify.
    #[error("connection closed by peer")]
    Closed,
    /// The transport ended without close_notify (possible truncation attack).
    #[error("unexpected end of stream")]
    UnexpectedEof,
    /// Our own fault: a call not allowed in this state, or bad configuration.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
    /// An internal failure that is not the peer's fault (random source, ...).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl TlcpError {
    /// A decode error for `what` (`Message.field`).
    pub fn decode(what: &'static str, kind: DecodeErrorKind) -> Self {
        TlcpError::Decode { what, kind }
    }

    /// The alert to send the peer for this error.
    ///
    /// For errors after which nothing must be sent ([`TlcpError::AlertReceived`],
    /// [`TlcpError::UnexpectedEof`], [`TlcpError::Closed`]) this is `close_notify`, and
    /// [`TlcpError::sends_alert`] is false.
    pub fn alert(&self) -> AlertDescription {
        use AlertDescription as A;
        match self {
            TlcpError::Decode { kind, .. } => match kind {
                DecodeErrorKind::InvalidValue => A::IllegalParameter,
                DecodeErrorKind::TooLongToEncode => A::InternalError,
                _ => A::DecodeError,
            },
            TlcpError::BadRecordMac => A::BadRecordMac,
            TlcpError::RecordOverflow { .. } => A::RecordOverflow,
            TlcpError::UnexpectedMessage(_) => A::UnexpectedMessage,
            TlcpError::HandshakeFailure(_) => A::HandshakeFailure,
            TlcpError::BadCertificate(_) => A::BadCertificate,
            TlcpError::DecryptError(_) => A::DecryptError,
            TlcpError::IllegalParameter(_) => A::IllegalParameter,
            TlcpError::ProtocolVersion(_) => A::ProtocolVersion,
            TlcpError::SequenceExhausted => A::InternalError,
            TlcpError::NoRenegotiation => A::NoRenegotiation,
            TlcpError::Peer(p) => peer_alert(p),
            TlcpError::Crypto(e) => crypto_alert(e),
            TlcpError::AlertReceived(_) | TlcpError::Closed | TlcpError::UnexpectedEof => {
                A::CloseNotify
            }
            TlcpError::ApiMisuse(_) | TlcpError::Internal(_) => A::InternalError,
        }
    }

    /// The level of [`TlcpError::alert`]: warning only for `no_renegotiation` and
    /// `close_notify`, fatal otherwise.
    pub fn alert_level(&self) -> AlertLevel {
        match self.alert() {
            AlertDescription::NoRenegotiation | AlertDescription::CloseNotify => {
                AlertLevel::Warning
            }
            _ => AlertLevel::Fatal,
        }
    }

    /// Whether an alert should be sent at all: false after the peer's own alert or closure,
    /// and on a bare EOF (there is nobody to tell).
    pub fn sends_alert(&self) -> bool {
        !matches!(
            self,
            TlcpError::AlertReceived(_) | TlcpError::Closed | TlcpError::UnexpectedEof
        )
    }
}

/// The alert for a rejected peer identity (RFC 5246 section 7.2.2 meanings).
fn peer_alert(err: &PeerError) -> AlertDescription {
    use AlertDescription as A;
    match err {
        PeerError::NoCertificate => A::HandshakeFailure,
        PeerError::Expired | PeerError::NotYetValid => A::CertificateExpired,
        PeerError::UntrustedChain(_) | PeerError::UnknownTrustDomain(_) => A::UnknownCa,
        PeerError::WrongTrustDomain(_)
        | PeerError::IdNotAllowed(_)
        | PeerError::UnexpectedId { .. } => A::AccessDenied,
        PeerError::BadKeyUsage(_) => A::UnsupportedCertificate,
        _ => A::BadCertificate,
    }
}

/// The alert for a failed SM primitive: a bad peer value, a failed check, or our own fault.
fn crypto_alert(err: &SmError) -> AlertDescription {
    use AlertDescription as A;
    match err {
        SmError::InvalidPoint | SmError::PointNotOnCurve | SmError::PointAtInfinity => {
            A::IllegalParameter
        }
        SmError::BadSignature
        | SmError::MalformedSignature
        | SmError::DecryptionFailed
        | SmError::BadTag
        | SmError::ConfirmationFailed => A::DecryptError,
        SmError::Encoding(_) | SmError::CiphertextTooShort => A::DecodeError,
        _ => A::InternalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_follow_the_error() {
        assert_eq!(
            TlcpError::BadRecordMac.alert(),
            AlertDescription::BadRecordMac
        );
        assert_eq!(
            TlcpError::decode("Finished.verify_data", DecodeErrorKind::Truncated).alert(),
            AlertDescription::DecodeError
        );
        assert_eq!(
            TlcpError::Peer(PeerError::Expired).alert(),
            AlertDescription::CertificateExpired
        );
        assert_eq!(
            TlcpError::Crypto(SmError::BadSignature).alert(),
            AlertDescription::DecryptError
        );
        assert_eq!(
            TlcpError::NoRenegotiation.alert_level(),
            AlertLevel::Warning
        );
        assert_eq!(TlcpError::BadRecordMac.alert_level(), AlertLevel::Fatal);
        assert!(!TlcpError::AlertReceived(AlertDescription::HandshakeFailure).sends_alert());
        assert!(TlcpError::ProtocolVersion(0x0303).sends_alert());
    }
}
