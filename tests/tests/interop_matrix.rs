//! Every client stack against every server stack, in both TLS versions, with ECDSA P-256,
//! Ed25519 and RSA-2048 SVIDs: handshake over loopback TCP, data both ways, each side sees
//! the other's SPIFFE ID.
//!
//! Server SVIDs come straight from the root; client SVIDs from an intermediate, so every
//! combination also checks that a chain with an intermediate is sent and validated.
//!
//! Nothing is skipped: every stack under test signs and verifies Ed25519 and RSA in TLS 1.2
//! as well as 1.3 (BoringSSL included, whose stack enables Ed25519 explicitly). A stack that
//! lost one of them shows up here as a failure, not as a silent skip.

use std::sync::Arc;
use std::time::Instant;

use meshtls_ca::{CertificateAuthority, IssuedSvid, KeyType, Validity};
use meshtls_tests::pair::run_pair;
use meshtls_tests::pki::{self, LIFETIME};
use meshtls_tests::stacks::{all_stacks, StackUnderTest};
use meshtls_tls_core::spiffe::{Authorizer, AuthzRule, SpiffeId, TrustBundleSet};
use meshtls_tls_core::stack::{ConnectOptions, TlsVersion};
use tokio::sync::Semaphore;

/// Pairs in flight at once: enough to overlap I/O waits, few enough that no handshake
/// starves on a 2-core machine.
const CONCURRENCY: usize = 6;

const SERVER_ID: &str = "spiffe://interop.test/ns/matrix/sa/server";
const CLIENT_ID: &str = "spiffe://interop.test/ns/matrix/sa/client";

/// The SVIDs of one key type.
struct Pki {
    key_type: KeyType,
    bundles: TrustBundleSet,
    server: IssuedSvid,
    client: IssuedSvid,
}

fn pki_for(key_type: KeyType) -> Pki {
    let root = pki::root_ca("interop.test", key_type);
    let intermediate = root
        .issue_intermediate(key_type, Validity::starting_now(LIFETIME))
        .expect("intermediate CA");
    let client = pki::svid(&intermediate, CLIENT_ID, key_type);
    assert_eq!(
        client.chain_der.len(),
        2,
        "client chain carries the intermediate"
    );
    Pki {
        key_type,
        bundles: pki::bundles(&[&root as &CertificateAuthority]),
        server: pki::svid(&root, SERVER_ID, key_type),
        client,
    }
}

struct Case {
    client: StackUnderTest,
    server: StackUnderTest,
    version: TlsVersion,
    pki: Arc<Pki>,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{} -> {} {} {}",
            self.client.name,
            self.server.name,
            self.version.name(),
            self.pki.key_type
        )
    }

    async fn run(self) -> Result<(), String> {
        let server_id: SpiffeId = pki::id(SERVER_ID);
        let client_id: SpiffeId = pki::id(CLIENT_ID);
        let server_config = self.server.config(
            &self.pki.server,
            self.pki.bundles.clone(),
            Authorizer::new(vec![AuthzRule::Exact(client_id.clone())]),
            pki::only(self.version),
        );
        let client_config = self.client.config(
            &self.pki.client,
            self.pki.bundles.clone(),
            Authorizer::new(vec![AuthzRule::Exact(server_id.clone())]),
            pki::only(self.version),
        );
        let acceptor = self
            .server
            .acceptor(&server_config)
            .map_err(|e| format!("acceptor: {e}"))?;
        let connector = self
            .client
            .connector(&client_config)
            .map_err(|e| format!("connector: {e}"))?;
        let options = ConnectOptions {
            expect_id: Some(server_id.clone()),
            server_name: None,
        };
        let outcome = run_pair(acceptor, connector, options).await;
        let (server_saw, client_saw) = match (outcome.server, outcome.client) {
            (Ok(s), Ok(c)) => (s, c),
            (s, c) => {
                return Err(format!(
                    "server: {:?}; client: {:?}",
                    s.map(|p| p.peer_id.to_string()),
                    c.map(|p| p.peer_id.to_string())
                ))
            }
        };
        let checks = [
            (
                server_saw.peer_id == client_id,
                format!("server saw {}", server_saw.peer_id),
            ),
            (
                client_saw.peer_id == server_id,
                format!("client saw {}", client_saw.peer_id),
            ),
            (
                server_saw.version == self.version.name(),
                format!("server negotiated {}", server_saw.version),
            ),
            (
                client_saw.version == self.version.name(),
                format!("client negotiated {}", client_saw.version),
            ),
            (
                server_saw.peer_chain.first() == self.pki.client.chain_der.first(),
                "server saw another client leaf".into(),
            ),
            (
                client_saw.peer_chain.first() == self.pki.server.chain_der.first(),
                "client saw another server leaf".into(),
            ),
            (
                server_saw.suite == client_saw.suite,
                format!(
                    "suites differ: {} vs {}",
                    server_saw.suite, client_saw.suite
                ),
            ),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, why)) => Err(why),
            None => Ok(()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_stack_against_every_server_stack() {
    let started = Instant::now();
    let stacks = all_stacks();
    let pkis: Vec<Arc<Pki>> = [KeyType::EcdsaP256, KeyType::Ed25519, KeyType::Rsa2048]
        .into_iter()
        .map(|k| Arc::new(pki_for(k)))
        .collect();

    let mut cases = Vec::new();
    for client in &stacks {
        for server in &stacks {
            for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
                for pki in &pkis {
                    cases.push(Case {
                        client: client.clone(),
                        server: server.clone(),
                        version,
                        pki: pki.clone(),
                    });
                }
            }
        }
    }
    assert_eq!(cases.len(), 5 * 5 * 2 * 3);

    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for case in cases {
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            let label = case.label();
            (label, case.run().await)
        }));
    }
    let mut passed = 0;
    let mut failed = Vec::new();
    for task in tasks {
        match task.await.expect("case task") {
            (_, Ok(())) => passed += 1,
            (label, Err(why)) => failed.push((label, why)),
        }
    }

    for (label, why) in &failed {
        println!("FAILED: {label}: {why}");
    }
    println!("interop matrix: {passed} passed, 0 skipped");
    println!(
        "interop matrix: {} failed; {:.1} s",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "{} combinations failed", failed.len());
}
