//! RFC 8998 (TLS 1.3 with SM4, SM3, curveSM2 and sm2sig_sm3) through the rustls stack, end
//! to end over real TCP on 127.0.0.1, with SM2 SVIDs from `meshtls-ca`.
//!
//! Covers: both SM suites with mutual authentication, on engines composed per algorithm;
//! mixed SM + standard listeners under each [`SmPreference`] against SM-only, standard-only
//! and both-offering clients; SM-only against standard-only failing with typed errors;
//! untrusted SM2 CAs and CertificateVerify signatures made with the wrong SM2 signer ID
//! rejected in both directions (by raw rustls peers, so that only the checked side is ours);
//! rotation into SM; and the SM3 hash and HKDF adapters against the SM engine's own.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use meshtls_ca::{CertificateAuthority, IssuedSvid, KeyType};
use meshtls_tests::pair::{self, Outcome};
use meshtls_tests::pki;
use meshtls_tls_core::autoselect::AutoSelect;
use meshtls_tls_core::compose::{self, rfc8998};
use meshtls_tls_core::policy::{Choice, Policy};
use meshtls_tls_core::spiffe::{Authorizer, Svid, TrustBundleSet};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::{
    ConnectOptions, PeerInfo, SmPreference, StackConfig, TlsPolicy, TlsStack,
};
use meshtls_tls_core::{
    AlgorithmId, IdentityStore, PeerError, Registry, SigScheme, SvidSet, TlsError,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::hash::HashAlgorithm;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, Signer, SigningKey, SingleCertAndKey};
use rustls::{DigitallySignedStruct, SignatureAlgorithm, SignatureScheme, SupportedCipherSuite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TD: &str = "sm.example";
const SERVER_ID: &str = "spiffe://sm.example/server";
const CLIENT_ID: &str = "spiffe://sm.example/client";
const LIMIT: Duration = Duration::from_secs(20);
const SM_SUITES: [&str; 2] = ["TLS_SM4_GCM_SM3", "TLS_SM4_CCM_SM3"];

// === Providers ===

/// Every engine, the SM one included.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new(vec![
            &meshtls_engine_aws_lc::ENGINE,
            &meshtls_engine_ring::ENGINE,
            &meshtls_engine_openssl::ENGINE,
            &meshtls_engine_boring::ENGINE,
            &meshtls_engine_sm::ENGINE,
        ])
    })
}

/// A provider naming an engine for every algorithm (never measuring): the `--backend` specs
/// given, then aws-lc, then the SM engine, then the first engine that has the algorithm.
fn provider(backends: &[&str]) -> Arc<CryptoProvider> {
    let mut policy = Policy::from_backends(backends).expect("test backends parse");
    for &id in AlgorithmId::ALL {
        if let (Choice::Auto, _) = policy.choice(id) {
            let engine = ["aws-lc", "sm"]
                .into_iter()
                .find(|name| {
                    registry()
                        .engine(name)
                        .is_some_and(|e| e.find(id).is_some())
                })
                .or_else(|| {
                    registry()
                        .engines()
                        .iter()
                        .find(|e| e.find(id).is_some())
                        .map(|e| e.name)
                });
            if let Some(engine) = engine {
                policy.set(id, Choice::Engine(engine.to_owned()));
            }
        }
    }
    let no_measuring = AutoSelect {
        cache_dir: None,
        ..AutoSelect::default()
    };
    let selection = registry()
        .select(&policy, &no_measuring)
        .expect("policy resolves");
    compose::provider(&selection)
}

/// SM4, SM3, curveSM2 and SM2 all from the SM engine.
fn sm_engine() -> Arc<CryptoProvider> {
    provider(&[])
}

/// SM3, curveSM2 and SM2 from OpenSSL; SM4-GCM/CCM from the SM engine (OpenSSL 3.0 has none).
fn openssl_sm() -> Arc<CryptoProvider> {
    provider(&[
        "sm4-gcm=sm",
        "sm4-ccm=sm",
        "sm3=openssl",
        "curvesm2=openssl",
        "sm2=openssl",
    ])
}

// === Certificates ===

