//! Interop with independent TLS clients and servers: the system `openssl` CLI (s_client,
//! s_server) and `curl`, against every meshtls stack, in both directions, with mutual TLS.
//!
//! Children are spawned with kill-on-drop and bounded by timeouts; ports come from binding
//! 127.0.0.1:0 (s_server binds its own, announced by its `ACCEPT` line).

use std::io;
use std::path::PathBuf;

use meshtls_ca::{CertificateAuthority, IssuedSvid, KeyType};
use meshtls_tests::pki;
use meshtls_tests::process::{
    arg, free_port, spawn, wait_for_line, PemDir, SvidFiles, CHILD_TIMEOUT,
};
use meshtls_tests::stacks::{one_per_implementation, StackUnderTest};
use meshtls_tls_core::spiffe::{Authorizer, AuthzRule};
use meshtls_tls_core::stack::{ConnectOptions, PeerInfo, StackConfig, TlsVersion};
use meshtls_tls_core::{PeerError, TlsError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const SERVER_ID: &str = "spiffe://cli.test/server";
const CLIENT_ID: &str = "spiffe://cli.test/client";

/// A CA, a server SVID that also names `localhost` (for curl), a client SVID, and their files.
struct Fixture {
    ca: CertificateAuthority,
    server: IssuedSvid,
    client: IssuedSvid,
    ca_file: PathBuf,
    server_files: SvidFiles,
    client_files: SvidFiles,
    _dir: PemDir,
}

fn fixture() -> Fixture {
    let ca = pki::root_ca("cli.test", KeyType::EcdsaP256);
    let server = pki::svid_for_localhost(&ca, SERVER_ID, KeyType::EcdsaP256);
    let client = pki::svid(&ca, CLIENT_ID, KeyType::EcdsaP256);
    let dir = PemDir::new();
    Fixture {
        ca_file: dir.ca("ca", &ca),
        server_files: dir.svid("server", &server),
        client_files: dir.svid("client", &client),
        ca,
        server,
        client,
        _dir: dir,
    }
}

impl Fixture {
    fn server_config(&self, stack: &StackUnderTest, version: TlsVersion) -> StackConfig {
        stack.config(
            &self.server,
            pki::bundles(&[&self.ca]),
            Authorizer::new(vec![AuthzRule::Exact(pki::id(CLIENT_ID))]),
            pki::only(version),
        )
    }

    fn client_config(&self, stack: &StackUnderTest, version: TlsVersion) -> StackConfig {
        stack.config(
            &self.client,
            pki::bundles(&[&self.ca]),
            Authorizer::new(vec![AuthzRule::Exact(pki::id(SERVER_ID))]),
            pki::only(version),
        )
    }
}

fn version_flag(version: TlsVersion) -> &'static str {
    match version {
        TlsVersion::Tls12 => "-tls1_2",
        TlsVersion::Tls13 => "-tls1_3",
        TlsVersion::Tlcp => unreachable!("the openssl CLI does not speak TLCP"),
    }
}

/// Reads until `delimiter` (included) or end of stream.
async fn read_until<R: AsyncRead + Unpin>(io: &mut R, delimiter: &[u8]) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(delimiter) {
        if io.read(&mut byte).await? == 0 {
            break;
        }
        got.push(byte[0]);
    }
    Ok(got)
}

/// A meshtls server for one connection: handshake, then `serve` on the stream.
async fn one_shot_server<F, Fut>(
    stack: &StackUnderTest,
    config: &StackConfig,
    serve: F,
) -> (u16, JoinHandle<Result<PeerInfo, TlsError>>)
where
    F: FnOnce(meshtls_tls_core::stack::TlsStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<PeerInfo, TlsError>> + Send,
{
    let acceptor = stack.acceptor(config).expect("acceptor");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let task = tokio::spawn(async move {
        tokio::time::timeout(CHILD_TIMEOUT, async move {
            let (tcp, _) = listener.accept().await?;
            let tls = acceptor.accept(Box::new(tcp)).await?;
            serve(tls).await
        })
        .await
        .unwrap_or_else(|_| {
            Err(TlsError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "server timed out",
            )))
        })
    });
    (port, task)
}

/// Echoes one line back, prefixed with `echo: `.
async fn echo_line(mut tls: meshtls_tls_core::stack::TlsStream) -> Result<PeerInfo, TlsError> {
    let line = read_until(&mut tls.io, b"\n").await?;
    tls.io.write_all(b"echo: ").await?;
    tls.io.write_all(&line).await?;
    tls.io.flush().await?;
    tls.io.shutdown().await?;
    Ok(tls.peer)
}

/// Answers one HTTP/1.1 request with 200 and a body naming the authenticated client.
async fn http_hello(mut tls: meshtls_tls_core::stack::TlsStream) -> Result<PeerInfo, TlsError> {
    let request = read_until(&mut tls.io, b"\r\n\r\n").await?;
    if !request.starts_with(b"GET /hello HTTP/1.1\r\n") {
        let text = String::from_utf8_lossy(&request).into_owned();
        return Err(TlsError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            text,
        )));
    }
    let body = format!("hello {}\n", tls.peer.peer_id);
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.io.write_all(response.as_bytes()).await?;
    tls.io.flush().await?;
    tls.io.shutdown().await?;
    Ok(tls.peer)
}

