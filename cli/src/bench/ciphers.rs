//! `meshtls bench ciphers`: every algorithm x backend, measured through the engine traits,
//! plus the SM rows' peer libraries and extra SM4 modes measured by direct calls
//! ([`super::sm_peers`]) in the same run, and the SM goals computed from it
//! ([`super::goals`]).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use meshtls_tls_core::engine::{AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, AlgorithmKind, ConfigError, CryptoError, Engine, Registry};
use zeroize::Zeroizing;

use super::measure::Budget;
use super::record::{write_json, CipherRecord, Metric, Op, Subject};
use super::sm_peers::Peer;
use super::{chart, goals, table};
use crate::error::CliError;

/// The default measuring time per cell: ~230 cells (~80 of them SM rows and peers) x
/// (200 ms + 40 ms warm-up) take about a minute on a 2-core machine.
const DEFAULT_DURATION_MS: u64 = 200;

/// The signed message: about the size of what TLS 1.3 signs, hashed first by every scheme.
pub(super) const SIGNED_MESSAGE: [u8; 64] = [0x42; 64];

/// The AEAD additional data: a TLS 1.3 record header is 5 bytes (RFC 8446, 5.2).
pub(super) const AAD: [u8; 5] = [0x17, 0x03, 0x03, 0x40, 0x11];

/// Options of `meshtls bench ciphers`.
#[derive(Debug, Args)]
pub(crate) struct CiphersArgs {
    /// Algorithms to measure, comma-separated: catalogue names (see `meshtls engines`) and
    /// the SM4 modes the catalogue lacks, `sm4-ctr` and `sm4-cbc` (default: all).
    #[arg(long, value_delimiter = ',', value_name = "ALG,...")]
    algs: Vec<Subject>,
    /// Backends to measure, comma-separated: registered engines and the SM peers
    /// `rustcrypto` and `sm-crypto` (default: all of them).
    #[arg(long, value_delimiter = ',', value_name = "BACKEND,...")]
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
    /// Also measure every code path of the `sm` engine this CPU runs, one column each
    /// (`sm/soft`, ...): the path named is forced for each SM unit that has it (SM4, GHASH,
    /// SM3; SM2's path is set per process with `MESHTLS_SM_FORCE=sm2=<path>`).
    #[arg(long)]
    sm_paths: bool,
}

/// One cell of the benchmark.
#[derive(Clone, Copy, Debug)]
struct Job {
    backend: Backend,
    subject: Subject,
    work: Work,
}

/// Who runs a cell: a registered engine through tls-core's traits, or a peer by direct calls.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Engine(&'static Engine),
    Peer(Peer),
}

impl Backend {
    fn name(self) -> String {
        match self {
            Backend::Engine(e) => e.name.to_owned(),
            Backend::Peer(p) => p.name(),
        }
    }
}

/// What a cell measures; throughput cells carry their message size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Work {
    Seal(usize),
    Open(usize),
    Encrypt(usize),
    Decrypt(usize),
    Hash(usize),
    Exchange,
    Sign,
    Verify,
}

impl Work {
    pub(super) fn op(self) -> Op {
        match self {
            Work::Seal(_) => Op::Seal,
            Work::Open(_) => Op::Open,
            Work::Encrypt(_) => Op::Encrypt,
            Work::Decrypt(_) => Op::Decrypt,
            Work::Hash(_) => Op::Hash,
            Work::Exchange => Op::Exchange,
            Work::Sign => Op::Sign,
            Work::Verify => Op::Verify,
        }
    }

    pub(super) fn size(self) -> Option<usize> {
        match self {
            Work::Seal(n) | Work::Open(n) | Work::Encrypt(n) | Work::Decrypt(n) | Work::Hash(n) => {
                Some(n)
            }
            Work::Exchange | Work::Sign | Work::Verify => None,
        }
    }

    /// Every cell of `subject`, with one throughput cell per size.
    fn all(subject: Subject, sizes: &[usize]) -> Vec<Work> {
        let sized = |make: fn(usize) -> Work| sizes.iter().map(move |&n| make(n));
        match subject {
            Subject::Algorithm(id) => match id.kind() {
                AlgorithmKind::Aead => sized(Work::Seal).chain(sized(Work::Open)).collect(),
                AlgorithmKind::Hash => sized(Work::Hash).collect(),
                AlgorithmKind::KeyExchange => vec![Work::Exchange],
                AlgorithmKind::Signature => vec![Work::Sign, Work::Verify],
            },
            // CTR decryption is the same operation as encryption.
            Subject::Sm4Ctr => sized(Work::Encrypt).collect(),
            Subject::Sm4Cbc => sized(Work::Encrypt).chain(sized(Work::Decrypt)).collect(),
        }
    }
}