/// An SM2 CA and an ECDSA CA for one trust domain, both in the bundle.
struct Pki {
    sm2: CertificateAuthority,
    ecdsa: CertificateAuthority,
}

/// Which SVIDs a workload holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Creds {
    /// Only an SM2 SVID.
    Sm2,
    /// Only an ECDSA P-256 SVID.
    Ecdsa,
    /// An ECDSA SVID (the default) and an SM2 alternate.
    Both,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            sm2: pki::root_ca(TD, KeyType::Sm2),
            ecdsa: pki::root_ca(TD, KeyType::EcdsaP256),
        }
    }

    fn bundles(&self) -> TrustBundleSet {
        pki::bundles(&[&self.sm2, &self.ecdsa])
    }

    fn svid_set(&self, id: &str, creds: Creds) -> SvidSet {
        let sm2 = || to_svid(&pki::svid(&self.sm2, id, KeyType::Sm2));
        let ecdsa = || to_svid(&pki::svid(&self.ecdsa, id, KeyType::EcdsaP256));
        match creds {
            Creds::Sm2 => SvidSet::single(sm2()),
            Creds::Ecdsa => SvidSet::single(ecdsa()),
            Creds::Both => SvidSet {
                svid: ecdsa(),
                alternates: vec![sm2()],
                encryption: None,
            },
        }
    }

    fn identity(&self, id: &str, creds: Creds) -> Arc<IdentityStore> {
        IdentityStore::with_set(self.svid_set(id, creds), self.bundles())
    }
}

fn to_svid(issued: &IssuedSvid) -> Svid {
    issued.to_svid().expect("issued SVID loads")
}

fn policy(suites: Option<&[&str]>, sm_preference: SmPreference) -> TlsPolicy {
    TlsPolicy {
        suites: suites.map(|s| s.iter().map(|n| n.to_string()).collect()),
        sm_preference,
        ..TlsPolicy::default()
    }
}

fn config(
    identity: Arc<IdentityStore>,
    policy: TlsPolicy,
    provider: Arc<CryptoProvider>,
) -> StackConfig {
    StackConfig {
        identity,
        authorizer: Authorizer::any_trusted(),
        policy,
        provider,
    }
}

/// One handshake and data both ways between a fresh acceptor and connector.
async fn run(server: &StackConfig, client: &StackConfig) -> Outcome {
    let acceptor = RUSTLS_STACK.acceptor(server).expect("acceptor builds");
    let connector = RUSTLS_STACK.connector(client).expect("connector builds");
    pair::run_pair(acceptor, connector, expect_server()).await
}

fn expect_server() -> ConnectOptions {
    ConnectOptions {
        expect_id: Some(pki::id(SERVER_ID)),
        server_name: None,
    }
}

/// Whether a peer's leaf certificate carries an SM2 key (the curve OID 1.2.156.10197.1.301).
fn sm2_leaf(peer: &PeerInfo) -> bool {
    const SM2_CURVE: [u8; 10] = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
    peer.peer_chain[0]
        .as_ref()
        .windows(SM2_CURVE.len())
        .any(|w| w == SM2_CURVE)
}

/// Asserts a successful SM handshake on both sides with `suite`.
fn assert_sm(outcome: &Outcome, suite: &str) {
    let server = outcome.server.as_ref().expect("server handshake");
    let client = outcome.client.as_ref().expect("client handshake");
    for (side, peer, id) in [("server", server, CLIENT_ID), ("client", client, SERVER_ID)] {
        assert_eq!(peer.version, "TLSv1.3", "{side}");
        assert_eq!(peer.suite, suite, "{side}");
        assert_eq!(peer.group.as_deref(), Some("curveSM2"), "{side}");
        assert_eq!(peer.peer_id.to_string(), id, "{side}");
        // An SM2 key signs only sm2sig_sm3 in TLS 1.3: its leaf proves the scheme used.
        assert!(sm2_leaf(peer), "{side} saw a non-SM2 peer certificate");
    }
}