async fn s_client_to_meshtls(stack: &StackUnderTest, fx: &Fixture, version: TlsVersion) {
    let (port, server) = one_shot_server(stack, &fx.server_config(stack, version), echo_line).await;
    let connect = format!("127.0.0.1:{port}");
    let mut child = spawn(
        "openssl",
        &[
            "s_client",
            "-connect",
            &connect,
            "-quiet",
            version_flag(version),
            "-cert",
            arg(&fx.client_files.cert),
            "-key",
            arg(&fx.client_files.key),
            "-CAfile",
            arg(&fx.ca_file),
            "-verify_return_error",
        ],
    );
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"hello from s_client\n")
        .await
        .expect("write to s_client");
    stdin.flush().await.expect("flush");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let seen = wait_for_line(&mut stdout, "echo: hello from s_client").await;
    drop(stdin);
    let peer = server.await.expect("server task");
    let status = tokio::time::timeout(CHILD_TIMEOUT, child.wait()).await;
    let label = format!("{} <- s_client {}", stack.name, version.name());
    let peer = peer.unwrap_or_else(|e| panic!("{label}: server failed: {e:?}"));
    assert_eq!(peer.peer_id, pki::id(CLIENT_ID), "{label}");
    assert!(seen.is_ok(), "{label}: no echo; s_client printed {seen:?}");
    assert!(
        matches!(status, Ok(Ok(s)) if s.success()),
        "{label}: s_client exit {status:?}"
    );
}

async fn meshtls_to_s_server(stack: &StackUnderTest, fx: &Fixture, version: TlsVersion) {
    let port = free_port();
    let accept = format!("127.0.0.1:{port}");
    let mut child = spawn(
        "openssl",
        &[
            "s_server",
            "-accept",
            &accept,
            "-naccept",
            "1",
            "-rev",
            version_flag(version),
            "-cert",
            arg(&fx.server_files.cert),
            "-key",
            arg(&fx.server_files.key),
            "-CAfile",
            arg(&fx.ca_file),
            "-Verify",
            "1",
            "-verify_return_error",
        ],
    );
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let label = format!("{} -> s_server {}", stack.name, version.name());
    if let Err(seen) = wait_for_line(&mut stdout, "ACCEPT").await {
        panic!("{label}: s_server never became ready: {seen:?}");
    }
    let connector = stack
        .connector(&fx.client_config(stack, version))
        .expect("connector");
    let exchange = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let options = ConnectOptions {
            expect_id: Some(pki::id(SERVER_ID)),
            server_name: None,
        };
        let mut tls = connector.connect(Box::new(tcp), options).await?;
        tls.io.write_all(b"hello meshtls\n").await?;
        tls.io.flush().await?;
        let reply = read_until(&mut tls.io, b"\n").await?;
        tls.io.write_all(b"CLOSE\n").await?;
        tls.io.flush().await?;
        Ok::<_, TlsError>((tls.peer, reply))
    };
    let (peer, reply) = tokio::time::timeout(CHILD_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("{label}: timed out"))
        .unwrap_or_else(|e| panic!("{label}: {e:?}"));
    assert_eq!(peer.peer_id, pki::id(SERVER_ID), "{label}");
    assert_eq!(peer.version, version.name(), "{label}");
    assert_eq!(reply, b"slthsem olleh\n", "{label}: s_server -rev reply");
    let status = tokio::time::timeout(CHILD_TIMEOUT, child.wait()).await;
    assert!(
        matches!(status, Ok(Ok(s)) if s.success()),
        "{label}: s_server exit {status:?}"
    );
}

async fn curl_to_meshtls(stack: &StackUnderTest, fx: &Fixture) {
    let config = fx.server_config(stack, TlsVersion::Tls13);
    let (port, server) = one_shot_server(stack, &config, http_hello).await;
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/hello");
    let child = spawn(
        "curl",
        &[
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "15",
            "--resolve",
            &resolve,
            "--cacert",
            arg(&fx.ca_file),
            "--cert",
            arg(&fx.client_files.cert),
            "--key",
            arg(&fx.client_files.key),
            &url,
        ],
    );
    let label = format!("curl -> {}", stack.name);
    let output = tokio::time::timeout(CHILD_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{label}: curl timed out"))
        .expect("curl output");
    let peer = server.await.expect("server task");
    assert!(
        output.status.success(),
        "{label}: curl failed: {}; server: {peer:?}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("hello {CLIENT_ID}\n"),
        "{label}"
    );
    assert_eq!(peer.expect("server").peer_id, pki::id(CLIENT_ID), "{label}");
}

async fn s_client_without_cert(stack: &StackUnderTest, fx: &Fixture, version: TlsVersion) {
    let (port, server) = one_shot_server(stack, &fx.server_config(stack, version), echo_line).await;
    let connect = format!("127.0.0.1:{port}");
    let mut child = spawn(
        "openssl",
        &[
            "s_client",
            "-connect",
            &connect,
            "-quiet",
            version_flag(version),
            "-CAfile",
            arg(&fx.ca_file),
            "-verify_return_error",
        ],
    );
    // Keep stdin open until the server has judged, so s_client does not hang up first.
    let stdin = child.stdin.take().expect("stdin");
    let verdict = server.await.expect("server task");
    drop(stdin);
    let label = format!("{} <- s_client without cert {}", stack.name, version.name());
    match verdict {
        Err(TlsError::Peer(PeerError::NoCertificate)) => {}
        other => panic!("{label}: want NoCertificate, got {other:?}"),
    }
    let _ = tokio::time::timeout(CHILD_TIMEOUT, child.wait()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_to_meshtls_server() {
    let fx = fixture();
    for stack in one_per_implementation() {
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            s_client_to_meshtls(&stack, &fx, version).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshtls_client_to_openssl_s_server() {
    let fx = fixture();
    for stack in one_per_implementation() {
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            meshtls_to_s_server(&stack, &fx, version).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_to_meshtls_server() {
    let fx = fixture();
    for stack in one_per_implementation() {
        curl_to_meshtls(&stack, &fx).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_without_certificate_is_rejected() {
    let fx = fixture();
    for stack in one_per_implementation() {
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            s_client_without_cert(&stack, &fx, version).await;
        }
    }
}
