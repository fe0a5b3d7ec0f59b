//! Test PKI: CAs, SVIDs, bundles and stack configurations built from them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use meshtls_ca::{CertificateAuthority, IssuedSvid, KeyType, LeafOptions, Validity};
use meshtls_tls_core::spiffe::{Authorizer, SpiffeId, TrustBundleSet, TrustDomain};
use meshtls_tls_core::stack::{StackConfig, TlsPolicy, TlsVersion};
use meshtls_tls_core::IdentityStore;
use rustls::crypto::CryptoProvider;

/// Lifetime of test CAs and SVIDs.
pub const LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Parses a trust domain (test input, so panics on typos).
pub fn td(s: &str) -> TrustDomain {
    TrustDomain::parse(s).expect("test trust domain")
}

/// Parses a SPIFFE ID (test input, so panics on typos).
pub fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).expect("test SPIFFE ID")
}

/// A fresh root CA for `trust_domain`.
pub fn root_ca(trust_domain: &str, key_type: KeyType) -> CertificateAuthority {
    CertificateAuthority::new(td(trust_domain), key_type, Validity::starting_now(LIFETIME))
        .expect("issue test CA")
}

/// A valid SVID for `spiffe_id`, issued by `ca`.
pub fn svid(ca: &CertificateAuthority, spiffe_id: &str, key_type: KeyType) -> IssuedSvid {
    ca.issue_svid(&id(spiffe_id), key_type, Validity::starting_now(LIFETIME))
        .expect("issue test SVID")
}

/// An SVID that also names `localhost` (for clients that check host names, like curl).
pub fn svid_for_localhost(
    ca: &CertificateAuthority,
    spiffe_id: &str,
    key_type: KeyType,
) -> IssuedSvid {
    let mut options = LeafOptions::new(key_type, Validity::starting_now(LIFETIME));
    options.dns_names.push("localhost".to_owned());
    ca.issue_svid_with(&id(spiffe_id), &options)
        .expect("issue test SVID with DNS SAN")
}

/// An SVID whose validity ended an hour ago.
pub fn expired_svid(ca: &CertificateAuthority, spiffe_id: &str, key_type: KeyType) -> IssuedSvid {
    let now = SystemTime::now();
    let validity = Validity {
        not_before: now - 2 * Duration::from_secs(3600),
        not_after: now - Duration::from_secs(3600),
    };
    ca.issue_svid(&id(spiffe_id), key_type, validity)
        .expect("issue expired test SVID")
}

/// A bundle set trusting each CA's root under its own trust domain.
pub fn bundles(cas: &[&CertificateAuthority]) -> TrustBundleSet {
    let mut set = TrustBundleSet::new();
    for ca in cas {
        set.add(ca.trust_domain().clone(), vec![ca.ca_der().clone()]);
    }
    set
}

/// A TLS policy allowing exactly `version`.
pub fn only(version: TlsVersion) -> TlsPolicy {
    TlsPolicy {
        versions: vec![version],
        ..TlsPolicy::default()
    }
}

/// An identity store holding `issued` and `bundles`.
pub fn identity(issued: &IssuedSvid, bundles: TrustBundleSet) -> Arc<IdentityStore> {
    IdentityStore::new(issued.to_svid().expect("load issued SVID"), bundles)
}

/// A stack configuration presenting `issued`, trusting `bundles`.
pub fn stack_config(
    issued: &IssuedSvid,
    bundles: TrustBundleSet,
    authorizer: Authorizer,
    policy: TlsPolicy,
    provider: Arc<CryptoProvider>,
) -> StackConfig {
    StackConfig {
        identity: identity(issued, bundles),
        authorizer,
        policy,
        provider,
    }
}

/// A CA's own certificate and key, to be presented as if it were a leaf SVID.
pub fn ca_as_leaf(ca: &CertificateAuthority) -> IssuedSvid {
    IssuedSvid {
        chain_pem: ca.cert_pem().to_owned(),
        key_pem: ca.key_pem(),
        chain_der: vec![ca.cert_der().clone()],
        key_der: ca.key_der().clone_key(),
    }
}

/// A leaf that breaks the X.509-SVID rules only by carrying two URI SANs (two SPIFFE IDs),
/// signed by `ca` so its chain is otherwise valid.
pub fn two_uri_svid(ca: &CertificateAuthority, first: &str, second: &str) -> IssuedSvid {
    use meshtls_ca::rcgen::{
        CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType,
    };
    let validity = Validity::starting_now(LIFETIME);
    let mut params = CertificateParams::default();
    params.not_before = validity.not_before.into();
    params.not_after = validity.not_after.into();
    params.subject_alt_names = [first, second]
        .iter()
        .map(|uri| SanType::URI((*uri).try_into().expect("IA5 URI")))
        .collect();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    ca.sign_custom(params, KeyType::EcdsaP256)
        .expect("sign two-URI leaf")
}
