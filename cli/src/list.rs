//! `meshtls engines`: every engine x algorithm with the CPU features it uses here, and what
//! the current policy selects for each algorithm and why.

use std::fmt::Write;
use std::process::ExitCode;

use clap::Args;
use meshtls_tls_core::cpu;
use meshtls_tls_core::registry::{Reason, Selection};
use meshtls_tls_core::{AlgorithmId, AlgorithmKind, Registry};
use serde::Serialize;

use crate::backend_args::BackendArgs;
use crate::error::CliError;

/// Options of `meshtls engines`.
#[derive(Debug, Args)]
pub(crate) struct EnginesArgs {
    /// Print one JSON document (CPU, engines and their algorithms, selection) instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Report<'a> {
    /// Features this CPU has, of those backends use.
    cpu_features: Vec<&'static str>,
    engines: Vec<EngineReport>,
    /// What the policy selects, per algorithm.
    selection: &'a Selection,
}

#[derive(Debug, Serialize)]
struct EngineReport {
    name: &'static str,
    version: String,
    /// The native TLS stack the engine brings, if any.
    stack: Option<&'static str>,
    algorithms: Vec<AlgorithmReport>,
}

#[derive(Debug, Serialize)]
struct AlgorithmReport {
    algorithm: AlgorithmId,
    kind: AlgorithmKind,
    cpu_features: Vec<&'static str>,
    /// The engine's own kernel choice, when it dispatches itself (the SM engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    code_path: Option<String>,
}

/// Prints the report.
pub(crate) fn run(registry: &Registry, args: &EnginesArgs) -> Result<ExitCode, CliError> {
    let selection = args.backend.select(registry)?;
    let engines: Vec<EngineReport> = registry
        .engines()
        .iter()
        .map(|e| EngineReport {
            name: e.name,
            version: (e.version)(),
            stack: e.stack.map(|s| s.name()),
            algorithms: e
                .algorithms()
                .into_iter()
                .map(|a| AlgorithmReport {
                    algorithm: a.id(),
                    kind: a.id().kind(),
                    cpu_features: a.cpu_features().names(),
                    code_path: a.code_path(),
                })
                .collect(),
        })
        .collect();
    let report = Report {
        cpu_features: cpu::detected().names(),
        engines,
        selection: &selection,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The terminal form: an engine x algorithm table, then the selection table.
fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    let features = |f: &[&str]| {
        if f.is_empty() {
            "portable".to_owned()
        } else {
            f.join("+")
        }
    };
    let _ = writeln!(out, "CPU: {}\n", features(&report.cpu_features));
    let _ = writeln!(
        out,
        "{:<8} {:<34} {:<18} {:<13} CPU FEATURES USED",
        "ENGINE", "VERSION", "ALGORITHM", "KIND"
    );
    for e in &report.engines {
        for a in &e.algorithms {
            let kind = match a.kind {
                AlgorithmKind::Aead => "aead",
                AlgorithmKind::Hash => "hash",
                AlgorithmKind::KeyExchange => "key-exchange",
                AlgorithmKind::Signature => "signature",
            };
            let path = a
                .code_path
                .as_ref()
                .map(|p| format!(" (path {p})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<8} {:<34} {:<18} {:<13} {}{path}",
                e.name,
                e.version,
                a.algorithm.name(),
                kind,
                features(&a.cpu_features)
            );
        }
    }
    let _ = writeln!(out, "\n{:<18} {:<8} REASON", "ALGORITHM", "ENGINE");
    for s in report.selection.iter() {
        let reason = match s.reason {
            Reason::Explicit => "explicit (--backend)".to_owned(),
            Reason::OnlyCandidate => "only candidate".to_owned(),
            Reason::Measured { score } => format!("measured fastest ({score:.0} ops/s)"),
            Reason::Cached { score } => format!("cached measurement ({score:.0} ops/s)"),
        };
        let _ = writeln!(
            out,
            "{:<18} {:<8} {reason}",
            s.algorithm.name(),
            s.engine.name
        );
    }
    out
}
