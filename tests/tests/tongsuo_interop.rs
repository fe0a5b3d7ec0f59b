//! Interop with Tongsuo 8.5, a TLCP and RFC 8998 implementation no one here wrote, with
//! mutual authentication everywhere:
//!
//! - meshtls' `tlcp` stack as client of Tongsuo's `s_server -enable_ntls` and as server for
//!   `s_client -enable_ntls -ntls`, for each of the four TLCP suites;
//! - meshtls' rustls stack the same two ways with TLS_SM4_GCM_SM3 and TLS_SM4_CCM_SM3 over
//!   curveSM2 and sm2sig_sm3;
//! - a client certificate from an untrusted SM2 CA (same trust domain, other key) rejected
//!   in both directions, for TLCP and for RFC 8998;
//! - certificates made by the `meshtls cert` binary accepted by Tongsuo (`openssl verify`
//!   and every handshake above), and certificates made by Tongsuo's CLI accepted by meshtls
//!   (loading and handshakes).
//!
//! Each handshake exchanges a line both ways (Tongsuo's server answers reversed, ours with an
//! `echo: ` prefix) and checks the negotiated version and suite on both sides. Each test
//! prints a results table (combination -> ok / failed) and fails if any row failed.
//!
//! The Tongsuo CLI is built from source on first use (see `meshtls_tests::tongsuo::build`);
//! the `meshtls` binary must have been built (`cargo build -p meshtls-cli`, or the
//! workspace test run).

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;

use meshtls_engine_sm::tlcp::stack::TLCP_STACK;
use meshtls_tests::process::CHILD_TIMEOUT;
use meshtls_tests::tongsuo::child::{s_client, s_server, Finished, Stream};
use meshtls_tests::tongsuo::pki::{self as tongsuo_pki, CertFiles, LeafUsage, TongsuoCa};
use meshtls_tests::tongsuo::{self, negotiated_suite, negotiated_version};
use meshtls_tests::{pki, process, stacks};
use meshtls_tls_core::spiffe::{Authorizer, AuthzRule, Svid, TrustBundleSet};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::{
    ConnectOptions, PeerInfo, StackConfig, TlsPolicy, TlsStack, TlsStream, TlsVersion,
};
use meshtls_tls_core::{IdentityStore, PeerError, SvidSet, TlsError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

const TD: &str = "tongsuo.test";
const SERVER_ID: &str = "spiffe://tongsuo.test/server";
const CLIENT_ID: &str = "spiffe://tongsuo.test/client";

/// Filler bytes in each line sent (below `s_server -rev`'s 16 KiB line buffer).
const FILLER: usize = 4000;
/// Combinations in flight at once: each runs one Tongsuo process and one meshtls side.
const CONCURRENCY: usize = 4;

// === Setup ===

/// Runs `meshtls cert <args>`; panics with its output on failure (test setup).
fn meshtls_cert(args: &[&str]) {
    let output = Command::new(process::meshtls_binary())
        .arg("cert")
        .args(args)
        .output()
        .expect("run meshtls");
    assert!(
        output.status.success(),
        "meshtls cert {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn load_svid(files: &CertFiles) -> Svid {
    Svid::from_pem(&read(&files.cert), &read(&files.key))
        .unwrap_or_else(|e| panic!("load SVID {}: {e}", files.cert.display()))
}

fn load_encryption(files: &CertFiles) -> Svid {
    Svid::encryption_from_pem(&read(&files.cert), &read(&files.key))
        .unwrap_or_else(|e| panic!("load encryption cert {}: {e}", files.cert.display()))
}

/// One workload's files: an SM2 X.509-SVID for RFC 8998 and a TLCP sign/enc pair.
#[derive(Clone, Debug)]
struct Party {
    svid: CertFiles,
    sign: CertFiles,
    enc: CertFiles,
}

/// A CA's files and the two workloads it issued to.
#[derive(Debug)]
struct Pki {
    ca: PathBuf,
    server: Party,
    client: Party,
    _dir: tempfile::TempDir,
}

impl Pki {
    fn bundles(&self) -> TrustBundleSet {
        TrustBundleSet::from_pem_for(pki::td(TD), &read(&self.ca)).expect("load CA bundle")
    }
}

/// A CA and workloads made by `meshtls cert`, plus a client from a second, untrusted SM2 CA
/// of the same trust domain.
fn meshtls_pki() -> (Pki, Party) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name);
    let ca_dir = |name: &str| {
        let out = path(name);
        meshtls_cert(&[
            "ca",
            "--trust-domain",
            TD,
            "--key-type",
            "sm2",
            "--validity",
            "1d",
            "--out",
            process::arg(&out),
        ]);
        out
    };
    let trusted = ca_dir("ca");
    let untrusted = ca_dir("rogue-ca");
    let party = |ca: &Path, name: &str, id: &str| {
        let ca_cert = ca.join("ca.pem");
        let ca_key = ca.join("ca.key.pem");
        let leaf = |kind: &str, extra: &[&str]| {
            let out = path(&format!("{name}-{kind}"));
            let mut args = vec![
                kind,
                "--ca-cert",
                process::arg(&ca_cert),
                "--ca-key",
                process::arg(&ca_key),
                "--id",
                id,
                "--validity",
                "1d",
                "--out",
                process::arg(&out),
            ];
            args.extend_from_slice(extra);
            meshtls_cert(&args);
            out
        };
        let svid = leaf("svid", &["--key-type", "sm2"]);
        let tlcp = leaf("tlcp", &[]);
        let files = |dir: &Path, name: &str| CertFiles {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key.pem")),
        };
        Party {
            svid: files(&svid, "svid"),
            sign: files(&tlcp, "sign"),
            enc: files(&tlcp, "enc"),
        }
    };
    let server = party(&trusted, "server", SERVER_ID);
    let client = party(&trusted, "client", CLIENT_ID);
    let rogue = party(&untrusted, "rogue-client", CLIENT_ID);
    let pki = Pki {
        ca: trusted.join("ca.pem"),
        server,
        client,
        _dir: dir,
    };
    (pki, rogue)
}

