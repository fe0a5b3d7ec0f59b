//! `meshtls bench ciphers`: every algorithm x backend, measured through the engine traits.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use meshtls_tls_core::engine::{AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, AlgorithmKind, ConfigError, CryptoError, Engine, Registry};
use zeroize::Zeroizing;

use super::chart;
use super::measure::Budget;
use super::record::{write_json, CipherRecord, Metric, Op};
use super::table;
use crate::error::CliError;

/// The default measuring time per cell: ~150 cells x (200 ms + 40 ms warm-up) stays well
/// under a minute on a 2-core machine.
const DEFAULT_DURATION_MS: u64 = 200;

/// The signed message: about the size of what TLS 1.3 signs, hashed first by every scheme.
const SIGNED_MESSAGE: [u8; 64] = [0x42; 64];

/// The AEAD additional data: a TLS 1.3 record header is 5 bytes (RFC 8446, 5.2).
const AAD: [u8; 5] = [0x17, 0x03, 0x03, 0x40, 0x11];

/// Options of `meshtls bench ciphers`.
#[derive(Debug, Args)]
pub(crate) struct CiphersArgs {
    /// Algorithms to measure, comma-separated catalogue names (default: all; see `meshtls engines`).
    #[arg(long, value_delimiter = ',', value_name = "ALG,...")]
    algs: Vec<AlgorithmId>,
    /// Engines to measure, comma-separated (default: every registered engine).
    #[arg(long, value_delimiter = ',', value_name = "ENGINE,...")]
    backends: Vec<String>,
    /// Message sizes in bytes for AEAD and hash throughput.
    #[arg(long, value_delimiter = ',', default_values_t = [64usize, 1024, 16384], value_name = "BYTES,...")]
    sizes: Vec<usize>,
    /// Also write the records as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also draw an SVG bar chart (one panel per operation, one colour per backend) to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Measuring time per algorithm x backend x op x size in milliseconds, after a warm-up of
    /// a fifth of it (at most 50 ms).
    #[arg(long, default_value_t = DEFAULT_DURATION_MS, value_name = "N")]
    duration_ms: u64,
}

/// One cell of the benchmark.
#[derive(Clone, Copy, Debug)]
struct Job {
    engine: &'static Engine,
    algorithm: AlgorithmId,
    work: Work,
}

/// What a cell measures; throughput cells carry their message size.
#[derive(Clone, Copy, Debug)]
enum Work {
    Seal(usize),
    Open(usize),
    Hash(usize),
    Exchange,
    Sign,
    Verify,
}

impl Work {
    fn op(self) -> Op {
        match self {
            Work::Seal(_) => Op::Seal,
            Work::Open(_) => Op::Open,
            Work::Hash(_) => Op::Hash,
            Work::Exchange => Op::Exchange,
            Work::Sign => Op::Sign,
            Work::Verify => Op::Verify,
        }
    }

    fn size(self) -> Option<usize> {
        match self {
            Work::Seal(n) | Work::Open(n) | Work::Hash(n) => Some(n),
            Work::Exchange | Work::Sign | Work::Verify => None,
        }
    }
}

