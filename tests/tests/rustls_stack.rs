//! The rustls stack end to end: real TCP on 127.0.0.1, providers composed from the ring and
//! aws-lc engines, SVIDs made here with rcgen (re-exported by meshtls-ca; its CA is not used).
//!
//! Peers that no valid [`Svid`] can describe (two URI SANs, a CA as leaf, no certificate)
//! are raw rustls clients, so the server's checks are what is tested.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use meshtls_ca::rcgen::{
    self, date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, RsaKeySize, SanType,
    SignatureAlgorithm,
};
use meshtls_tls_core::autoselect::AutoSelect;
use meshtls_tls_core::compose;
use meshtls_tls_core::policy::Policy;
use meshtls_tls_core::spiffe::{
    Authorizer, AuthzRule, SpiffeId, Svid, TrustBundleSet, TrustDomain,
};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::{
    ConnectOptions, StackConfig, TlsPolicy, TlsStack, TlsStream, TlsVersion,
};
use meshtls_tls_core::{IdentityStore, PeerError, Registry, TlsError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(20);

// === Providers ===

/// The provider composed with every algorithm from `engine` (ring or aws-lc).
fn provider(engine: &str) -> Arc<CryptoProvider> {
    let registry = Registry::new(vec![
        &meshtls_engine_ring::ENGINE,
        &meshtls_engine_aws_lc::ENGINE,
    ]);
    let policy = Policy::from_backends([format!("all={engine}")]).unwrap();
    let auto = AutoSelect {
        cache_dir: None,
        budget: Duration::from_millis(20),
        remeasure: false,
    };
    compose::provider(&registry.select(&policy, &auto).unwrap())
}

// === Certificates ===

static NEXT_CA: AtomicUsize = AtomicUsize::new(0);

/// A SPIFFE signing CA made for one test.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert: CertificateDer<'static>,
    alg: &'static SignatureAlgorithm,
    td: TrustDomain,
}

impl Ca {
    fn new(td: &str, alg: &'static SignatureAlgorithm) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::OrganizationName, td);
        params.distinguished_name.push(
            DnType::CommonName,
            format!("ca-{}", NEXT_CA.fetch_add(1, Ordering::Relaxed)),
        );
        params.subject_alt_names = vec![uri(&format!("spiffe://{td}"))];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = new_key(alg);
        let cert = params.self_signed(&key).unwrap().der().clone();
        Ca {
            params,
            key,
            cert,
            alg,
            td: TrustDomain::parse(td).unwrap(),
        }
    }

    fn p256(td: &str) -> Ca {
        Ca::new(td, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    fn trust_domain(&self) -> TrustDomain {
        self.td.clone()
    }

    /// Signs `params` for a fresh key of this CA's algorithm: (leaf, PKCS#8 key).
    fn sign(
        &self,
        params: &CertificateParams,
    ) -> (CertificateDer<'static>, PrivatePkcs8KeyDer<'static>) {
        let key = new_key(self.alg);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap().der().clone();
        (cert, PrivatePkcs8KeyDer::from(key.serialize_der()))
    }

    fn svid(&self, id: &str) -> Svid {
        self.svid_from(&svid_params(&[id]))
    }

    fn svid_from(&self, params: &CertificateParams) -> Svid {
        let (leaf, key) = self.sign(params);
        Svid::from_der(vec![leaf], key).unwrap()
    }

    fn bundle(&self) -> TrustBundleSet {
        let mut set = TrustBundleSet::new();
        set.add(self.trust_domain(), vec![self.cert.clone()]);
        set
    }
}

fn new_key(alg: &'static SignatureAlgorithm) -> KeyPair {
    if alg == &rcgen::PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(alg, RsaKeySize::_2048).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
    }
}

fn uri(u: &str) -> SanType {
    SanType::URI(u.try_into().unwrap())
}

fn svid_params(uris: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "workload");
    params.subject_alt_names = uris.iter().map(|u| uri(u)).collect();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

fn merged(sets: impl IntoIterator<Item = TrustBundleSet>) -> TrustBundleSet {
    let mut all = TrustBundleSet::new();
    for set in sets {
        all.merge(set);
    }
    all
}

// === Harness ===

fn config(
    svid: Svid,
    bundles: TrustBundleSet,
    authorizer: Authorizer,
    versions: &[TlsVersion],
    provider: &Arc<CryptoProvider>,
) -> StackConfig {
    StackConfig {
        identity: IdentityStore::new(svid, bundles),
        authorizer,
        policy: TlsPolicy {
            versions: versions.to_vec(),
            ..TlsPolicy::default()
        },
        provider: provider.clone(),
    }
}

/// Runs one server and one client handshake over a fresh TCP connection.
async fn handshake(
    server: &StackConfig,
    client: &StackConfig,
    options: ConnectOptions,
) -> (Result<TlsStream, TlsError>, Result<TlsStream, TlsError>) {
    let acceptor = RUSTLS_STACK.acceptor(server).unwrap();
    let connector = RUSTLS_STACK.connector(client).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = async {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(Box::new(tcp)).await
    };
    let dial = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        connector.connect(Box::new(tcp), options).await
    };
    tokio::time::timeout(LIMIT, async { tokio::join!(serve, dial) })
        .await
        .expect("handshake timed out")
}