/// A CA and workloads made by Tongsuo's CLI; the SVID doubles as the TLCP signing cert.
fn tongsuo_pki() -> Pki {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = TongsuoCa::new(dir.path(), "ca", TD);
    let party = |name: &str, id: &str| {
        let sign = ca.issue(&format!("{name}-sign"), id, LeafUsage::Signing);
        Party {
            svid: sign.clone(),
            sign,
            enc: ca.issue(&format!("{name}-enc"), id, LeafUsage::Encryption),
        }
    };
    Pki {
        ca: ca.files().cert.clone(),
        server: party("server", SERVER_ID),
        client: party("client", CLIENT_ID),
        _dir: dir,
    }
}

// === Protocols ===

/// What a combination speaks.
#[derive(Clone, Copy, Debug)]
enum Proto {
    /// TLCP with one suite: meshtls' name and Tongsuo's.
    Tlcp(&'static str, &'static str),
    /// TLS 1.3 with one RFC 8998 suite, curveSM2 and sm2sig_sm3.
    Tls13(&'static str),
}

impl Proto {
    fn all() -> Vec<Proto> {
        let tlcp = tongsuo::TLCP_SUITES.map(|(ours, theirs)| Proto::Tlcp(ours, theirs));
        let tls13 = tongsuo::TLS13_SUITES.map(Proto::Tls13);
        tlcp.into_iter().chain(tls13).collect()
    }

    fn label(self) -> String {
        match self {
            Proto::Tlcp(suite, _) => format!("TLCP {suite}"),
            Proto::Tls13(suite) => format!("TLSv1.3 {suite}"),
        }
    }

    fn stack(self) -> &'static dyn TlsStack {
        match self {
            Proto::Tlcp(..) => &TLCP_STACK,
            Proto::Tls13(_) => &RUSTLS_STACK,
        }
    }

