//! `meshtls tls connect`: one mutual-TLS connection; prints the JSON line, sends text,
//! half-closes, and prints the reply.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use meshtls_tls_core::spiffe::SpiffeId;
use meshtls_tls_core::stack::{ConnectOptions, TlsStream};
use meshtls_tls_core::{Registry, TlsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::line::HandshakeLine;
use super::options::TlsArgs;
use crate::error::CliError;

/// Connecting plus the handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the reply to end (EOF).
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Exit status when the handshake succeeded but the reply could not be read in full.
const EXIT_REPLY_FAILED: u8 = 3;

/// Options of `meshtls tls connect`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 handshake and reply OK; 1 handshake or setup failed \
(the JSON line says why); 3 the reply failed or did not end within 5 s."
)]
pub(crate) struct ConnectArgs {
    /// Server address, e.g. 127.0.0.1:8443.
    #[arg(long, value_name = "ADDR")]
    connect: String,
    /// The SPIFFE ID the server must present.
    #[arg(long, value_name = "SPIFFE_ID")]
    expect_id: Option<SpiffeId>,
    /// SNI to send (default: none for native stacks and tlcp, the expected trust domain for
    /// rustls).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// Text to send after the handshake (then our write side is closed either way).
    #[arg(long, value_name = "TEXT")]
    send: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// Connects once; prints the JSON line and the reply.
pub(crate) async fn run(registry: &Registry, args: &ConnectArgs) -> Result<ExitCode, CliError> {
    let stream = match handshake(registry, args).await {
        Ok(stream) => stream,
        Err(e) => {
            HandshakeLine::error(&e).print()?;
            return Ok(ExitCode::FAILURE);
        }
    };
    HandshakeLine::ok(&stream.peer).print()?;
    let (reply, outcome) = exchange(stream, args.send.as_deref()).await;
    let text = String::from_utf8_lossy(&reply);
    if text.ends_with('\n') {
        print!("{text}");
    } else {
        println!("{text}");
    }
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("meshtls: reply: {e}");
            Ok(ExitCode::from(EXIT_REPLY_FAILED))
        }
    }
}

async fn handshake(registry: &Registry, args: &ConnectArgs) -> Result<TlsStream, CliError> {
    let (stack, config) = args.tls.build(registry)?;
    let connector = stack.connector(&config)?;
    let options = ConnectOptions {
        expect_id: args.expect_id.clone(),
        server_name: args.server_name.clone(),
    };
    let connect = async {
        let tcp = TcpStream::connect(&args.connect)
            .await
            .map_err(TlsError::Io)?;
        connector.connect(Box::new(tcp), options).await
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, connect).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CliError::Tls(TlsError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connect and handshake timed out",
        )))),
    }
}

/// Sends `text`, half-closes, reads until EOF or [`REPLY_TIMEOUT`]; returns what was read.
async fn exchange(mut stream: TlsStream, text: Option<&str>) -> (Vec<u8>, std::io::Result<()>) {
    let mut reply = Vec::new();
    let io = &mut stream.io;
    let send = async {
        if let Some(text) = text {
            io.write_all(text.as_bytes()).await?;
        }
        io.shutdown().await
    };
    if let Err(e) = send.await {
        return (reply, Err(e));
    }
    let outcome = match tokio::time::timeout(REPLY_TIMEOUT, io.read_to_end(&mut reply)).await {
        Ok(read) => read.map(|_| ()),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no EOF within 5 s",
        )),
    };
    (reply, outcome)
}
