//! TLCP alerts: levels, descriptions, encoding.
//!
//! GB/T 38636-2020 uses the TLS 1.2 alert set (RFC 5246 section 7.2) plus six codes of its
//! own (200..=205, as Tongsuo's `ntls.h` numbers them). Unknown codes stay representable
//! (`Unknown(u8)`) so a peer's alert is always reported as it was sent.

use super::error::{DecodeErrorKind, TlcpError};

/// Bytes in an encoded alert (level, description).
pub const ALERT_LEN: usize = 2;

/// An alert's level (RFC 5246 section 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertLevel {
    /// 1: the connection may go on.
    Warning,
    /// 2: the connection ends.
    Fatal,
    /// Any other code.
    Unknown(u8),
}

impl AlertLevel {
    /// The level for wire code `code`.
    pub fn from_u8(code: u8) -> Self {
        match code {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            other => AlertLevel::Unknown(other),
        }
    }

    /// The wire code.
    pub fn to_u8(self) -> u8 {
        match self {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
            AlertLevel::Unknown(code) => code,
        }
    }
}

/// Declares [`AlertDescription`] with its codes and names in one table.
macro_rules! alert_descriptions {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        /// An alert's description (RFC 5246 section 7.2 and GB/T 38636-2020).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AlertDescription {
            $($(#[$doc])* $variant,)*
            /// A code this crate does not name.
            Unknown(u8),
        }

        impl AlertDescription {
            /// The description for wire code `code`.
            pub fn from_u8(code: u8) -> Self {
                match code {
                    $($code => AlertDescription::$variant,)*
                    other => AlertDescription::Unknown(other),
                }
            }

            /// The wire code.
            pub fn to_u8(self) -> u8 {
                match self {
                    $(AlertDescription::$variant => $code,)*
                    AlertDescription::Unknown(code) => code,
                }
            }

            /// The specification's name (`bad_record_mac`), or `None` for an unknown code.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(AlertDescription::$variant => Some($name),)*
                    AlertDescription::Unknown(_) => None,
                }
            }
        }
    };
}

alert_descriptions! {
    /// 0: orderly closure.
    CloseNotify = 0, "close_notify";
    /// 10: a message not allowed here.
    UnexpectedMessage = 10, "unexpected_message";
    /// 20: a record failed its MAC, tag or padding check.
    BadRecordMac = 20, "bad_record_mac";
    /// 21: obsolete (TLS 1.0 decryption failure).
    DecryptionFailed = 21, "decryption_failed";
    /// 22: a record too long.
    RecordOverflow = 22, "record_overflow";
    /// 30: decompression failed.
    DecompressionFailure = 30, "decompression_failure";
    /// 40: no acceptable parameters.
    HandshakeFailure = 40, "handshake_failure";
    /// 41: obsolete (SSL 3.0).
    NoCertificate = 41, "no_certificate";
    /// 42: a corrupt or unverifiable certificate.
    BadCertificate = 42, "bad_certificate";
    /// 43: a certificate of an unsupported type.
    UnsupportedCertificate = 43, "unsupported_certificate";
    /// 44: a revoked certificate.
    CertificateRevoked = 44, "certificate_revoked";
    /// 45: an expired or not yet valid certificate.
    CertificateExpired = 45, "certificate_expired";
    /// 46: another certificate problem.
    CertificateUnknown = 46, "certificate_unknown";
    /// 47: a field out of range or inconsistent.
    IllegalParameter = 47, "illegal_parameter";
    /// 48: the chain does not lead to a trusted CA.
    UnknownCa = 48, "unknown_ca";
    /// 49: valid credentials, but access is refused.
    AccessDenied = 49, "access_denied";
    /// 50: a message could not be decoded.
    DecodeError = 50, "decode_error";
    /// 51: a signature, Finished or key exchange check failed.
    DecryptError = 51, "decrypt_error";
    /// 60: export restrictions (obsolete).
    ExportRestriction = 60, "export_restriction";
    /// 70: an unsupported protocol version.
    ProtocolVersion = 70, "protocol_version";
    /// 71: parameters weaker than required.
    InsufficientSecurity = 71, "insufficient_security";
    /// 80: a local failure unrelated to the peer.
    InternalError = 80, "internal_error";
    /// 86: a version downgrade was detected.
    InappropriateFallback = 86, "inappropriate_fallback";
    /// 90: the user cancelled the handshake.
    UserCanceled = 90, "user_canceled";
    /// 100: renegotiation is refused.
    NoRenegotiation = 100, "no_renegotiation";
    /// 110: an extension that was not offered.
    UnsupportedExtension = 110, "unsupported_extension";
    /// 200: site-to-site not supported (GB/T 38636).
    UnsupportedSite2Site = 200, "unsupported_site2site";
    /// 201: no protected area (GB/T 38636).
    NoArea = 201, "no_area";
    /// 202: unsupported area type (GB/T 38636).
    UnsupportedAreaType = 202, "unsupported_areatype";
    /// 203: bad IBC parameters (GB/T 38636).
    BadIbcParam = 203, "bad_ibcparam";
    /// 204: unsupported IBC parameters (GB/T 38636).
    UnsupportedIbcParam = 204, "unsupported_ibcparam";
    /// 205: an identity is needed (GB/T 38636).
    IdentityNeed = 205, "identity_need";
}

impl core::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "alert_{}", self.to_u8()),
        }
    }
}

/// One alert message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Warning or fatal.
    pub level: AlertLevel,
    /// What happened.
    pub description: AlertDescription,
}

impl Alert {
    /// A fatal alert.
    pub fn fatal(description: AlertDescription) -> Self {
        Alert {
            level: AlertLevel::Fatal,
            description,
        }
    }

    /// A warning alert.
    pub fn warning(description: AlertDescription) -> Self {
        Alert {
            level: AlertLevel::Warning,
            description,
        }
    }

    /// The two wire bytes.
    pub fn encode(&self) -> [u8; ALERT_LEN] {
        [self.level.to_u8(), self.description.to_u8()]
    }

    /// Decodes a whole alert record payload: exactly two bytes (one alert per record, as
    /// RFC 5246 requires of fragments; a split or coalesced alert is a decode error).
    pub fn decode(payload: &[u8]) -> Result<Self, TlcpError> {
        match payload {
            [level, description] => Ok(Alert {
                level: AlertLevel::from_u8(*level),
                description: AlertDescription::from_u8(*description),
            }),
            [] | [_] => Err(TlcpError::decode("Alert", DecodeErrorKind::Truncated)),
            _ => Err(TlcpError::decode("Alert", DecodeErrorKind::TrailingBytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(AlertDescription::from_u8(code).to_u8(), code);
            assert_eq!(AlertLevel::from_u8(code).to_u8(), code);
        }
        assert_eq!(
            AlertDescription::from_u8(43),
            AlertDescription::UnsupportedCertificate
        );
        assert_eq!(AlertDescription::from_u8(99), AlertDescription::Unknown(99));
        assert_eq!(AlertDescription::BadRecordMac.to_string(), "bad_record_mac");
        assert_eq!(AlertDescription::Unknown(99).to_string(), "alert_99");
    }

    #[test]
    fn alert_wire_form() {
        let alert = Alert::fatal(AlertDescription::HandshakeFailure);
        assert_eq!(alert.encode(), [2, 40]);
        assert_eq!(Alert::decode(&[2, 40]).unwrap(), alert);
        assert!(Alert::decode(&[2]).is_err());
        assert!(Alert::decode(&[2, 40, 1]).is_err());
    }
}
