//! SPIFFE identities: IDs, X.509-SVID rules, trust bundles and peer authorization.
//!
//! No TLS stack is named here: every stack hands the peer's chain to [`PeerVerifier`] and
//! gets back the authenticated [`SpiffeId`] or a typed [`crate::PeerError`].

mod authz;
mod bundle;
mod id;
mod svid;
#[cfg(test)]
mod test_certs;
mod verify;

pub use authz::{Authorizer, AuthzRule};
pub use bundle::TrustBundleSet;
pub use id::{SpiffeId, SpiffeIdError, TrustDomain, MAX_ID_LEN, MAX_TRUST_DOMAIN_LEN};
pub use svid::{check_encryption_leaf, check_leaf, Svid};
pub use verify::{PeerRole, PeerVerifier};
