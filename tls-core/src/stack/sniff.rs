//! One port for TLCP and TLS: peek at the ClientHello, then hand the untouched stream to the
//! TLCP acceptor or to the TLS one.
//!
//! TLCP (GB/T 38636-2020) and TLS share the record layer's shape, so one listener can serve
//! both: the ClientHello's `client_version` is 0x0101 for TLCP and 0x03xx for TLS. The
//! decision is made by [`classify`], a pure function over the first bytes (no I/O), and
//! [`SniffingAcceptor`] reads just enough of them, within [`MAX_SNIFF_BYTES`] and a timeout,
//! then replays them to the chosen acceptor through [`Rewind`], so that acceptor sees the
//! stream from its first byte.
//!
//! Non-goals: SSL 2.0 compatible hellos (no stack here accepts them) and routing on anything
//! but the version (SNI, ALPN).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use super::{BoxedIo, HandshakeFuture, TlsAcceptor};

/// TLS record content type `handshake` (RFC 8446 §5.1; the same in TLCP).
const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake message type `client_hello` (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
/// TLCP's protocol version (GB/T 38636-2020 §6.3.3.1).
const TLCP_VERSION: u16 = 0x0101;
/// Record header: type (1), version (2), length (2).
const RECORD_HEADER_LEN: usize = 5;
/// What [`classify`] needs of the handshake payload: msg_type (1), length (3),
/// client_version (2).
const HELLO_PREFIX_LEN: usize = 6;
/// Largest record fragment either protocol allows for plaintext (2^14, RFC 8446 §5.1).
const MAX_FRAGMENT_LEN: usize = 1 << 14;

/// The most bytes [`SniffingAcceptor`] reads before deciding. A ClientHello fragmented into
/// one-byte records needs 6 records (36 bytes); anything longer is not a real client.
pub const MAX_SNIFF_BYTES: usize = 64;

/// How long a client may take to send the bytes [`classify`] needs, by default.
pub const DEFAULT_SNIFF_TIMEOUT: Duration = Duration::from_secs(10);

/// Which protocol a ClientHello asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TLCP: `client_version` 0x0101.
    Tlcp,
    /// TLS 1.0 to 1.3 (every TLS 1.3 hello says 0x0303 here, RFC 8446 §4.1.2).
    Tls,
}

/// What the first bytes of a connection say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// The ClientHello asks for this protocol.
    Protocol(Protocol),
    /// A valid prefix of a ClientHello: at least this many more bytes are needed.
    NeedMore(usize),
}

/// Why a connection is not a TLS or TLCP client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SniffError {
    /// The first record is not a handshake record (plain HTTP, SSL 2.0, noise).
    #[error("not a TLS or TLCP record: content type {0}")]
    NotHandshakeRecord(u8),
    /// The record version is neither TLS's 0x03xx nor TLCP's 0x0101.
    #[error("unknown record version 0x{0:04x}")]
    BadRecordVersion(u16),
    /// A record length that is zero or over 2^14.
    #[error("bad record length {0}")]
    BadRecordLength(usize),
    /// The first handshake message is not a ClientHello.
    #[error("first handshake message is type {0}, not client_hello")]
    NotClientHello(u8),
    /// The ClientHello's version is neither TLS's 0x03xx nor TLCP's 0x0101.
    #[error("unknown client_version 0x{0:04x}")]
    BadClientVersion(u16),
    /// The client did not send enough to decide within [`MAX_SNIFF_BYTES`].
    #[error("no decision within {MAX_SNIFF_BYTES} bytes")]
    TooLong,
    /// The client closed the connection before its ClientHello was known.
    #[error("connection closed before the ClientHello")]
    Eof,
    /// The client was silent for too long.
    #[error("no ClientHello within {0:?}")]
    Timeout(Duration),
}

