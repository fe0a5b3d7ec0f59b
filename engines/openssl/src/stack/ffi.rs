//! The one OpenSSL call the `openssl` crate does not wrap: which key-exchange group the
//! handshake used. (`SslRef::tmp_key` cannot say on a TLS 1.2 server, which frees its
//! ephemeral key once the premaster secret is derived.)

use foreign_types::ForeignTypeRef;
use openssl::nid::Nid;
use openssl::ssl::SslRef;

/// `SSL_CTRL_GET_NEGOTIATED_GROUP` (openssl/ssl.h, OpenSSL 3.0), behind the
/// `SSL_get_negotiated_group` macro.
const SSL_CTRL_GET_NEGOTIATED_GROUP: std::ffi::c_int = 134;

/// The NID of the group the handshake negotiated, if OpenSSL knows one.
#[allow(unsafe_code)]
pub(super) fn negotiated_group(ssl: &SslRef) -> Option<Nid> {
    // SAFETY: `ssl.as_ptr()` is a live `SSL` for the whole borrow; this control command only
    // reads handshake state and, like the C macro, passes no pointer argument (null `parg`).
    let raw = unsafe {
        openssl_sys::SSL_ctrl(
            ssl.as_ptr(),
            SSL_CTRL_GET_NEGOTIATED_GROUP,
            0,
            std::ptr::null_mut(),
        )
    };
    i32::try_from(raw)
        .ok()
        .filter(|nid| *nid > 0)
        .map(Nid::from_raw)
}
