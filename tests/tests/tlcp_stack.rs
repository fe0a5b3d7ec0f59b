//! The `tlcp` stack end to end over 127.0.0.1 TCP, through tls-core's acceptor/connector API:
//! every suite with mutual authentication, the SPIFFE checks (authorization, untrusted CAs,
//! the encryption certificate), missing credentials, close_notify versus truncation, a
//! tampered record (typed error and alert on both sides), rotation under a live connection,
//! the one-port TLCP + TLS 1.3 listener, and the `meshtls tls serve/connect --stack tlcp`
//! binary (one port included).
//!
//! Certificates come from `meshtls-ca` (SM2 CAs and TLCP sign/enc pairs); chains are verified
//! with the SM engine's SM2 through the composed provider, as in production.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meshtls_ca::{
    CertificateAuthority, IssuedSvid, IssuedTlcpPair, KeyType, LeafOptions, Validity,
};
use meshtls_engine_sm::tlcp::alert::AlertDescription;
use meshtls_engine_sm::tlcp::error::TlcpError;
use meshtls_engine_sm::tlcp::stack::TLCP_STACK;
use meshtls_engine_sm::tlcp::stream::tlcp_error;
use meshtls_tests::pair::{run_pair, Outcome};
use meshtls_tests::process::{self, PemDir};
use meshtls_tests::{pki, stacks};
use meshtls_tls_core::spiffe::{Authorizer, AuthzRule, SpiffeId, Svid, TrustBundleSet};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::sniff::SniffingAcceptor;
use meshtls_tls_core::stack::{
    ConnectOptions, PeerInfo, StackConfig, TlsAcceptor, TlsConnector, TlsPolicy, TlsStack,
    TlsStream, TlsVersion,
};
use meshtls_tls_core::{ConfigError, IdentityStore, PeerError, SvidSet, TlsError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const TD: &str = "tlcp.test";
const SERVER_ID: &str = "spiffe://tlcp.test/server";
const CLIENT_ID: &str = "spiffe://tlcp.test/client";
const SUITES: [&str; 4] = [
    "ECC_SM4_CBC_SM3",
    "ECC_SM4_GCM_SM3",
    "ECDHE_SM4_CBC_SM3",
    "ECDHE_SM4_GCM_SM3",
];
const TIMEOUT: Duration = Duration::from_secs(30);

// === Setup ===

fn leaf_options(key_type: KeyType) -> LeafOptions {
    LeafOptions::new(key_type, Validity::starting_now(pki::LIFETIME))
}

/// A TLCP sign/enc pair for `id`, issued by `ca`.
fn tlcp_pair(ca: &CertificateAuthority, id: &str) -> IssuedTlcpPair {
    ca.issue_tlcp_pair(&pki::id(id), &leaf_options(KeyType::Sm2))
        .expect("issue TLCP pair")
}

fn enc_svid(enc: &IssuedSvid) -> Svid {
    Svid::encryption_from_pem(enc.chain_pem.as_bytes(), enc.key_pem.as_bytes())
        .expect("load encryption certificate")
}

/// The pair as credentials: signing SVID plus encryption pair.
fn tlcp_set(pair: &IssuedTlcpPair) -> SvidSet {
    SvidSet {
        svid: pair.sign.to_svid().expect("load signing SVID"),
        alternates: Vec::new(),
        encryption: Some(enc_svid(&pair.enc)),
    }
}

fn config(
    set: SvidSet,
    bundles: TrustBundleSet,
    authorizer: Authorizer,
    policy: TlsPolicy,
) -> StackConfig {
    StackConfig {
        identity: IdentityStore::with_set(set, bundles),
        authorizer,
        policy,
        provider: stacks::sm_provider(),
    }
}

fn tlcp_policy(suites: Option<&[&str]>) -> TlsPolicy {
    TlsPolicy {
        versions: vec![TlsVersion::Tlcp],
        suites: suites.map(|s| s.iter().map(|n| (*n).to_owned()).collect()),
        ..TlsPolicy::default()
    }
}

fn expect(id: &str) -> ConnectOptions {
    ConnectOptions {
        expect_id: Some(pki::id(id)),
        server_name: None,
    }
}

/// One TLCP pair run: `server` and `client` credentials with the given trust and rules.
async fn tlcp_run(
    server: (SvidSet, TrustBundleSet, Authorizer),
    client: (SvidSet, TrustBundleSet),
    suites: Option<&[&str]>,
    options: ConnectOptions,
) -> Outcome {
    let acceptor = TLCP_STACK
        .acceptor(&config(server.0, server.1, server.2, tlcp_policy(suites)))
        .expect("acceptor");
    let connector = TLCP_STACK
        .connector(&config(
            client.0,
            client.1,
            Authorizer::any_trusted(),
            tlcp_policy(suites),
        ))
        .expect("connector");
    run_pair(acceptor, connector, options).await
}

/// A CA with a server and a client pair.
struct Pki {
    ca: CertificateAuthority,
    server: IssuedTlcpPair,
    client: IssuedTlcpPair,
}

impl Pki {
    fn new() -> Pki {
        let ca = pki::root_ca(TD, KeyType::Sm2);
        let server = tlcp_pair(&ca, SERVER_ID);
        let client = tlcp_pair(&ca, CLIENT_ID);
        Pki { ca, server, client }
    }

    fn bundles(&self) -> TrustBundleSet {
        pki::bundles(&[&self.ca])
    }

    fn server(&self) -> (SvidSet, TrustBundleSet, Authorizer) {
        (
            tlcp_set(&self.server),
            self.bundles(),
            Authorizer::any_trusted(),
        )
    }

    fn client(&self) -> (SvidSet, TrustBundleSet) {
        (tlcp_set(&self.client), self.bundles())
    }
}

fn alert(result: &Result<PeerInfo, TlsError>) -> &str {
    match result {
        Err(TlsError::AlertReceived(name)) => name,
        other => panic!("expected an alert, got {other:?}"),
    }
}

fn peer_error(result: &Result<PeerInfo, TlsError>) -> &PeerError {
    match result {
        Err(TlsError::Peer(reason)) => reason,
        other => panic!("expected a peer rejection, got {other:?}"),
    }
}

// === Handshakes ===

#[tokio::test]
async fn every_suite_with_mutual_auth() {
    let pki = Pki::new();
    for suite in SUITES {
        let out = tlcp_run(
            pki.server(),
            pki.client(),
            Some(&[suite]),
            expect(SERVER_ID),
        )
        .await;
        let server = out
            .server
            .unwrap_or_else(|e| panic!("{suite}: server: {e}"));
        let client = out
            .client
            .unwrap_or_else(|e| panic!("{suite}: client: {e}"));
        let group = suite.starts_with("ECDHE").then(|| "curveSM2".to_owned());
        for (side, info, peer) in [
            ("server", &server, CLIENT_ID),
            ("client", &client, SERVER_ID),
        ] {
            assert_eq!(info.stack, "tlcp", "{suite} {side}");
            assert_eq!(info.version, "TLCP", "{suite} {side}");
            assert_eq!(info.suite, suite, "{side}");
            assert_eq!(info.group, group, "{suite} {side}");
            assert_eq!(info.peer_id, pki::id(peer), "{suite} {side}");
        }
        assert_eq!(client.peer_chain[0], pki.server.sign.chain_der[0]);
        assert_eq!(server.peer_chain[0], pki.client.sign.chain_der[0]);
    }
}

#[tokio::test]
async fn default_suites_prefer_ecdhe_gcm() {
    let pki = Pki::new();
    let out = tlcp_run(pki.server(), pki.client(), None, expect(SERVER_ID)).await;
    assert_eq!(out.client.expect("client").suite, "ECDHE_SM4_GCM_SM3");
    assert_eq!(out.server.expect("server").suite, "ECDHE_SM4_GCM_SM3");
}

#[tokio::test]
async fn no_common_suite_fails_with_handshake_failure() {
    let pki = Pki::new();
    let acceptor = TLCP_STACK
        .acceptor(&config(
            tlcp_set(&pki.server),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(Some(&["ECC_SM4_GCM_SM3"])),
        ))
        .expect("acceptor");
    let connector = TLCP_STACK
        .connector(&config(
            tlcp_set(&pki.client),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(Some(&["ECDHE_SM4_CBC_SM3"])),
        ))
        .expect("connector");
    let out = run_pair(acceptor, connector, expect(SERVER_ID)).await;
    assert!(
        matches!(out.server, Err(TlsError::Stack(_))),
        "{:?}",
        out.server
    );
    assert_eq!(alert(&out.client), "handshake_failure");
}

#[tokio::test]
async fn one_acceptor_and_connector_serve_many_connections() {
    // Resumption is off in the stack, so each one is a full handshake naming the same peers.
    let pki = Pki::new();
    let acceptor = TLCP_STACK
        .acceptor(&config(
            tlcp_set(&pki.server),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("acceptor");
    let connector = TLCP_STACK
        .connector(&config(
            tlcp_set(&pki.client),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("connector");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let out = run_pair(acceptor.clone(), connector.clone(), expect(SERVER_ID)).await;
        let (server, client) = (out.server.expect("server"), out.client.expect("client"));
        assert_eq!(server.peer_id, pki::id(CLIENT_ID));
        assert_eq!(client.peer_id, pki::id(SERVER_ID));
        assert_eq!(client.peer_chain[0], pki.server.sign.chain_der[0]);
        seen.push((server.suite, client.suite));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
}

#[tokio::test]
async fn close_notify_ends_cleanly_and_truncation_is_an_error() {
    let pki = Pki::new();
    let acceptor = TLCP_STACK
        .acceptor(&config(
            tlcp_set(&pki.server),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("acceptor");
    let connector = TLCP_STACK
        .connector(&config(
            tlcp_set(&pki.client),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("connector");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        // First connection: read to the client's close_notify, then close ours.
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = acceptor.accept(Box::new(tcp)).await.expect("handshake");
        let mut got = Vec::new();
        tls.io
            .read_to_end(&mut got)
            .await
            .expect("clean EOF after close_notify");
        tls.io.shutdown().await.expect("shutdown");
        // Second connection: send a little, then drop the socket without close_notify.
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = acceptor.accept(Box::new(tcp)).await.expect("handshake");
        tls.io.write_all(b"partial").await.expect("write");
        tls.io.flush().await.expect("flush");
        drop(tls);
        got
    });

    let mut tls = connect(&connector, addr).await;
    tls.io.write_all(b"bye").await.expect("write");
    tls.io.shutdown().await.expect("close_notify");
    let mut rest = Vec::new();
    tls.io
        .read_to_end(&mut rest)
        .await
        .expect("server's close_notify");
    assert!(rest.is_empty());

    let mut tls = connect(&connector, addr).await;
    let mut got = Vec::new();
    let err = tls.io.read_to_end(&mut got).await.expect_err("truncation");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(got, b"partial");
    assert_eq!(server.await.expect("server task"), b"bye");
}

/// Forwards `client` <-> a new connection to `server`, flipping the last byte of each
/// client chunk once `tamper` is set.
async fn tampering_proxy(
    listener: TcpListener,
    server: std::net::SocketAddr,
    tamper: Arc<std::sync::atomic::AtomicBool>,
) {
    let (client, _) = listener.accept().await.expect("proxy accept");
    let upstream = TcpStream::connect(server).await.expect("proxy connect");
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = upstream.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_rd, &mut client_wr).await;
    });
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match client_rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if tamper.load(std::sync::atomic::Ordering::SeqCst) {
            buf[n - 1] ^= 0x01;
        }
        if server_wr.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = down.await;
}

#[tokio::test]
async fn a_tampered_record_is_a_bad_record_mac_on_both_sides() {
    let pki = Pki::new();
    for suite in ["ECC_SM4_CBC_SM3", "ECDHE_SM4_GCM_SM3"] {
        let acceptor = TLCP_STACK
            .acceptor(&config(
                tlcp_set(&pki.server),
                pki.bundles(),
                Authorizer::any_trusted(),
                tlcp_policy(Some(&[suite])),
            ))
            .expect("acceptor");
        let connector = TLCP_STACK
            .connector(&config(
                tlcp_set(&pki.client),
                pki.bundles(),
                Authorizer::any_trusted(),
                tlcp_policy(Some(&[suite])),
            ))
            .expect("connector");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server_addr = listener.local_addr().expect("addr");
        let proxy = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy_addr = proxy.local_addr().expect("proxy addr");
        let tamper = Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn(tampering_proxy(proxy, server_addr, tamper.clone()));
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut tls = acceptor.accept(Box::new(tcp)).await.expect("handshake");
            let mut buf = vec![0u8; 1024];
            tls.io.read(&mut buf).await.expect_err("tampered record")
        });

        let mut tls = connect(&connector, proxy_addr).await;
        tamper.store(true, std::sync::atomic::Ordering::SeqCst);
        tls.io.write_all(b"tamper with me").await.expect("write");
        tls.io.flush().await.expect("flush");

        let server_err = server.await.expect("server task");
        assert_eq!(
            server_err.kind(),
            std::io::ErrorKind::InvalidData,
            "{suite}"
        );
        assert!(
            matches!(tlcp_error(&server_err), Some(TlcpError::BadRecordMac)),
            "{suite}: {server_err}"
        );
        // The server's alert reached us before its side closed.
        let mut rest = Vec::new();
        let client_err = tls
            .io
            .read_to_end(&mut rest)
            .await
            .expect_err("alert from the server");
        assert_eq!(
            client_err.kind(),
            std::io::ErrorKind::ConnectionAborted,
            "{suite}: {client_err}"
        );
        assert!(
            matches!(
                tlcp_error(&client_err),
                Some(TlcpError::AlertReceived(AlertDescription::BadRecordMac))
            ),
            "{suite}: {client_err}"
        );
    }
}

// === Rejections ===

#[tokio::test]
async fn authorization_denies_both_ways() {
    let pki = Pki::new();
    let only_other = Authorizer::new(vec![AuthzRule::Exact(pki::id("spiffe://tlcp.test/other"))]);
    let (set, bundles, _) = pki.server();
    let out = tlcp_run(
        (set, bundles, only_other),
        pki.client(),
        None,
        expect(SERVER_ID),
    )
    .await;
    assert_eq!(
        peer_error(&out.server),
        &PeerError::IdNotAllowed(CLIENT_ID.into())
    );
    assert_eq!(alert(&out.client), "access_denied");

    let out = tlcp_run(
        pki.server(),
        pki.client(),
        None,
        expect("spiffe://tlcp.test/elsewhere"),
    )
    .await;
    assert!(matches!(
        peer_error(&out.client),
        PeerError::UnexpectedId { .. }
    ));
    assert_eq!(alert(&out.server), "access_denied");
}

#[tokio::test]
async fn untrusted_ca_is_rejected_both_ways() {
    let pki = Pki::new();
    let rogue = pki::root_ca(TD, KeyType::Sm2);
    let untrusted =
        |e: &PeerError| matches!(e, PeerError::UntrustedChain(_) | PeerError::BadSignature);

    let rogue_client = tlcp_pair(&rogue, CLIENT_ID);
    let out = tlcp_run(
        pki.server(),
        (tlcp_set(&rogue_client), pki.bundles()),
        None,
        expect(SERVER_ID),
    )
    .await;
    assert!(untrusted(peer_error(&out.server)), "{:?}", out.server);
    assert!(out.client.is_err());

    let rogue_server = tlcp_pair(&rogue, SERVER_ID);
    let out = tlcp_run(
        (
            tlcp_set(&rogue_server),
            pki.bundles(),
            Authorizer::any_trusted(),
        ),
        pki.client(),
        None,
        expect(SERVER_ID),
    )
    .await;
    assert!(untrusted(peer_error(&out.client)), "{:?}", out.client);
    assert!(out.server.is_err());
}

#[tokio::test]
async fn encryption_certificate_must_chain_to_the_same_anchors() {
    // A client whose signing certificate is trusted but whose encryption certificate (same
    // SPIFFE ID) comes from a CA the server does not trust.
    let pki = Pki::new();
    let rogue = pki::root_ca(TD, KeyType::Sm2);
    let rogue_pair = tlcp_pair(&rogue, CLIENT_ID);
    let mixed = || SvidSet {
        svid: pki.client.sign.to_svid().expect("signing SVID"),
        alternates: Vec::new(),
        encryption: Some(enc_svid(&rogue_pair.enc)),
    };
    for suite in ["ECC_SM4_GCM_SM3", "ECDHE_SM4_GCM_SM3"] {
        let out = tlcp_run(
            pki.server(),
            (mixed(), pki.bundles()),
            Some(&[suite]),
            expect(SERVER_ID),
        )
        .await;
        let reason = peer_error(&out.server);
        assert!(
            matches!(
                reason,
                PeerError::UntrustedChain(_) | PeerError::BadSignature
            ),
            "{suite}: {reason:?}"
        );
        assert!(out.client.is_err(), "{suite}");
    }
}

#[test]
fn missing_credentials_are_config_errors() {
    let pki = Pki::new();
    let bad_credentials = |result: Result<(), TlsError>| match result {
        Err(TlsError::Config(ConfigError::BadCredentials(why))) => why,
        other => panic!("expected BadCredentials, got {other:?}"),
    };
    // No encryption pair.
    let no_enc = || {
        config(
            SvidSet::single(pki.server.sign.to_svid().expect("SVID")),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        )
    };
    let why = bad_credentials(TLCP_STACK.acceptor(&no_enc()).map(drop));
    assert!(why.contains("encryption"), "{why}");
    let why = bad_credentials(TLCP_STACK.connector(&no_enc()).map(drop));
    assert!(why.contains("encryption"), "{why}");

    // No SM2 signing SVID (ECDSA only).
    let ec_ca = pki::root_ca(TD, KeyType::EcdsaP256);
    let ecdsa = pki::svid(&ec_ca, SERVER_ID, KeyType::EcdsaP256);
    let no_sm2 = config(
        SvidSet {
            svid: ecdsa.to_svid().expect("SVID"),
            alternates: Vec::new(),
            encryption: Some(enc_svid(&pki.server.enc)),
        },
        pki.bundles(),
        Authorizer::any_trusted(),
        tlcp_policy(None),
    );
    let why = bad_credentials(TLCP_STACK.acceptor(&no_sm2).map(drop));
    assert!(why.contains("SM2"), "{why}");

    // An encryption certificate of another workload.
    let other = config(
        SvidSet {
            svid: pki.server.sign.to_svid().expect("SVID"),
            alternates: Vec::new(),
            encryption: Some(enc_svid(&pki.client.enc)),
        },
        pki.bundles(),
        Authorizer::any_trusted(),
        tlcp_policy(None),
    );
    bad_credentials(TLCP_STACK.acceptor(&other).map(drop));

    // Unknown suite names are rejected, not ignored.
    match TLCP_STACK.acceptor(&config(
        tlcp_set(&pki.server),
        pki.bundles(),
        Authorizer::any_trusted(),
        tlcp_policy(Some(&["TLS_AES_128_GCM_SHA256"])),
    )) {
        Err(TlsError::Config(ConfigError::Unsupported { .. })) => {}
        other => panic!("expected Unsupported, got {:?}", other.map(drop)),
    }
}

// === Rotation ===

/// Echoes every connection until EOF; reports each handshake's PeerInfo.
async fn echo_server(
    listener: TcpListener,
    acceptor: Arc<dyn TlsAcceptor>,
    infos: tokio::sync::mpsc::UnboundedSender<Result<PeerInfo, TlsError>>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        let infos = infos.clone();
        tokio::spawn(async move {
            let mut tls = match acceptor.accept(Box::new(tcp)).await {
                Ok(tls) => tls,
                Err(e) => {
                    let _ = infos.send(Err(e));
                    return;
                }
            };
            let _ = infos.send(Ok(tls.peer.clone()));
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match tls.io.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tls.io.write_all(&buf[..n]).await.is_err()
                            || tls.io.flush().await.is_err()
                        {
                            break;
                        }
                    }
                }
            }
            let _ = tls.io.shutdown().await;
        });
    }
}