/// Sends a message each way and checks it arrives intact.
async fn exchange(server: &mut TlsStream, client: &mut TlsStream) {
    client.io.write_all(b"ping from client").await.unwrap();
    client.io.flush().await.unwrap();
    let mut buf = [0u8; 16];
    server.io.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping from client");
    server.io.write_all(b"pong from server").await.unwrap();
    server.io.flush().await.unwrap();
    client.io.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong from server");
}

fn server_rejected(result: Result<TlsStream, TlsError>) -> PeerError {
    match result {
        Err(TlsError::Peer(reason)) => reason,
        Err(other) => panic!("expected a peer rejection, got {other:?}"),
        Ok(stream) => panic!("expected a peer rejection, got {:?}", stream.peer),
    }
}

// === Successful mTLS ===

async fn mtls_with(alg: &'static SignatureAlgorithm) {
    let ca = Ca::new("example.org", alg);
    for engine in ["ring", "aws-lc"] {
        let provider = provider(engine);
        for version in [TlsVersion::Tls12, TlsVersion::Tls13] {
            let server = config(
                ca.svid("spiffe://example.org/server"),
                ca.bundle(),
                Authorizer::any_trusted(),
                &[version],
                &provider,
            );
            let client = config(
                ca.svid("spiffe://example.org/client"),
                ca.bundle(),
                Authorizer::any_trusted(),
                &[version],
                &provider,
            );
            let options = ConnectOptions {
                expect_id: Some(id("spiffe://example.org/server")),
                server_name: None,
            };
            let (s, c) = handshake(&server, &client, options).await;
            let (mut s, mut c) = (
                s.unwrap_or_else(|e| panic!("{engine} {version:?}: server: {e}")),
                c.unwrap_or_else(|e| panic!("{engine} {version:?}: client: {e}")),
            );
            assert_eq!(s.peer.peer_id, id("spiffe://example.org/client"));
            assert_eq!(c.peer.peer_id, id("spiffe://example.org/server"));
            for info in [&s.peer, &c.peer] {
                assert_eq!(info.stack, "rustls");
                assert_eq!(info.version, version.name());
                assert!(info.suite.starts_with("TLS_"), "{}", info.suite);
                assert!(info.group.is_some());
                assert_eq!(info.peer_chain.len(), 1);
            }
            if version == TlsVersion::Tls12 {
                assert!(s.peer.suite.contains("_WITH_"), "{}", s.peer.suite);
            }
            assert_eq!(s.peer.suite, c.peer.suite);
            assert_eq!(s.peer.group, c.peer.group);
            exchange(&mut s, &mut c).await;
        }
    }
}

#[tokio::test]
async fn mtls_ecdsa_p256() {
    mtls_with(&rcgen::PKCS_ECDSA_P256_SHA256).await;
}

