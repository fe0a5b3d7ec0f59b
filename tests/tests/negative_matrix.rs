//! Every stack rejects bad peers, each for its own typed reason.
//!
//! The bad side is a raw rustls peer that presents whatever chain the case gives it (or
//! none) and checks nothing, so the verdict is the meshtls stack's alone:
//! - server side: every server stack against a raw client, for every case;
//! - client side: every client stack against a raw server, for every case where a server
//!   can be at fault (all but "no client certificate"), plus an unexpected server ID.
//!
//! Both TLS versions, since the verification hooks differ between them in every stack.

use std::sync::Arc;

use meshtls_ca::{IssuedSvid, KeyType};
use meshtls_tests::pki;
use meshtls_tests::raw;
use meshtls_tests::stacks::{all_stacks, StackUnderTest, Variant};
use meshtls_tls_core::spiffe::{Authorizer, AuthzRule, TrustBundleSet};
use meshtls_tls_core::stack::{ConnectOptions, TlsVersion};
use meshtls_tls_core::{PeerError, TlsError};
use rustls::crypto::CryptoProvider;
use tokio::sync::Semaphore;

const CONCURRENCY: usize = 6;
const TD_A: &str = "a.test";
const TD_B: &str = "b.test";
const ME: &str = "spiffe://a.test/me";
const PEER: &str = "spiffe://a.test/peer";
const INTRUDER: &str = "spiffe://a.test/intruder";
const FOREIGN: &str = "spiffe://b.test/peer";

