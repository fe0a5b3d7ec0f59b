//! `meshtls bench handshake`: full mutual handshakes per second over loopback TCP, one row per
//! protocol x peer pair, in one run:
//!
//! - standard TLS 1.3 (AES-128-GCM, X25519, ECDSA P-256 SVIDs) on rustls, OpenSSL, BoringSSL;
//! - RFC 8998 (TLS_SM4_GCM_SM3, curveSM2, sm2sig_sm3, SM2 SVIDs) on rustls;
//! - TLCP ECC_SM4_GCM_SM3 and ECDHE_SM4_GCM_SM3 (SM2 sign + enc pairs) on the `tlcp` stack;
//! - with `--tongsuo DIR`, Tongsuo 8.5 speaking the SM rows as client and server both (see
//!   [`super::tongsuo`]), and against each meshtls stack in both directions.
//!
//! meshtls client and server of a row run in this process on one tokio runtime. Every
//! connection is a handshake followed by a one-byte round trip, so that both sides have
//! finished (the server has verified the client) before the next starts; the client checks
//! that the row's suite and group were negotiated. Only full handshakes are measured: every
//! stack turns session resumption off (each connection re-verifies its peer against the
//! current bundles) and the stack API offers no way to turn it on; the Tongsuo driver turns
//! it off too.
//!
//! Rows take turns over `--rounds` rounds and keep their best ([`super::rounds`]); where both
//! sides of a row share a process (a meshtls stack with itself, the Tongsuo pair) the table
//! also gives the CPU time per handshake, a cost that other load on the machine does not
//! inflate. The SM goals of issue #4 follow the table ([`super::goals`]).

use std::fmt::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use meshtls_tls_core::spiffe::SpiffeId;
use meshtls_tls_core::stack::{ConnectOptions, PeerInfo, TlsAcceptor, TlsConnector, TlsStack};
use meshtls_tls_core::{Registry, TlsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

use super::cpu_time;
use super::flavor::{self, Flavor, TLCP_ECC_GCM, TLCP_ECDHE_GCM, TLS13_AES_128_GCM, TLS13_SM4_GCM};
use super::goals;
use super::pki::BenchPki;
use super::record::{write_json, HandshakeRecord};
use super::rounds;
use super::tongsuo::{Driver, TongsuoError, TongsuoTree};
use crate::backend_args::BackendArgs;
use crate::error::CliError;

/// Handshakes run before measuring, to fill caches and start threads.
const WARMUP_HANDSHAKES: u32 = 5;
/// The rows' protocols, in table order.
const FLAVORS: [Flavor; 4] = [
    TLS13_AES_128_GCM,
    TLS13_SM4_GCM,
    TLCP_ECC_GCM,
    TLCP_ECDHE_GCM,
];
/// The name Tongsuo's rows carry.
const TONGSUO: &str = "tongsuo";

/// Options of `meshtls bench handshake`.
#[derive(Debug, Args)]
pub(crate) struct HandshakeArgs {
    /// meshtls stacks to measure, comma-separated (default: rustls and every engine's own
    /// stack: openssl, boring, tlcp).
    #[arg(long, value_delimiter = ',', value_name = "STACK,...")]
    stacks: Vec<String>,
    /// Suites to measure, comma-separated (default: TLS_AES_128_GCM_SHA256, TLS_SM4_GCM_SM3,
    /// ECC_SM4_GCM_SM3, ECDHE_SM4_GCM_SM3).
    #[arg(long, value_delimiter = ',', value_name = "SUITE,...")]
    suites: Vec<String>,
    /// A built Tongsuo 8.5 tree (holding libssl.a, libcrypto.a and include/, or a `src/`
    /// that does; the interop tests build one under target/tongsuo-*): adds Tongsuo's TLCP
    /// and RFC 8998 rows, driven by a small C program compiled now with `cc`.
    #[arg(long, value_name = "DIR")]
    tongsuo: Option<PathBuf>,
    /// Also write the records as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Measuring time per row in milliseconds, split over the rounds.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    duration_ms: u64,
    /// Rounds: the rows take turns this many times and each keeps its best round.
    #[arg(long, default_value_t = 3, value_name = "N")]
    rounds: u32,
    #[command(flatten)]
    backend: BackendArgs,
}

/// One side of a row.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// A meshtls stack in this process.
    Meshtls(&'static dyn TlsStack),
    /// The Tongsuo driver.
    Tongsuo,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Meshtls(stack) => stack.name(),
            Peer::Tongsuo => TONGSUO,
        }
    }
}

