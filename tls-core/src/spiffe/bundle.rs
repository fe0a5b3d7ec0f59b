//! Trust bundles: the CA certificates of each trust domain we accept peers from.
//!
//! Anchors are kept per trust domain so that a peer is validated only against the anchors
//! of the trust domain its ID names (a CA of one domain cannot vouch for another's IDs).

use std::collections::BTreeMap;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

use super::id::TrustDomain;
use crate::error::ConfigError;

/// CA certificates per trust domain.
#[derive(Clone, Debug, Default)]
pub struct TrustBundleSet {
    bundles: BTreeMap<TrustDomain, Vec<CertificateDer<'static>>>,
}

impl TrustBundleSet {
    /// An empty set.
    pub fn new() -> TrustBundleSet {
        TrustBundleSet::default()
    }

    /// Adds `roots` to the bundle of `trust_domain`.
    pub fn add(&mut self, trust_domain: TrustDomain, roots: Vec<CertificateDer<'static>>) {
        self.bundles.entry(trust_domain).or_default().extend(roots);
    }

    /// Parses PEM CA certificates, filing each under the trust domain of its SPIFFE URI SAN
    /// (a SPIFFE signing CA carries `spiffe://<td>`). A certificate without one is an error:
    /// use [`TrustBundleSet::from_pem_for`] to name the trust domain of such roots.
    pub fn from_pem(pem: &[u8]) -> Result<TrustBundleSet, ConfigError> {
        let mut set = TrustBundleSet::new();
        for (i, cert) in read_certs(pem)?.into_iter().enumerate() {
            let td = trust_domain_of(&cert).map_err(|why| {
                ConfigError::BadCredentials(format!(
                    "bundle certificate #{i}: {why}; give its trust domain explicitly \
                     (TrustBundleSet::from_pem_for)"
                ))
            })?;
            set.add(td, vec![cert]);
        }
        Ok(set)
    }

    /// Parses PEM CA certificates and files them all under `trust_domain`, whatever their
    /// SANs say (for CAs issued before SPIFFE, or bundles fetched per trust domain).
    pub fn from_pem_for(
        trust_domain: TrustDomain,
        pem: &[u8],
    ) -> Result<TrustBundleSet, ConfigError> {
        let mut set = TrustBundleSet::new();
        set.add(trust_domain, read_certs(pem)?);
        Ok(set)
    }

    /// Adds every bundle of `other` to this set.
    pub fn merge(&mut self, other: TrustBundleSet) {
        for (td, roots) in other.bundles {
            self.add(td, roots);
        }
    }

    /// The roots of `trust_domain`.
    pub fn roots(&self, trust_domain: &TrustDomain) -> Option<&[CertificateDer<'static>]> {
        self.bundles.get(trust_domain).map(Vec::as_slice)
    }

    /// Every trust domain held.
    pub fn trust_domains(&self) -> impl Iterator<Item = &TrustDomain> {
        self.bundles.keys()
    }

    /// Every root of every trust domain, for stacks whose verifier needs one store of all
    /// anchors (the per-domain check is then redone by [`super::PeerVerifier`]).
    pub fn all_roots(&self) -> impl Iterator<Item = &CertificateDer<'static>> {
        self.bundles.values().flatten()
    }

    /// Whether no root is held at all.
    pub fn is_empty(&self) -> bool {
        self.bundles.values().all(Vec::is_empty)
    }
}

/// Reads every certificate of a PEM text; none at all is an error.
fn read_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::BadCredentials(format!("bundle PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError::BadCredentials(
            "bundle PEM holds no CERTIFICATE block".into(),
        ));
    }
    Ok(certs)
}

/// The trust domain named by a CA certificate's single `spiffe://` URI SAN.
fn trust_domain_of(cert: &CertificateDer<'_>) -> Result<TrustDomain, String> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|e| e.to_string())?;
    let san = parsed
        .subject_alternative_name()
        .map_err(|e| e.to_string())?;
    let mut spiffe_uris = san
        .iter()
        .flat_map(|s| s.value.general_names.iter())
        .filter_map(|n| match n {
            GeneralName::URI(u) if u.starts_with("spiffe://") => Some(*u),
            _ => None,
        });
    let uri = spiffe_uris
        .next()
        .ok_or("no spiffe://<trust-domain> URI SAN")?;
    if spiffe_uris.next().is_some() {
        return Err("more than one spiffe:// URI SAN".into());
    }
    TrustDomain::parse(uri).map_err(|e| format!("URI SAN {uri:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spiffe::test_certs::{svid_params, Ca};

    fn td(s: &str) -> TrustDomain {
        TrustDomain::parse(s).unwrap()
    }

    #[test]
    fn files_each_ca_under_its_trust_domain() {
        let a = Ca::root("a.org");
        let a2 = Ca::root("a.org");
        let b = Ca::root("b.org");
        let pem = format!("{}{}{}", a.pem(), b.pem(), a2.pem());
        let set = TrustBundleSet::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(
            set.trust_domains().collect::<Vec<_>>(),
            vec![&td("a.org"), &td("b.org")]
        );
        assert_eq!(set.roots(&td("a.org")).unwrap(), &[a.cert, a2.cert]);
        assert_eq!(
            set.roots(&td("b.org")).unwrap(),
            std::slice::from_ref(&b.cert)
        );
        assert!(set.roots(&td("c.org")).is_none());
        assert_eq!(set.all_roots().count(), 3);
        assert!(!set.is_empty());
    }

    #[test]
    fn ca_without_spiffe_uri_needs_an_explicit_trust_domain() {
        let ca = Ca::root("a.org");
        let mut params = svid_params(&[]);
        params.subject_alt_names = vec![rcgen::SanType::DnsName("ca.a.org".try_into().unwrap())];
        let plain = rcgen::KeyPair::generate().unwrap();
        let plain = params.self_signed(&plain).unwrap().pem();
        let pem = format!("{}{plain}", ca.pem());
        let err = TrustBundleSet::from_pem(pem.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::BadCredentials(m) if m.contains("#1") && m.contains("from_pem_for")),
            "{err}"
        );
        let set = TrustBundleSet::from_pem_for(td("legacy.org"), pem.as_bytes()).unwrap();
        assert_eq!(set.roots(&td("legacy.org")).unwrap().len(), 2);
    }

    #[test]
    fn empty_and_garbage_input() {
        assert!(TrustBundleSet::new().is_empty());
        let mut set = TrustBundleSet::new();
        set.add(td("a.org"), vec![]);
        assert!(set.is_empty());
        for pem in [
            &b""[..],
            b"hello",
            b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        ] {
            assert!(matches!(
                TrustBundleSet::from_pem(pem),
                Err(ConfigError::BadCredentials(_))
            ));
        }
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(TrustBundleSet::from_pem(junk).is_err());
    }

    #[test]
    fn merge_keeps_both() {
        let a = Ca::root("a.org");
        let b = Ca::root("b.org");
        let mut set = TrustBundleSet::from_pem(a.pem().as_bytes()).unwrap();
        set.merge(TrustBundleSet::from_pem(b.pem().as_bytes()).unwrap());
        assert_eq!(set.trust_domains().count(), 2);
    }
}
