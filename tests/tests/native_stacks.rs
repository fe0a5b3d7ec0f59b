//! The OpenSSL and BoringSSL stacks against themselves over real TCP on 127.0.0.1: mutual TLS
//! with ECDSA P-256, Ed25519 and RSA-2048 SVIDs on TLS 1.3 and 1.2, policy pinning, the typed
//! rejection reasons tls-core's verifier gives, and SVID rotation under a live connection.
//!
//! Certificates come from rcgen here, so these tests depend on no CA code of ours.

use std::sync::Arc;
use std::time::Duration;

use meshtls_tls_core::autoselect::AutoSelect;
use meshtls_tls_core::compose;
use meshtls_tls_core::identity::IdentityStore;
use meshtls_tls_core::policy::Policy;
use meshtls_tls_core::spiffe::{
    Authorizer, AuthzRule, SpiffeId, Svid, TrustBundleSet, TrustDomain,
};
use meshtls_tls_core::stack::{
    ConnectOptions, StackConfig, TlsPolicy, TlsStack, TlsStream, TlsVersion,
};
use meshtls_tls_core::{AlgorithmId, ConfigError, Engine, PeerError, Registry, TlsError};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SignatureAlgorithm,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TD: &str = "example.org";
const SERVER_ID: &str = "spiffe://example.org/ns/prod/sa/server";
const CLIENT_ID: &str = "spiffe://example.org/ns/prod/sa/client";
/// Bounds every handshake and exchange, so a stuck peer fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(30);

// === PKI ===

/// Key types of the SVIDs under test.
#[derive(Clone, Copy, Debug)]
enum KeyType {
    P256,
    Ed25519,
    Rsa2048,
}

impl KeyType {
    /// A fresh key. Ed25519 keys come from OpenSSL as PKCS#8 v1: aws-lc (rcgen's backend)
    /// writes v2 (RFC 5958, with the public key), which OpenSSL 3.0 and BoringSSL do not
    /// parse.
    fn generate(self) -> KeyPair {
        match self {
            KeyType::Ed25519 => {
                let v1 = meshtls_engine_openssl::ENGINE
                    .signature(AlgorithmId::Ed25519)
                    .unwrap()
                    .generate_key()
                    .unwrap();
                KeyPair::from_pkcs8_der_and_sign_algo(
                    &PrivatePkcs8KeyDer::from(v1.to_vec()),
                    self.algorithm(),
                )
                .unwrap()
            }
            _ => KeyPair::generate_for(self.algorithm()).unwrap(),
        }
    }

    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            KeyType::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// A SPIFFE signing CA for one trust domain: a root, or an intermediate under one.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The trust anchor peers hold.
    root: CertificateDer<'static>,
    /// What an SVID presents after its leaf (this CA and those above it, up to the root).
    intermediates: Vec<CertificateDer<'static>>,
    key_type: KeyType,
}

impl Ca {
    fn new(key_type: KeyType) -> Ca {
        Ca::named("test CA", key_type)
    }

    /// A CA with its own subject name (a CA of another name is simply unknown to peers).
    fn named(name: &str, key_type: KeyType) -> Ca {
        let key = key_type.generate();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.subject_alt_names = vec![SanType::URI(format!("spiffe://{TD}").try_into().unwrap())];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        (params.not_before, params.not_after) = valid_now();
        let root = params.self_signed(&key).unwrap().der().clone();
        Ca {
            issuer: Issuer::new(params, key),
            root,
            intermediates: Vec::new(),
            key_type,
        }
    }

