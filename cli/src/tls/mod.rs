//! `meshtls tls`: mutual-TLS server and client over any stack, with SPIFFE identities.

mod connect;
mod line;
mod options;
mod respond;
mod serve;

use std::process::ExitCode;

use clap::Subcommand;
use meshtls_tls_core::Registry;

use crate::error::CliError;

/// The TLS subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TlsCommand {
    /// Accept mutual-TLS connections: one JSON line per handshake on stdout
    /// ({"stack","version","suite","group","peer_id","result":"ok"} or
    /// {"result":"error","error","detail"}), then answer HTTP/1.1 requests with 200 naming
    /// the peer, or echo other bytes until EOF. SIGHUP re-reads every credential file
    /// (--cert/--key, --alt-cert/--alt-key, --enc-cert/--enc-key, --bundle).
    Serve(serve::ServeArgs),
    /// Connect once: print the JSON line, send --send, half-close, print the reply.
    Connect(connect::ConnectArgs),
}

/// Runs a TLS subcommand on a tokio runtime.
pub(crate) fn run(registry: &Registry, command: TlsCommand) -> Result<ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            TlsCommand::Serve(args) => serve::run(registry, &args).await,
            TlsCommand::Connect(args) => connect::run(registry, &args).await,
        }
    })
}