/// Runs the benchmark, prints the table and writes the requested files.
pub(crate) fn run(registry: &Registry, args: &CiphersArgs) -> Result<(), CliError> {
    let engines = pick_engines(registry, &args.backends)?;
    let algorithms: Vec<AlgorithmId> = if args.algs.is_empty() {
        AlgorithmId::ALL.to_vec()
    } else {
        args.algs.clone()
    };
    if args.sizes.contains(&0) {
        return Err(CliError::Usage(
            "--sizes: sizes must be at least 1 byte".into(),
        ));
    }
    let jobs = plan(&engines, &algorithms, &args.sizes);
    if jobs.is_empty() {
        return Err(CliError::Usage(
            "no selected backend implements any selected algorithm".into(),
        ));
    }
    let budget = Budget::new(Duration::from_millis(args.duration_ms.max(1)));

    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("generating signing keys");
    let keys = signing_keys(registry, &algorithms);

    let mut records = Vec::with_capacity(jobs.len());
    for job in &jobs {
        bar.set_message(format!(
            "{} {} {} {}",
            job.algorithm,
            job.engine.name,
            job.work.op().name(),
            job.work.size().map(|s| s.to_string()).unwrap_or_default()
        ));
        match measure(job, &keys, &budget) {
            Ok(metric) => records.push(CipherRecord {
                algorithm: job.algorithm,
                backend: job.engine.name,
                op: job.work.op(),
                metric,
            }),
            // Printed beside the bar, and also when stderr is no terminal (bar hidden).
            Err(e) => bar.suspend(|| {
                eprintln!(
                    "meshtls: skipped {} {} on {}: {e}",
                    job.algorithm,
                    job.work.op().name(),
                    job.engine.name
                )
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let backends: Vec<&'static str> = engines.iter().map(|e| e.name).collect();
    print!("{}", table::render(&records, &backends));
    if let Some(path) = &args.json {
        write_json(path, &records)?;
    }
    if let Some(path) = &args.svg {
        chart::draw(path, &records, &backends)?;
    }
    Ok(())
}

/// The registered engines named in `names` (all when empty), in registry order.
fn pick_engines(registry: &Registry, names: &[String]) -> Result<Vec<&'static Engine>, CliError> {
    for name in names {
        registry.require(name)?;
    }
    Ok(registry
        .engines()
        .iter()
        .copied()
        .filter(|e| names.is_empty() || names.iter().any(|n| n == e.name))
        .collect())
}

/// Every (algorithm, engine, op, size) cell the engines can run, grouped by algorithm so
/// that backends of one row run next to each other.
fn plan(engines: &[&'static Engine], algorithms: &[AlgorithmId], sizes: &[usize]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &algorithm in algorithms {
        let sized = |make: fn(usize) -> Work| sizes.iter().map(move |&n| make(n));
        let works: Vec<Work> = match algorithm.kind() {
            AlgorithmKind::Aead => sized(Work::Seal).chain(sized(Work::Open)).collect(),
            AlgorithmKind::Hash => sized(Work::Hash).collect(),
            AlgorithmKind::KeyExchange => vec![Work::Exchange],
            AlgorithmKind::Signature => vec![Work::Sign, Work::Verify],
        };
        for work in works {
            for &engine in engines {
                if engine.find(algorithm).is_some() {
                    jobs.push(Job {
                        engine,
                        algorithm,
                        work,
                    });
                }
            }
        }
    }
    jobs
}

/// PKCS#8 keys per signature algorithm, from every engine that can generate one, in
/// registry order: each backend signs with the first of them it can load (PKCS#8 is
/// portable, but not every engine reads every engine's encoding, e.g. Ed25519 v2).
fn signing_keys(
    registry: &Registry,
    algorithms: &[AlgorithmId],
) -> HashMap<AlgorithmId, Vec<Zeroizing<Vec<u8>>>> {
    algorithms
        .iter()
        .filter(|a| a.kind() == AlgorithmKind::Signature)
        .map(|&a| {
            let keys = registry
                .engines()
                .iter()
                .filter_map(|e| e.signature(a))
                .filter_map(|s| s.generate_key().ok())
                .collect();
            (a, keys)
        })
        .collect()
}

/// Measures one cell.
fn measure(
    job: &Job,
    keys: &HashMap<AlgorithmId, Vec<Zeroizing<Vec<u8>>>>,
    budget: &Budget,
) -> Result<Metric, CliError> {
    let lacks = || ConfigError::EngineLacksAlgorithm {
        engine: job.engine.name.to_owned(),
        algorithm: job.algorithm,
    };
    let throughput = |size: usize, calls_per_s: f64| Metric::Throughput {
        size,
        mb_per_s: calls_per_s * size as f64 / 1e6,
    };
    match job.work {
        Work::Seal(size) | Work::Open(size) => {
            let aead = job.engine.aead(job.algorithm).ok_or_else(lacks)?;
            let key_len = job.algorithm.aead_key_len().ok_or_else(lacks)?;
            let key = aead.new_key(&vec![0x11; key_len])?;
            let nonce = [0x22; AEAD_NONCE_LEN];
            let mut buf = vec![0x33; size];
            let rate = if matches!(job.work, Work::Seal(_)) {
                budget.rate(|| {
                    black_box(key.seal_in_place(&nonce, &AAD, black_box(&mut buf))?);
                    Ok::<_, CryptoError>(())
                })?
            } else {
                // Opening decrypts in place, so each call restores the ciphertext first
                // (one memcpy, the same for every backend).
                let mut sealed = buf.clone();
                let tag: [u8; AEAD_TAG_LEN] = key.seal_in_place(&nonce, &AAD, &mut sealed)?;
                budget.rate(|| {
                    buf.copy_from_slice(&sealed);
                    key.open_in_place(&nonce, &AAD, black_box(&mut buf), &tag)?;
                    black_box(&buf);
                    Ok::<_, CryptoError>(())
                })?
            };
            Ok(throughput(size, rate))
        }
        Work::Hash(size) => {
            let hash = job.engine.hash(job.algorithm).ok_or_else(lacks)?;
            let data = vec![0x44; size];
            let rate = budget.rate(|| {
                black_box(hash.hash(black_box(&data)));
                Ok::<_, CryptoError>(())
            })?;
            Ok(throughput(size, rate))
        }
        Work::Exchange => {
            let kx = job.engine.key_exchange(job.algorithm).ok_or_else(lacks)?;
            let exchange = || -> Result<bool, CryptoError> {
                let initiator = kx.start()?;
                let (share, responder_secret) = kx.respond(initiator.public_key())?;
                let initiator_secret = initiator.complete(&share)?;
                Ok(black_box(initiator_secret.secret_bytes())
                    == black_box(responder_secret.secret_bytes()))
            };
            if !exchange()? {
                return Err(CliError::Crypto(CryptoError::Unsupported(
                    "key exchange sides derived different secrets",
                )));
            }
            let rate = budget.rate(|| exchange().map(|_| ()))?;
            Ok(Metric::Rate { ops_per_s: rate })
        }
        Work::Sign | Work::Verify => {
            let sig = job.engine.signature(job.algorithm).ok_or_else(lacks)?;
            let key = keys
                .get(&job.algorithm)
                .into_iter()
                .flatten()
                .find_map(|pkcs8| sig.load_signing_key(pkcs8).ok())
                .ok_or(CryptoError::Unsupported(
                    "no engine generated a key of this type that this engine loads",
                ))?;
            let scheme = *job
                .algorithm
                .schemes()
                .iter()
                .find(|s| key.schemes().contains(s))
                .ok_or(CryptoError::WrongKeyType)?;
            let rate = if matches!(job.work, Work::Sign) {
                budget.rate(|| {
                    black_box(key.sign(scheme, black_box(&SIGNED_MESSAGE))?);
                    Ok::<_, CryptoError>(())
                })?
            } else {
                let signature = key.sign(scheme, &SIGNED_MESSAGE)?;
                let public_key = key.public_key();
                budget.rate(|| {
                    sig.verify(scheme, &public_key, black_box(&SIGNED_MESSAGE), &signature)
                })?
            };
            Ok(Metric::Rate { ops_per_s: rate })
        }
    }
}