/// What the verifying side must report.
#[derive(Clone, Debug)]
enum Expect {
    /// Exactly this error.
    Exactly(PeerError),
    /// An error with this label (its message text is the stack's own).
    Label(&'static str),
}

impl Expect {
    fn matches(&self, got: &PeerError) -> bool {
        match self {
            Expect::Exactly(want) => want == got,
            Expect::Label(label) => got.label() == *label,
        }
    }
}

/// One bad peer: what it presents, what the verifier trusts and allows, what it must say.
#[derive(Clone)]
struct Case {
    name: &'static str,
    /// The bad peer's chain; `None`: it presents no certificate.
    presented: Option<Arc<IssuedSvid>>,
    bundles: TrustBundleSet,
    authorizer: Authorizer,
    /// The expected server ID a client asks for (client-side cases only).
    expect_id: Option<&'static str>,
    expect: Expect,
}

/// Everything the cases are made of.
struct World {
    me: IssuedSvid,
    cases: Vec<Case>,
}

fn world() -> World {
    let ca_a = pki::root_ca(TD_A, KeyType::EcdsaP256);
    let ca_b = pki::root_ca(TD_B, KeyType::EcdsaP256);
    let rogue_a = pki::root_ca(TD_A, KeyType::EcdsaP256);
    let me = pki::svid(&ca_a, ME, KeyType::EcdsaP256);
    let only_a = pki::bundles(&[&ca_a]);
    let a_and_b = pki::bundles(&[&ca_a, &ca_b]);
    let allow_peer = Authorizer::new(vec![AuthzRule::Exact(pki::id(PEER))]);
    let allow_td_a = Authorizer::new(vec![AuthzRule::TrustDomain(pki::td(TD_A))]);
    let case = |name,
                presented: Option<IssuedSvid>,
                bundles: &TrustBundleSet,
                authorizer: &Authorizer,
                expect| Case {
        name,
        presented: presented.map(Arc::new),
        bundles: bundles.clone(),
        authorizer: authorizer.clone(),
        expect_id: None,
        expect,
    };
    let mut cases = vec![
        case(
            "untrusted CA",
            Some(pki::svid(&rogue_a, PEER, KeyType::EcdsaP256)),
            &only_a,
            &allow_peer,
            Expect::Label("untrusted_chain"),
        ),
        case(
            "expired leaf",
            Some(pki::expired_svid(&ca_a, PEER, KeyType::EcdsaP256)),
            &only_a,
            &allow_peer,
            Expect::Exactly(PeerError::Expired),
        ),
        case(
            "wrong trust domain",
            Some(pki::svid(&ca_b, FOREIGN, KeyType::EcdsaP256)),
            &a_and_b,
            &allow_td_a,
            Expect::Exactly(PeerError::WrongTrustDomain(TD_B.into())),
        ),
        case(
            "ID not allowed",
            Some(pki::svid(&ca_a, INTRUDER, KeyType::EcdsaP256)),
            &only_a,
            &allow_peer,
            Expect::Exactly(PeerError::IdNotAllowed(INTRUDER.into())),
        ),
        case(
            "two URI SANs",
            Some(pki::two_uri_svid(&ca_a, PEER, INTRUDER)),
            &only_a,
            &allow_peer,
            Expect::Exactly(PeerError::MultipleUriSans(2)),
        ),
        case(
            "CA cert as leaf",
            Some(pki::ca_as_leaf(&ca_a)),
            &only_a,
            &allow_peer,
            Expect::Exactly(PeerError::CaAsLeaf),
        ),
        case(
            "no client certificate",
            None,
            &only_a,
            &allow_peer,
            Expect::Exactly(PeerError::NoCertificate),
        ),
    ];
    let mut unexpected = case(
        "unexpected server ID",
        Some(pki::svid(&ca_a, INTRUDER, KeyType::EcdsaP256)),
        &only_a,
        &Authorizer::any_trusted(),
        Expect::Exactly(PeerError::UnexpectedId {
            expected: PEER.into(),
            got: INTRUDER.into(),
        }),
    );
    unexpected.expect_id = Some(PEER);
    cases.push(unexpected);
    World { me, cases }
}

/// Which side judges.
#[derive(Clone, Copy, Debug)]
enum Side {
    Server,
    Client,
}

async fn run_case(
    side: Side,
    stack: StackUnderTest,
    version: TlsVersion,
    case: Case,
    me: Arc<IssuedSvid>,
    raw_provider: Arc<CryptoProvider>,
) -> Result<(), String> {
    let config = stack.config(
        &me,
        case.bundles.clone(),
        case.authorizer.clone(),
        pki::only(version),
    );
    let verdict = match side {
        Side::Server => {
            let acceptor = stack
                .acceptor(&config)
                .map_err(|e| format!("acceptor: {e}"))?;
            let client = raw::client(raw_provider, version, case.presented.as_deref());
            raw::server_verdict(acceptor, client).await
        }
        Side::Client => {
            let Some(presented) = case.presented.as_deref() else {
                return Err("client-side case without a server certificate".into());
            };
            let connector = stack
                .connector(&config)
                .map_err(|e| format!("connector: {e}"))?;
            let server = raw::server(raw_provider, version, presented);
            let options = ConnectOptions {
                expect_id: case.expect_id.map(pki::id),
                server_name: None,
            };
            raw::client_verdict(connector, server, options).await
        }
    };
    match verdict {
        Err(TlsError::Peer(got)) if case.expect.matches(&got) => Ok(()),
        // BoringSSL refuses a TLS 1.3 leaf without digitalSignature while parsing it, before
        // any callback, and keeps no certificate to classify further: the reason it can give
        // is the key-usage rule the CA certificate breaks.
        Err(TlsError::Peer(PeerError::BadKeyUsage(_)))
            if stack.name == "boring"
                && version == TlsVersion::Tls13
                && matches!(case.expect, Expect::Exactly(PeerError::CaAsLeaf)) =>
        {
            Ok(())
        }
        Err(TlsError::Peer(got)) => Err(format!("wrong reason: {got:?}, want {:?}", case.expect)),
        Err(other) => Err(format!(
            "untyped failure: {other:?}, want {:?}",
            case.expect
        )),
        Ok(peer) => Err(format!("accepted {}", peer.peer_id)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stack_rejects_bad_peers_with_typed_reasons() {
    let world = world();
    let me = Arc::new(world.me);
    let raw_provider = Variant::AwsLc.provider();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for stack in all_stacks() {
        for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
            for case in &world.cases {
                let sides: &[Side] = match (case.presented.is_some(), case.expect_id.is_some()) {
                    (false, _) => &[Side::Server],
                    (true, true) => &[Side::Client],
                    (true, false) => &[Side::Server, Side::Client],
                };
                for &side in sides {
                    let label =
                        format!("{:?} {} {} {}", side, stack.name, version.name(), case.name);
                    let run = run_case(
                        side,
                        stack.clone(),
                        version,
                        case.clone(),
                        me.clone(),
                        raw_provider.clone(),
                    );
                    let permits = permits.clone();
                    tasks.push(tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await.expect("semaphore open");
                        (label, run.await)
                    }));
                }
            }
        }
    }
    let total = tasks.len();
    let mut failed = Vec::new();
    for task in tasks {
        if let (label, Err(why)) = task.await.expect("case task") {
            failed.push(format!("{label}: {why}"));
        }
    }
    for f in &failed {
        println!("FAILED: {f}");
    }
    println!(
        "negative matrix: {} of {total} rejected as expected",
        total - failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} negative cases misbehaved",
        failed.len()
    );
}
