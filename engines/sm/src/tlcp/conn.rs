//! The sans-I/O TLCP connection: bytes in, bytes out, like a rustls `Connection`.
//!
//! The caller moves TLS bytes with [`Connection::read_tls`] / [`Connection::write_tls`],
//! runs [`Connection::process_new_packets`] after reading, and exchanges application data with
//! [`Connection::read_plaintext`] / [`Connection::write_plaintext`]. The connection owns the
//! record layer (deframing, protection, fragmentation to 2^14 bytes), dispatches handshake
//! messages and ChangeCipherSpec to the [`handshake`](super::handshake) state machine, and
//! handles alerts and application data itself.
//!
//! Policy here: any error is fatal and queues the matching alert (before or after our
//! ChangeCipherSpec, protected accordingly); warnings other than close_notify are ignored;
//! after the handshake a HelloRequest (at a client) or ClientHello (at a server) is answered
//! with a no_renegotiation warning and the connection goes on (RFC 5246 section 7.4.1.1 and
//! 7.2.2); close_notify ends reading, and is sent only when asked. No I/O, no clock.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use super::alert::{Alert, AlertDescription, AlertLevel};
use super::config::{ClientConfig, ServerConfig};
use super::error::TlcpError;
use super::handshake::client::ClientHandshake;
use super::handshake::server::ServerHandshake;
use super::handshake::{Established, Handshake, Output};
use super::message::{HandshakeFrame, HandshakeJoiner, HandshakeType, HelloRequest};
use super::record::{
    check_change_cipher_spec, ContentType, RecordDeframer, RecordOpener, RecordSealer,
    CHANGE_CIPHER_SPEC_PAYLOAD, MAX_PLAINTEXT_LEN,
};
use super::suite::CipherSuite;

/// Application data accepted by [`Connection::write_plaintext`] before the handshake ends.
const MAX_EARLY_PLAINTEXT: usize = 4 * MAX_PLAINTEXT_LEN;
/// Received application data held before [`Connection::wants_read`] turns false.
const MAX_RECEIVED_PLAINTEXT: usize = 4 * MAX_PLAINTEXT_LEN;