#[tokio::test]
async fn mtls_ed25519() {
    mtls_with(&rcgen::PKCS_ED25519).await;
}

#[tokio::test]
async fn mtls_rsa2048() {
    mtls_with(&rcgen::PKCS_RSA_SHA256).await;
}

#[tokio::test]
async fn policy_selects_suite_and_group() {
    let ca = Ca::p256("example.org");
    let provider = provider("ring");
    let mut server = config(
        ca.svid("spiffe://example.org/server"),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &provider,
    );
    server.policy.suites = Some(vec!["TLS_CHACHA20_POLY1305_SHA256".into()]);
    server.policy.groups = Some(vec!["secp384r1".into()]);
    let client = config(
        ca.svid("spiffe://example.org/client"),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &provider,
    );
    let (s, c) = handshake(&server, &client, ConnectOptions::default()).await;
    let (s, c) = (s.unwrap(), c.unwrap());
    assert_eq!(s.peer.suite, "TLS_CHACHA20_POLY1305_SHA256");
    assert_eq!(c.peer.group.as_deref(), Some("secp384r1"));

    let mut unknown = server.clone();
    unknown.policy.suites = Some(vec!["TLS_NOT_A_SUITE".into()]);
    assert!(matches!(
        RUSTLS_STACK.acceptor(&unknown),
        Err(TlsError::Config(
            meshtls_tls_core::ConfigError::Unsupported {
                what: "cipher suite",
                ..
            }
        ))
    ));
    let mut unknown = server.clone();
    unknown.policy.groups = Some(vec!["ffdhe2048".into()]);
    assert!(RUSTLS_STACK.connector(&unknown).is_err());
}

// === Rotation ===