/// The family a successful handshake ended in, checked to agree on both sides.
fn family(outcome: &Outcome) -> &'static str {
    let server = outcome.server.as_ref().expect("server handshake");
    let client = outcome.client.as_ref().expect("client handshake");
    assert_eq!(server.suite, client.suite);
    let sm = SM_SUITES.contains(&client.suite.as_str());
    assert_eq!(client.group.as_deref() == Some("curveSM2"), sm);
    assert_eq!(sm2_leaf(server), sm, "client certificate family");
    assert_eq!(sm2_leaf(client), sm, "server certificate family");
    if sm {
        "sm"
    } else {
        "standard"
    }
}

// === Handshakes ===

#[tokio::test]
async fn both_sm_suites_with_mutual_auth_on_composed_engines() {
    let pki = Pki::new();
    let engines = [("sm", sm_engine()), ("openssl+sm", openssl_sm())];
    for suite in SM_SUITES {
        for (server_name, server_provider) in &engines {
            for (client_name, client_provider) in &engines {
                let only = policy(Some(&[suite]), SmPreference::FollowClient);
                let server = config(
                    pki.identity(SERVER_ID, Creds::Sm2),
                    TlsPolicy {
                        groups: Some(vec!["curveSM2".into()]),
                        ..only.clone()
                    },
                    server_provider.clone(),
                );
                let client = config(
                    pki.identity(CLIENT_ID, Creds::Sm2),
                    only,
                    client_provider.clone(),
                );
                let outcome = run(&server, &client).await;
                eprintln!("{suite}: server on {server_name}, client on {client_name}");
                assert_sm(&outcome, suite);
            }
        }
    }
}

#[tokio::test]
async fn mixed_listener_follows_client_and_preference() {
    let pki = Pki::new();
    let provider = sm_engine();
    // Clients: SM-only by policy, standard-only by credentials, and both-offering with the
    // standard family first (default) or SM first.
    let sm_only = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(Some(&SM_SUITES), SmPreference::FollowClient),
        provider.clone(),
    );
    let standard_only = config(
        pki.identity(CLIENT_ID, Creds::Ecdsa),
        TlsPolicy::default(),
        provider.clone(),
    );
    let standard_first = config(
        pki.identity(CLIENT_ID, Creds::Both),
        TlsPolicy::default(),
        provider.clone(),
    );
    let sm_first = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(None, SmPreference::PreferSm),
        provider.clone(),
    );
    let clients = [
        ("sm-only", &sm_only),
        ("standard-only", &standard_only),
        ("standard-first", &standard_first),
        ("sm-first", &sm_first),
    ];
    let expected = |server: SmPreference, client: &str| match (server, client) {
        (_, "sm-only") => "sm",
        (_, "standard-only") => "standard",
        (SmPreference::PreferSm, _) => "sm",
        (SmPreference::PreferStandard, _) => "standard",
        (SmPreference::FollowClient, "sm-first") => "sm",
        (SmPreference::FollowClient, _) => "standard",
    };
    for preference in [
        SmPreference::FollowClient,
        SmPreference::PreferSm,
        SmPreference::PreferStandard,
    ] {
        let server = config(
            pki.identity(SERVER_ID, Creds::Both),
            policy(None, preference),
            provider.clone(),
        );
        for (name, client) in clients {
            let outcome = run(&server, client).await;
            let got = family(&outcome);
            assert_eq!(got, expected(preference, name), "{preference:?} vs {name}");
            let suite = &outcome.client.as_ref().unwrap().suite;
            if got == "sm" {
                assert_eq!(suite, "TLS_SM4_GCM_SM3", "{preference:?} vs {name}");
            } else {
                assert_eq!(suite, "TLS_AES_128_GCM_SHA256", "{preference:?} vs {name}");
            }
        }
    }
}

