//! `meshtls bench`: cipher backends and TLS stacks, measured on this machine.

mod chart;
mod ciphers;
mod cpu_time;
mod flavor;
mod goals;
mod handshake;
mod measure;
mod pki;
mod record;
mod rounds;
mod sm_peers;
mod table;
mod tongsuo;
mod transfer;

use std::process::ExitCode;

use clap::Subcommand;
use meshtls_tls_core::registry::Selection;
use meshtls_tls_core::stack::TlsStack;
use meshtls_tls_core::{AlgorithmId, Registry};

use crate::error::CliError;
use crate::stacks;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// AEAD seal/open and hash MB/s per size, key-exchange, sign and verify ops/s, for
    /// every algorithm x backend, with the SM rows' peer libraries and extra SM4 modes; a
    /// table (ratio to the fastest backend) with the SM goals under it, JSON and SVG.
    Ciphers(ciphers::CiphersArgs),
    /// Full mutual-TLS handshakes per second over loopback TCP: standard TLS 1.3, RFC 8998
    /// and TLCP (ECC, ECDHE), client and server of the same stack in this process, and with
    /// --tongsuo DIR Tongsuo as a peer; the SM goals under the table (resumption is off in
    /// every stack, so none is measured).
    Handshake(handshake::HandshakeArgs),
    /// Record throughput: MB/s of bulk application data over one mutual-TLS connection on
    /// loopback TCP, AES-128-GCM against RFC 8998's and TLCP's SM4 suites, with the SM4-GCM
    /// goal under the table.
    Transfer(transfer::TransferArgs),
}

/// Runs a benchmark.
pub(crate) fn run(registry: &Registry, command: BenchCommand) -> Result<ExitCode, CliError> {
    match command {
        BenchCommand::Ciphers(args) => ciphers::run(registry, &args)?,
        BenchCommand::Handshake(args) => handshake::run(registry, &args)?,
        BenchCommand::Transfer(args) => transfer::run(registry, &args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The stacks named by `--stacks` (every stack of this build when none is named).
fn selected_stacks(
    registry: &Registry,
    names: &[String],
) -> Result<Vec<&'static dyn TlsStack>, CliError> {
    if names.is_empty() {
        return Ok(stacks::all(registry));
    }
    Ok(names
        .iter()
        .map(|name| stacks::find(registry, name))
        .collect::<Result<_, _>>()?)
}

/// The algorithms the TLS benches' rows run on, in the order [`engines_line`] names them.
const TLS_ALGORITHMS: [AlgorithmId; 9] = [
    AlgorithmId::Aes128Gcm,
    AlgorithmId::Sha256,
    AlgorithmId::X25519,
    AlgorithmId::EcdsaP256,
    AlgorithmId::Sm4Gcm,
    AlgorithmId::Sm4Ccm,
    AlgorithmId::Sm3,
    AlgorithmId::CurveSm2,
    AlgorithmId::Sm2,
];

/// `engines: aes-128-gcm=ring, ...`: which engine served each algorithm of the TLS rows (the
/// rustls rows' speed depends on it; `--backend` pins them).
fn engines_line(selection: &Selection) -> String {
    let used: Vec<String> = TLS_ALGORITHMS
        .iter()
        .filter_map(|&id| Some(format!("{}={}", id.name(), selection.engine(id)?.name)))
        .collect();
    format!("engines (rustls rows): {}\n", used.join(", "))
}
