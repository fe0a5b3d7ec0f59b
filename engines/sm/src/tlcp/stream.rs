//! The tokio wrapper: a [`TlcpStream`] drives a sans-I/O [`Connection`] over any
//! `AsyncRead + AsyncWrite` byte stream, as tokio-rustls does for rustls.
//!
//! - Bytes move only here: [`Connection::read_tls`] / [`Connection::process_new_packets`] on
//!   the way in, [`Connection::write_tls`] on the way out. The protocol lives in
//!   [`super::conn`].
//! - A protocol failure becomes an [`io::Error`] whose source is the [`TlcpError`]
//!   ([`tlcp_error`] recovers it); before it is returned, the alert the connection queued is
//!   flushed to the peer.
//! - Shutdown sends close_notify, then shuts the transport's write side. Reading returns EOF
//!   after the peer's close_notify; a transport EOF without it is
//!   [`io::ErrorKind::UnexpectedEof`] (a possible truncation).
//!
//! Non-goals: buffering beyond one write's records (a write waits until earlier records are
//! on the wire), early data, renegotiation.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::config::{ClientConfig, ServerConfig};
use super::conn::Connection;
use super::error::TlcpError;

/// Most plaintext one `poll_write` takes (four full records), so that a huge buffer is
/// sealed piece by piece as the transport drains instead of all at once.
const MAX_WRITE_CHUNK: usize = 4 * (1 << 14);

/// A TLCP connection over the byte stream `IO`.
#[derive(Debug)]
pub struct TlcpStream<IO> {
    io: IO,
    conn: Connection,
    state: State,
    close_sent: bool,
}