    fn policy(self) -> TlsPolicy {
        match self {
            Proto::Tlcp(suite, _) => TlsPolicy {
                versions: vec![TlsVersion::Tlcp],
                suites: Some(vec![suite.to_owned()]),
                ..TlsPolicy::default()
            },
            Proto::Tls13(suite) => TlsPolicy {
                versions: vec![TlsVersion::Tls13],
                suites: Some(vec![suite.to_owned()]),
                groups: Some(vec!["curveSM2".to_owned()]),
                ..TlsPolicy::default()
            },
        }
    }

    /// Our credentials for this protocol: the sign/enc pair for TLCP, the SVID for TLS 1.3.
    fn credentials(self, party: &Party) -> SvidSet {
        match self {
            Proto::Tlcp(..) => SvidSet {
                svid: load_svid(&party.sign),
                alternates: Vec::new(),
                encryption: Some(load_encryption(&party.enc)),
            },
            Proto::Tls13(_) => SvidSet::single(load_svid(&party.svid)),
        }
    }

    fn config(self, party: &Party, bundles: TrustBundleSet, peer: &str) -> StackConfig {
        StackConfig {
            identity: IdentityStore::with_set(self.credentials(party), bundles),
            authorizer: Authorizer::new(vec![AuthzRule::Exact(pki::id(peer))]),
            policy: self.policy(),
            provider: stacks::sm_provider(),
        }
    }

    /// What meshtls should report: version, suite, group.
    fn ours(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Proto::Tlcp(suite, _) => {
                let group = suite.starts_with("ECDHE").then_some("curveSM2");
                ("TLCP", suite, group)
            }
            Proto::Tls13(suite) => ("TLSv1.3", suite, Some("curveSM2")),
        }
    }

    /// What Tongsuo should report: version, suite.
    fn theirs(self) -> (&'static str, &'static str) {
        match self {
            Proto::Tlcp(_, suite) => (tongsuo::TONGSUO_TLCP_VERSION, suite),
            Proto::Tls13(suite) => ("TLSv1.3", suite),
        }
    }

    /// Tongsuo's options presenting `party` and trusting `ca`, for `s_server` or `s_client`.
    fn tongsuo_args(self, party: &Party, ca: &Path, server: bool) -> Vec<String> {
        let mut args: Vec<&str> = Vec::new();
        match self {
            Proto::Tlcp(_, suite) => {
                args.push("-enable_ntls");
                if !server {
                    args.push("-ntls");
                }
                args.extend([
                    "-cipher",
                    suite,
                    "-sign_cert",
                    process::arg(&party.sign.cert),
                    "-sign_key",
                    process::arg(&party.sign.key),
                    "-enc_cert",
                    process::arg(&party.enc.cert),
                    "-enc_key",
                    process::arg(&party.enc.key),
                ]);
            }
            Proto::Tls13(suite) => args.extend([
                "-tls1_3",
                "-ciphersuites",
                suite,
                "-groups",
                "curveSM2",
                "-sigalgs",
                "sm2sig_sm3",
                "-cert",
                process::arg(&party.svid.cert),
                "-key",
                process::arg(&party.svid.key),
            ]),
        }
        args.extend(["-CAfile", process::arg(ca), "-verify_return_error"]);
        if server {
            // Require a client certificate; answer each line reversed.
            args.extend(["-Verify", "1", "-rev"]);
        } else {
            // Print the session summary, and never read our lines as commands.
            args.push("-nocommands");
        }
        args.into_iter().map(str::to_owned).collect()
    }
}

// === One handshake with Tongsuo ===

/// What both sides of one connection saw.
struct Run {
    /// meshtls' view: the authenticated peer, or why it failed.
    ours: Result<PeerInfo, TlsError>,
    /// What Tongsuo printed and how it exited.
    theirs: Finished,
}