#[tokio::test]
async fn a_server_offers_only_the_families_its_svids_allow() {
    let pki = Pki::new();
    let provider = sm_engine();
    let both = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(None, SmPreference::PreferSm),
        provider.clone(),
    );
    // Only an ECDSA SVID: SM is never chosen, even for a client preferring it.
    let ecdsa = config(
        pki.identity(SERVER_ID, Creds::Ecdsa),
        policy(None, SmPreference::PreferSm),
        provider.clone(),
    );
    assert_eq!(family(&run(&ecdsa, &both).await), "standard");
    // Only an SM2 SVID: only SM, even for a client preferring standard.
    let sm2 = config(
        pki.identity(SERVER_ID, Creds::Sm2),
        policy(None, SmPreference::PreferStandard),
        provider.clone(),
    );
    let standard_first = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(None, SmPreference::PreferStandard),
        provider.clone(),
    );
    assert_eq!(family(&run(&sm2, &standard_first).await), "sm");
}

/// rustls' refusal of a hello it shares nothing with (no suite, or for an SM-only client
/// not even a group: the first missing part is named).
fn incompatible(r: &Result<PeerInfo, TlsError>) -> bool {
    matches!(r, Err(TlsError::Handshake(why))
        if why.contains("NoCipherSuitesInCommon") || why.contains("NoKxGroupsInCommon"))
}

#[tokio::test]
async fn sm_only_and_standard_only_peers_fail_with_typed_errors() {
    let pki = Pki::new();
    let provider = sm_engine();
    let sm_only_client = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(Some(&SM_SUITES), SmPreference::FollowClient),
        provider.clone(),
    );
    let standard_server = config(
        pki.identity(SERVER_ID, Creds::Ecdsa),
        TlsPolicy::default(),
        provider.clone(),
    );
    let outcome = run(&standard_server, &sm_only_client).await;
    assert!(
        incompatible(&outcome.server),
        "server: {:?}",
        outcome.server
    );
    assert!(
        matches!(&outcome.client, Err(TlsError::AlertReceived(alert)) if alert == "handshake_failure"),
        "client: {:?}",
        outcome.client
    );

    // The reverse: an SM-only server (policy) and a client without an SM2 SVID.
    let sm_server = config(
        pki.identity(SERVER_ID, Creds::Both),
        policy(Some(&SM_SUITES), SmPreference::FollowClient),
        provider.clone(),
    );
    let standard_client = config(
        pki.identity(CLIENT_ID, Creds::Ecdsa),
        TlsPolicy::default(),
        provider,
    );
    let outcome = run(&sm_server, &standard_client).await;
    assert!(
        incompatible(&outcome.server),
        "server: {:?}",
        outcome.server
    );
    assert!(
        matches!(&outcome.client, Err(TlsError::AlertReceived(alert)) if alert == "handshake_failure"),
        "client: {:?}",
        outcome.client
    );
}

#[tokio::test]
async fn untrusted_sm2_ca_is_rejected_both_ways() {
    let pki = Pki::new();
    let rogue = pki::root_ca(TD, KeyType::Sm2);
    let provider = sm_engine();
    let sm_only = policy(Some(&SM_SUITES), SmPreference::FollowClient);
    let rogue_identity = |id: &str| {
        IdentityStore::with_set(
            SvidSet::single(to_svid(&pki::svid(&rogue, id, KeyType::Sm2))),
            pki.bundles(),
        )
    };
    let untrusted = |r: &Result<PeerInfo, TlsError>| {
        matches!(r, Err(TlsError::Peer(PeerError::UntrustedChain(_))))
    };

    // A client SVID from the rogue CA: the server refuses it.
    let server = config(
        pki.identity(SERVER_ID, Creds::Sm2),
        sm_only.clone(),
        provider.clone(),
    );
    let client = config(rogue_identity(CLIENT_ID), sm_only.clone(), provider.clone());
    let outcome = run(&server, &client).await;
    assert!(untrusted(&outcome.server), "server: {:?}", outcome.server);
    assert!(outcome.client.is_err(), "client: {:?}", outcome.client);

    // A server SVID from the rogue CA: the client refuses it.
    let server = config(rogue_identity(SERVER_ID), sm_only.clone(), provider.clone());
    let client = config(pki.identity(CLIENT_ID, Creds::Sm2), sm_only, provider);
    let outcome = run(&server, &client).await;
    assert!(untrusted(&outcome.client), "client: {:?}", outcome.client);
    assert!(
        matches!(&outcome.server, Err(TlsError::AlertReceived(a)) if a == "certificate_unknown"),
        "server: {:?}",
        outcome.server
    );
}

