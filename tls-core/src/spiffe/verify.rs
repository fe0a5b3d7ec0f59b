//! Peer verification shared by every stack: path validation to the peer trust domain's
//! anchors, the X.509-SVID leaf rules, then authorization.
//!
//! Order of checks (each failure is reported with its own [`PeerError`]): the leaf rules
//! (so a CA-as-leaf or two-URI-SAN certificate is named as such even when its chain is also
//! bad), the trust domain's bundle, RFC 5280 path validation with webpki against that
//! bundle only, the client's expected ID, then the [`Authorizer`].

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::authz::{Authorizer, AuthzRule};
use super::bundle::TrustBundleSet;
use super::id::{SpiffeId, TrustDomain};
use super::svid::check_leaf;
use crate::error::PeerError;

/// Which side the peer is on (selects the extended key usage checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerRole {
    /// The peer is a TLS client (we are the server).
    Client,
    /// The peer is a TLS server (we are the client).
    Server,
}

/// Verifies a peer's chain.
#[derive(Debug)]
pub struct PeerVerifier<'a> {
    /// Trust anchors per trust domain.
    pub bundles: &'a TrustBundleSet,
    /// Allow rules.
    pub authorizer: &'a Authorizer,
    /// Signature verification algorithms (the composed provider's).
    pub algorithms: &'a WebPkiSupportedAlgorithms,
}

impl PeerVerifier<'_> {
    /// Validates `chain` (leaf first, as presented) at `now` and returns the peer's ID.
    /// `expect` additionally requires an exact ID (a client's `--expect-id`).
    pub fn verify(
        &self,
        chain: &[CertificateDer<'_>],
        role: PeerRole,
        now: UnixTime,
        expect: Option<&SpiffeId>,
    ) -> Result<SpiffeId, PeerError> {
        let (leaf, intermediates) = chain.split_first().ok_or(PeerError::NoCertificate)?;
        let id = check_leaf(leaf)?;
        let td = id.trust_domain();

        let roots = match self.bundles.roots(td) {
            Some(roots) if !roots.is_empty() => roots,
            _ if !self.allows_trust_domain(td) => {
                return Err(PeerError::WrongTrustDomain(td.to_string()))
            }
            _ => return Err(PeerError::UnknownTrustDomain(td.to_string())),
        };
        let anchors = roots
            .iter()
            .map(webpki::anchor_from_trusted_cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PeerError::UntrustedChain(format!("unusable trust anchor: {e}")))?;

        let end_entity = EndEntityCert::try_from(leaf).map_err(map_webpki)?;
        let usage = match role {
            PeerRole::Client => KeyUsage::client_auth(),
            PeerRole::Server => KeyUsage::server_auth(),
        };
        end_entity
            .verify_for_usage(
                self.algorithms.all,
                &anchors,
                intermediates,
                now,
                usage,
                None,
                None,
            )
            .map_err(map_webpki)?;

        if let Some(expected) = expect {
            if *expected != id {
                return Err(PeerError::UnexpectedId {
                    expected: expected.to_string(),
                    got: id.to_string(),
                });
            }
        }
        self.authorizer.authorize(&id)?;
        Ok(id)
    }

    /// Whether the authorizer could allow some ID of `td` (always, when it has no rules).
    fn allows_trust_domain(&self, td: &TrustDomain) -> bool {
        let rules = self.authorizer.rules();
        rules.is_empty()
            || rules.iter().any(|rule| match rule {
                AuthzRule::Exact(id) | AuthzRule::PathPrefix(id) => id.trust_domain() == td,
                AuthzRule::TrustDomain(allowed) => allowed == td,
            })
    }
}