async fn connect(connector: &Arc<dyn TlsConnector>, addr: std::net::SocketAddr) -> TlsStream {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tokio::time::timeout(TIMEOUT, connector.connect(Box::new(tcp), expect(SERVER_ID)))
        .await
        .expect("handshake in time")
        .expect("handshake")
}

/// Writes `data` and reads its echo back.
async fn echo(tls: &mut TlsStream, data: &[u8]) {
    tls.io.write_all(data).await.expect("write");
    tls.io.flush().await.expect("flush");
    let mut back = vec![0u8; data.len()];
    tokio::time::timeout(TIMEOUT, tls.io.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("read echo");
    assert_eq!(back, data);
}

#[tokio::test]
async fn rotation_reaches_new_handshakes_and_spares_live_ones() {
    let old = Pki::new();
    let new_ca = pki::root_ca(TD, KeyType::Sm2);
    let new_server = tlcp_pair(&new_ca, SERVER_ID);
    let new_client = tlcp_pair(&new_ca, CLIENT_ID);
    let both = || pki::bundles(&[&old.ca, &new_ca]);

    let server_config = config(
        tlcp_set(&old.server),
        both(),
        Authorizer::any_trusted(),
        tlcp_policy(None),
    );
    let client_config = config(
        tlcp_set(&old.client),
        both(),
        Authorizer::any_trusted(),
        tlcp_policy(None),
    );
    let (server_store, client_store) = (
        server_config.identity.clone(),
        client_config.identity.clone(),
    );
    let acceptor = TLCP_STACK.acceptor(&server_config).expect("acceptor");
    let connector = TLCP_STACK.connector(&client_config).expect("connector");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, mut infos) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(echo_server(listener, acceptor, tx));

    let mut live = connect(&connector, addr).await;
    assert_eq!(live.peer.peer_chain[0], old.server.sign.chain_der[0]);
    let first = infos
        .recv()
        .await
        .expect("server report")
        .expect("server handshake");
    assert_eq!(first.peer_chain[0], old.client.sign.chain_der[0]);
    echo(&mut live, &meshtls_tests::pair::pattern(40_000, 3)).await;

    server_store.rotate_set(tlcp_set(&new_server), both());
    client_store.rotate_set(tlcp_set(&new_client), both());

    // The live connection keeps its keys and goes on.
    echo(&mut live, &meshtls_tests::pair::pattern(40_000, 4)).await;
    // A new handshake presents the new certificates on both sides.
    let mut fresh = connect(&connector, addr).await;
    assert_eq!(fresh.peer.peer_chain[0], new_server.sign.chain_der[0]);
    let second = infos
        .recv()
        .await
        .expect("server report")
        .expect("server handshake");
    assert_eq!(second.peer_chain[0], new_client.sign.chain_der[0]);
    echo(&mut fresh, b"after rotation").await;
    echo(&mut live, b"still alive").await;

    live.io.shutdown().await.expect("shutdown");
    fresh.io.shutdown().await.expect("shutdown");
    server.abort();
}