#[tokio::test]
async fn rotation_into_sm_reaches_the_next_handshake() {
    let pki = Pki::new();
    let provider = sm_engine();
    let identity = pki.identity(SERVER_ID, Creds::Ecdsa);
    let server = config(identity.clone(), TlsPolicy::default(), provider.clone());
    let sm_client = config(
        pki.identity(CLIENT_ID, Creds::Both),
        policy(Some(&SM_SUITES), SmPreference::FollowClient),
        provider,
    );
    let acceptor = RUSTLS_STACK.acceptor(&server).unwrap();
    let connector = RUSTLS_STACK.connector(&sm_client).unwrap();
    let before = pair::run_pair(acceptor.clone(), connector.clone(), expect_server()).await;
    assert!(
        before.client.is_err(),
        "no SM2 SVID yet: {:?}",
        before.client
    );
    identity.rotate_set(pki.svid_set(SERVER_ID, Creds::Both), pki.bundles());
    let after = pair::run_pair(acceptor, connector, expect_server()).await;
    assert_eq!(family(&after), "sm");
}

// === A peer signing CertificateVerify with the wrong SM2 ID ===

/// An SM2 key that answers `sm2sig_sm3` but signs with `scheme`'s signer ID: the right one
/// (`Sm2Sm3Tls13`) or the certificate default (`Sm2Sm3`), which RFC 8998 peers must refuse.
#[derive(Debug)]
struct RawSm2Key {
    key: Arc<dyn meshtls_tls_core::engine::SigningKey>,
    scheme: SigScheme,
}

impl RawSm2Key {
    fn certified(issued: &IssuedSvid, scheme: SigScheme) -> Arc<CertifiedKey> {
        let svid = to_svid(issued);
        let engine = meshtls_engine_sm::ENGINE
            .signature(AlgorithmId::Sm2)
            .unwrap();
        let key = engine
            .load_signing_key(svid.key().secret_pkcs8_der())
            .unwrap();
        Arc::new(CertifiedKey::new(
            svid.chain().to_vec(),
            Arc::new(RawSm2Key {
                key: Arc::from(key),
                scheme,
            }),
        ))
    }
}

impl SigningKey for RawSm2Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&rfc8998::SM2SIG_SM3)
            .then(|| Box::new(RawSm2Signer(self.key.clone(), self.scheme)) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Anonymous
    }
}

#[derive(Debug)]
struct RawSm2Signer(Arc<dyn meshtls_tls_core::engine::SigningKey>, SigScheme);

impl Signer for RawSm2Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.0
            .sign(self.1, message)
            .map_err(|e| rustls::Error::General(e.to_string()))
    }

    fn scheme(&self) -> SignatureScheme {
        rfc8998::SM2SIG_SM3
    }
}

/// Trusts any server and any signature: the raw client tests only the server's checks.
#[derive(Debug)]
struct TrustAnything;

impl ServerCertVerifier for TrustAnything {
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
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![rfc8998::SM2SIG_SM3]
    }
}

/// The SM-only part of `provider`, for raw rustls peers.
fn sm_only_provider(provider: &CryptoProvider) -> Arc<CryptoProvider> {
    let mut sm = provider.clone();
    sm.cipher_suites.retain(|s| rfc8998::is_sm_suite(s.suite()));
    sm.kx_groups.retain(|g| rfc8998::is_sm_group(g.name()));
    Arc::new(sm)
}

/// Our client against a raw rustls server whose CertificateVerify uses `scheme`'s ID.
async fn raw_server(pki: &Pki, scheme: SigScheme) -> Result<PeerInfo, TlsError> {
    let provider = sm_engine();
    let key = RawSm2Key::certified(&pki::svid(&pki.sm2, SERVER_ID, KeyType::Sm2), scheme);
    let config = rustls::ServerConfig::builder_with_provider(sm_only_provider(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(key)));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        if let Ok(mut tls) = acceptor.accept(tcp).await {
            let _ = tls.write_all(b"hello").await;
            let _ = tls.shutdown().await;
        }
    });
    let client = config_for_client(pki, provider);
    let connector = RUSTLS_STACK.connector(&client).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let result = tokio::time::timeout(LIMIT, connector.connect(Box::new(tcp), expect_server()))
        .await
        .expect("handshake finishes")
        .map(|tls| tls.peer);
    server.await.unwrap();
    result
}