    /// An intermediate signing CA under this one, same trust domain.
    fn intermediate(&self) -> Ca {
        let key = self.key_type.generate();
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "intermediate CA");
        params.subject_alt_names = vec![SanType::URI(format!("spiffe://{TD}").try_into().unwrap())];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        (params.not_before, params.not_after) = valid_now();
        let cert = params.signed_by(&key, &self.issuer).unwrap().der().clone();
        let mut intermediates = vec![cert];
        intermediates.extend(self.intermediates.iter().cloned());
        Ca {
            issuer: Issuer::new(params, key),
            root: self.root.clone(),
            intermediates,
            key_type: self.key_type,
        }
    }

    /// An SVID for `id`, valid over `validity`: the leaf, then this CA's intermediates.
    fn svid_with(&self, id: &str, validity: (OffsetDateTime, OffsetDateTime)) -> Svid {
        let key = self.key_type.generate();
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![SanType::URI(id.try_into().unwrap())];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        (params.not_before, params.not_after) = validity;
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let mut chain = vec![cert.der().clone()];
        chain.extend(self.intermediates.iter().cloned());
        Svid::from_der(chain, PrivatePkcs8KeyDer::from(key.serialize_der())).unwrap()
    }

    fn svid(&self, id: &str) -> Svid {
        self.svid_with(id, valid_now())
    }

    fn bundles(&self) -> TrustBundleSet {
        let mut set = TrustBundleSet::new();
        set.add(TrustDomain::parse(TD).unwrap(), vec![self.root.clone()]);
        set
    }
}

fn valid_now() -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (
        now - time::Duration::hours(1),
        now + time::Duration::days(1),
    )
}

// === stacks and configs ===

fn engine(stack: &str) -> &'static Engine {
    match stack {
        "openssl" => &meshtls_engine_openssl::ENGINE,
        "boring" => &meshtls_engine_boring::ENGINE,
        other => panic!("no engine {other}"),
    }
}

/// The stack under test, reached the way the binary reaches it: through its engine table.
fn stack(name: &str) -> &'static dyn TlsStack {
    let stack = engine(name).stack.expect("engine exports a stack");
    assert_eq!(stack.name(), name);
    stack
}

/// The stack's own engine for every algorithm it has (explicit: nothing is measured).
fn provider(name: &str) -> Arc<CryptoProvider> {
    let registry = Registry::new(vec![engine(name)]);
    let policy = Policy::from_backends([format!("all={name}")]).unwrap();
    let auto = AutoSelect {
        cache_dir: None,
        budget: Duration::from_millis(10),
        remeasure: false,
    };
    compose::provider(&registry.select(&policy, &auto).unwrap())
}

fn config(name: &str, identity: Arc<IdentityStore>, policy: TlsPolicy) -> StackConfig {
    StackConfig {
        identity,
        authorizer: Authorizer::any_trusted(),
        policy,
        provider: provider(name),
    }
}

/// The group each stack prefers by default: BoringSSL leads with the ML-KEM hybrid.
fn default_group(name: &str) -> &'static str {
    match name {
        "boring" => "X25519MLKEM768",
        _ => "X25519",
    }
}

fn versions(v: TlsVersion) -> TlsPolicy {
    TlsPolicy {
        versions: vec![v],
        ..TlsPolicy::default()
    }
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

/// Runs one handshake over a fresh loopback TCP connection; returns (server, client) results.
async fn handshake(
    stack: &dyn TlsStack,
    server: &StackConfig,
    client: &StackConfig,
    options: ConnectOptions,
) -> (Result<TlsStream, TlsError>, Result<TlsStream, TlsError>) {
    let acceptor = stack.acceptor(server).unwrap();
    let connector = stack.connector(client).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = async {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(Box::new(tcp)).await
    };
    let connect = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        connector.connect(Box::new(tcp), options).await
    };
    tokio::time::timeout(DEADLINE, async { tokio::join!(accept, connect) })
        .await
        .expect("handshake timed out")
}

/// Sends `msg` from `a` to `b` and checks it arrives intact.
async fn send(a: &mut TlsStream, b: &mut TlsStream, msg: &[u8]) {
    a.io.write_all(msg).await.unwrap();
    a.io.flush().await.unwrap();
    let mut got = vec![0u8; msg.len()];
    tokio::time::timeout(DEADLINE, b.io.read_exact(&mut got))
        .await
        .expect("read timed out")
        .unwrap();
    assert_eq!(got, msg);
}

fn server_error(result: (Result<TlsStream, TlsError>, Result<TlsStream, TlsError>)) -> TlsError {
    match result.0 {
        Ok(s) => panic!("server accepted {:?}", s.peer),
        Err(e) => e,
    }
}

// === happy paths ===

