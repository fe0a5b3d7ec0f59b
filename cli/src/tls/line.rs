//! The one JSON line printed per handshake, on success or failure.

use std::io::Write;

use meshtls_tls_core::spiffe::SpiffeId;
use meshtls_tls_core::stack::PeerInfo;
use serde::Serialize;

use crate::error::CliError;

/// `{"result":"ok","stack","version","suite","group","peer_id"}` or
/// `{"result":"error","error":"<label>","detail":"..."}`.
#[derive(Debug, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub(crate) enum HandshakeLine<'a> {
    /// The handshake succeeded and the peer is authorized.
    Ok {
        /// The stack that ran the handshake.
        stack: &'a str,
        /// Negotiated version (`TLSv1.3`).
        version: &'a str,
        /// Negotiated suite, IANA name.
        suite: &'a str,
        /// Negotiated group, when the stack reports it.
        group: Option<&'a str>,
        /// The authenticated peer.
        peer_id: &'a SpiffeId,
    },
    /// The connection failed.
    Error {
        /// A stable label ([`meshtls_tls_core::TlsError::label`]).
        error: &'static str,
        /// The human-readable reason.
        detail: String,
    },
}

impl<'a> HandshakeLine<'a> {
    /// The success line for `peer`.
    pub(crate) fn ok(peer: &'a PeerInfo) -> HandshakeLine<'a> {
        HandshakeLine::Ok {
            stack: peer.stack,
            version: &peer.version,
            suite: &peer.suite,
            group: peer.group.as_deref(),
            peer_id: &peer.peer_id,
        }
    }

    /// The failure line for `error`.
    pub(crate) fn error(error: &CliError) -> HandshakeLine<'static> {
        HandshakeLine::Error {
            error: error.label(),
            detail: error.to_string(),
        }
    }

    /// Prints the line to stdout and flushes, so that scripts see it at once.
    pub(crate) fn print(&self) -> Result<(), CliError> {
        let text = serde_json::to_string(self)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")?;
        out.flush()?;
        Ok(())
    }
}
