//! The TLCP handshake state machines (sans-I/O): [`client`] and [`server`], fed whole
//! handshake messages and ChangeCipherSpec by the connection driver, answering with
//! [`Output`]s for it to send.
//!
//! GB/T 38636-2020 section 6.4 is TLS 1.2-shaped. Full handshake:
//!
//! ```text
//! ClientHello            -->
//!                        <-- ServerHello, Certificate (sign, enc, chain), ServerKeyExchange,
//!                            [CertificateRequest], ServerHelloDone
//! [Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec, Finished -->
//!                        <-- ChangeCipherSpec, Finished
//! ```
//!
//! and the abbreviated one when the server resumes the offered session ID:
//! ClientHello / ServerHello, CCS, Finished / CCS, Finished.
//!
//! The machines own the transcript, the key exchange and peer verification; the driver
//! ([`super::conn`]) owns records, alerts and application data, and refuses renegotiation once
//! a machine reports [`Output::Done`]. Any message out of order is `unexpected_message`; every
//! other failure is a typed [`TlcpError`] whose alert the driver sends.

pub(crate) mod certs;
pub(crate) mod client;
mod keys;
pub(crate) mod server;
mod transcript;

use rustls_pki_types::CertificateDer;

use super::cipher::RecordCipher;
use super::error::TlcpError;
use super::message::HandshakeFrame;
use super::suite::CipherSuite;

/// What a state machine asks the driver to do, in order.
pub(crate) enum Output {
    /// Send this encoded handshake message (already in the transcript).
    Message(Vec<u8>),
    /// Send ChangeCipherSpec, then protect every later record we write with this cipher.
    ChangeCipherSpec(Box<RecordCipher>),
    /// The handshake is complete.
    Done(Established),
}

/// What a completed handshake established.
#[derive(Debug, Clone)]
pub(crate) struct Established {
    /// The negotiated suite.
    pub(crate) suite: CipherSuite,
    /// Whether an earlier session was resumed (abbreviated handshake).
    pub(crate) resumed: bool,
    /// The peer's signing chain (leaf first); empty for a client that did not authenticate.
    pub(crate) peer_sign_chain: Vec<CertificateDer<'static>>,
    /// The peer's encryption certificate.
    pub(crate) peer_enc_cert: Option<CertificateDer<'static>>,
}

/// Either side's state machine.
pub(crate) enum Handshake {
    /// A client's.
    Client(Box<client::ClientHandshake>),
    /// A server's.
    Server(Box<server::ServerHandshake>),
}

impl Handshake {
    /// Processes one complete handshake message.
    pub(crate) fn handle_message(
        &mut self,
        frame: HandshakeFrame,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        match self {
            Handshake::Client(hs) => hs.handle_message(frame, out),
            Handshake::Server(hs) => hs.handle_message(frame, out),
        }
    }

    /// Processes the peer's ChangeCipherSpec; returns the cipher for the peer's next records.
    pub(crate) fn handle_change_cipher_spec(&mut self) -> Result<RecordCipher, TlcpError> {
        match self {
            Handshake::Client(hs) => hs.handle_change_cipher_spec(),
            Handshake::Server(hs) => hs.handle_change_cipher_spec(),
        }
    }
}