async fn mutual_tls(name: &str, key_type: KeyType, version: TlsVersion) {
    let ca = Ca::new(key_type);
    let server_svid = ca.svid(SERVER_ID);
    let client_svid = ca.svid(CLIENT_ID);
    let server_leaf = server_svid.chain()[0].clone();
    let client_leaf = client_svid.chain()[0].clone();
    let server = config(
        name,
        IdentityStore::new(server_svid, ca.bundles()),
        versions(version),
    );
    let client = config(
        name,
        IdentityStore::new(client_svid, ca.bundles()),
        versions(version),
    );
    let options = ConnectOptions {
        expect_id: Some(id(SERVER_ID)),
        server_name: Some("server.example.org".into()),
    };

    let (s, c) = handshake(stack(name), &server, &client, options).await;
    let (mut s, mut c) = (s.unwrap(), c.unwrap());
    let case = format!("{name} {key_type:?} {version:?}");

    for (info, peer, leaf) in [
        (&s.peer, CLIENT_ID, &client_leaf),
        (&c.peer, SERVER_ID, &server_leaf),
    ] {
        assert_eq!(info.stack, name, "{case}");
        assert_eq!(info.version, version.name(), "{case}");
        assert_eq!(info.peer_id, id(peer), "{case}");
        assert_eq!(info.peer_chain.first(), Some(leaf), "{case}");
        let group = match version {
            TlsVersion::Tls13 => default_group(name),
            // The hybrid is TLS 1.3 only.
            TlsVersion::Tls12 => "X25519",
            TlsVersion::Tlcp => unreachable!("native stacks do not speak TLCP"),
        };
        assert_eq!(info.group.as_deref(), Some(group), "{case}");
        match version {
            TlsVersion::Tls13 => assert!(
                info.suite.starts_with("TLS_AES_") || info.suite.starts_with("TLS_CHACHA20_"),
                "{case}: {}",
                info.suite
            ),
            TlsVersion::Tls12 => {
                let auth = match key_type {
                    KeyType::Rsa2048 => "TLS_ECDHE_RSA_WITH_",
                    KeyType::P256 | KeyType::Ed25519 => "TLS_ECDHE_ECDSA_WITH_",
                };
                assert!(info.suite.starts_with(auth), "{case}: {}", info.suite);
                assert!(
                    info.suite.contains("_GCM_") || info.suite.contains("CHACHA20"),
                    "{case}: {}",
                    info.suite
                );
            }
            TlsVersion::Tlcp => unreachable!("native stacks do not speak TLCP"),
        }
    }
    assert_eq!(s.peer.suite, c.peer.suite);

    send(&mut c, &mut s, b"ping from client").await;
    send(&mut s, &mut c, b"pong from server").await;
    let big = vec![0x5au8; 100_000];
    send(&mut c, &mut s, &big).await;
}

async fn all_key_types_and_versions(name: &str) {
    for key_type in [KeyType::P256, KeyType::Ed25519, KeyType::Rsa2048] {
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            mutual_tls(name, key_type, version).await;
        }
    }
}

#[tokio::test]
async fn openssl_mutual_tls_every_key_type_and_version() {
    all_key_types_and_versions("openssl").await;
}

#[tokio::test]
async fn boring_mutual_tls_every_key_type_and_version() {
    all_key_types_and_versions("boring").await;
}

async fn policy_pins_suite_and_group(name: &str) {
    let ca = Ca::new(KeyType::P256);
    // TLS 1.2 also constrains the ECDSA certificate's curve by the group list (RFC 8422
    // 5.1.1), so the P-256 SVIDs need secp256r1 listed there. (group list, expected name)
    let cases: [(TlsVersion, &str, &[&str], &str); 4] = [
        (
            TlsVersion::Tls13,
            "TLS_CHACHA20_POLY1305_SHA256",
            &["secp384r1"],
            "secp384r1",
        ),
        (
            TlsVersion::Tls13,
            "TLS_AES_256_GCM_SHA384",
            &["P-256"],
            "secp256r1",
        ),
        (
            TlsVersion::Tls12,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            &["secp256r1"],
            "secp256r1",
        ),
        (
            TlsVersion::Tls12,
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            &["x25519", "secp256r1"],
            "X25519",
        ),
    ];
    for (version, suite, groups, group) in cases {
        let policy = TlsPolicy {
            versions: vec![TlsVersion::Tls12, TlsVersion::Tls13],
            suites: Some(vec![suite.into()]),
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            ..TlsPolicy::default()
        };
        let server = config(
            name,
            IdentityStore::new(ca.svid(SERVER_ID), ca.bundles()),
            policy.clone(),
        );
        let client = config(
            name,
            IdentityStore::new(ca.svid(CLIENT_ID), ca.bundles()),
            policy,
        );
        let (s, c) = handshake(stack(name), &server, &client, ConnectOptions::default()).await;
        let case = format!("{name} {suite} {groups:?}");
        for info in [s.expect(&case).peer, c.expect(&case).peer] {
            assert_eq!(info.version, version.name(), "{case}");
            assert_eq!(info.suite, suite, "{case}");
            assert_eq!(info.group.as_deref(), Some(group), "{case}");
        }
    }
}

