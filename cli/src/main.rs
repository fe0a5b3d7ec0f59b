//! `meshtls`: the binary that wires every engine into tls-core and drives them.
//!
//! This file only parses the command line and dispatches; [`engines`] is the one place that
//! names engines, and each subcommand lives in its own module. Diagnostics go to stderr (with
//! `RUST_LOG` filtering), machine-readable output to stdout.

#![forbid(unsafe_code)]

mod backend_args;
mod bench;
mod cert;
mod engines;
mod error;
mod list;
mod stacks;
mod tls;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Service-mesh mTLS toolkit: crypto engines, SPIFFE mTLS on three TLS stacks, benchmarks.
#[derive(Debug, Parser)]
#[command(name = "meshtls", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every engine x algorithm, the CPU features each uses here, and what the policy selects.
    Engines(list::EnginesArgs),
    /// Run mutual-TLS servers and clients with SPIFFE identities.
    #[command(subcommand)]
    Tls(Box<tls::TlsCommand>),
    /// Measure engines and TLS stacks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Make a CA, X.509-SVIDs (SM2 included) and TLCP certificate pairs as PEM files.
    #[command(subcommand)]
    Cert(cert::CertCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let registry = engines::registry();
    let result = match cli.command {
        Command::Engines(args) => list::run(&registry, &args),
        Command::Tls(cmd) => tls::run(&registry, *cmd),
        Command::Bench(cmd) => bench::run(&registry, cmd),
        Command::Cert(cmd) => cert::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshtls: {e}");
            ExitCode::FAILURE
        }
    }
}