/// Which side of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// One TLCP connection, client or server.
pub struct Connection {
    side: Side,
    /// The state machine, until the handshake completes or fails.
    handshake: Option<Handshake>,
    /// What the handshake established, once it has.
    established: Option<Established>,
    deframer: RecordDeframer,
    joiner: HandshakeJoiner,
    opener: RecordOpener,
    sealer: RecordSealer,
    /// Sealed records waiting for [`Connection::write_tls`].
    outgoing: Vec<u8>,
    /// Application data received, waiting for [`Connection::read_plaintext`].
    received: VecDeque<u8>,
    /// Application data written during the handshake, sent when it completes.
    early: Vec<u8>,
    /// The transport reported end of stream.
    eof: bool,
    /// The peer sent close_notify.
    peer_closed: bool,
    /// We sent close_notify.
    sent_close: bool,
    /// A fatal error happened; nothing more is processed.
    failed: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side)
            .field("handshaking", &self.is_handshaking())
            .field("suite", &self.suite())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A client connection; its ClientHello is ready for [`write_tls`](Self::write_tls).
    ///
    /// [`TlcpError::ApiMisuse`] when the configuration offers no usable suite.
    pub fn client(config: Arc<ClientConfig>) -> Result<Connection, TlcpError> {
        let mut out = Vec::new();
        let joiner = HandshakeJoiner::with_max_len(config.max_handshake_len);
        let hs = ClientHandshake::start(config, &mut out)?;
        let mut conn = Connection::new(Side::Client, Handshake::Client(Box::new(hs)), joiner);
        conn.apply(out)?;
        Ok(conn)
    }

    /// A server connection, waiting for a ClientHello.
    pub fn server(config: Arc<ServerConfig>) -> Connection {
        let joiner = HandshakeJoiner::with_max_len(config.max_handshake_len);
        let hs = ServerHandshake::new(config);
        Connection::new(Side::Server, Handshake::Server(Box::new(hs)), joiner)
    }

    fn new(side: Side, handshake: Handshake, joiner: HandshakeJoiner) -> Connection {
        Connection {
            side,
            handshake: Some(handshake),
            established: None,
            deframer: RecordDeframer::new(),
            joiner,
            opener: RecordOpener::new(),
            sealer: RecordSealer::new(),
            outgoing: Vec::new(),
            received: VecDeque::new(),
            early: Vec::new(),
            eof: false,
            peer_closed: false,
            sent_close: false,
            failed: false,
        }
    }

    // === Getters ===

    /// Whether the handshake has not completed yet.
    pub fn is_handshaking(&self) -> bool {
        self.established.is_none()
    }

    /// Whether [`read_tls`](Self::read_tls) should be called: the connection is alive, the
    /// peer has not closed, and received plaintext is not piling up.
    pub fn wants_read(&self) -> bool {
        !self.failed
            && !self.eof
            && !self.peer_closed
            && self.received.len() < MAX_RECEIVED_PLAINTEXT
    }

    /// Whether [`write_tls`](Self::write_tls) has bytes to send.
    pub fn wants_write(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// The peer's signing chain (leaf first), once the handshake is done; `None` for a
    /// client that did not authenticate.
    pub fn peer_sign_chain(&self) -> Option<&[CertificateDer<'static>]> {
        self.established
            .as_ref()
            .map(|e| e.peer_sign_chain.as_slice())
            .filter(|chain| !chain.is_empty())
    }

    /// The peer's encryption certificate, once the handshake is done.
    pub fn peer_enc_cert(&self) -> Option<&CertificateDer<'static>> {
        self.established.as_ref()?.peer_enc_cert.as_ref()
    }

    /// The negotiated suite, once the handshake is done.
    pub fn suite(&self) -> Option<CipherSuite> {
        self.established.as_ref().map(|e| e.suite)
    }

    /// Whether the handshake resumed an earlier session.
    pub fn resumed(&self) -> bool {
        self.established.as_ref().is_some_and(|e| e.resumed)
    }

    // === Input ===

    /// Reads TLS bytes from `rd` (one `read` call); `Ok(0)` is end of stream. Fails with
    /// an `Other` error when too many unprocessed bytes are buffered: call
    /// [`process_new_packets`](Self::process_new_packets) first.
    pub fn read_tls(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        let n = self.deframer.read_from(rd)?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// Processes every whole record received. On error the connection is dead and the
    /// matching alert is queued for [`write_tls`](Self::write_tls).
    pub fn process_new_packets(&mut self) -> Result<(), TlcpError> {
        if self.failed {
            return Err(TlcpError::ApiMisuse("the connection has already failed"));
        }
        match self.process_records() {
            Ok(()) => Ok(()),
            Err(err) => {
                self.fail(&err);
                Err(err)
            }
        }
    }

    fn process_records(&mut self) -> Result<(), TlcpError> {
        while !self.peer_closed {
            let Some(record) = self.deframer.next_record()? else {
                break;
            };
            let plain = self.opener.open(record)?;
            match plain.typ {
                ContentType::ChangeCipherSpec => self.change_cipher_spec(&plain.payload)?,
                ContentType::Alert => self.alert(&plain.payload)?,
                ContentType::Handshake => {
                    self.joiner.push(&plain.payload)?;
                    while let Some(frame) = self.joiner.next_message()? {
                        self.handshake_message(frame)?;
                    }
                }
                ContentType::ApplicationData => {
                    if self.handshake.is_some() {
                        return Err(TlcpError::UnexpectedMessage(
                            "application data before the handshake completed",
                        ));
                    }
                    self.received.extend(&plain.payload);
                }
            }
        }
        if self.eof && self.handshake.is_some() {
            return Err(TlcpError::UnexpectedEof);
        }
        Ok(())
    }

    fn change_cipher_spec(&mut self, payload: &[u8]) -> Result<(), TlcpError> {
        check_change_cipher_spec(payload)?;
        if !self.joiner.is_empty() {
            return Err(TlcpError::UnexpectedMessage(
                "ChangeCipherSpec inside a handshake message",
            ));
        }
        let hs = self.handshake.as_mut().ok_or(TlcpError::UnexpectedMessage(
            "ChangeCipherSpec after the handshake",
        ))?;
        let cipher = hs.handle_change_cipher_spec()?;
        self.opener.set_cipher(cipher);
        Ok(())
    }

    fn alert(&mut self, payload: &[u8]) -> Result<(), TlcpError> {
        let alert = Alert::decode(payload)?;
        match (alert.level, alert.description) {
            (_, AlertDescription::CloseNotify) if self.handshake.is_none() => {
                self.peer_closed = true;
                Ok(())
            }
            (AlertLevel::Warning, d) if d != AlertDescription::CloseNotify => Ok(()),
            (_, d) => Err(TlcpError::AlertReceived(d)),
        }
    }

    fn handshake_message(&mut self, frame: HandshakeFrame) -> Result<(), TlcpError> {
        let Some(hs) = self.handshake.as_mut() else {
            return self.post_handshake_message(&frame);
        };
        let mut out = Vec::new();
        hs.handle_message(frame, &mut out)?;
        self.apply(out)
    }

    /// After the handshake: a renegotiation attempt gets a no_renegotiation warning,
    /// anything else is unexpected.
    fn post_handshake_message(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        match (self.side, frame.typ()) {
            (Side::Client, HandshakeType::HelloRequest) => {
                HelloRequest::decode(frame.body())?;
            }
            (Side::Server, HandshakeType::ClientHello) => {}
            _ => {
                return Err(TlcpError::UnexpectedMessage(
                    "handshake message after the handshake",
                ))
            }
        }
        self.queue_alert(Alert::warning(AlertDescription::NoRenegotiation))
    }

    /// Carries out what the state machine asked for.
    fn apply(&mut self, out: Vec<Output>) -> Result<(), TlcpError> {
        for output in out {
            match output {
                Output::Message(message) => {
                    self.sealer
                        .seal(ContentType::Handshake, &message, &mut self.outgoing)?;
                }
                Output::ChangeCipherSpec(cipher) => {
                    self.sealer.seal(
                        ContentType::ChangeCipherSpec,
                        &CHANGE_CIPHER_SPEC_PAYLOAD,
                        &mut self.outgoing,
                    )?;
                    self.sealer.set_cipher(*cipher);
                }
                Output::Done(established) => {
                    self.established = Some(established);
                    self.handshake = None;
                    let early = std::mem::take(&mut self.early);
                    self.sealer
                        .seal(ContentType::ApplicationData, &early, &mut self.outgoing)?;
                }
            }
        }
        Ok(())
    }

    fn queue_alert(&mut self, alert: Alert) -> Result<(), TlcpError> {
        self.sealer
            .seal(ContentType::Alert, &alert.encode(), &mut self.outgoing)
    }

    /// Marks the connection dead and queues the alert `err` calls for, if any.
    fn fail(&mut self, err: &TlcpError) {
        self.failed = true;
        self.handshake = None;
        self.early.clear();
        if err.sends_alert() && !self.sent_close {
            let alert = Alert {
                level: err.alert_level(),
                description: err.alert(),
            };
            // Nothing more can be sent if even the alert cannot be sealed.
            let _ = self.queue_alert(alert);
        }
    }

    // === Output ===

    /// Writes queued TLS bytes to `wr` (one `write` call); returns how many were written.
    pub fn write_tls(&mut self, wr: &mut dyn io::Write) -> io::Result<usize> {
        if self.outgoing.is_empty() {
            return Ok(0);
        }
        let n = wr.write(&self.outgoing)?;
        self.outgoing.drain(..n);
        Ok(n)
    }

    // === Application data ===

    /// Reads received application data. `Ok(0)`: the peer sent close_notify (or `buf` is
    /// empty); `WouldBlock`: nothing yet; `UnexpectedEof`: the transport ended without
    /// close_notify.
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.received.is_empty() {
            return io::Read::read(&mut self.received, buf);
        }
        if self.peer_closed {
            Ok(0)
        } else if self.failed {
            Err(io::Error::other("TLCP connection failed"))
        } else if self.eof {
            Err(io::ErrorKind::UnexpectedEof.into())
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    /// Queues application data; during the handshake up to 64 KiB is held and sent when
    /// it completes. Returns how many bytes were taken.
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<usize, TlcpError> {
        if self.failed {
            return Err(TlcpError::ApiMisuse("the connection has already failed"));
        }
        if self.sent_close {
            return Err(TlcpError::ApiMisuse("write after close_notify"));
        }
        if self.handshake.is_some() {
            let n = data.len().min(MAX_EARLY_PLAINTEXT - self.early.len());
            self.early.extend_from_slice(&data[..n]);
            return Ok(n);
        }
        match self
            .sealer
            .seal(ContentType::ApplicationData, data, &mut self.outgoing)
        {
            Ok(()) => Ok(data.len()),
            Err(err) => {
                self.fail(&err);
                Err(err)
            }
        }
    }

    /// Queues a close_notify alert; nothing more can be written afterwards.
    pub fn send_close_notify(&mut self) {
        if self.sent_close || self.failed {
            return;
        }
        self.sent_close = true;
        if let Err(err) = self.queue_alert(Alert::warning(AlertDescription::CloseNotify)) {
            self.fail(&err);
        }
    }

    /// Seals one encoded handshake message with the current write state, bypassing the
    /// state machine. Only for tests that play a misbehaving peer (renegotiation attempts).
    #[doc(hidden)]
    pub fn inject_handshake_message(&mut self, encoded: &[u8]) -> Result<(), TlcpError> {
        self.sealer
            .seal(ContentType::Handshake, encoded, &mut self.outgoing)
    }
}
