//! `meshtls bench handshake`: mutual-TLS handshakes per second over loopback TCP, client and
//! server of the same stack in this process, with ECDSA P-256 SVIDs issued in-process.
//!
//! Only full handshakes are measured: every stack turns session resumption off (so that each
//! connection re-verifies its peer against the current bundles), and the stack API offers no
//! way to turn it on.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use meshtls_ca::{CertificateAuthority, KeyType, Validity};
use meshtls_tls_core::spiffe::{Authorizer, SpiffeId, TrustBundleSet, TrustDomain};
use meshtls_tls_core::stack::{
    ConnectOptions, StackConfig, TlsAcceptor, TlsConnector, TlsPolicy, TlsStack,
};
use meshtls_tls_core::{IdentityStore, Registry, TlsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::record::{write_json, HandshakeRecord};
use crate::backend_args::BackendArgs;
use crate::error::CliError;
use crate::stacks;

/// The in-process trust domain; nothing outside this process trusts it.
const TRUST_DOMAIN: &str = "bench.meshtls.test";
/// Handshakes run before measuring, to fill caches and start threads.
const WARMUP_HANDSHAKES: u32 = 5;
/// Lifetime of the in-process SVIDs.
const SVID_LIFETIME: Duration = Duration::from_secs(3600);

/// Options of `meshtls bench handshake`.
#[derive(Debug, Args)]
pub(crate) struct HandshakeArgs {
    /// Stacks to measure, comma-separated (default: rustls and every engine's native stack).
    #[arg(long, value_delimiter = ',', value_name = "STACK,...")]
    stacks: Vec<String>,
    /// Also write the records as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Measuring time per stack in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    duration_ms: u64,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Both sides' configurations, sharing one CA.
struct Pair {
    server: StackConfig,
    client: StackConfig,
    server_id: SpiffeId,
}

/// Runs the benchmark and prints the table.
pub(crate) fn run(registry: &Registry, args: &HandshakeArgs) -> Result<(), CliError> {
    let selected: Vec<&'static dyn TlsStack> = if args.stacks.is_empty() {
        stacks::all(registry)
    } else {
        args.stacks
            .iter()
            .map(|name| stacks::find(registry, name))
            .collect::<Result<_, _>>()?
    };
    let pair = issue_pair(args.backend.provider(registry)?)?;
    let duration = Duration::from_millis(args.duration_ms.max(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut records = Vec::new();
    for stack in selected {
        eprintln!("meshtls: measuring {} full handshakes...", stack.name());
        match runtime.block_on(measure(stack, &pair, duration)) {
            Ok(rate) => records.push(HandshakeRecord {
                stack: stack.name(),
                mode: "full",
                handshakes_per_s: rate,
            }),
            Err(e) => eprintln!("meshtls: {} skipped: {e}", stack.name()),
        }
    }
    eprintln!(
        "meshtls: resumed handshakes not measured: every stack disables session resumption \
         (each connection re-verifies its peer) and the stack API cannot turn it on"
    );
    print!("{}", render(&records));
    if let Some(path) = &args.json {
        write_json(path, &records)?;
    }
    if records.is_empty() {
        return Err(CliError::Usage("no stack completed a handshake".into()));
    }
    Ok(())
}

/// A P-256 CA and one server and one client SVID under it.
fn issue_pair(provider: Arc<rustls::crypto::CryptoProvider>) -> Result<Pair, CliError> {
    let ca_err = |e: meshtls_ca::CaError| CliError::Usage(format!("issuing bench SVIDs: {e}"));
    let td = TrustDomain::parse(TRUST_DOMAIN)
        .map_err(|e| CliError::Usage(format!("bench trust domain: {e}")))?;
    let validity = Validity::starting_now(SVID_LIFETIME);
    let ca = CertificateAuthority::new(td.clone(), KeyType::EcdsaP256, validity).map_err(ca_err)?;
    let config = |path: &str| -> Result<(StackConfig, SpiffeId), CliError> {
        let id = SpiffeId::new(td.clone(), path)
            .map_err(|e| CliError::Usage(format!("bench SPIFFE ID: {e}")))?;
        let svid = ca
            .issue_svid(&id, KeyType::EcdsaP256, validity)
            .map_err(ca_err)?
            .to_svid()?;
        let mut bundles = TrustBundleSet::new();
        bundles.add(td.clone(), vec![ca.ca_der().clone()]);
        let config = StackConfig {
            identity: IdentityStore::new(svid, bundles),
            authorizer: Authorizer::any_trusted(),
            policy: TlsPolicy::default(),
            provider: provider.clone(),
        };
        Ok((config, id))
    };
    let (server, server_id) = config("/bench/server")?;
    let (client, _) = config("/bench/client")?;
    Ok(Pair {
        server,
        client,
        server_id,
    })
}

/// Handshakes per second for `stack` against itself over loopback.
async fn measure(
    stack: &'static dyn TlsStack,
    pair: &Pair,
    duration: Duration,
) -> Result<f64, CliError> {
    let acceptor = stack.acceptor(&pair.server)?;
    let connector = stack.connector(&pair.client)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, acceptor));
    let options = ConnectOptions {
        expect_id: Some(pair.server_id.clone()),
        server_name: None,
    };
    let once = || one_handshake(addr, connector.as_ref(), options.clone());
    let result = async {
        for _ in 0..WARMUP_HANDSHAKES {
            once().await?;
        }
        let start = Instant::now();
        let mut count: u64 = 0;
        loop {
            once().await?;
            count += 1;
            let elapsed = start.elapsed();
            if elapsed >= duration {
                return Ok::<f64, CliError>(count as f64 / elapsed.as_secs_f64());
            }
        }
    }
    .await;
    server.abort();
    result
}

/// One connection: handshake, then a one-byte round trip so that both sides have finished
/// (the server has verified the client's certificate) before the next one starts.
async fn one_handshake(
    addr: std::net::SocketAddr,
    connector: &dyn TlsConnector,
    options: ConnectOptions,
) -> Result<(), CliError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut stream = connector.connect(Box::new(tcp), options).await?;
    stream.io.write_all(b"?").await?;
    let mut byte = [0u8; 1];
    stream.io.read_exact(&mut byte).await?;
    Ok(())
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

fn render(records: &[HandshakeRecord]) -> String {
    let best = records
        .iter()
        .map(|r| r.handshakes_per_s)
        .fold(0.0_f64, f64::max);
    let mut out = format!(
        "{:<8} {:<8} {:>14} {:>8}\n",
        "stack", "mode", "handshakes/s", "ratio"
    );
    for r in records {
        let ratio = if best > 0.0 {
            r.handshakes_per_s / best
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "{:<8} {:<8} {:>14.1} {:>8.2}",
            r.stack, r.mode, r.handshakes_per_s, ratio
        );
    }
    out
}
