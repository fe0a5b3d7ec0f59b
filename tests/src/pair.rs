//! One server and one client over 127.0.0.1 TCP: handshake, then data both ways.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use meshtls_tls_core::stack::{ConnectOptions, PeerInfo, TlsAcceptor, TlsConnector};
use meshtls_tls_core::TlsError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bound on one whole pair run (handshake and exchange); generous for a loaded 2-core box.
pub const PAIR_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes the client sends: several TLS records, so record splitting is exercised.
pub const CLIENT_BYTES: usize = 48 * 1024 + 7;
/// Bytes the server sends back.
pub const SERVER_BYTES: usize = 40 * 1024 + 3;

/// What each side saw.
#[derive(Debug)]
pub struct Outcome {
    /// The server's view: the authenticated client, or why it failed.
    pub server: Result<PeerInfo, TlsError>,
    /// The client's view: the authenticated server, or why it failed.
    pub client: Result<PeerInfo, TlsError>,
}

/// A deterministic byte pattern, distinct per direction (`seed`).
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(u32::from(seed)) as u8)
        .collect()
}

/// Reads exactly `want.len()` bytes and checks they equal `want`.
pub async fn expect_bytes<R: AsyncRead + Unpin>(io: &mut R, want: &[u8]) -> io::Result<()> {
    let mut got = vec![0u8; want.len()];
    io.read_exact(&mut got).await?;
    if got != want {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "payload corrupted",
        ));
    }
    Ok(())
}

/// Writes `data` and flushes it.
pub async fn send_all<W: AsyncWrite + Unpin>(io: &mut W, data: &[u8]) -> io::Result<()> {
    io.write_all(data).await?;
    io.flush().await
}

/// Runs `acceptor` and `connector` against each other over a fresh loopback socket. On
/// success the client sends [`CLIENT_BYTES`], the server checks them and answers with
/// [`SERVER_BYTES`], which the client checks.
pub async fn run_pair(
    acceptor: Arc<dyn TlsAcceptor>,
    connector: Arc<dyn TlsConnector>,
    options: ConnectOptions,
) -> Outcome {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return both_failed(e),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return both_failed(e),
    };
    let server = tokio::spawn(timed(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(Box::new(tcp)).await?;
        expect_bytes(&mut tls.io, &pattern(CLIENT_BYTES, 1)).await?;
        send_all(&mut tls.io, &pattern(SERVER_BYTES, 2)).await?;
        // Wait for the client's close so our last records are not cut off by a reset.
        let mut rest = Vec::new();
        let _ = tls.io.read_to_end(&mut rest).await;
        Ok(tls.peer)
    }));
    let client = timed(async move {
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = connector.connect(Box::new(tcp), options).await?;
        send_all(&mut tls.io, &pattern(CLIENT_BYTES, 1)).await?;
        expect_bytes(&mut tls.io, &pattern(SERVER_BYTES, 2)).await?;
        tls.io.shutdown().await?;
        Ok(tls.peer)
    })
    .await;
    let server = match server.await {
        Ok(result) => result,
        Err(join) => Err(TlsError::Io(io::Error::other(join))),
    };
    Outcome { server, client }
}

/// Bounds `fut` by [`PAIR_TIMEOUT`].
async fn timed<F>(fut: F) -> Result<PeerInfo, TlsError>
where
    F: std::future::Future<Output = Result<PeerInfo, TlsError>>,
{
    match tokio::time::timeout(PAIR_TIMEOUT, fut).await {
        Ok(result) => result,
        Err(_) => Err(TlsError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "pair timed out",
        ))),
    }
}

fn both_failed(e: io::Error) -> Outcome {
    Outcome {
        server: Err(TlsError::Io(io::Error::new(e.kind(), e.to_string()))),
        client: Err(TlsError::Io(e)),
    }
}