fn config_for_client(pki: &Pki, provider: Arc<CryptoProvider>) -> StackConfig {
    config(
        pki.identity(CLIENT_ID, Creds::Sm2),
        policy(Some(&SM_SUITES), SmPreference::FollowClient),
        provider,
    )
}

/// A raw rustls client whose CertificateVerify uses `scheme`'s ID against our server.
async fn raw_client(pki: &Pki, scheme: SigScheme) -> Result<PeerInfo, TlsError> {
    let provider = sm_engine();
    let server = config(
        pki.identity(SERVER_ID, Creds::Both),
        TlsPolicy::default(),
        provider.clone(),
    );
    let acceptor = RUSTLS_STACK.acceptor(&server).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(Box::new(tcp)).await?;
        tls.io.write_all(b"hello").await?;
        tls.io.shutdown().await?;
        Ok::<_, TlsError>(tls.peer)
    });
    let key = RawSm2Key::certified(&pki::svid(&pki.sm2, CLIENT_ID, KeyType::Sm2), scheme);
    let config = rustls::ClientConfig::builder_with_provider(sm_only_provider(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustAnything))
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key)));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("sm.example").unwrap();
    if let Ok(mut tls) = connector.connect(name, tcp).await {
        // TLS 1.3 clients finish before the server judges them: read for the verdict.
        let mut buf = Vec::new();
        let _ = tls.read_to_end(&mut buf).await;
    }
    tokio::time::timeout(LIMIT, server)
        .await
        .expect("server finishes")
        .unwrap()
}

#[tokio::test]
async fn certificate_verify_with_the_default_sm2_id_is_rejected_both_ways() {
    let pki = Pki::new();
    let bad_signature = |r: &Result<PeerInfo, TlsError>| matches!(r, Err(TlsError::Handshake(why)) if why.contains("BadSignature"));

    // Control: the RFC 8998 ID passes, so the failures below are the ID's doing.
    let good = raw_server(&pki, SigScheme::Sm2Sm3Tls13).await;
    assert_eq!(good.expect("right ID accepted").suite, "TLS_SM4_GCM_SM3");
    let bad = raw_server(&pki, SigScheme::Sm2Sm3).await;
    assert!(bad_signature(&bad), "client: {bad:?}");

    let good = raw_client(&pki, SigScheme::Sm2Sm3Tls13).await;
    assert_eq!(good.expect("right ID accepted").suite, "TLS_SM4_GCM_SM3");
    let bad = raw_client(&pki, SigScheme::Sm2Sm3).await;
    assert!(bad_signature(&bad), "server: {bad:?}");
}

// === The composed SM adapters ===

fn sm3_suite(provider: &CryptoProvider) -> &'static rustls::Tls13CipherSuite {
    provider
        .cipher_suites
        .iter()
        .find_map(|s| match s {
            SupportedCipherSuite::Tls13(t) if t.common.suite == rfc8998::TLS_SM4_GCM_SM3 => {
                Some(*t)
            }
            _ => None,
        })
        .expect("TLS_SM4_GCM_SM3 composed")
}

