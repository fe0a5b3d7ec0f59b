//! `meshtls bench`: cipher backends and TLS stacks, measured on this machine.

mod chart;
mod ciphers;
mod goals;
mod handshake;
mod measure;
mod record;
mod sm_peers;
mod table;

use std::process::ExitCode;

use clap::Subcommand;
use meshtls_tls_core::Registry;

use crate::error::CliError;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// AEAD seal/open and hash MB/s per size, key-exchange, sign and verify ops/s, for
    /// every algorithm x backend, with the SM rows' peer libraries and extra SM4 modes; a
    /// table (ratio to the fastest backend) with the SM goals under it, JSON and SVG.
    Ciphers(ciphers::CiphersArgs),
    /// Full mTLS handshakes per second over loopback TCP, client and server of the same stack
    /// in this process (resumption is off in every stack, so none is measured).
    Handshake(handshake::HandshakeArgs),
}

/// Runs a benchmark.
pub(crate) fn run(registry: &Registry, command: BenchCommand) -> Result<ExitCode, CliError> {
    match command {
        BenchCommand::Ciphers(args) => ciphers::run(registry, &args)?,
        BenchCommand::Handshake(args) => handshake::run(registry, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}