#[tokio::test]
async fn openssl_policy_pins_suite_and_group() {
    policy_pins_suite_and_group("openssl").await;
}

#[tokio::test]
async fn boring_policy_pins_suite_and_group() {
    policy_pins_suite_and_group("boring").await;
}

fn unsupported_policy_is_a_config_error(name: &str) {
    let ca = Ca::new(KeyType::P256);
    let bad = [
        (
            Some(vec!["TLS_RSA_WITH_AES_128_CBC_SHA".to_owned()]),
            None,
            "cipher suite",
        ),
        (None, Some(vec!["ffdhe2048".to_owned()]), "group"),
    ];
    for (suites, groups, what) in bad {
        let policy = TlsPolicy {
            versions: vec![TlsVersion::Tls13],
            suites,
            groups,
            ..TlsPolicy::default()
        };
        let cfg = config(
            name,
            IdentityStore::new(ca.svid(SERVER_ID), ca.bundles()),
            policy,
        );
        let err = stack(name).acceptor(&cfg).err().expect("policy rejected");
        assert!(
            matches!(&err, TlsError::Config(ConfigError::Unsupported { what: w, .. }) if *w == what),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn openssl_unsupported_policy_is_a_config_error() {
    unsupported_policy_is_a_config_error("openssl");
}

#[test]
fn boring_unsupported_policy_is_a_config_error() {
    unsupported_policy_is_a_config_error("boring");
}

// === rejections: the same typed reasons as the rustls stack ===

async fn rejections(name: &str) {
    let ca = Ca::new(KeyType::P256);
    let other_ca = Ca::named("unknown CA", KeyType::P256);
    let server_identity = || IdentityStore::new(ca.svid(SERVER_ID), ca.bundles());
    let server = config(name, server_identity(), TlsPolicy::default());
    let st = stack(name);

    // A client whose CA the server does not trust (same trust domain, other key).
    let untrusted = config(
        name,
        IdentityStore::new(other_ca.svid(CLIENT_ID), ca.bundles()),
        TlsPolicy::default(),
    );
    let err = server_error(handshake(st, &server, &untrusted, ConnectOptions::default()).await);
    assert!(
        matches!(err, TlsError::Peer(PeerError::UntrustedChain(_))),
        "{name}: {err:?}"
    );

    // An expired client leaf.
    let now = OffsetDateTime::now_utc();
    let expired_svid = ca.svid_with(
        CLIENT_ID,
        (
            now - time::Duration::days(10),
            now - time::Duration::days(1),
        ),
    );
    let expired = config(
        name,
        IdentityStore::new(expired_svid, ca.bundles()),
        TlsPolicy::default(),
    );
    let err = server_error(handshake(st, &server, &expired, ConnectOptions::default()).await);
    assert!(
        matches!(err, TlsError::Peer(PeerError::Expired)),
        "{name}: {err:?}"
    );

    // A client the server's authorizer does not allow.
    let mut picky = config(name, server_identity(), TlsPolicy::default());
    picky.authorizer = Authorizer::new(vec![AuthzRule::Exact(id(
        "spiffe://example.org/ns/prod/sa/other",
    ))]);
    let client = config(
        name,
        IdentityStore::new(ca.svid(CLIENT_ID), ca.bundles()),
        TlsPolicy::default(),
    );
    let err = server_error(handshake(st, &picky, &client, ConnectOptions::default()).await);
    assert_eq!(
        err.to_string(),
        TlsError::Peer(PeerError::IdNotAllowed(CLIENT_ID.into())).to_string(),
        "{name}"
    );
    assert!(
        matches!(err, TlsError::Peer(PeerError::IdNotAllowed(_))),
        "{name}: {err:?}"
    );

    // A server that is not the one the client expects: the client rejects it and the
    // server hears an alert.
    let options = ConnectOptions {
        expect_id: Some(id("spiffe://example.org/ns/prod/sa/elsewhere")),
        server_name: None,
    };
    let (s, c) = handshake(st, &server, &client, options).await;
    let err = c.expect_err("client rejects the server");
    assert!(
        matches!(err, TlsError::Peer(PeerError::UnexpectedId { .. })),
        "{name}: {err:?}"
    );
    let err = s.expect_err("server hears the rejection");
    assert!(matches!(err, TlsError::AlertReceived(_)), "{name}: {err:?}");
}

#[tokio::test]
async fn openssl_rejections_are_typed() {
    rejections("openssl").await;
}

#[tokio::test]
async fn boring_rejections_are_typed() {
    rejections("boring").await;
}

/// A rustls client that presents no certificate and accepts any server (it is the peer
/// under test here, not the verifier).
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn client_without_certificate(name: &str, version: TlsVersion) {
    let ca = Ca::new(KeyType::P256);
    let server = config(
        name,
        IdentityStore::new(ca.svid(SERVER_ID), ca.bundles()),
        versions(version),
    );
    let acceptor = stack(name).acceptor(&server).unwrap();
    let provider = provider(name);
    let rustls_version = match version {
        TlsVersion::Tls13 => &rustls::version::TLS13,
        TlsVersion::Tls12 => &rustls::version::TLS12,
        TlsVersion::Tlcp => unreachable!("rustls does not speak TLCP"),
    };
    let client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[rustls_version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = async {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(Box::new(tcp)).await
    };
    let connect = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await?;
        // TLS 1.3 clients finish first; the server's verdict arrives as an alert on read.
        let mut buf = [0u8; 1];
        tls.read(&mut buf).await
    };
    let (server, client) = tokio::time::timeout(DEADLINE, async { tokio::join!(accept, connect) })
        .await
        .expect("timed out");
    let err = server.expect_err("server requires a client certificate");
    assert!(
        matches!(err, TlsError::Peer(PeerError::NoCertificate)),
        "{name} {version:?}: {err:?}"
    );
    assert!(client.is_err(), "{name} {version:?}: client was not told");
}

#[tokio::test]
async fn openssl_requires_a_client_certificate() {
    client_without_certificate("openssl", TlsVersion::Tls13).await;
    client_without_certificate("openssl", TlsVersion::Tls12).await;
}

#[tokio::test]
async fn boring_requires_a_client_certificate() {
    client_without_certificate("boring", TlsVersion::Tls13).await;
    client_without_certificate("boring", TlsVersion::Tls12).await;
}

// === rotation ===

/// Rotates the server's SVID while a connection streams: the old connection carries on, and
/// the next handshake on the same acceptor presents the new SVID.
async fn rotation(name: &str) {
    let ca = Ca::new(KeyType::P256);
    let server_store = IdentityStore::new(ca.svid(SERVER_ID), ca.bundles());
    let server = config(name, Arc::clone(&server_store), TlsPolicy::default());
    let client = config(
        name,
        IdentityStore::new(ca.svid(CLIENT_ID), ca.bundles()),
        TlsPolicy::default(),
    );
    let st = stack(name);
    let acceptor = st.acceptor(&server).unwrap();
    let connector = st.connector(&client).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    // One listener, one acceptor: an echo server for every connection it accepts.
    let server_task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(Box::new(tcp)).await.unwrap();
            seen.push(tls.peer.peer_id.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match tls.io.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => tls.io.write_all(&buf[..n]).await.unwrap(),
                    }
                }
            });
        }
        seen
    });

    let connect = || async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tokio::time::timeout(
            DEADLINE,
            connector.connect(Box::new(tcp), ConnectOptions::default()),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let mut old = connect().await;
    assert_eq!(old.peer.peer_id, id(SERVER_ID));
    let old_leaf = old.peer.peer_chain[0].clone();

    const ROTATED_ID: &str = "spiffe://example.org/ns/prod/sa/server-v2";
    let new_svid = ca.svid(ROTATED_ID);
    let new_leaf = new_svid.chain()[0].clone();
    let mut pending = Some(new_svid);
    for i in 0u32..200 {
        if i == 100 {
            let svid = pending.take().unwrap();
            assert_eq!(server_store.rotate(svid, ca.bundles()), 1);
        }
        let msg = format!("message {i} over the old connection");
        old.io.write_all(msg.as_bytes()).await.unwrap();
        let mut got = vec![0u8; msg.len()];
        tokio::time::timeout(DEADLINE, old.io.read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, msg.as_bytes(), "{name}");
    }

    let mut new = connect().await;
    assert_eq!(new.peer.peer_id, id(ROTATED_ID), "{name}");
    assert_eq!(new.peer.peer_chain[0], new_leaf, "{name}");
    assert_ne!(new.peer.peer_chain[0], old_leaf, "{name}");
    new.io.write_all(b"hello new").await.unwrap();
    let mut got = [0u8; 9];
    new.io.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello new");

    // The old connection still works after the new handshake.
    old.io.write_all(b"still here").await.unwrap();
    let mut got = [0u8; 10];
    old.io.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"still here");

    let seen = server_task.await.unwrap();
    assert_eq!(seen, vec![id(CLIENT_ID), id(CLIENT_ID)]);
}