#[tokio::test]
async fn rotation_leaves_live_connections_alone() {
    let old_ca = Ca::p256("example.org");
    let new_ca = Ca::p256("example.org");
    let provider = provider("aws-lc");
    let both = merged([old_ca.bundle(), new_ca.bundle()]);
    let server = config(
        old_ca.svid("spiffe://example.org/server-v1"),
        both.clone(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &provider,
    );
    let client = config(
        old_ca.svid("spiffe://example.org/client"),
        both.clone(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &provider,
    );
    let acceptor = RUSTLS_STACK.acceptor(&server).unwrap();
    let connector = RUSTLS_STACK.connector(&client).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    // Server handshakes are reported one by one, so that the first is known to be complete
    // (the server verifies a TLS 1.3 client after the client is done) before rotating.
    let (served_tx, mut served) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            if served_tx
                .send(acceptor.accept(Box::new(tcp)).await)
                .is_err()
            {
                break;
            }
        }
    });
    let mut next_served = async || {
        tokio::time::timeout(LIMIT, served.recv())
            .await
            .unwrap()
            .unwrap()
    };
    let mut first = connector
        .connect(
            Box::new(TcpStream::connect(addr).await.unwrap()),
            ConnectOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(first.peer.peer_id, id("spiffe://example.org/server-v1"));
    let mut first_served = next_served().await.unwrap();
    assert_eq!(first_served.peer.peer_id, id("spiffe://example.org/client"));

    // Stream from the client while the server rotates to a new CA's SVID and drops the old
    // CA from its bundle.
    let chunk = [0x5au8; 1024];
    for _ in 0..8 {
        first.io.write_all(&chunk).await.unwrap();
    }
    let generation = server.identity.rotate(
        new_ca.svid("spiffe://example.org/server-v2"),
        new_ca.bundle(),
    );
    assert_eq!(generation, 1);
    for _ in 0..8 {
        first.io.write_all(&chunk).await.unwrap();
    }
    first.io.flush().await.unwrap();

    // A new client handshake (the client's SVID is from the old CA: now untrusted).
    let second = connector
        .connect(
            Box::new(TcpStream::connect(addr).await.unwrap()),
            ConnectOptions::default(),
        )
        .await;
    // The client rotates too; the next handshake succeeds on the new SVIDs.
    client
        .identity
        .rotate(new_ca.svid("spiffe://example.org/client-v2"), both.clone());
    let third = connector
        .connect(
            Box::new(TcpStream::connect(addr).await.unwrap()),
            ConnectOptions {
                expect_id: Some(id("spiffe://example.org/server-v2")),
                server_name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(third.peer.peer_id, id("spiffe://example.org/server-v2"));
    assert_eq!(
        third.peer.peer_chain[0],
        server.identity.current().svid.chain()[0]
    );
    drop(second);
    assert!(matches!(
        next_served().await,
        Err(TlsError::Peer(PeerError::UntrustedChain(_)))
    ));
    let third_served = next_served().await.unwrap();
    assert_eq!(
        third_served.peer.peer_id,
        id("spiffe://example.org/client-v2")
    );

    // Everything written before and after the rotation arrives on the old connection, which
    // still answers with the state it was established with.
    let mut received = vec![0u8; chunk.len() * 16];
    tokio::time::timeout(LIMIT, first_served.io.read_exact(&mut received))
        .await
        .unwrap()
        .unwrap();
    assert!(received.iter().all(|b| *b == 0x5a));
    first_served.io.write_all(b"still here").await.unwrap();
    first_served.io.flush().await.unwrap();
    let mut reply = [0u8; 10];
    first.io.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"still here");
}

// === Rejections by our verifier ===

/// A server of `example.org` trusting `bundles` with `authorizer`, on ring, TLS 1.3.
fn example_server(ca: &Ca, bundles: TrustBundleSet, authorizer: Authorizer) -> StackConfig {
    config(
        ca.svid("spiffe://example.org/server"),
        bundles,
        authorizer,
        &[TlsVersion::Tls13],
        &provider("ring"),
    )
}

async fn client_rejected_by(
    server: &StackConfig,
    client_svid: Svid,
    client_bundles: TrustBundleSet,
) -> PeerError {
    let client = config(
        client_svid,
        client_bundles,
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &server.provider,
    );
    server_rejected(
        handshake(server, &client, ConnectOptions::default())
            .await
            .0,
    )
}

#[tokio::test]
async fn untrusted_ca_is_untrusted_chain() {
    let ca = Ca::p256("example.org");
    let stranger = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let reason = client_rejected_by(
        &server,
        stranger.svid("spiffe://example.org/c"),
        ca.bundle(),
    )
    .await;
    assert!(matches!(reason, PeerError::UntrustedChain(_)), "{reason:?}");
}

#[tokio::test]
async fn expired_leaf_is_expired_on_both_sides() {
    let ca = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let mut params = svid_params(&["spiffe://example.org/c"]);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2021, 1, 1);
    let reason = client_rejected_by(&server, ca.svid_from(&params), ca.bundle()).await;
    assert_eq!(reason, PeerError::Expired);

    // The client rejects an expired server, and the server hears of it by alert.
    let expired_server = config(
        ca.svid_from(&{
            let mut p = params.clone();
            p.subject_alt_names = vec![uri("spiffe://example.org/server")];
            p
        }),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &server.provider,
    );
    let client = config(
        ca.svid("spiffe://example.org/c"),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &server.provider,
    );
    let (s, c) = handshake(&expired_server, &client, ConnectOptions::default()).await;
    assert_eq!(server_rejected(c), PeerError::Expired);
    assert!(
        matches!(&s, Err(TlsError::AlertReceived(a)) if a == "certificate_unknown"),
        "{s:?}"
    );
}

#[tokio::test]
async fn other_trust_domain_is_wrong_trust_domain() {
    let ca = Ca::p256("example.org");
    let partner = Ca::p256("partner.org");
    // The server holds the partner's bundle but allows only its own trust domain.
    let server = example_server(
        &ca,
        merged([ca.bundle(), partner.bundle()]),
        Authorizer::new(vec![AuthzRule::TrustDomain(ca.trust_domain())]),
    );
    let reason =
        client_rejected_by(&server, partner.svid("spiffe://partner.org/c"), ca.bundle()).await;
    assert_eq!(reason, PeerError::WrongTrustDomain("partner.org".into()));
    // Without its bundle, and with no rule about trust domains: unknown.
    let open = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let reason =
        client_rejected_by(&open, partner.svid("spiffe://partner.org/c"), ca.bundle()).await;
    assert_eq!(reason, PeerError::UnknownTrustDomain("partner.org".into()));
}