/// One measurement: a protocol between a client and a server.
#[derive(Clone, Copy, Debug)]
struct Row {
    flavor: Flavor,
    client: Peer,
    server: Peer,
}

/// Why a row could not be measured (the run goes on without it).
#[derive(Debug, thiserror::Error)]
enum RowError {
    /// A meshtls stack failed.
    #[error(transparent)]
    Meshtls(#[from] CliError),
    /// The Tongsuo driver failed.
    #[error(transparent)]
    Tongsuo(#[from] TongsuoError),
    /// The handshake agreed on something other than the row's protocol.
    #[error("{0}")]
    Negotiated(String),
    /// A Tongsuo row without a Tongsuo driver, or for a suite Tongsuo is not asked to speak.
    #[error("no Tongsuo peer for {0}")]
    NoTongsuo(&'static str),
}

impl From<TlsError> for RowError {
    fn from(e: TlsError) -> Self {
        RowError::Meshtls(e.into())
    }
}

impl From<std::io::Error> for RowError {
    fn from(e: std::io::Error) -> Self {
        RowError::Meshtls(e.into())
    }
}

/// What every row shares.
struct Bench {
    pki: BenchPki,
    provider: Arc<rustls::crypto::CryptoProvider>,
    tongsuo: Option<Driver>,
    duration: Duration,
    runtime: Runtime,
}

/// Runs the benchmark and prints the table and the goals.
pub(crate) fn run(registry: &Registry, args: &HandshakeArgs) -> Result<(), CliError> {
    let selected = super::selected_stacks(registry, &args.stacks)?;
    let flavors = flavor::select(&FLAVORS, &args.suites)?;
    let pki = BenchPki::issue()?;
    let tongsuo = match &args.tongsuo {
        None => {
            eprintln!(
                "meshtls: Tongsuo rows skipped: pass --tongsuo DIR, a built Tongsuo tree \
                 (the interop tests build one under target/tongsuo-*/src)"
            );
            None
        }
        Some(dir) => {
            let built = TongsuoTree::locate(dir).and_then(|tree| {
                eprintln!("meshtls: compiling the Tongsuo driver against {tree}...");
                Driver::build(&tree, &pki)
            });
            Some(built.map_err(|e| CliError::Usage(e.to_string()))?)
        }
    };
    let selection = args.backend.select(registry)?;
    let bench = Bench {
        provider: meshtls_tls_core::compose::provider(&selection),
        pki,
        duration: Duration::from_millis((args.duration_ms / u64::from(args.rounds.max(1))).max(1)),
        runtime: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        tongsuo,
    };
    let rows = rows(&selected, &flavors, bench.tongsuo.is_some());
    let label = |row: &Row| {
        format!(
            "{} -> {} {} full handshakes",
            row.client.name(),
            row.server.name(),
            row.flavor.suite
        )
    };
    let best = rounds::best_of(
        &rows,
        args.rounds,
        label,
        |row| bench.measure(*row),
        Rate::best,
    );
    let records: Vec<HandshakeRecord> = rows
        .iter()
        .zip(best)
        .filter_map(|(row, rate)| Some(record(*row, rate?)))
        .collect();
    eprintln!(
        "meshtls: resumed handshakes not measured: every stack disables session resumption \
         (each connection re-verifies its peer) and the stack API cannot turn it on"
    );
    print!("{}", render(&records));
    print!("{}", super::engines_line(&selection));
    print!("{}", goals::render_handshake(&records));
    if let Some(path) = &args.json {
        write_json(path, &records)?;
    }
    if records.is_empty() {
        return Err(CliError::Usage("no row completed a handshake".into()));
    }
    Ok(())
}

/// The rows for `stacks` (and Tongsuo) speaking `flavors`, grouped by protocol.
fn rows(stacks: &[&'static dyn TlsStack], flavors: &[Flavor], tongsuo: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    for &flavor in flavors {
        let speakers = stacks.iter().filter(|s| flavor.spoken_by(s.name()));
        for &stack in speakers.clone() {
            let peer = Peer::Meshtls(stack);
            rows.push(Row {
                flavor,
                client: peer,
                server: peer,
            });
        }
        if !tongsuo || flavor.tongsuo.is_none() {
            continue;
        }
        rows.push(Row {
            flavor,
            client: Peer::Tongsuo,
            server: Peer::Tongsuo,
        });
        for &stack in speakers {
            let peer = Peer::Meshtls(stack);
            rows.push(Row {
                flavor,
                client: peer,
                server: Peer::Tongsuo,
            });
            rows.push(Row {
                flavor,
                client: Peer::Tongsuo,
                server: peer,
            });
        }
    }
    rows
}

fn record(row: Row, rate: Rate) -> HandshakeRecord {
    HandshakeRecord {
        client: row.client.name(),
        server: row.server.name(),
        protocol: row.flavor.protocol(),
        suite: row.flavor.suite,
        group: row.flavor.group,
        key: row.flavor.credential.name(),
        mode: "full",
        handshakes_per_s: rate.per_s,
        cpu_us_per_handshake: rate.cpu_per_handshake.map(|d| d.as_secs_f64() * 1e6),
    }
}

impl Bench {
    /// Handshakes per second for `row`.
    fn measure(&self, row: Row) -> Result<Rate, RowError> {
        let pair =
            self.pki
                .stack_pair(row.flavor.credential, &row.flavor.policy(), &self.provider)?;
        let tongsuo = || match (&self.tongsuo, row.flavor.tongsuo) {
            (Some(driver), Some(flavor)) => Ok((driver, flavor)),
            // `rows` makes Tongsuo rows only with a driver and for what Tongsuo speaks.
            _ => Err(RowError::NoTongsuo(row.flavor.suite)),
        };
        let expect = self.pki.server_id().clone();
        match (row.client, row.server) {
            (Peer::Meshtls(client), Peer::Meshtls(server)) => {
                let acceptor = server.acceptor(&pair.server)?;
                let connector = client.connector(&pair.client)?;
                self.runtime.block_on(async {
                    let (addr, server) = spawn_server(acceptor).await?;
                    let rate =
                        client_loop(addr, connector, expect, row.flavor, self.duration).await;
                    server.abort();
                    rate
                })
            }
            (Peer::Tongsuo, Peer::Tongsuo) => {
                let (driver, flavor) = tongsuo()?;
                let m = driver.pair(flavor, self.duration)?;
                Ok(Rate::of(m.handshakes, m.elapsed, Some(m.cpu)))
            }
            (Peer::Meshtls(client), Peer::Tongsuo) => {
                let (driver, flavor) = tongsuo()?;
                let connector = client.connector(&pair.client)?;
                let server = driver.server(flavor)?;
                let addr = SocketAddr::from(([127, 0, 0, 1], server.port()));
                let rate = self.runtime.block_on(client_loop(
                    addr,
                    connector,
                    expect,
                    row.flavor,
                    self.duration,
                ))?;
                // Our CPU time covers the client only.
                Ok(rate.without_cpu())
            }
            (Peer::Tongsuo, Peer::Meshtls(server)) => {
                let (driver, flavor) = tongsuo()?;
                let acceptor = server.acceptor(&pair.server)?;
                let (addr, server) = self.runtime.block_on(spawn_server(acceptor))?;
                // The server's tasks run on the runtime's workers while this thread waits.
                let measured = driver.client(flavor, addr.port(), self.duration);
                server.abort();
                let m = measured?;
                // The driver's CPU time covers the client only.
                Ok(Rate::of(m.handshakes, m.elapsed, None))
            }
        }
    }
}

/// A row's result.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rate {
    /// Handshakes per second.
    per_s: f64,
    /// CPU time per handshake, both sides together; `None` when the two sides ran in
    /// different processes.
    cpu_per_handshake: Option<Duration>,
}

impl Rate {
    /// `handshakes` in `elapsed`, using `cpu` of CPU time.
    fn of(handshakes: u64, elapsed: Duration, cpu: Option<Duration>) -> Rate {
        let per_handshake = |cpu: Duration| cpu.div_f64(handshakes.max(1) as f64);
        Rate {
            per_s: handshakes as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            cpu_per_handshake: cpu.map(per_handshake),
        }
    }

    fn without_cpu(self) -> Rate {
        Rate {
            cpu_per_handshake: None,
            ..self
        }
    }

    /// The best of two rounds: the higher rate and the lower CPU cost (background load only
    /// adds to either).
    fn best(a: Rate, b: Rate) -> Rate {
        let cpu = match (a.cpu_per_handshake, b.cpu_per_handshake) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        Rate {
            per_s: a.per_s.max(b.per_s),
            cpu_per_handshake: cpu,
        }
    }
}

/// A loopback listener served by `acceptor` until the returned task is aborted.
async fn spawn_server(
    acceptor: Arc<dyn TlsAcceptor>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), RowError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((addr, tokio::spawn(serve(listener, acceptor))))
}

/// Warms up, then handshakes with `addr` until `duration` has passed, reading this process's
/// CPU time around the measured part.
async fn client_loop(
    addr: SocketAddr,
    connector: Arc<dyn TlsConnector>,
    expect: SpiffeId,
    flavor: Flavor,
    duration: Duration,
) -> Result<Rate, RowError> {
    let options = ConnectOptions {
        expect_id: Some(expect),
        server_name: None,
    };
    let once = || async {
        let peer = one_handshake(addr, connector.as_ref(), options.clone()).await?;
        flavor
            .check(&peer.suite, peer.group.as_deref())
            .map_err(RowError::Negotiated)
    };
    for _ in 0..WARMUP_HANDSHAKES {
        once().await?;
    }
    let start = Instant::now();
    let cpu_start = cpu_time::process();
    let mut count: u64 = 0;
    loop {
        once().await?;
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let cpu = cpu_time::process()
                .zip(cpu_start)
                .map(|(end, start)| end.saturating_sub(start));
            return Ok(Rate::of(count, elapsed, cpu));
        }
    }
}

