//! tls-core's [`PeerVerifier`] validates SM2 chains from this CA with a provider composed from
//! the SM engine alone (its SM2-with-SM3 certificate verifier, default ID), and rejects
//! foreign, tampered, expired and encryption-only chains with typed errors.

use std::time::{Duration, SystemTime};

use meshtls_ca::{CertificateAuthority, KeyType, LeafOptions, Validity};
use meshtls_tls_core::spiffe::{
    Authorizer, PeerRole, PeerVerifier, SpiffeId, TrustBundleSet, TrustDomain,
};
use meshtls_tls_core::{AutoSelect, PeerError, Policy, Registry};
use rustls_pki_types::{CertificateDer, UnixTime};

const DAY: Duration = Duration::from_secs(86_400);

fn td() -> TrustDomain {
    TrustDomain::parse("example.org").unwrap()
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

/// Verifies `chain` against `bundle_ca`'s root with the SM-engine provider, for both roles.
fn verify(
    bundle_ca: &CertificateAuthority,
    chain: &[CertificateDer<'_>],
) -> Result<SpiffeId, PeerError> {
    let registry = Registry::new(vec![&meshtls_engine_sm::ENGINE]);
    // One engine: every algorithm has at most one candidate, so nothing is measured.
    let no_measuring = AutoSelect {
        cache_dir: None,
        ..AutoSelect::default()
    };
    let selection = registry.select(&Policy::default(), &no_measuring).unwrap();
    let provider = meshtls_tls_core::provider(&selection);
    let mut bundles = TrustBundleSet::new();
    bundles.add(td(), vec![bundle_ca.ca_der().clone()]);
    let authorizer = Authorizer::any_trusted();
    let verifier = PeerVerifier {
        bundles: &bundles,
        authorizer: &authorizer,
        algorithms: &provider.signature_verification_algorithms,
    };
    let now = UnixTime::now();
    let as_client = verifier.verify(chain, PeerRole::Client, now, None);
    let as_server = verifier.verify(chain, PeerRole::Server, now, None);
    assert_eq!(as_client, as_server);
    as_client
}

#[test]
fn sm2_chains_verify() {
    let v = Validity::starting_now(DAY);
    let want = id("spiffe://example.org/ns/a/sa/b");
    let root = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let svid = root.issue_svid(&want, KeyType::Sm2, v).unwrap();
    assert_eq!(verify(&root, &svid.chain_der), Ok(want.clone()));

    let inter = root.issue_intermediate(KeyType::Sm2, v).unwrap();
    let svid = inter.issue_svid(&want, KeyType::Sm2, v).unwrap();
    assert_eq!(svid.chain_der.len(), 2);
    assert_eq!(verify(&root, &svid.chain_der), Ok(want.clone()));
    // Without the intermediate there is no path.
    assert!(matches!(
        verify(&root, &svid.chain_der[..1]),
        Err(PeerError::UntrustedChain(_))
    ));

    // The TLCP signing certificate is an SVID; the encryption one is not a TLS leaf.
    let pair = root
        .issue_tlcp_pair(&want, &LeafOptions::new(KeyType::Sm2, v))
        .unwrap();
    assert_eq!(verify(&root, &pair.sign.chain_der), Ok(want));
    assert!(matches!(
        verify(&root, &pair.enc.chain_der),
        Err(PeerError::BadKeyUsage(_))
    ));
}

#[test]
fn bad_sm2_chains_are_rejected() {
    let v = Validity::starting_now(DAY);
    let want = id("spiffe://example.org/a");
    let root = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let other = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let svid = root.issue_svid(&want, KeyType::Sm2, v).unwrap();

    assert!(matches!(
        verify(&other, &svid.chain_der),
        Err(PeerError::UntrustedChain(_))
    ));

    // One bit of the signature (the last byte of the certificate) flipped.
    let mut der = svid.chain_der[0].to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert_eq!(
        verify(&root, &[CertificateDer::from(der)]),
        Err(PeerError::BadSignature)
    );

    let now = SystemTime::now();
    let expired = Validity {
        not_before: now - 2 * DAY,
        not_after: now - DAY,
    };
    let old = root.issue_svid(&want, KeyType::Sm2, expired).unwrap();
    assert_eq!(verify(&root, &old.chain_der), Err(PeerError::Expired));
}