#[tokio::test]
async fn openssl_rotation_keeps_old_connections_and_serves_the_new_svid() {
    rotation("openssl").await;
}

#[tokio::test]
async fn boring_rotation_keeps_old_connections_and_serves_the_new_svid() {
    rotation("boring").await;
}

/// SVIDs issued by an intermediate CA: each side sends leaf + intermediate, and verifies the
/// other's against the root alone.
async fn intermediate_chain(name: &str) {
    let ca = Ca::new(KeyType::P256).intermediate();
    let server_svid = ca.svid(SERVER_ID);
    let presented = server_svid.chain().to_vec();
    assert_eq!(presented.len(), 2);
    let server = config(
        name,
        IdentityStore::new(server_svid, ca.bundles()),
        TlsPolicy::default(),
    );
    let client = config(
        name,
        IdentityStore::new(ca.svid(CLIENT_ID), ca.bundles()),
        TlsPolicy::default(),
    );
    let (s, c) = handshake(stack(name), &server, &client, ConnectOptions::default()).await;
    let (s, c) = (s.unwrap(), c.unwrap());
    assert_eq!(s.peer.peer_id, id(CLIENT_ID));
    assert_eq!(s.peer.peer_chain.len(), 2, "{name}");
    assert_eq!(c.peer.peer_chain, presented, "{name}");
}