fn io_error(what: String) -> TlsError {
    TlsError::Io(io::Error::new(io::ErrorKind::InvalidData, what))
}

/// The line `sender` sends over `proto`: a greeting, then enough filler that the record
/// spans many cipher blocks.
fn message(sender: &str, proto: Proto) -> String {
    let filler: String = (0..FILLER)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    format!("hello from {sender} over {} {filler}", proto.label())
}

/// Reads until `\n` (included) or end of stream.
async fn read_line<R: AsyncRead + Unpin>(io: &mut R) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\n") {
        if io.read(&mut byte).await? == 0 {
            break;
        }
        got.push(byte[0]);
    }
    Ok(got)
}

/// meshtls connects, presenting `client`, to Tongsuo's `s_server -rev` presenting
/// `pki.server`: sends a line, expects it reversed, then `CLOSE`.
async fn meshtls_to_tongsuo(pki: &Pki, client: &Party, proto: Proto, label: &str) -> Run {
    let args = proto.tongsuo_args(&pki.server, &pki.ca, true);
    let (server, port) = s_server(label, &args).await;
    let config = proto.config(client, pki.bundles(), SERVER_ID);
    let message = message("meshtls", proto);
    let exchange = async {
        let connector = proto.stack().connector(&config)?;
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let options = ConnectOptions {
            expect_id: Some(pki::id(SERVER_ID)),
            server_name: None,
        };
        let mut tls = connector.connect(Box::new(tcp), options).await?;
        tls.io.write_all(format!("{message}\n").as_bytes()).await?;
        tls.io.flush().await?;
        let reply = read_line(&mut tls.io).await?;
        let want: String = message.chars().rev().chain(['\n']).collect();
        if reply != want.as_bytes() {
            let got = String::from_utf8_lossy(&reply).into_owned();
            return Err(io_error(format!("s_server replied {got:?}, want {want:?}")));
        }
        tls.io.write_all(b"CLOSE\n").await?;
        tls.io.flush().await?;
        Ok(tls.peer)
    };
    let ours = tokio::time::timeout(CHILD_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(io_error("timed out".to_owned())));
    Run {
        ours,
        theirs: server.finish().await,
    }
}

/// Tongsuo's `s_client` presenting `client` connects to a meshtls server presenting
/// `pki.server`, which answers one line with `echo: <line>` and closes.
async fn tongsuo_to_meshtls(pki: &Pki, client: &Party, proto: Proto, label: &str) -> Run {
    let config = proto.config(&pki.server, pki.bundles(), CLIENT_ID);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local address").port();
    let server = tokio::spawn(async move {
        let serve = async {
            let acceptor = proto.stack().acceptor(&config)?;
            let (tcp, _) = listener.accept().await?;
            let tls: TlsStream = acceptor.accept(Box::new(tcp)).await?;
            let mut io = tls.io;
            let line = read_line(&mut io).await?;
            io.write_all(b"echo: ").await?;
            io.write_all(&line).await?;
            io.flush().await?;
            io.shutdown().await?;
            Ok(tls.peer)
        };
        tokio::time::timeout(CHILD_TIMEOUT, serve)
            .await
            .unwrap_or_else(|_| Err(io_error("timed out".to_owned())))
    });
    let mut client = s_client(label, port, &proto.tongsuo_args(client, &pki.ca, false));
    let message = message("Tongsuo", proto);
    // On a rejected handshake s_client may be gone already: its output tells.
    if client.send(format!("{message}\n").as_bytes()).await.is_ok() {
        let _ = client
            .wait_for(Stream::Stdout, &format!("echo: {message}"))
            .await;
    }
    let ours = server
        .await
        .unwrap_or_else(|e| Err(TlsError::Io(io::Error::other(e))));
    client.close_stdin();
    Run {
        ours,
        theirs: client.finish().await,
    }
}

// === Verdicts ===