impl SniffError {
    /// The error as I/O, kept as the source: the input is not TLS (`InvalidData`), or it
    /// ended (`UnexpectedEof`) or stalled (`TimedOut`) too soon.
    pub fn into_io(self) -> io::Error {
        let kind = match self {
            SniffError::Eof => io::ErrorKind::UnexpectedEof,
            SniffError::Timeout(_) => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

/// Classifies the first bytes of a connection (sans I/O).
///
/// Walks handshake records until the ClientHello's type and `client_version` are known, so a
/// hello split over tiny records is classified too. Returns `NeedMore` while `bytes` is a
/// valid prefix, and an error as soon as a byte rules out both protocols.
pub fn classify(bytes: &[u8]) -> Result<Sniffed, SniffError> {
    let mut hello = [0u8; HELLO_PREFIX_LEN];
    let mut have = 0;
    let mut rest = bytes;
    loop {
        let Some(header) = rest.get(..RECORD_HEADER_LEN) else {
            // At least the rest of this header plus one payload byte.
            return Ok(Sniffed::NeedMore(RECORD_HEADER_LEN - rest.len() + 1));
        };
        check_record_header(header)?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let payload = &rest[RECORD_HEADER_LEN..];
        let take = len.min(payload.len()).min(HELLO_PREFIX_LEN - have);
        hello[have..have + take].copy_from_slice(&payload[..take]);
        have += take;
        if let Some(decided) = decide(&hello[..have])? {
            return Ok(Sniffed::Protocol(decided));
        }
        if payload.len() < len {
            // The hello prefix is not complete and this record is not either.
            return Ok(Sniffed::NeedMore(HELLO_PREFIX_LEN - have));
        }
        rest = &payload[len..];
    }
}

/// Checks one record header's type, version and length.
fn check_record_header(header: &[u8]) -> Result<(), SniffError> {
    if header[0] != CONTENT_HANDSHAKE {
        return Err(SniffError::NotHandshakeRecord(header[0]));
    }
    let version = u16::from_be_bytes([header[1], header[2]]);
    if version != TLCP_VERSION && header[1] != 3 {
        return Err(SniffError::BadRecordVersion(version));
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if len == 0 || len > MAX_FRAGMENT_LEN {
        return Err(SniffError::BadRecordLength(len));
    }
    Ok(())
}

/// Decides from the handshake bytes gathered so far, or `None` if more are needed.
fn decide(hello: &[u8]) -> Result<Option<Protocol>, SniffError> {
    if let Some(&kind) = hello.first() {
        if kind != CLIENT_HELLO {
            return Err(SniffError::NotClientHello(kind));
        }
    }
    let Some(version) = hello.get(4..HELLO_PREFIX_LEN) else {
        return Ok(None);
    };
    match u16::from_be_bytes([version[0], version[1]]) {
        TLCP_VERSION => Ok(Some(Protocol::Tlcp)),
        _ if version[0] == 3 => Ok(Some(Protocol::Tls)),
        other => Err(SniffError::BadClientVersion(other)),
    }
}

/// Reads from `io` until [`classify`] decides; returns the decision and every byte read.
/// Failures are I/O errors; those of the input itself carry a [`SniffError`] (see
/// [`SniffError::into_io`]).
///
/// Reads at most [`MAX_SNIFF_BYTES`]: a valid hello is decided within 36 bytes (six one-byte
/// records), so the bound only cuts off input that is already known to be malformed.
pub async fn sniff<R: AsyncRead + Unpin>(io: &mut R) -> io::Result<(Protocol, Vec<u8>)> {
    let mut seen = Vec::with_capacity(MAX_SNIFF_BYTES);
    let mut chunk = [0u8; MAX_SNIFF_BYTES];
    loop {
        if let Sniffed::Protocol(protocol) = classify(&seen).map_err(SniffError::into_io)? {
            return Ok((protocol, seen));
        }
        let room = MAX_SNIFF_BYTES - seen.len();
        if room == 0 {
            return Err(SniffError::TooLong.into_io());
        }
        let n = io.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Err(SniffError::Eof.into_io());
        }
        seen.extend_from_slice(&chunk[..n]);
    }
}

// === Rewind ===

/// A stream that first replays bytes already read from it, then reads on; writes go straight
/// through.
#[derive(Debug)]
pub struct Rewind<IO> {
    prefix: Vec<u8>,
    pos: usize,
    inner: IO,
}

impl<IO> Rewind<IO> {
    /// `inner`, with `prefix` to be read again first.
    pub fn new(prefix: Vec<u8>, inner: IO) -> Rewind<IO> {
        Rewind {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Rewind<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.pos);
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Rewind<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

// === The acceptor ===

/// Serves TLCP and TLS on one listener: each connection goes to `tlcp` or `tls` by its
/// ClientHello. Errors before the hand-over are [`crate::TlsError::Io`] carrying a [`SniffError`].
pub struct SniffingAcceptor {
    tlcp: Arc<dyn TlsAcceptor>,
    tls: Arc<dyn TlsAcceptor>,
    timeout: Duration,
}

impl SniffingAcceptor {
    /// Routes TLCP hellos to `tlcp` and the others to `tls`, with [`DEFAULT_SNIFF_TIMEOUT`].
    pub fn new(tlcp: Arc<dyn TlsAcceptor>, tls: Arc<dyn TlsAcceptor>) -> SniffingAcceptor {
        SniffingAcceptor {
            tlcp,
            tls,
            timeout: DEFAULT_SNIFF_TIMEOUT,
        }
    }

    /// The same, giving clients `timeout` to send their first bytes.
    pub fn with_timeout(self, timeout: Duration) -> SniffingAcceptor {
        SniffingAcceptor { timeout, ..self }
    }
}

impl std::fmt::Debug for SniffingAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniffingAcceptor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor for SniffingAcceptor {
    fn accept(&self, mut io: BoxedIo) -> HandshakeFuture {
        let tlcp = self.tlcp.clone();
        let tls = self.tls.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let (protocol, prefix) = tokio::time::timeout(timeout, sniff(&mut io))
                .await
                .unwrap_or_else(|_| Err(SniffError::Timeout(timeout).into_io()))?;
            let acceptor = match protocol {
                Protocol::Tlcp => tlcp,
                Protocol::Tls => tls,
            };
            acceptor.accept(Box::new(Rewind::new(prefix, io))).await
        })
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::error::TlsError;
    use crate::spiffe::SpiffeId;
    use crate::stack::{PeerInfo, TlsStream};

    /// A record header for a handshake fragment of `len` bytes with record version `version`.
    fn header(version: u16, len: usize) -> Vec<u8> {
        let [v0, v1] = version.to_be_bytes();
        let [l0, l1] = u16::try_from(len).unwrap().to_be_bytes();
        vec![CONTENT_HANDSHAKE, v0, v1, l0, l1]
    }

    /// A plausible ClientHello start: type, 3-byte length, client_version, 32 random bytes.
    fn hello(client_version: u16) -> Vec<u8> {
        let mut body = vec![CLIENT_HELLO, 0, 0, 40];
        body.extend_from_slice(&client_version.to_be_bytes());
        body.extend_from_slice(&[0x5a; 38]);
        body
    }

    fn one_record(record_version: u16, client_version: u16) -> Vec<u8> {
        let body = hello(client_version);
        let mut out = header(record_version, body.len());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn tells_tlcp_from_tls() {
        assert_eq!(
            classify(&one_record(0x0101, 0x0101)),
            Ok(Sniffed::Protocol(Protocol::Tlcp))
        );
        // A TLCP hello in a TLS-versioned record is still TLCP: the hello decides.
        assert_eq!(
            classify(&one_record(0x0301, 0x0101)),
            Ok(Sniffed::Protocol(Protocol::Tlcp))
        );
        for (record, client) in [(0x0301, 0x0303), (0x0303, 0x0303), (0x0300, 0x0301)] {
            assert_eq!(
                classify(&one_record(record, client)),
                Ok(Sniffed::Protocol(Protocol::Tls))
            );
        }
    }

    #[test]
    fn every_prefix_needs_more_until_the_version() {
        let full = one_record(0x0301, 0x0303);
        for cut in 0..RECORD_HEADER_LEN + HELLO_PREFIX_LEN {
            match classify(&full[..cut]) {
                Ok(Sniffed::NeedMore(n)) => assert!(n >= 1 && cut + n <= full.len(), "cut {cut}"),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        assert_eq!(
            classify(&full[..RECORD_HEADER_LEN + HELLO_PREFIX_LEN]),
            Ok(Sniffed::Protocol(Protocol::Tls))
        );
    }

    #[test]
    fn reads_a_hello_split_over_records() {
        let body = hello(0x0101);
        let mut bytes = Vec::new();
        for byte in &body[..HELLO_PREFIX_LEN] {
            bytes.extend(header(0x0101, 1));
            bytes.push(*byte);
        }
        assert!(bytes.len() <= MAX_SNIFF_BYTES);
        for cut in 0..bytes.len() {
            assert!(matches!(classify(&bytes[..cut]), Ok(Sniffed::NeedMore(_))));
        }
        assert_eq!(classify(&bytes), Ok(Sniffed::Protocol(Protocol::Tlcp)));
    }

    #[test]
    fn rejects_what_is_not_a_hello() {
        assert_eq!(
            classify(b"GET / HTTP/1.1\r\n"),
            Err(SniffError::NotHandshakeRecord(b'G'))
        );
        // SSL 2.0 compatible hello.
        assert_eq!(
            classify(&[0x80, 0x2e, 0x01, 0x03, 0x01]),
            Err(SniffError::NotHandshakeRecord(0x80))
        );
        assert_eq!(
            classify(&header(0x0202, 10)),
            Err(SniffError::BadRecordVersion(0x0202))
        );
        assert_eq!(
            classify(&header(0x0303, 0)),
            Err(SniffError::BadRecordLength(0))
        );
        assert_eq!(
            classify(&header(0x0303, MAX_FRAGMENT_LEN + 1)),
            Err(SniffError::BadRecordLength(MAX_FRAGMENT_LEN + 1))
        );
        let mut server_hello = one_record(0x0303, 0x0303);
        server_hello[RECORD_HEADER_LEN] = 2;
        assert_eq!(
            classify(&server_hello[..RECORD_HEADER_LEN + 1]),
            Err(SniffError::NotClientHello(2))
        );
        assert_eq!(
            classify(&one_record(0x0303, 0x0202)),
            Err(SniffError::BadClientVersion(0x0202))
        );
        // An alert record where the second fragment should be.
        let mut bytes = header(0x0303, 2);
        bytes.extend_from_slice(&[CLIENT_HELLO, 0]);
        bytes.extend_from_slice(&[21, 3, 3, 0, 2]);
        assert_eq!(classify(&bytes), Err(SniffError::NotHandshakeRecord(21)));
    }

    #[tokio::test]
    async fn sniff_stops_at_eof_and_at_junk() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(&header(0x0303, 1)).await.unwrap();
        client.write_all(&[CLIENT_HELLO]).await.unwrap();
        drop(client);
        assert_eq!(sniff_error(&mut server).await, SniffError::Eof);

        let (mut client, mut server) = tokio::io::duplex(1024);
        let mut junk = vec![CONTENT_HANDSHAKE, 3, 3, 0, 50];
        junk.extend([0u8; 500]);
        client.write_all(&junk).await.unwrap();
        assert_eq!(
            sniff_error(&mut server).await,
            SniffError::NotClientHello(0)
        );
    }

    async fn sniff_error(io: &mut tokio::io::DuplexStream) -> SniffError {
        let e = sniff(io).await.expect_err("sniff must fail");
        e.get_ref()
            .and_then(|e| e.downcast_ref::<SniffError>())
            .cloned()
            .unwrap_or_else(|| panic!("no SniffError in {e:?}"))
    }

    /// An acceptor that reports which side was chosen and what it read first.
    struct Recorder(&'static str);

    impl TlsAcceptor for Recorder {
        fn accept(&self, mut io: BoxedIo) -> HandshakeFuture {
            let name = self.0;
            Box::pin(async move {
                let mut first = vec![0u8; 11];
                io.read_exact(&mut first).await?;
                io.write_all(&first).await?;
                Ok(TlsStream {
                    io,
                    peer: PeerInfo {
                        stack: name,
                        version: String::new(),
                        suite: String::new(),
                        group: None,
                        peer_id: SpiffeId::parse("spiffe://example.org/test").unwrap(),
                        peer_chain: Vec::new(),
                    },
                })
            })
        }
    }

    async fn route(bytes: Vec<u8>, timeout: Duration) -> Result<(&'static str, Vec<u8>), TlsError> {
        let acceptor = SniffingAcceptor::new(Arc::new(Recorder("tlcp")), Arc::new(Recorder("tls")))
            .with_timeout(timeout);
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(&bytes).await.unwrap();
        let stream = acceptor.accept(Box::new(server)).await?;
        let mut echoed = vec![0u8; 11];
        client.read_exact(&mut echoed).await.unwrap();
        Ok((stream.peer.stack, echoed))
    }

    #[tokio::test]
    async fn hands_the_whole_stream_to_the_chosen_acceptor() {
        let second = Duration::from_secs(5);
        let tlcp = one_record(0x0101, 0x0101);
        assert_eq!(
            route(tlcp.clone(), second).await.unwrap(),
            ("tlcp", tlcp[..11].to_vec())
        );
        let tls = one_record(0x0301, 0x0303);
        assert_eq!(
            route(tls.clone(), second).await.unwrap(),
            ("tls", tls[..11].to_vec())
        );
        let http = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        match route(http, second).await {
            Err(TlsError::Io(e)) => {
                assert_eq!(e.kind(), io::ErrorKind::InvalidData);
                let inner = e.get_ref().and_then(|e| e.downcast_ref::<SniffError>());
                assert_eq!(inner, Some(&SniffError::NotHandshakeRecord(b'G')));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn silent_clients_time_out() {
        let acceptor = SniffingAcceptor::new(Arc::new(Recorder("tlcp")), Arc::new(Recorder("tls")))
            .with_timeout(Duration::from_millis(50));
        let (client, server) = tokio::io::duplex(1024);
        match acceptor.accept(Box::new(server)).await {
            Err(TlsError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
            other => panic!("{other:?}"),
        }
        drop(client);
    }
}
