//! `meshtls tls serve`: accept mutual-TLS connections, print one JSON line per handshake,
//! then answer HTTP or echo. SIGHUP re-reads the credential files and rotates them live.
//! With `--stack tlcp --tls-versions tlcp,1.3` one port serves TLCP and TLS (see
//! [`TlsArgs::acceptor`]).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use meshtls_tls_core::stack::TlsAcceptor;
use meshtls_tls_core::{IdentityStore, Registry, TlsError};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

use super::line::HandshakeLine;
use super::options::TlsArgs;
use super::respond;
use crate::error::CliError;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `meshtls tls serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free port; the bound
    /// address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// Exit after the first connection has been served (exit status 0 if its handshake
    /// succeeded, 1 otherwise).
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

/// Runs the server until killed (or after one connection with `--once`).
pub(crate) async fn run(registry: &Registry, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let (stack, config) = args.tls.build(registry)?;
    let acceptor = args.tls.acceptor(stack, &config)?;
    let listener = TcpListener::bind(&args.listen).await?;
    // Installed before we announce the address, so a SIGHUP sent after it is never lost.
    let mut hangup = signal(SignalKind::hangup())?;
    eprintln!(
        "meshtls: {} serving {} on {}",
        stack.name(),
        config.identity.current().svid.id(),
        listener.local_addr()?
    );
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let tcp = match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                };
                let connection = tokio::spawn(handle(acceptor.clone(), tcp));
                if args.once {
                    let ok = connection.await.unwrap_or(false);
                    return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
                }
            }
            _ = hangup.recv() => reload(&args.tls, &config.identity),
        }
    }
}

/// Handshakes, prints the line, serves the connection; returns whether the handshake succeeded.
async fn handle(acceptor: Arc<dyn TlsAcceptor>, tcp: TcpStream) -> bool {
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(Box::new(tcp)))
        .await
        .unwrap_or_else(|_| {
            Err(TlsError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "handshake timed out",
            )))
        });
    match handshake {
        Ok(stream) => {
            if let Err(e) = HandshakeLine::ok(&stream.peer).print() {
                tracing::warn!("printing the handshake line: {e}");
            }
            if let Err(e) = respond::serve(stream.io, &stream.peer.peer_id).await {
                tracing::info!("connection from {} ended: {e}", stream.peer.peer_id);
            }
            true
        }
        Err(e) => {
            if let Err(e) = HandshakeLine::error(&CliError::Tls(e)).print() {
                tracing::warn!("printing the handshake line: {e}");
            }
            false
        }
    }
}

/// Re-reads the credential files and swaps them in for new handshakes; on any error the
/// current credentials stay.
fn reload(args: &TlsArgs, identity: &IdentityStore) {
    match args.load_credentials() {
        Ok((set, bundles)) => {
            let id = set.svid.id().to_string();
            let generation = identity.rotate_set(set, bundles);
            eprintln!("meshtls: SIGHUP: rotated to {id} (generation {generation})");
        }
        Err(e) => eprintln!("meshtls: SIGHUP: keeping the current credentials: {e}"),
    }
}
