//! Classifies a failed OpenSSL handshake into tls-core's typed [`TlsError`].
//!
//! Order: our own verdict on the peer first (the reason we aborted), then OpenSSL's report
//! that a client sent no certificate, then an alert the peer sent us, then socket errors;
//! anything else stays OpenSSL's error, kept as the source.

use std::sync::Arc;

use meshtls_tls_core::stack::rustls_stack::alert_code_name;
use meshtls_tls_core::{PeerError, TlsError};
use openssl::error::ErrorStack;
use openssl::ssl;

use super::verify::PeerCheck;

/// `ERR_LIB_SSL` (openssl/err.h).
const ERR_LIB_SSL: i32 = 20;
/// `SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE` (openssl/sslerr.h).
const SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: i32 = 199;
/// `SSL_AD_REASON_OFFSET` (openssl/ssl.h): a received alert `n` is reported as reason
/// `1000 + n`.
const SSL_AD_REASON_OFFSET: i32 = 1000;

/// The typed error for a handshake that failed with `err`.
pub(super) fn handshake_failed(err: ssl::Error, check: &PeerCheck) -> TlsError {
    if let Some(Err(reason)) = check.verdict() {
        return TlsError::Peer(reason.clone());
    }
    if let Some(stack) = err.ssl_error() {
        for reason in ssl_reasons(stack) {
            if reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE {
                return TlsError::Peer(PeerError::NoCertificate);
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
