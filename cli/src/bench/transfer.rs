//! `meshtls bench transfer`: record-layer throughput, MB/s of bulk application data sent one
//! way over one established mutual-TLS connection on loopback TCP, client and server of the
//! same stack in this process, for:
//!
//! - TLS 1.3 AES-128-GCM on rustls, OpenSSL and BoringSSL (the reference);
//! - RFC 8998 TLS_SM4_GCM_SM3 and TLS_SM4_CCM_SM3 on rustls;
//! - TLCP ECC_SM4_GCM_SM3, ECDHE_SM4_GCM_SM3 and, for information, ECDHE_SM4_CBC_SM3 on the
//!   `tlcp` stack.
//!
//! Each row sends a warm-up (as much as is measured, at most [`WARMUP_BYTES`]), then the
//! measured amount, in writes of `--write-size` bytes; after each the server, having read
//! exactly that many bytes, answers one byte, and the time runs from the first measured write
//! to that answer. Both sides' record work (seal and open) shares this machine's cores, as it
//! would for a mesh sidecar pair on one host. The SM4-GCM goals of issue #4 follow the table
//! ([`super::goals`]).

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use meshtls_tls_core::spiffe::SpiffeId;
use meshtls_tls_core::stack::{
    BoxedIo, ConnectOptions, HandshakeFuture, TlsAcceptor, TlsStack, TlsStream,
};
use meshtls_tls_core::{Registry, TlsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

use super::cpu_time;
use super::flavor::{
    self, Flavor, TLCP_ECC_GCM, TLCP_ECDHE_CBC, TLCP_ECDHE_GCM, TLS13_AES_128_GCM, TLS13_SM4_CCM,
    TLS13_SM4_GCM,
};
use super::goals;
use super::pki::{BenchPki, StackPair};
use super::record::{write_json, TransferRecord};
use super::rounds;
use crate::backend_args::BackendArgs;
use crate::error::CliError;

/// One mebibyte.
const MIB: u64 = 1 << 20;
/// The most bytes sent before measuring, to size buffers and warm caches.
const WARMUP_BYTES: u64 = MIB;
/// The rows' protocols, in table order.
const FLAVORS: [Flavor; 6] = [
    TLS13_AES_128_GCM,
    TLS13_SM4_GCM,
    TLS13_SM4_CCM,
    TLCP_ECC_GCM,
    TLCP_ECDHE_GCM,
    TLCP_ECDHE_CBC,
];
/// The server's read buffer.
const READ_BUFFER: usize = 64 * 1024;

/// Options of `meshtls bench transfer`.
#[derive(Debug, Args)]
pub(crate) struct TransferArgs {
    /// meshtls stacks to measure, comma-separated (default: rustls and every engine's own
    /// stack: openssl, boring, tlcp).
    #[arg(long, value_delimiter = ',', value_name = "STACK,...")]
    stacks: Vec<String>,
    /// Suites to measure, comma-separated (default: TLS_AES_128_GCM_SHA256, TLS_SM4_GCM_SM3,
    /// TLS_SM4_CCM_SM3, ECC_SM4_GCM_SM3, ECDHE_SM4_GCM_SM3, ECDHE_SM4_CBC_SM3).
    #[arg(long, value_delimiter = ',', value_name = "SUITE,...")]
    suites: Vec<String>,
    /// Mebibytes of application data sent per row (fractions allowed), after a warm-up of
    /// as much again, at most 1 MiB.
    #[arg(long, default_value_t = 64.0, value_name = "N")]
    mib: f64,
    /// Bytes per write call (16384 = one full TLS record of plaintext).
    #[arg(long, default_value_t = 16384, value_name = "BYTES")]
    write_size: usize,
    /// Rounds: the rows take turns this many times (a new connection each) and each keeps
    /// its best round.
    #[arg(long, default_value_t = 5, value_name = "N")]
    rounds: u32,
    /// Also write the records as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs the benchmark and prints the table and the goal.
pub(crate) fn run(registry: &Registry, args: &TransferArgs) -> Result<(), CliError> {
    let selected = super::selected_stacks(registry, &args.stacks)?;
    // Whole bytes; the float-to-int cast saturates (NaN gives 0, refused below).
    let bytes = (args.mib * MIB as f64) as u64;
    if args.write_size == 0 || bytes == 0 {
        return Err(CliError::Usage(
            "--mib and --write-size must be positive".into(),
        ));
    }
    let pki = BenchPki::issue()?;
    let selection = args.backend.select(registry)?;
    let provider = meshtls_tls_core::compose::provider(&selection);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for flavor in flavor::select(&FLAVORS, &args.suites)? {
        for &stack in selected.iter().filter(|s| flavor.spoken_by(s.name())) {
            let pair = pki.stack_pair(flavor.credential, &flavor.policy(), &provider)?;
            rows.push((stack, flavor, pair));
        }
    }
    let label =
        |(stack, flavor, _): &Row| format!("{} {} record throughput", stack.name(), flavor.suite);
    let measure_row = |(stack, flavor, pair): &Row| {
        let transfer = Transfer {
            flavor: *flavor,
            bytes,
            write_size: args.write_size,
        };
        measure(&runtime, *stack, &transfer, pair, pki.server_id())
    };
    let best = rounds::best_of(&rows, args.rounds, label, measure_row, Throughput::best);
    let records: Vec<TransferRecord> = rows
        .iter()
        .zip(best)
        .filter_map(|((stack, flavor, _), measured)| {
            let measured = measured?;
            Some(TransferRecord {
                stack: stack.name(),
                protocol: flavor.protocol(),
                suite: flavor.suite,
                bytes,
                write_size: args.write_size,
                mb_per_s: measured.mb_per_s,
                cpu_ms_per_mb: measured.cpu_ms_per_mb,
            })
        })
        .collect();
    print!("{}", render(&records));
    print!("{}", super::engines_line(&selection));
    print!("{}", goals::render_transfer(&records));
    if let Some(path) = &args.json {
        write_json(path, &records)?;
    }
    if records.is_empty() {
        return Err(CliError::Usage("no row completed a transfer".into()));
    }
    Ok(())
}

/// A row: a stack, what it speaks, and both sides' configurations.
type Row = (&'static dyn TlsStack, Flavor, StackPair);

/// MB/s of `transfer` between `stack`'s client and server configured by `pair`.
fn measure(
    runtime: &Runtime,
    stack: &'static dyn TlsStack,
    transfer: &Transfer,
    pair: &StackPair,
    server_id: &SpiffeId,
) -> Result<Throughput, TransferError> {
    let acceptor = stack.acceptor(&pair.server)?;
    let connector = stack.connector(&pair.client)?;
    let options = ConnectOptions {
        expect_id: Some(server_id.clone()),
        server_name: None,
    };
    runtime.block_on(transfer.run(acceptor, |tcp| connector.connect(tcp, options)))
}

/// A row's result.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Throughput {
    /// 10^6 application bytes per second.
    mb_per_s: f64,
    /// CPU milliseconds per 10^6 bytes, both sides together (this process's threads).
    cpu_ms_per_mb: Option<f64>,
}

impl Throughput {
    /// `bytes` in `elapsed`, using `cpu` of CPU time.
    fn of(bytes: u64, elapsed: Duration, cpu: Option<Duration>) -> Throughput {
        let mb = bytes as f64 / 1e6;
        Throughput {
            mb_per_s: mb / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            cpu_ms_per_mb: cpu.map(|cpu| cpu.as_secs_f64() * 1e3 / mb),
        }
    }

    /// The best of two rounds: the higher rate and the lower CPU cost.
    fn best(a: Throughput, b: Throughput) -> Throughput {
        let cpu = match (a.cpu_ms_per_mb, b.cpu_ms_per_mb) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        Throughput {
            mb_per_s: a.mb_per_s.max(b.mb_per_s),
            cpu_ms_per_mb: cpu,
        }
    }
}

/// Why a row could not be measured (the run goes on without it).
#[derive(Debug, thiserror::Error)]
enum TransferError {
    /// The stack failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The handshake agreed on something other than the row's protocol.
    #[error("{0}")]
    Negotiated(String),
}

impl From<std::io::Error> for TransferError {
    fn from(e: std::io::Error) -> Self {
        TransferError::Tls(e.into())
    }
}

/// One row's transfer.
struct Transfer {
    flavor: Flavor,
    bytes: u64,
    write_size: usize,
}

impl Transfer {
    /// Connects through `connect` to a one-connection server, sends the warm-up and the
    /// measured bytes, and returns MB/s of the measured part.
    async fn run(
        &self,
        acceptor: Arc<dyn TlsAcceptor>,
        connect: impl FnOnce(BoxedIo) -> HandshakeFuture,
    ) -> Result<Throughput, TransferError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let warmup = self.bytes.min(WARMUP_BYTES);
        let phases = [warmup, self.bytes];
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            let mut stream = acceptor.accept(Box::new(tcp)).await?;
            for phase in phases {
                receive(&mut stream, phase).await?;
            }
            Ok::<(), TlsError>(())
        });
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let result = async {
            let mut stream = connect(Box::new(tcp)).await?;
            self.flavor
                .check(&stream.peer.suite, stream.peer.group.as_deref())
                .map_err(TransferError::Negotiated)?;
            self.send(&mut stream, warmup).await?;
            let start = Instant::now();
            let cpu_start = cpu_time::process();
            self.send(&mut stream, self.bytes).await?;
            let elapsed = start.elapsed();
            let cpu = cpu_time::process()
                .zip(cpu_start)
                .map(|(end, start)| end.saturating_sub(start));
            Ok::<_, TransferError>(Throughput::of(self.bytes, elapsed, cpu))
        }
        .await;
        server.abort();
        result
    }

    /// Writes `bytes` in `write_size` pieces, then waits for the server's one-byte answer.
    async fn send(&self, stream: &mut TlsStream, bytes: u64) -> Result<(), TlsError> {
        let chunk = vec![0x5a_u8; self.write_size];
        let mut left = bytes;
        while left > 0 {
            let n = usize::try_from(left).map_or(chunk.len(), |l| l.min(chunk.len()));
            stream.io.write_all(&chunk[..n]).await?;
            left -= n as u64;
        }
        stream.io.flush().await?;
        let mut answer = [0u8; 1];
        stream.io.read_exact(&mut answer).await?;
        Ok(())
    }
}