#[test]
fn sm3_is_never_reported_as_sha256_and_hkdf_sm3_matches_the_engine() {
    // SM3("") (GB/T 32905-2016): rustls computes it, since no precomputed value applies.
    const SM3_EMPTY: &str = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b";
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for provider in [sm_engine(), openssl_sm()] {
        let suite = sm3_suite(&provider);
        let hash = suite.common.hash_provider;
        assert_ne!(hash.algorithm(), HashAlgorithm::SHA256);
        assert!(matches!(hash.algorithm(), HashAlgorithm::Unknown(_)));
        assert_eq!(hash.output_len(), 32);
        assert_eq!(hex(hash.hash(b"").as_ref()), SM3_EMPTY);
        assert_eq!(hex(hash.start().finish().as_ref()), SM3_EMPTY);

        let (salt, ikm) = (b"rfc8998 salt".as_slice(), [0x0b; 22]);
        let prk = meshtls_engine_sm::hkdf::extract(salt, &ikm);
        let expander = suite.hkdf_provider.extract_from_secret(Some(salt), &ikm);
        for len in [1usize, 16, 32, 33, 100] {
            let info: [&[u8]; 2] = [b"tls13 ", b"key"];
            let mut want = vec![0u8; len];
            meshtls_engine_sm::hkdf::expand(&prk, &info.concat(), &mut want).unwrap();
            let mut got = vec![0u8; len];
            expander.expand_slice(&info, &mut got).unwrap();
            assert_eq!(got, want, "HKDF-SM3 expand of {len} bytes");
        }
        // Extract with no salt = HashLen zero bytes (RFC 5869 §2.2).
        let zero = meshtls_engine_sm::hkdf::extract(&[0; 32], &ikm);
        let mut want = [0u8; 32];
        meshtls_engine_sm::hkdf::expand(&zero, b"x", &mut want).unwrap();
        let mut got = [0u8; 32];
        suite
            .hkdf_provider
            .extract_from_secret(None, &ikm)
            .expand_slice(&[b"x"], &mut got)
            .unwrap();
        assert_eq!(got, want);
    }
}

#[test]
fn sm_entries_follow_the_standard_ones_and_use_the_named_engines() {
    let provider = sm_engine();
    let suites: Vec<_> = provider.cipher_suites.iter().map(|s| s.suite()).collect();
    let first_sm = suites
        .iter()
        .position(|s| rfc8998::is_sm_suite(*s))
        .unwrap();
    assert_eq!(
        &suites[first_sm..],
        [rfc8998::TLS_SM4_GCM_SM3, rfc8998::TLS_SM4_CCM_SM3]
    );
    assert_eq!(
        provider.kx_groups.last().map(|g| g.name()),
        Some(rfc8998::CURVE_SM2)
    );
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    assert_eq!(schemes.last(), Some(&rfc8998::SM2SIG_SM3));

    // `--backend` per algorithm holds for the SM suites too.
    let policy = Policy::from_backends(["sm4-gcm=sm", "sm3=openssl", "sm2=openssl"]).unwrap();
    let no_measuring = AutoSelect {
        cache_dir: None,
        ..AutoSelect::default()
    };
    let selection = registry().select(&policy, &no_measuring).unwrap();
    assert_eq!(selection.engine(AlgorithmId::Sm4Gcm).unwrap().name, "sm");
    assert_eq!(selection.engine(AlgorithmId::Sm3).unwrap().name, "openssl");
    assert_eq!(selection.engine(AlgorithmId::Sm2).unwrap().name, "openssl");

    // SM2 signatures cross engines with the TLS 1.3 ID, and the IDs never mix.
    let msg = b"TLS 1.3, server CertificateVerify";
    let sm = meshtls_engine_sm::ENGINE
        .signature(AlgorithmId::Sm2)
        .unwrap();
    let ossl = meshtls_engine_openssl::ENGINE
        .signature(AlgorithmId::Sm2)
        .unwrap();
    let key = sm.load_signing_key(&sm.generate_key().unwrap()).unwrap();
    let public = key.public_key();
    let sig = key.sign(SigScheme::Sm2Sm3Tls13, msg).unwrap();
    ossl.verify(SigScheme::Sm2Sm3Tls13, &public, msg, &sig)
        .unwrap();
    assert!(ossl.verify(SigScheme::Sm2Sm3, &public, msg, &sig).is_err());
    let key = ossl
        .load_signing_key(&ossl.generate_key().unwrap())
        .unwrap();
    let sig = key.sign(SigScheme::Sm2Sm3Tls13, msg).unwrap();
    sm.verify(SigScheme::Sm2Sm3Tls13, &key.public_key(), msg, &sig)
        .unwrap();
}
