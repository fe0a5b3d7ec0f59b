//! Why issuing failed.

use meshtls_tls_core::spiffe::{SpiffeId, TrustDomain};

use crate::key::KeyType;
use crate::load::LoadError;

/// An issuance failure: bad request (our caller's fault) or a failure of the crypto library.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The requested validity ends before (or when) it starts.
    #[error("validity window is empty: not_after is not after not_before")]
    EmptyValidity,
    /// A leaf SVID needs a workload ID (one with a path).
    #[error("{0} is not a workload ID (it has no path)")]
    NotWorkloadId(SpiffeId),
    /// The ID belongs to another trust domain than this CA's.
    #[error("{id} is outside this CA's trust domain {ca}")]
    ForeignTrustDomain {
        /// The requested ID.
        id: SpiffeId,
        /// The CA's trust domain.
        ca: TrustDomain,
    },
    /// The crypto library could not generate a key of this type.
    #[error("could not generate a {0} key")]
    KeyGeneration(KeyType),
    /// The system random source failed.
    #[error("random source failed")]
    Random,
    /// rcgen rejected the certificate parameters (e.g. a DNS name that is not IA5).
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// A certificate for (or by) an SM2 key could not be DER-encoded (e.g. a DNS name that
    /// is not IA5).
    #[error("certificate encoding failed: {0}")]
    Encoding(#[from] der::Error),
    /// The SM2 signer failed.
    #[error("SM2 signing failed")]
    Signing,
    /// A private key could not be read.
    #[error("bad private key: {0}")]
    BadKey(&'static str),
    /// The operation goes through rcgen, which can neither sign with nor certify SM2 keys.
    #[error("{0} is not available with SM2 keys")]
    Sm2Unsupported(&'static str),
    /// TLCP certificate pairs hold SM2 keys only.
    #[error("TLCP certificate pairs hold SM2 keys, not {0}")]
    TlcpNeedsSm2(KeyType),
    /// A CA could not be loaded from its certificate and key.
    #[error("cannot load the CA: {0}")]
    Load(#[from] LoadError),
}