// === Resumption ===

/// Forwards every connection to `server` and reports, per connection, how many bytes the
/// server sent: a full TLCP handshake carries two certificates, a resumed one none.
async fn counting_proxy(
    listener: TcpListener,
    server: std::net::SocketAddr,
    counts: tokio::sync::mpsc::UnboundedSender<u64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let counts = counts.clone();
        tokio::spawn(async move {
            let upstream = TcpStream::connect(server).await.expect("proxy connect");
            let (mut client_rd, mut client_wr) = client.into_split();
            let (mut server_rd, mut server_wr) = upstream.into_split();
            let up = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_rd, &mut server_wr).await;
                let _ = server_wr.shutdown().await;
            });
            let down = tokio::io::copy(&mut server_rd, &mut client_wr)
                .await
                .unwrap_or(0);
            let _ = up.await;
            let _ = counts.send(down);
        });
    }
}

/// One connection through the proxy that echoes a line and closes: the server's reported
/// identity and the bytes the server sent.
async fn one_connection(
    connector: &Arc<dyn TlsConnector>,
    proxy: std::net::SocketAddr,
    counts: &mut tokio::sync::mpsc::UnboundedReceiver<u64>,
) -> (SpiffeId, u64) {
    let mut tls = connect(connector, proxy).await;
    let peer = tls.peer.peer_id.clone();
    echo(&mut tls, b"ping").await;
    tls.io.shutdown().await.expect("shutdown");
    drop(tls);
    let sent = tokio::time::timeout(TIMEOUT, counts.recv())
        .await
        .expect("count in time")
        .expect("count");
    (peer, sent)
}