#[tokio::test]
async fn id_outside_the_rules_is_not_allowed() {
    let ca = Ca::p256("example.org");
    let server = example_server(
        &ca,
        ca.bundle(),
        Authorizer::new(vec![AuthzRule::PathPrefix(id(
            "spiffe://example.org/ns/prod",
        ))]),
    );
    let reason = client_rejected_by(
        &server,
        ca.svid("spiffe://example.org/ns/dev/web"),
        ca.bundle(),
    )
    .await;
    assert_eq!(
        reason,
        PeerError::IdNotAllowed("spiffe://example.org/ns/dev/web".into())
    );
    let client = config(
        ca.svid("spiffe://example.org/ns/prod/web"),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &server.provider,
    );
    let (s, c) = handshake(&server, &client, ConnectOptions::default()).await;
    assert!(s.is_ok() && c.is_ok());
}

#[tokio::test]
async fn client_checks_the_expected_id() {
    let ca = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let client = config(
        ca.svid("spiffe://example.org/c"),
        ca.bundle(),
        Authorizer::any_trusted(),
        &[TlsVersion::Tls13],
        &server.provider,
    );
    let options = ConnectOptions {
        expect_id: Some(id("spiffe://example.org/db")),
        server_name: None,
    };
    let (_, c) = handshake(&server, &client, options).await;
    assert_eq!(
        server_rejected(c),
        PeerError::UnexpectedId {
            expected: "spiffe://example.org/db".into(),
            got: "spiffe://example.org/server".into()
        }
    );
}

// === Raw rustls clients presenting what no Svid can hold ===

/// Accepts any server certificate (checking only handshake signatures): these clients exist
/// to probe the server.
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

/// What the server says of a raw client presenting `cert` (None: no certificate).
async fn server_verdict(
    server: &StackConfig,
    cert: Option<(Vec<CertificateDer<'static>>, PrivatePkcs8KeyDer<'static>)>,
) -> PeerError {
    let builder = rustls::ClientConfig::builder_with_provider(server.provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(server.provider.clone())));
    let client = match cert {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, PrivateKeyDer::Pkcs8(key))
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let acceptor = RUSTLS_STACK.acceptor(server).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = async {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(Box::new(tcp)).await
    };
    let dial = async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("meshtls.invalid").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
            .connect(name, tcp)
            .await?;
        // TLS 1.3: the client finishes first; reading surfaces the server's verdict.
        let mut byte = [0u8; 1];
        tls.read(&mut byte).await
    };
    let (served, _) = tokio::time::timeout(LIMIT, async { tokio::join!(serve, dial) })
        .await
        .expect("handshake timed out");
    server_rejected(served)
}

#[tokio::test]
async fn two_uri_sans_are_rejected() {
    let ca = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let (leaf, key) = ca.sign(&svid_params(&[
        "spiffe://example.org/a",
        "spiffe://example.org/b",
    ]));
    assert_eq!(
        server_verdict(&server, Some((vec![leaf], key))).await,
        PeerError::MultipleUriSans(2)
    );
}

#[tokio::test]
async fn ca_certificate_as_leaf_is_rejected() {
    let ca = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    let key = PrivatePkcs8KeyDer::from(ca.key.serialize_der());
    assert_eq!(
        server_verdict(&server, Some((vec![ca.cert.clone()], key))).await,
        PeerError::CaAsLeaf
    );
}

#[tokio::test]
async fn client_without_certificate_is_rejected() {
    let ca = Ca::p256("example.org");
    let server = example_server(&ca, ca.bundle(), Authorizer::any_trusted());
    assert_eq!(
        server_verdict(&server, None).await,
        PeerError::NoCertificate
    );
}