/// One connection: handshake, then a one-byte round trip so that both sides have finished
/// (the server has verified the client's certificate) before the next one starts.
async fn one_handshake(
    addr: SocketAddr,
    connector: &dyn TlsConnector,
    options: ConnectOptions,
) -> Result<PeerInfo, RowError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut stream = connector.connect(Box::new(tcp), options).await?;
    stream.io.write_all(b"?").await?;
    let mut byte = [0u8; 1];
    stream.io.read_exact(&mut byte).await?;
    Ok(stream.peer)
}

/// Accepts connections until aborted; each answers one byte.
async fn serve(listener: TcpListener, acceptor: Arc<dyn TlsAcceptor>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let answer = async {
                tcp.set_nodelay(true)?;
                let mut stream = acceptor.accept(Box::new(tcp)).await?;
                let mut byte = [0u8; 1];
                stream.io.read_exact(&mut byte).await?;
                stream.io.write_all(&byte).await?;
                stream.io.shutdown().await?;
                Ok::<(), TlsError>(())
            };
            if let Err(e) = answer.await {
                tracing::warn!("bench server connection failed: {e}");
            }
        });
    }
}

/// The table: one row per measurement, with its ratio to the fastest row and, where both
/// sides ran in one process, the CPU time of a handshake (both sides together).
fn render(records: &[HandshakeRecord]) -> String {
    let best = records
        .iter()
        .map(|r| r.handshakes_per_s)
        .fold(0.0_f64, f64::max);
    let mut out = format!(
        "{:<8} {:<8} {:<8} {:<23} {:<9} {:<13} {:>13} {:>6} {:>10}\n",
        "client",
        "server",
        "protocol",
        "suite",
        "group",
        "key",
        "handshakes/s",
        "ratio",
        "cpu us/hs"
    );
    for r in records {
        let ratio = if best > 0.0 {
            r.handshakes_per_s / best
        } else {
            0.0
        };
        let cpu = r
            .cpu_us_per_handshake
            .map_or_else(|| "-".to_owned(), |us| format!("{us:.0}"));
        let _ = writeln!(
            out,
            "{:<8} {:<8} {:<8} {:<23} {:<9} {:<13} {:>13.1} {:>6.2} {cpu:>10}",
            r.client,
            r.server,
            r.protocol,
            r.suite,
            r.group.unwrap_or("-"),
            r.key,
            r.handshakes_per_s,
            ratio
        );
    }
    out.push_str(
        "(ratio) = handshakes/s / fastest row; cpu us/hs = CPU microseconds per handshake, \
         client and server together (one process only); full mutual handshakes, resumption off; \
         best of the rounds\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;

    #[test]
    fn rows_group_by_protocol_and_add_tongsuo_both_ways() {
        let stacks: [&'static dyn TlsStack; 1] = [&RUSTLS_STACK];
        let names = |rows: Vec<Row>| -> Vec<String> {
            rows.iter()
                .map(|r| format!("{}>{} {}", r.client.name(), r.server.name(), r.flavor.suite))
                .collect()
        };
        assert_eq!(
            names(rows(&stacks, &FLAVORS, false)),
            [
                "rustls>rustls TLS_AES_128_GCM_SHA256",
                "rustls>rustls TLS_SM4_GCM_SM3"
            ]
        );
        assert_eq!(
            names(rows(&stacks, &FLAVORS, true)),
            [
                "rustls>rustls TLS_AES_128_GCM_SHA256",
                "rustls>rustls TLS_SM4_GCM_SM3",
                "tongsuo>tongsuo TLS_SM4_GCM_SM3",
                "rustls>tongsuo TLS_SM4_GCM_SM3",
                "tongsuo>rustls TLS_SM4_GCM_SM3",
                "tongsuo>tongsuo ECC_SM4_GCM_SM3",
                "tongsuo>tongsuo ECDHE_SM4_GCM_SM3",
            ]
        );
    }

    #[test]
    fn rounds_keep_the_higher_rate_and_the_lower_cpu_cost() {
        let a = Rate::of(100, Duration::from_secs(1), Some(Duration::from_millis(50)));
        let b = Rate::of(
            200,
            Duration::from_secs(1),
            Some(Duration::from_millis(200)),
        );
        let best = Rate::best(a, b);
        assert_eq!(best.per_s, 200.0);
        assert_eq!(best.cpu_per_handshake, Some(Duration::from_micros(500)));
        assert_eq!(
            Rate::best(a.without_cpu(), b.without_cpu()).cpu_per_handshake,
            None
        );
    }

    #[test]
    fn the_table_names_both_sides_and_the_protocol() {
        let row = Row {
            flavor: TLCP_ECDHE_GCM,
            client: Peer::Tongsuo,
            server: Peer::Tongsuo,
        };
        let rate = Rate::of(
            200,
            Duration::from_secs(2),
            Some(Duration::from_millis(400)),
        );
        let text = render(&[record(row, rate)]);
        let line = text.lines().nth(1).unwrap();
        for word in [
            "tongsuo",
            "TLCP",
            "ECDHE_SM4_GCM_SM3",
            "curveSM2",
            "sm2 sign+enc",
            "100.0",
            "1.00",
            "2000",
        ] {
            assert!(line.contains(word), "{line}");
        }
    }
}