/// Both sides completed, exchanged data, and agree on version and suite.
fn accepted(run: &Run, proto: Proto, peer_id: &str, echo: Option<&str>) -> Result<String, String> {
    let peer = run.ours.as_ref().map_err(|e| {
        format!(
            "meshtls failed: {e}; Tongsuo printed:\n{}",
            run.theirs.output()
        )
    })?;
    let output = run.theirs.output();
    let fail = |why: String| Err(format!("{why}; Tongsuo printed:\n{output}"));
    let (version, suite, group) = proto.ours();
    if peer.peer_id != pki::id(peer_id) {
        return fail(format!("meshtls saw peer {}", peer.peer_id));
    }
    if (
        peer.version.as_str(),
        peer.suite.as_str(),
        peer.group.as_deref(),
    ) != (version, suite, group)
    {
        return fail(format!(
            "meshtls negotiated {} {} {:?}, want {version} {suite} {group:?}",
            peer.version, peer.suite, peer.group
        ));
    }
    let (their_version, their_suite) = proto.theirs();
    let seen = (negotiated_version(&output), negotiated_suite(&output));
    if seen != (Some(their_version), Some(their_suite)) {
        return fail(format!(
            "Tongsuo negotiated {seen:?}, want {their_version} {their_suite}"
        ));
    }
    if !output.contains("Verification: OK") {
        return fail("Tongsuo did not verify our certificate".to_owned());
    }
    // s_server: `Signature type: sm2sig_sm3` (ours); s_client: `Peer signature type: ..`.
    if !output.contains("ignature type: sm2sig_sm3") {
        return fail("Tongsuo saw no sm2sig_sm3 signature from us".to_owned());
    }
    if let Some(echo) = echo {
        if !run.theirs.stdout.contains(echo) {
            return fail(format!("s_client never got {echo:?}"));
        }
    }
    if !run.theirs.success() {
        return fail(format!("Tongsuo exited with {:?}", run.theirs.status));
    }
    Ok(format!(
        "meshtls {version} {suite}, Tongsuo {their_version} {their_suite}"
    ))
}

/// meshtls' server refused the client chain as untrusted, and Tongsuo got an alert.
fn rejected_by_meshtls(run: &Run) -> Result<String, String> {
    let output = run.theirs.output();
    match &run.ours {
        Err(TlsError::Peer(PeerError::UntrustedChain(_))) => {}
        other => {
            return Err(format!(
                "meshtls server: want an untrusted-chain rejection, got {other:?}; \
                 Tongsuo printed:\n{output}"
            ))
        }
    }
    if !output.to_ascii_lowercase().contains("alert") {
        return Err(format!("s_client saw no alert; it printed:\n{output}"));
    }
    Ok("meshtls: untrusted chain; Tongsuo got an alert".to_owned())
}

/// Tongsuo's server refused the client chain, and meshtls' connection failed.
fn rejected_by_tongsuo(run: &Run) -> Result<String, String> {
    let output = run.theirs.output();
    if !output.contains("verify error") || output.contains("CONNECTION ESTABLISHED") {
        return Err(format!("s_server did not reject us; it printed:\n{output}"));
    }
    match &run.ours {
        Err(e) => Ok(format!("Tongsuo: verify error; meshtls: {e}")),
        Ok(peer) => Err(format!(
            "meshtls exchanged data with a server that rejected it: {peer:?}"
        )),
    }
}

// === The table ===

type Outcome = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

/// One row of a results table.
struct Case {
    name: String,
    run: Outcome,
}