/// Names a webpki path-validation failure as a peer fault.
fn map_webpki(e: webpki::Error) -> PeerError {
    use webpki::Error as W;
    match e {
        W::CertExpired { .. } => PeerError::Expired,
        W::CertNotValidYet { .. } => PeerError::NotYetValid,
        W::UnknownIssuer => PeerError::UntrustedChain("no path to a trust anchor".into()),
        W::InvalidSignatureForPublicKey => PeerError::BadSignature,
        W::CaUsedAsEndEntity => PeerError::CaAsLeaf,
        W::RequiredEkuNotFoundContext(_) => {
            PeerError::BadKeyUsage("extendedKeyUsage lacks the purpose of the peer's role")
        }
        W::BadDer
        | W::BadDerTime
        | W::TrailingData(_)
        | W::MalformedExtensions
        | W::ExtensionValueInvalid
        | W::InvalidCertValidity
        | W::InvalidSerialNumber
        | W::UnsupportedCertVersion => PeerError::Malformed(e.to_string()),
        other => PeerError::UntrustedChain(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{date_time_ymd, CertificateParams};
    use rustls::SignatureScheme;
    use webpki::aws_lc_rs as algs;

    use super::*;
    use crate::spiffe::test_certs::{svid_params, Ca};

    /// Real verification algorithms (aws-lc-rs through webpki); only `all` is used here.
    static ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
        all: &[algs::ECDSA_P256_SHA256, algs::ED25519],
        mapping: &[
            (
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &[algs::ECDSA_P256_SHA256],
            ),
            (SignatureScheme::ED25519, &[algs::ED25519]),
        ],
    };

    fn now() -> UnixTime {
        UnixTime::now()
    }

    fn id(s: &str) -> SpiffeId {
        SpiffeId::parse(s).unwrap()
    }

    fn bundles(cas: &[(&str, &Ca)]) -> TrustBundleSet {
        let mut set = TrustBundleSet::new();
        for (td, ca) in cas {
            set.add(TrustDomain::parse(td).unwrap(), vec![ca.cert.clone()]);
        }
        set
    }

    fn verify(
        set: &TrustBundleSet,
        authz: &Authorizer,
        chain: &[CertificateDer<'_>],
        expect: Option<&SpiffeId>,
    ) -> Result<SpiffeId, PeerError> {
        PeerVerifier {
            bundles: set,
            authorizer: authz,
            algorithms: &ALGORITHMS,
        }
        .verify(chain, PeerRole::Client, now(), expect)
    }

    fn with_validity(ca: &Ca, from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateDer<'static> {
        let mut params: CertificateParams = svid_params(&["spiffe://a.org/web"]);
        params.not_before = date_time_ymd(from.0, from.1, from.2);
        params.not_after = date_time_ymd(to.0, to.1, to.2);
        ca.sign(&params).0
    }

    #[test]
    fn accepts_valid_chains_for_both_roles() {
        let ca = Ca::root("a.org");
        let set = bundles(&[("a.org", &ca)]);
        let (leaf, _) = ca.svid("spiffe://a.org/web");
        let any = Authorizer::any_trusted();
        for role in [PeerRole::Client, PeerRole::Server] {
            let got = PeerVerifier {
                bundles: &set,
                authorizer: &any,
                algorithms: &ALGORITHMS,
            }
            .verify(std::slice::from_ref(&leaf), role, now(), None);
            assert_eq!(got.unwrap(), id("spiffe://a.org/web"));
        }
        // Through an intermediate sent by the peer.
        let inter = ca.intermediate("a.org");
        let (leaf, _) = inter.svid("spiffe://a.org/api");
        assert_eq!(
            verify(&set, &any, &[leaf.clone(), inter.cert.clone()], None).unwrap(),
            id("spiffe://a.org/api")
        );
        // Without the intermediate there is no path.
        assert!(matches!(
            verify(&set, &any, &[leaf], None),
            Err(PeerError::UntrustedChain(_))
        ));
    }

    #[test]
    fn each_reason_is_distinct() {
        let ca = Ca::root("a.org");
        let other_a = Ca::root("a.org");
        let b = Ca::root("b.org");
        let set = bundles(&[("a.org", &ca)]);
        let any = Authorizer::any_trusted();

        assert_eq!(verify(&set, &any, &[], None), Err(PeerError::NoCertificate));
        let (forged, _) = other_a.svid("spiffe://a.org/web");
        assert!(matches!(
            verify(&set, &any, &[forged], None),
            Err(PeerError::UntrustedChain(_))
        ));
        let expired = with_validity(&ca, (2020, 1, 1), (2021, 1, 1));
        assert_eq!(
            verify(&set, &any, &[expired], None),
            Err(PeerError::Expired)
        );
        let future = with_validity(&ca, (2090, 1, 1), (2091, 1, 1));
        assert_eq!(
            verify(&set, &any, &[future], None),
            Err(PeerError::NotYetValid)
        );
        let (from_b, _) = b.svid("spiffe://b.org/web");
        assert_eq!(
            verify(&set, &any, std::slice::from_ref(&from_b), None),
            Err(PeerError::UnknownTrustDomain("b.org".into()))
        );
        let only_a = Authorizer::new(vec![AuthzRule::TrustDomain(
            TrustDomain::parse("a.org").unwrap(),
        )]);
        assert_eq!(
            verify(&set, &only_a, std::slice::from_ref(&from_b), None),
            Err(PeerError::WrongTrustDomain("b.org".into()))
        );
        let both = bundles(&[("a.org", &ca), ("b.org", &b)]);
        assert_eq!(
            verify(&both, &only_a, &[from_b], None),
            Err(PeerError::WrongTrustDomain("b.org".into()))
        );
        let (web, _) = ca.svid("spiffe://a.org/web");
        let exact = Authorizer::new(vec![AuthzRule::Exact(id("spiffe://a.org/api"))]);
        assert_eq!(
            verify(&set, &exact, std::slice::from_ref(&web), None),
            Err(PeerError::IdNotAllowed("spiffe://a.org/web".into()))
        );
        assert_eq!(
            verify(
                &set,
                &any,
                std::slice::from_ref(&web),
                Some(&id("spiffe://a.org/api"))
            ),
            Err(PeerError::UnexpectedId {
                expected: "spiffe://a.org/api".into(),
                got: "spiffe://a.org/web".into()
            })
        );
        assert!(verify(&set, &any, &[web], Some(&id("spiffe://a.org/web"))).is_ok());
    }

    #[test]
    fn leaf_rules_come_before_path_validation() {
        let ca = Ca::root("a.org");
        let stranger = Ca::root("a.org");
        let set = bundles(&[("a.org", &ca)]);
        let any = Authorizer::any_trusted();
        // Untrusted and a CA: named as a CA.
        assert_eq!(
            verify(&set, &any, std::slice::from_ref(&stranger.cert), None),
            Err(PeerError::CaAsLeaf)
        );
        let two = svid_params(&["spiffe://a.org/a", "spiffe://a.org/b"]);
        assert_eq!(
            verify(&set, &any, &[stranger.sign(&two).0], None),
            Err(PeerError::MultipleUriSans(2))
        );
    }

    #[test]
    fn impostor_ca_with_the_same_name_is_bad_signature() {
        let ca = Ca::root("a.org");
        let set = bundles(&[("a.org", &ca)]);
        let (leaf, _) = ca.impostor().svid("spiffe://a.org/web");
        assert_eq!(
            verify(&set, &Authorizer::any_trusted(), &[leaf], None),
            Err(PeerError::BadSignature)
        );
    }

    #[test]
    fn tampered_signature_is_bad_signature() {
        let ca = Ca::root_with("a.org", &rcgen::PKCS_ED25519);
        let set = bundles(&[("a.org", &ca)]);
        let (leaf, _) = ca.svid("spiffe://a.org/web");
        let mut bytes = leaf.to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1; // inside the Ed25519 signature, the certificate's last field
        assert_eq!(
            verify(
                &set,
                &Authorizer::any_trusted(),
                &[CertificateDer::from(bytes)],
                None
            ),
            Err(PeerError::BadSignature)
        );
    }
}
