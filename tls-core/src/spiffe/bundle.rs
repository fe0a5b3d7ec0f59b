//! Trust bundles: the CA certificates of each trust domain we accept peers from.
// SKELETON: the SPIFFE agent replaces every todo!() below; signatures are the contract.

use std::collections::BTreeMap;

use rustls_pki_types::CertificateDer;

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
    /// (a SPIFFE signing CA carries `spiffe://<td>`).
    pub fn from_pem(pem: &[u8]) -> Result<TrustBundleSet, ConfigError> {
        let _ = pem;
        todo!()
    }

    /// The roots of `trust_domain`.
    pub fn roots(&self, trust_domain: &TrustDomain) -> Option<&[CertificateDer<'static>]> {
        self.bundles.get(trust_domain).map(Vec::as_slice)
    }

    /// Every trust domain held.
    pub fn trust_domains(&self) -> impl Iterator<Item = &TrustDomain> {
        self.bundles.keys()
    }
}
