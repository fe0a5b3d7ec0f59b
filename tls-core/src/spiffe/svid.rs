//! X.509-SVIDs: our own (chain + key) and the leaf rules every peer's must follow.
// SKELETON: the SPIFFE agent replaces every todo!() below; signatures are the contract.

use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer, UnixTime};

use super::id::SpiffeId;
use crate::error::{ConfigError, PeerError};

/// Our X.509-SVID: the chain (leaf first), its PKCS#8 private key, and the leaf's SPIFFE ID.
#[derive(Debug)]
pub struct Svid {
    id: SpiffeId,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
    not_after: UnixTime,
}

impl Svid {
    /// From DER; checks the leaf rules and that the key is PKCS#8.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivatePkcs8KeyDer<'static>,
    ) -> Result<Svid, ConfigError> {
        let _ = (chain, key);
        todo!()
    }

    /// From PEM files' contents: a chain (leaf first) and a PKCS#8 key.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Svid, ConfigError> {
        let _ = (chain_pem, key_pem);
        todo!()
    }

    /// The leaf's SPIFFE ID.
    pub fn id(&self) -> &SpiffeId {
        &self.id
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The PKCS#8 private key.
    pub fn key(&self) -> &PrivatePkcs8KeyDer<'static> {
        &self.key
    }

    /// When the leaf expires.
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }
}

/// Checks the X.509-SVID leaf rules on `leaf` and returns its SPIFFE ID.
pub fn check_leaf(leaf: &CertificateDer<'_>) -> Result<SpiffeId, PeerError> {
    let _ = leaf;
    todo!()
}