/// Runs `cases` [`CONCURRENCY`] at a time, prints the table, fails if any row failed.
async fn run_table(title: &str, cases: Vec<Case>) {
    // Build Tongsuo (or wait for its build) before any timer starts.
    tokio::task::spawn_blocking(tongsuo::cli)
        .await
        .expect("Tongsuo build");
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|case| {
            let permits = permits.clone();
            let task = tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("semaphore");
                case.run.await
            });
            (case.name, task)
        })
        .collect();
    let mut rows = Vec::new();
    for (name, task) in tasks {
        let result = task.await.unwrap_or_else(|e| Err(format!("panicked: {e}")));
        rows.push((name, result));
    }
    println!("\n{title}\n| combination | result | detail |\n|---|---|---|");
    for (name, result) in &rows {
        match result {
            Ok(detail) => println!("| {name} | ok | {detail} |"),
            Err(why) => println!(
                "| {name} | FAILED | {} |",
                why.lines().next().unwrap_or_default()
            ),
        }
    }
    let failures: Vec<String> = rows
        .into_iter()
        .filter_map(|(name, result)| result.err().map(|why| format!("{name}: {why}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of the combinations failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn client_to_tongsuo(pki: &Arc<Pki>, proto: Proto) -> Case {
    let name = format!("{}: meshtls client -> Tongsuo s_server", proto.label());
    let (pki, label) = (pki.clone(), name.clone());
    let run = Box::pin(async move {
        let run = meshtls_to_tongsuo(&pki, &pki.client, proto, &label).await;
        accepted(&run, proto, SERVER_ID, None)
    });
    Case { name, run }
}

fn tongsuo_to_server(pki: &Arc<Pki>, proto: Proto) -> Case {
    let name = format!("{}: Tongsuo s_client -> meshtls server", proto.label());
    let (pki, label) = (pki.clone(), name.clone());
    let run = Box::pin(async move {
        let run = tongsuo_to_meshtls(&pki, &pki.client, proto, &label).await;
        let echo = format!("echo: {}", message("Tongsuo", proto));
        accepted(&run, proto, CLIENT_ID, Some(&echo))
    });
    Case { name, run }
}

fn untrusted_to_tongsuo(pki: &Arc<Pki>, rogue: &Arc<Party>, proto: Proto) -> Case {
    let name = format!(
        "{}: meshtls client with an untrusted CA's cert -> Tongsuo s_server",
        proto.label()
    );
    let (pki, rogue, label) = (pki.clone(), rogue.clone(), name.clone());
    let run = Box::pin(async move {
        rejected_by_tongsuo(&meshtls_to_tongsuo(&pki, &rogue, proto, &label).await)
    });
    Case { name, run }
}

fn untrusted_from_tongsuo(pki: &Arc<Pki>, rogue: &Arc<Party>, proto: Proto) -> Case {
    let name = format!(
        "{}: Tongsuo s_client with an untrusted CA's cert -> meshtls server",
        proto.label()
    );
    let (pki, rogue, label) = (pki.clone(), rogue.clone(), name.clone());
    let run = Box::pin(async move {
        rejected_by_meshtls(&tongsuo_to_meshtls(&pki, &rogue, proto, &label).await)
    });
    Case { name, run }
}

// === Tests ===

/// The 12 handshakes and the 4 rejections, with certificates from `meshtls cert`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tongsuo_interop_matrix() {
    let (pki, rogue) = meshtls_pki();
    let (pki, rogue) = (Arc::new(pki), Arc::new(rogue));
    let mut cases = Vec::new();
    for proto in Proto::all() {
        cases.push(client_to_tongsuo(&pki, proto));
        cases.push(tongsuo_to_server(&pki, proto));
    }
    for proto in [
        Proto::Tlcp("ECDHE_SM4_GCM_SM3", "ECDHE-SM2-SM4-GCM-SM3"),
        Proto::Tls13("TLS_SM4_GCM_SM3"),
    ] {
        cases.push(untrusted_to_tongsuo(&pki, &rogue, proto));
        cases.push(untrusted_from_tongsuo(&pki, &rogue, proto));
    }
    run_table(
        "Tongsuo 8.5 interop (mutual auth, certificates from `meshtls cert`)",
        cases,
    )
    .await;
}

/// Tongsuo's `openssl verify -x509_strict` accepts every certificate `meshtls cert` made,
/// for TLS servers and clients, and refuses those of the untrusted CA.
#[test]
fn tongsuo_verifies_meshtls_cert_files() {
    let (pki, rogue) = meshtls_pki();
    for party in [&pki.server, &pki.client] {
        for files in [&party.svid, &party.sign, &party.enc] {
            for purpose in ["sslserver", "sslclient"] {
                if let Err(output) = tongsuo_pki::verify(&pki.ca, &files.cert, purpose) {
                    panic!(
                        "Tongsuo rejects {} for {purpose}:\n{output}",
                        files.cert.display()
                    );
                }
            }
        }
    }
    for files in [&rogue.svid, &rogue.sign, &rogue.enc] {
        if let Ok(output) = tongsuo_pki::verify(&pki.ca, &files.cert, "sslclient") {
            panic!(
                "Tongsuo accepts {} from an untrusted CA:\n{output}",
                files.cert.display()
            );
        }
    }
}

/// meshtls loads certificates made by Tongsuo's CLI with the right rules, and handshakes
/// with them both ways in TLCP and RFC 8998.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshtls_accepts_tongsuo_made_certificates() {
    let pki = tokio::task::spawn_blocking(tongsuo_pki)
        .await
        .expect("Tongsuo PKI");
    for (party, id) in [(&pki.server, SERVER_ID), (&pki.client, CLIENT_ID)] {
        assert_eq!(load_svid(&party.sign).id(), &pki::id(id));
        assert_eq!(load_encryption(&party.enc).id(), &pki::id(id));
        // Each certificate is refused in the other's role: its key usage says what it is for.
        assert!(Svid::from_pem(&read(&party.enc.cert), &read(&party.enc.key)).is_err());
        assert!(
            Svid::encryption_from_pem(&read(&party.sign.cert), &read(&party.sign.key)).is_err()
        );
    }
    let pki = Arc::new(pki);
    let mut cases = Vec::new();
    for proto in [
        Proto::Tlcp("ECDHE_SM4_GCM_SM3", "ECDHE-SM2-SM4-GCM-SM3"),
        Proto::Tlcp("ECC_SM4_CBC_SM3", "ECC-SM2-SM4-CBC-SM3"),
        Proto::Tls13("TLS_SM4_GCM_SM3"),
    ] {
        cases.push(client_to_tongsuo(&pki, proto));
        cases.push(tongsuo_to_server(&pki, proto));
    }
    run_table(
        "Tongsuo 8.5 interop (mutual auth, certificates from Tongsuo's CLI)",
        cases,
    )
    .await;
}