/// Where the stream is in its life.
#[derive(Debug)]
enum State {
    /// Reads and writes go on.
    Open,
    /// A protocol error happened: its alert is being flushed, then the error is returned.
    Failing(TlcpError),
    /// The error was returned; the connection is unusable.
    Failed,
    /// The peer sent close_notify: reads return EOF, writes still go on.
    ReadClosed,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlcpStream<IO> {
    /// Runs a client handshake on `io`.
    pub async fn connect(config: Arc<ClientConfig>, io: IO) -> io::Result<TlcpStream<IO>> {
        let conn = Connection::client(config).map_err(into_io)?;
        TlcpStream::new(conn, io).handshake().await
    }

    /// Runs a server handshake on `io`.
    pub async fn accept(config: Arc<ServerConfig>, io: IO) -> io::Result<TlcpStream<IO>> {
        TlcpStream::new(Connection::server(config), io)
            .handshake()
            .await
    }

    /// Wraps a fresh (or established) connection; nothing is sent until it is polled.
    pub fn new(conn: Connection, io: IO) -> TlcpStream<IO> {
        TlcpStream {
            io,
            conn,
            state: State::Open,
            close_sent: false,
        }
    }

    /// Drives the handshake to its end, flushing our last flight.
    pub async fn handshake(mut self) -> io::Result<TlcpStream<IO>> {
        poll_fn(|cx| self.poll_handshake(cx)).await?;
        Ok(self)
    }

    /// The protocol state: suite, peer certificates, resumption.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The underlying byte stream.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// Polls the handshake: writes our flights, reads the peer's, until done and flushed.
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(done) = self.poll_failure(cx) {
                return done.map(Err);
            }
            match self.poll_flush_tls(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            if !self.conn.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            match self.poll_read_tls(cx) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(eof("the peer closed during the handshake")))
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// While an error's alert is being flushed: `Pending`, then the error once. `None` when
    /// the stream is healthy.
    fn poll_failure(&mut self, cx: &mut Context<'_>) -> Option<Poll<io::Error>> {
        match &self.state {
            State::Open | State::ReadClosed => return None,
            State::Failed => {
                return Some(Poll::Ready(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the TLCP connection failed earlier",
                )))
            }
            State::Failing(_) => {}
        }
        // Flush the alert; a transport that cannot take it any more does not matter now.
        if self.poll_flush_tls(cx).is_pending() {
            return Some(Poll::Pending);
        }
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Failing(err) => Some(Poll::Ready(into_io(err))),
            _ => None,
        }
    }

    /// Reads once from the transport into the connection and processes what came. `Ok(0)`
    /// is the transport's EOF. A protocol error moves to [`State::Failing`].
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut reader = SyncIo {
            io: &mut self.io,
            cx,
        };
        let n = match self.conn.read_tls(&mut reader) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Err(err) = self.conn.process_new_packets() {
            self.state = State::Failing(err);
            return match self.poll_failure(cx) {
                Some(Poll::Ready(e)) => Poll::Ready(Err(e)),
                _ => Poll::Pending,
            };
        }
        Poll::Ready(Ok(n))
    }

    /// Writes every queued record to the transport.
    fn poll_flush_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            let mut writer = SyncIo {
                io: &mut self.io,
                cx,
            };
            match self.conn.write_tls(&mut writer) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlcpStream<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if let Some(done) = this.poll_failure(cx) {
                return done.map(Err);
            }
            if matches!(this.state, State::ReadClosed) || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            match this.conn.read_plaintext(buf.initialize_unfilled()) {
                Ok(0) => {
                    this.state = State::ReadClosed;
                    return Poll::Ready(Ok(()));
                }
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            match this.poll_read_tls(cx) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(eof("the peer closed without close_notify")))
                }
                Poll::Ready(Ok(_)) => {
                    // Answers to what came (an alert, a refusal) go out on a best-effort basis;
                    // the next write or flush sends them otherwise.
                    if let Poll::Ready(Err(e)) = this.poll_flush_tls(cx) {
                        return Poll::Ready(Err(e));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlcpStream<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(done) = this.poll_failure(cx) {
            return done.map(Err);
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Earlier records first, so at most one write's worth is ever buffered.
        match this.poll_flush_tls(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let chunk = &buf[..buf.len().min(MAX_WRITE_CHUNK)];
        let n = match this.conn.write_plaintext(chunk) {
            Ok(n) => n,
            Err(err) => return Poll::Ready(Err(into_io(err))),
        };
        // The data is accepted; what the transport cannot take now goes out at the next
        // write or flush.
        match this.poll_flush_tls(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) | Poll::Pending => Poll::Ready(Ok(n)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(done) = this.poll_failure(cx) {
            return done.map(Err);
        }
        match this.poll_flush_tls(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.close_sent && matches!(this.state, State::Open | State::ReadClosed) {
            this.conn.send_close_notify();
            this.close_sent = true;
        }
        match this.poll_flush_tls(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_shutdown(cx),
            other => other,
        }
    }
}

/// The [`TlcpError`] inside an I/O error returned by a [`TlcpStream`], if it has one.
pub fn tlcp_error(err: &io::Error) -> Option<&TlcpError> {
    err.get_ref()?.downcast_ref::<TlcpError>()
}

/// A TLCP failure as an I/O error carrying it: `UnexpectedEof` for a truncated stream,
/// `ConnectionAborted` for the peer's fatal alert, `InvalidData` otherwise.
fn into_io(err: TlcpError) -> io::Error {
    let kind = match err {
        TlcpError::UnexpectedEof => io::ErrorKind::UnexpectedEof,
        TlcpError::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, err)
}

/// The transport ended too soon: [`TlcpError::UnexpectedEof`] as an I/O error.
fn eof(context: &'static str) -> io::Error {
    tracing::debug!("TLCP: {context}");
    into_io(TlcpError::UnexpectedEof)
}

/// A blocking-style view of an async stream for one poll: `Pending` reads and writes become
/// [`io::ErrorKind::WouldBlock`], with the waker registered.
struct SyncIo<'a, 'b, IO> {
    io: &'a mut IO,
    cx: &'a mut Context<'b>,
}

impl<IO: AsyncRead + Unpin> Read for SyncIo<'_, '_, IO> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(out);
        match Pin::new(&mut *self.io).poll_read(self.cx, &mut buf) {
            Poll::Ready(Ok(())) => Ok(buf.filled().len()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<IO: AsyncWrite + Unpin> Write for SyncIo<'_, '_, IO> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, data) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match Pin::new(&mut *self.io).poll_flush(self.cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}