/// A full handshake sends the signing and encryption certificates (over 1 KB); an
/// abbreviated one sends ServerHello, ChangeCipherSpec and Finished only.
const RESUMED_MAX_BYTES: u64 = 400;

#[tokio::test]
async fn resumption_by_session_id_when_enabled_and_ended_by_rotation() {
    let pki = Pki::new();
    let resuming = TlsPolicy {
        resumption: true,
        ..tlcp_policy(None)
    };
    let server_config = config(
        tlcp_set(&pki.server),
        pki.bundles(),
        Authorizer::any_trusted(),
        resuming.clone(),
    );
    let server_store = server_config.identity.clone();
    let acceptor = TLCP_STACK.acceptor(&server_config).expect("acceptor");
    let resuming_client = TLCP_STACK
        .connector(&config(
            tlcp_set(&pki.client),
            pki.bundles(),
            Authorizer::any_trusted(),
            resuming,
        ))
        .expect("connector");
    let full_client = TLCP_STACK
        .connector(&config(
            tlcp_set(&pki.client),
            pki.bundles(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("connector");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server_addr = listener.local_addr().expect("addr");
    let (tx, mut infos) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(echo_server(listener, acceptor, tx));
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let proxy_addr = proxy_listener.local_addr().expect("proxy addr");
    let (count_tx, mut counts) = tokio::sync::mpsc::unbounded_channel();
    let proxy = tokio::spawn(counting_proxy(proxy_listener, server_addr, count_tx));

    let (id, full) = one_connection(&resuming_client, proxy_addr, &mut counts).await;
    assert_eq!(id, pki::id(SERVER_ID));
    assert!(
        full > 1000,
        "a full handshake sends both certificates: {full} bytes"
    );
    let (id, resumed) = one_connection(&resuming_client, proxy_addr, &mut counts).await;
    assert_eq!(
        id,
        pki::id(SERVER_ID),
        "a resumed session keeps the peer's identity"
    );
    assert!(
        resumed <= RESUMED_MAX_BYTES,
        "the second connection resumes: {resumed} bytes (full: {full})"
    );
    // The server reports the client's identity on both connections.
    for _ in 0..2 {
        let info = infos.recv().await.expect("report").expect("handshake");
        assert_eq!(info.peer_id, pki::id(CLIENT_ID));
    }

    // A connector without resumption runs full handshakes against the same listener.
    let (_, again_full) = one_connection(&full_client, proxy_addr, &mut counts).await;
    assert!(again_full > 1000, "resumption off: {again_full} bytes");
    infos.recv().await.expect("report").expect("handshake");

    // A rotation on the server ends every session: the next handshake is full again.
    server_store.rotate_set(tlcp_set(&tlcp_pair(&pki.ca, SERVER_ID)), pki.bundles());
    let (_, after_rotation) = one_connection(&resuming_client, proxy_addr, &mut counts).await;
    assert!(
        after_rotation > 1000,
        "a rotation ends sessions: {after_rotation} bytes"
    );
    infos.recv().await.expect("report").expect("handshake");

    proxy.abort();
    server.abort();
}

// === One port for TLCP and TLS 1.3 ===

/// One client of the one-port listener and what it must negotiate.
struct Case<'a> {
    stack: &'static str,
    connector: &'a Arc<dyn TlsConnector>,
    suite: &'static str,
    group: &'static str,
    server_cert: &'a IssuedSvid,
}

#[tokio::test]
async fn one_port_serves_tlcp_rfc8998_and_standard_tls13() {
    let sm2_ca = pki::root_ca(TD, KeyType::Sm2);
    let ec_ca = pki::root_ca(TD, KeyType::EcdsaP256);
    let mut bundles = TrustBundleSet::new();
    bundles.add(
        pki::td(TD),
        vec![sm2_ca.ca_der().clone(), ec_ca.ca_der().clone()],
    );

    let server_pair = tlcp_pair(&sm2_ca, SERVER_ID);
    let server_ec = pki::svid(&ec_ca, SERVER_ID, KeyType::EcdsaP256);
    let server_set = SvidSet {
        svid: server_ec.to_svid().expect("ECDSA SVID"),
        alternates: vec![server_pair.sign.to_svid().expect("SM2 SVID")],
        encryption: Some(enc_svid(&server_pair.enc)),
    };
    let identity = IdentityStore::with_set(server_set, bundles.clone());
    let base = StackConfig {
        identity,
        authorizer: Authorizer::any_trusted(),
        policy: TlsPolicy::default(),
        provider: stacks::sm_provider(),
    };
    let tlcp = TLCP_STACK
        .acceptor(&StackConfig {
            policy: tlcp_policy(None),
            ..base.clone()
        })
        .expect("TLCP acceptor");
    let tls = RUSTLS_STACK
        .acceptor(&StackConfig {
            policy: pki::only(TlsVersion::Tls13),
            ..base.clone()
        })
        .expect("TLS acceptor");
    let acceptor: Arc<dyn TlsAcceptor> = Arc::new(SniffingAcceptor::new(tlcp, tls));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, mut infos) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(echo_server(listener, acceptor, tx));

    // A TLCP client.
    let client_pair = tlcp_pair(&sm2_ca, CLIENT_ID);
    let tlcp_client = TLCP_STACK
        .connector(&config(
            tlcp_set(&client_pair),
            bundles.clone(),
            Authorizer::any_trusted(),
            tlcp_policy(None),
        ))
        .expect("TLCP connector");
    // An RFC 8998 client: SM suite, curveSM2 and an SM2 SVID only.
    let sm_client = RUSTLS_STACK
        .connector(&config(
            SvidSet::single(client_pair.sign.to_svid().expect("SM2 SVID")),
            bundles.clone(),
            Authorizer::any_trusted(),
            TlsPolicy {
                suites: Some(vec!["TLS_SM4_GCM_SM3".into()]),
                groups: Some(vec!["curveSM2".into()]),
                ..pki::only(TlsVersion::Tls13)
            },
        ))
        .expect("RFC 8998 connector");
    // A standard TLS 1.3 client with an ECDSA SVID.
    let client_ec = pki::svid(&ec_ca, CLIENT_ID, KeyType::EcdsaP256);
    let std_client = RUSTLS_STACK
        .connector(&config(
            SvidSet::single(client_ec.to_svid().expect("ECDSA SVID")),
            bundles.clone(),
            Authorizer::any_trusted(),
            TlsPolicy {
                suites: Some(vec!["TLS_AES_128_GCM_SHA256".into()]),
                groups: Some(vec!["X25519".into()]),
                ..pki::only(TlsVersion::Tls13)
            },
        ))
        .expect("TLS 1.3 connector");

    let cases = [
        Case {
            stack: "tlcp",
            connector: &tlcp_client,
            suite: "ECDHE_SM4_GCM_SM3",
            group: "curveSM2",
            server_cert: &server_pair.sign,
        },
        Case {
            stack: "rustls",
            connector: &sm_client,
            suite: "TLS_SM4_GCM_SM3",
            group: "curveSM2",
            server_cert: &server_pair.sign,
        },
        Case {
            stack: "rustls",
            connector: &std_client,
            suite: "TLS_AES_128_GCM_SHA256",
            group: "X25519",
            server_cert: &server_ec,
        },
    ];
    for Case {
        stack,
        connector,
        suite,
        group,
        server_cert,
    } in cases
    {
        let mut tls = connect(connector, addr).await;
        assert_eq!(tls.peer.stack, stack);
        assert_eq!(tls.peer.suite, suite);
        assert_eq!(tls.peer.group.as_deref(), Some(group), "{suite}");
        assert_eq!(tls.peer.peer_id, pki::id(SERVER_ID));
        assert_eq!(tls.peer.peer_chain[0], server_cert.chain_der[0], "{suite}");
        let on_server = infos
            .recv()
            .await
            .expect("server report")
            .expect("server handshake");
        assert_eq!(on_server.stack, stack);
        assert_eq!(on_server.suite, suite);
        assert_eq!(on_server.peer_id, pki::id(CLIENT_ID));
        echo(&mut tls, suite.as_bytes()).await;
        tls.io.shutdown().await.expect("shutdown");
    }

    // Not TLS at all: the listener says so with a typed error and goes on serving.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .await
        .expect("write");
    match infos.recv().await.expect("server report") {
        Err(TlsError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}"),
        other => panic!("expected a sniffing error, got {other:?}"),
    }
    let mut tls = connect(&tlcp_client, addr).await;
    echo(&mut tls, b"still serving").await;
    server.abort();
}

// === The binary ===

/// Engine choices naming every algorithm, so the binary does not measure.
const BACKENDS: [&str; 6] = [
    "all=aws-lc",
    "sm2=sm",
    "sm3=sm",
    "sm4-gcm=sm",
    "sm4-ccm=sm",
    "curvesm2=sm",
];

/// Writes `pair`'s PEM files and `ca`'s bundle; returns the TLCP credential flags.
fn tlcp_flags(
    dir: &PemDir,
    name: &str,
    pair: &IssuedTlcpPair,
    ca: &CertificateAuthority,
) -> Vec<String> {
    let sign = dir.svid(&format!("{name}-sign"), &pair.sign);
    let enc = dir.svid(&format!("{name}-enc"), &pair.enc);
    let bundle = dir.ca(&format!("{name}-ca"), ca);
    flags(&[
        ("--cert", &sign.cert),
        ("--key", &sign.key),
        ("--enc-cert", &enc.cert),
        ("--enc-key", &enc.key),
        ("--bundle", &bundle),
    ])
}

/// `--flag path` pairs as arguments.
fn flags(pairs: &[(&str, &PathBuf)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(flag, path)| [(*flag).to_owned(), process::arg(path).to_owned()])
        .collect()
}

/// The binary with `args`, every engine named.
fn spawn_meshtls(args: &[String]) -> tokio::process::Child {
    let binary = process::meshtls_binary();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    for backend in BACKENDS {
        all.extend(["--backend", backend]);
    }
    process::spawn(process::arg(&binary), &all)
}

/// Starts `meshtls tls serve` with `args` on a free port; returns it and its address.
async fn serve(args: &[&str], credentials: Vec<String>) -> (tokio::process::Child, String) {
    let mut all: Vec<String> = ["tls", "serve", "--listen", "127.0.0.1:0"]
        .into_iter()
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect();
    all.extend(credentials);
    let mut server = spawn_meshtls(&all);
    let mut stderr = BufReader::new(server.stderr.take().expect("server stderr"));
    let lines = process::wait_for_line(&mut stderr, "serving")
        .await
        .unwrap_or_else(|seen| panic!("server did not start: {seen:?}"));
    let addr = lines
        .last()
        .and_then(|l| l.rsplit(' ').next())
        .expect("bound address")
        .to_owned();
    (server, addr)
}

/// Runs `meshtls tls connect` to `addr` sending `text`; returns its JSON line and the reply.
async fn connect_once(
    addr: &str,
    text: &str,
    args: &[&str],
    credentials: Vec<String>,
) -> (serde_json::Value, String) {
    let mut all: Vec<String> = [
        "tls",
        "connect",
        "--connect",
        addr,
        "--expect-id",
        SERVER_ID,
        "--send",
        text,
    ]
    .into_iter()
    .chain(args.iter().copied())
    .map(str::to_owned)
    .collect();
    all.extend(credentials);
    let client = spawn_meshtls(&all);
    let out = tokio::time::timeout(process::CHILD_TIMEOUT, client.wait_with_output())
        .await
        .expect("client in time")
        .expect("client output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "client failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (line, reply) = stdout.split_once('\n').expect("JSON line and reply");
    let line = serde_json::from_str(line).expect("JSON line");
    (line, reply.trim_end().to_owned())
}

#[tokio::test]
async fn cli_serves_and_connects_with_tlcp() {
    let pki = Pki::new();
    let dir = PemDir::new();
    let (mut server, addr) = serve(
        &["--stack", "tlcp", "--once"],
        tlcp_flags(&dir, "server", &pki.server, &pki.ca),
    )
    .await;
    let (line, reply) = connect_once(
        &addr,
        "hello tlcp",
        &["--stack", "tlcp"],
        tlcp_flags(&dir, "client", &pki.client, &pki.ca),
    )
    .await;
    assert_eq!(line["result"], "ok", "{line}");
    assert_eq!(line["stack"], "tlcp");
    assert_eq!(line["version"], "TLCP");
    assert_eq!(line["suite"], "ECDHE_SM4_GCM_SM3");
    assert_eq!(line["group"], "curveSM2");
    assert_eq!(line["peer_id"], SERVER_ID);
    assert_eq!(reply, "hello tlcp");

    let mut server_out = BufReader::new(server.stdout.take().expect("server stdout"));
    let mut server_line = String::new();
    server_out
        .read_line(&mut server_line)
        .await
        .expect("server line");
    let line: serde_json::Value = serde_json::from_str(&server_line).expect("server JSON");
    assert_eq!(line["result"], "ok", "{line}");
    assert_eq!(line["peer_id"], CLIENT_ID);
    let status = tokio::time::timeout(process::CHILD_TIMEOUT, server.wait())
        .await
        .expect("server exits after --once")
        .expect("server status");
    assert!(status.success());
}

#[tokio::test]
async fn cli_one_port_serves_tlcp_and_tls13() {
    // The server's default SVID is ECDSA; its SM2 signing SVID is an alternate.
    let pki = Pki::new();
    let ec_ca = pki::root_ca(TD, KeyType::EcdsaP256);
    let dir = PemDir::new();
    let server_ec = dir.svid(
        "server-ec",
        &pki::svid(&ec_ca, SERVER_ID, KeyType::EcdsaP256),
    );
    let server_sign = dir.svid("server-sign", &pki.server.sign);
    let server_enc = dir.svid("server-enc", &pki.server.enc);
    let sm2_bundle = dir.ca("sm2-ca", &pki.ca);
    let ec_bundle = dir.ca("ec-ca", &ec_ca);
    let server_flags = flags(&[
        ("--cert", &server_ec.cert),
        ("--key", &server_ec.key),
        ("--alt-cert", &server_sign.cert),
        ("--alt-key", &server_sign.key),
        ("--enc-cert", &server_enc.cert),
        ("--enc-key", &server_enc.key),
        ("--bundle", &sm2_bundle),
        ("--bundle", &ec_bundle),
    ]);
    let (_server, addr) = serve(
        &["--stack", "tlcp", "--tls-versions", "tlcp,1.3"],
        server_flags,
    )
    .await;

    let (line, reply) = connect_once(
        &addr,
        "over tlcp",
        &["--stack", "tlcp"],
        tlcp_flags(&dir, "client", &pki.client, &pki.ca),
    )
    .await;
    assert_eq!(
        (&line["stack"], &line["version"]),
        (&"tlcp".into(), &"TLCP".into()),
        "{line}"
    );
    assert_eq!(reply, "over tlcp");

    let client_ec = dir.svid(
        "client-ec",
        &pki::svid(&ec_ca, CLIENT_ID, KeyType::EcdsaP256),
    );
    let (line, reply) = connect_once(
        &addr,
        "over tls",
        &["--stack", "rustls", "--suites", "TLS_AES_128_GCM_SHA256"],
        flags(&[
            ("--cert", &client_ec.cert),
            ("--key", &client_ec.key),
            ("--bundle", &ec_bundle),
        ]),
    )
    .await;
    assert_eq!(line["stack"], "rustls", "{line}");
    assert_eq!(line["version"], "TLSv1.3");
    assert_eq!(line["suite"], "TLS_AES_128_GCM_SHA256");
    assert_eq!(reply, "over tls");
}