/// Reads exactly `bytes` bytes of application data, then answers one byte.
async fn receive(stream: &mut TlsStream, bytes: u64) -> Result<(), TlsError> {
    let mut buf = vec![0u8; READ_BUFFER];
    let mut left = bytes;
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let n = stream.io.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(TlsError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        left -= n as u64;
    }
    stream.io.write_all(b"!").await?;
    stream.io.flush().await?;
    Ok(())
}

/// The table: one row per stack x suite, with its ratio to the fastest row and its CPU cost.
fn render(records: &[TransferRecord]) -> String {
    let best = records.iter().map(|r| r.mb_per_s).fold(0.0_f64, f64::max);
    let mut out = format!(
        "{:<8} {:<8} {:<23} {:>10} {:>6} {:>10}\n",
        "stack", "protocol", "suite", "MB/s", "ratio", "cpu ms/MB"
    );
    for r in records {
        let ratio = if best > 0.0 { r.mb_per_s / best } else { 0.0 };
        let cpu = r
            .cpu_ms_per_mb
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2}"));
        let _ = writeln!(
            out,
            "{:<8} {:<8} {:<23} {:>10.1} {:>6.2} {cpu:>10}",
            r.stack, r.protocol, r.suite, r.mb_per_s, ratio
        );
    }
    let (bytes, write_size) = records.first().map_or((0, 0), |r| (r.bytes, r.write_size));
    let _ = writeln!(
        out,
        "(ratio) = MB/s / fastest row; cpu ms/MB = CPU milliseconds per MB, both sides; {} MiB \
         one way in {write_size}-byte writes over loopback TCP, sealing and opening in this \
         process; best of the rounds; MB = 10^6 bytes",
        bytes as f64 / MIB as f64
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_what_was_sent() {
        let rec = |suite, mb_per_s| TransferRecord {
            stack: "rustls",
            protocol: "TLSv1.3",
            suite,
            bytes: 64 << 20,
            write_size: 16384,
            mb_per_s,
            cpu_ms_per_mb: Some(2.5),
        };
        let text = render(&[
            rec("TLS_AES_128_GCM_SHA256", 200.0),
            rec("TLS_SM4_GCM_SM3", 100.0),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains("200.0") && lines[1].contains("1.00") && lines[1].contains("2.50"),
            "{text}"
        );
        assert!(
            lines[2].contains("TLS_SM4_GCM_SM3") && lines[2].contains("0.50"),
            "{text}"
        );
        assert!(
            lines[3].contains("64 MiB") && lines[3].contains("16384-byte"),
            "{text}"
        );
    }
}
