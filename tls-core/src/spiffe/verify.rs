//! Peer verification shared by every stack: path validation to the peer trust domain's
//! anchors, the X.509-SVID leaf rules, then authorization.
// SKELETON: the SPIFFE agent replaces every todo!() below; signatures are the contract.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::authz::Authorizer;
use super::bundle::TrustBundleSet;
use super::id::SpiffeId;
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
        let _ = (chain, role, now, expect);
        todo!()
    }
}