/// Tongsuo's client resumes TLCP sessions by session ID with a meshtls server that has
/// resumption on (`s_client -reconnect`: one full handshake, then five more offering the same
/// session), and gets a new session every time when it is off (the default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tongsuo_client_resumes_tlcp_sessions_by_id() {
    let (pki, _) = meshtls_pki();
    let proto = Proto::Tlcp("ECDHE_SM4_GCM_SM3", "ECDHE-SM2-SM4-GCM-SM3");
    for resumption in [true, false] {
        let mut config = proto.config(&pki.server, pki.bundles(), CLIENT_ID);
        config.policy.resumption = resumption;
        let acceptor = proto.stack().acceptor(&config).expect("acceptor");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local address").port();
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(Box::new(tcp)).await {
                        let mut rest = Vec::new();
                        let _ = tls.io.read_to_end(&mut rest).await;
                    }
                });
            }
        });
        let mut args = proto.tongsuo_args(&pki.client, &pki.ca, false);
        args.push("-reconnect".to_owned());
        let mut client = s_client("reconnect", port, &args);
        client.close_stdin();
        let printed = client.finish().await.stdout;
        server.abort();
        let count = |prefix: &str| printed.lines().filter(|l| l.starts_with(prefix)).count();
        let (new, reused) = (count("New, "), count("Reused, "));
        let expected = if resumption { (1, 5) } else { (6, 0) };
        assert_eq!(
            (new, reused),
            expected,
            "resumption {resumption}:\n{printed}"
        );
    }
}
