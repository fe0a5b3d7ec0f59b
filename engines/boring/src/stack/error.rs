//! Classifies a failed BoringSSL handshake into tls-core's typed [`TlsError`].
//!
//! Order: our own verdict on the peer first (the reason we aborted), then BoringSSL's report
//! that a client sent no certificate, then an alert the peer sent us, then socket errors;
//! anything else stays BoringSSL's error, kept as the source.

use std::sync::Arc;

use btls::error::ErrorStack;
use btls::ssl;
use meshtls_tls_core::spiffe::check_leaf;
use meshtls_tls_core::stack::rustls_stack::alert_code_name;
use meshtls_tls_core::{PeerError, TlsError};
use rustls_pki_types::CertificateDer;

use super::verify::PeerCheck;

/// `ERR_LIB_SSL` (BoringSSL openssl/err.h).
const ERR_LIB_SSL: i32 = 16;
/// `SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE` (BoringSSL openssl/ssl.h).
const SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 192;
/// `SSL_R_KEY_USAGE_BIT_INCORRECT` (BoringSSL openssl/ssl.h): BoringSSL refuses a TLS 1.3
/// peer leaf without digitalSignature while parsing it, before our verify callback runs.
const SSL_R_KEY_USAGE_BIT_INCORRECT: i32 = 302;
/// `SSL_AD_REASON_OFFSET` (openssl/ssl.h): a received alert `n` is reported as reason
/// `1000 + n`.
const SSL_AD_REASON_OFFSET: i32 = 1000;

/// The typed error for a handshake that failed with `err`.
///
/// `leaf` is the peer's leaf if BoringSSL kept it: when BoringSSL itself refuses the leaf's key
/// usage, the SVID leaf rules name the precise reason (a CA certificate used as a leaf gets
/// `CaAsLeaf`), so every stack reports the same reason for the same certificate.
pub(super) fn handshake_failed(
    err: ssl::Error,
    check: &PeerCheck,
    leaf: Option<CertificateDer<'_>>,
) -> TlsError {
    if let Some(Err(reason)) = check.verdict() {
        return TlsError::Peer(reason.clone());
    }
    if let Some(stack) = err.ssl_error() {
        for reason in ssl_reasons(stack) {
            if reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE {
                return TlsError::Peer(PeerError::NoCertificate);
            }
            if reason == SSL_R_KEY_USAGE_BIT_INCORRECT {
                let rule = leaf.as_ref().map(check_leaf).and_then(Result::err);
                return TlsError::Peer(
                    rule.unwrap_or(PeerError::BadKeyUsage("leaf lacks digitalSignature")),
                );
            }
            if let Some(alert) = alert_name(reason) {
                return TlsError::AlertReceived(alert);
            }
        }
    }
    match err.into_io_error() {
        Ok(io) => TlsError::Io(io),
        Err(err) => TlsError::Stack(Arc::new(err)),
    }
}

/// A library error outside a handshake (building a context or an `Ssl`).
pub(super) fn stack(err: ErrorStack) -> TlsError {
    TlsError::Stack(Arc::new(err))
}

fn ssl_reasons(stack: &ErrorStack) -> impl Iterator<Item = i32> + '_ {
    stack
        .errors()
        .iter()
        .filter(|e| e.library_code() == ERR_LIB_SSL)
        .map(|e| e.reason_code())
}

/// The RFC 8446 / RFC 5246 name of the alert behind an SSL reason code, if it is one,
/// spelled as the rustls stack spells it (`unknown_ca`, `alert_N` when unnamed).
fn alert_name(reason: i32) -> Option<String> {
    let code = u8::try_from(reason.checked_sub(SSL_AD_REASON_OFFSET)?).ok()?;
    Some(alert_code_name(code))
}