/// Runs the benchmark, prints the table and writes the requested files.
pub(crate) fn run(registry: &Registry, args: &CiphersArgs) -> Result<(), CliError> {
    let (engines, peers) = pick_backends(registry, &args.backends, args.sm_paths)?;
    let subjects: Vec<Subject> = if args.algs.is_empty() {
        (AlgorithmId::ALL.iter().copied().map(Subject::Algorithm))
            .chain(Subject::EXTRA)
            .collect()
    } else {
        args.algs.clone()
    };
    let algorithms: Vec<AlgorithmId> = subjects.iter().filter_map(|s| s.algorithm()).collect();
    if args.sizes.contains(&0) {
        return Err(CliError::Usage(
            "--sizes: sizes must be at least 1 byte".into(),
        ));
    }
    let jobs = plan(&engines, &peers, &subjects, &args.sizes);
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
            job.subject,
            job.backend.name(),
            job.work.op().name(),
            job.work.size().map(|s| s.to_string()).unwrap_or_default()
        ));
        let result = match job.backend {
            Backend::Engine(engine) => measure(engine, job, &keys, &budget),
            Backend::Peer(peer) => peer.measure(job.subject, job.work, &budget),
        };
        match result {
            Ok(metric) => records.push(CipherRecord {
                algorithm: job.subject,
                backend: job.backend.name(),
                op: job.work.op(),
                metric,
            }),
            // Printed beside the bar, and also when stderr is no terminal (bar hidden).
            Err(e) => bar.suspend(|| {
                eprintln!(
                    "meshtls: skipped {} {} on {}: {e}",
                    job.subject,
                    job.work.op().name(),
                    job.backend.name()
                )
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    let names = backend_names(&engines, &peers);
    let backends: Vec<&str> = names.iter().map(String::as_str).collect();
    print!("{}", table::render(&records, &backends));
    print!("{}", goals::render(&records));
    if let Some(path) = &args.json {
        write_json(path, &records)?;
    }
    if let Some(path) = &args.svg {
        chart::draw(path, &records, &backends)?;
    }
    Ok(())
}

/// The registered engines and the peers named in `names` (all when empty), in registry and
/// peer order. A peer named after an engine (`sm`, `openssl`: their rows the catalogue
/// lacks) goes with that name; `--sm-paths` adds the path columns when `sm` is selected.
fn pick_backends(
    registry: &Registry,
    names: &[String],
    sm_paths: bool,
) -> Result<(Vec<&'static Engine>, Vec<Peer>), CliError> {
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    let peers: Vec<Peer> = Peer::all(sm_paths)
        .into_iter()
        .filter(|p| wanted(&p.name()) || (matches!(p, Peer::SmPath(_)) && wanted("sm")))
        .collect();
    for name in names {
        let peer = Peer::all(false).iter().any(|p| p.name() == *name);
        if !peer && registry.engine(name).is_none() {
            let known = backend_names(registry.engines(), &Peer::all(false));
            return Err(CliError::Usage(format!(
                "--backends: unknown backend {name:?} (known: {})",
                known.join(", ")
            )));
        }
    }
    let engines = registry
        .engines()
        .iter()
        .copied()
        .filter(|e| wanted(e.name))
        .collect();
    Ok((engines, peers))
}

/// The table's columns: engines in registry order, then the peers not named after an engine.
fn backend_names(engines: &[&'static Engine], peers: &[Peer]) -> Vec<String> {
    let mut names: Vec<String> = engines.iter().map(|e| e.name.to_owned()).collect();
    for peer in peers {
        if !names.contains(&peer.name()) {
            names.push(peer.name());
        }
    }
    names
}

/// Every (subject, backend, op, size) cell the backends can run, grouped by subject so that
/// backends of one row run next to each other.
fn plan(
    engines: &[&'static Engine],
    peers: &[Peer],
    subjects: &[Subject],
    sizes: &[usize],
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &subject in subjects {
        for work in Work::all(subject, sizes) {
            let engines = engines
                .iter()
                .filter(|e| subject.algorithm().is_some_and(|a| e.find(a).is_some()))
                .map(|&e| Backend::Engine(e));
            let peers = peers
                .iter()
                .filter(|p| p.runs(subject, work.op()))
                .map(|&p| Backend::Peer(p));
            for backend in engines.chain(peers) {
                jobs.push(Job {
                    backend,
                    subject,
                    work,
                });
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

/// Measures one cell of a registered engine.
fn measure(
    engine: &'static Engine,
    job: &Job,
    keys: &HashMap<AlgorithmId, Vec<Zeroizing<Vec<u8>>>>,
    budget: &Budget,
) -> Result<Metric, CliError> {
    let algorithm = job.subject.algorithm().ok_or(CryptoError::Unsupported(
        "engines run catalogue algorithms only",
    ))?;
    let lacks = || ConfigError::EngineLacksAlgorithm {
        engine: engine.name.to_owned(),
        algorithm,
    };
    let throughput = |size: usize, calls_per_s: f64| Metric::Throughput {
        size,
        mb_per_s: calls_per_s * size as f64 / 1e6,
    };
    match job.work {
        Work::Encrypt(_) | Work::Decrypt(_) => Err(CliError::Crypto(CryptoError::Unsupported(
            "unauthenticated modes are not in the catalogue",
        ))),
        Work::Seal(size) | Work::Open(size) => {
            let aead = engine.aead(algorithm).ok_or_else(lacks)?;
            let key_len = algorithm.aead_key_len().ok_or_else(lacks)?;
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
            let hash = engine.hash(algorithm).ok_or_else(lacks)?;
            let data = vec![0x44; size];
            let rate = budget.rate(|| {
                black_box(hash.hash(black_box(&data)));
                Ok::<_, CryptoError>(())
            })?;
            Ok(throughput(size, rate))
        }
        Work::Exchange => {
            let kx = engine.key_exchange(algorithm).ok_or_else(lacks)?;
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
            let sig = engine.signature(algorithm).ok_or_else(lacks)?;
            let key = keys
                .get(&algorithm)
                .into_iter()
                .flatten()
                .find_map(|pkcs8| sig.load_signing_key(pkcs8).ok())
                .ok_or(CryptoError::Unsupported(
                    "no engine generated a key of this type that this engine loads",
                ))?;
            let scheme = *algorithm
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