#[tokio::test]
async fn openssl_verifies_chains_through_an_intermediate() {
    intermediate_chain("openssl").await;
}

#[tokio::test]
async fn boring_verifies_chains_through_an_intermediate() {
    intermediate_chain("boring").await;
}

/// Only the server restricts TLS 1.3 suites. OpenSSL's server picks an allowed one; a
/// BoringSSL server cannot restrict its choice, so it refuses the connection afterwards
/// rather than run a suite outside its policy.
async fn server_only_tls13_suite_policy(name: &str) {
    let ca = Ca::new(KeyType::P256);
    let allowed = "TLS_CHACHA20_POLY1305_SHA256";
    let server = config(
        name,
        IdentityStore::new(ca.svid(SERVER_ID), ca.bundles()),
        TlsPolicy {
            suites: Some(vec![allowed.into()]),
            ..TlsPolicy::default()
        },
    );
    let client = config(
        name,
        IdentityStore::new(ca.svid(CLIENT_ID), ca.bundles()),
        TlsPolicy::default(),
    );
    let (s, _) = handshake(stack(name), &server, &client, ConnectOptions::default()).await;
    match s {
        Ok(s) => assert_eq!(s.peer.suite, allowed, "{name}"),
        Err(err) => {
            assert_eq!(name, "boring", "{err:?}");
            assert!(matches!(err, TlsError::Handshake(_)), "{err:?}");
        }
    }
}

#[tokio::test]
async fn openssl_server_tls13_suite_policy() {
    server_only_tls13_suite_policy("openssl").await;
}

#[tokio::test]
async fn boring_server_tls13_suite_policy() {
    server_only_tls13_suite_policy("boring").await;
}
