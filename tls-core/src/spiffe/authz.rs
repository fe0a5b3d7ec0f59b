//! Which authenticated peers we talk to: by exact ID, by trust domain, or by path prefix.

use std::fmt;

use super::id::{SpiffeId, TrustDomain};
use crate::error::PeerError;

/// One allow rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthzRule {
    /// Exactly this ID.
    Exact(SpiffeId),
    /// Any workload ID in this trust domain.
    TrustDomain(TrustDomain),
    /// IDs in the prefix's trust domain whose path equals the prefix's path or continues it
    /// at a segment boundary (`/ns/prod` matches `/ns/prod/sa/web`, not `/ns/production`).
    PathPrefix(SpiffeId),
}

impl AuthzRule {
    fn matches(&self, id: &SpiffeId) -> bool {
        match self {
            AuthzRule::Exact(want) => want == id,
            AuthzRule::TrustDomain(td) => id.trust_domain() == td,
            AuthzRule::PathPrefix(prefix) => {
                prefix.trust_domain() == id.trust_domain()
                    && id
                        .path()
                        .strip_prefix(prefix.path())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }
        }
    }
}

impl fmt::Display for AuthzRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthzRule::Exact(id) => write!(f, "id={id}"),
            AuthzRule::TrustDomain(td) => write!(f, "td={td}"),
            AuthzRule::PathPrefix(p) => write!(f, "prefix={p}"),
        }
    }
}

/// A set of allow rules. With no rules, every peer whose chain verifies against our
/// bundles is allowed (the trust bundles are then the policy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorizer {
    rules: Vec<AuthzRule>,
}

impl Authorizer {
    /// Allows any peer that our bundles authenticate.
    pub fn any_trusted() -> Authorizer {
        Authorizer::default()
    }

    /// Allows peers matching any of `rules`.
    pub fn new(rules: Vec<AuthzRule>) -> Authorizer {
        Authorizer { rules }
    }

    /// The rules.
    pub fn rules(&self) -> &[AuthzRule] {
        &self.rules
    }

    /// Checks an authenticated peer. Names the most specific reason on failure: a peer from a
    /// trust domain no rule mentions gets [`PeerError::WrongTrustDomain`], otherwise
    /// [`PeerError::IdNotAllowed`].
    pub fn authorize(&self, id: &SpiffeId) -> Result<(), PeerError> {
        if self.rules.is_empty() || self.rules.iter().any(|r| r.matches(id)) {
            return Ok(());
        }
        let td_mentioned = self.rules.iter().any(|r| match r {
            AuthzRule::Exact(x) | AuthzRule::PathPrefix(x) => x.trust_domain() == id.trust_domain(),
            AuthzRule::TrustDomain(td) => td == id.trust_domain(),
        });
        if td_mentioned {
            Err(PeerError::IdNotAllowed(id.to_string()))
        } else {
            Err(PeerError::WrongTrustDomain(id.trust_domain().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SpiffeId {
        SpiffeId::parse(s).unwrap()
    }

    #[test]
    fn rules_match_as_documented() {
        let authz = Authorizer::new(vec![
            AuthzRule::Exact(id("spiffe://a.org/web")),
            AuthzRule::PathPrefix(id("spiffe://b.org/ns/prod")),
            AuthzRule::TrustDomain(TrustDomain::parse("c.org").unwrap()),
        ]);
        assert!(authz.authorize(&id("spiffe://a.org/web")).is_ok());
        assert!(authz.authorize(&id("spiffe://b.org/ns/prod")).is_ok());
        assert!(authz.authorize(&id("spiffe://b.org/ns/prod/sa/x")).is_ok());
        assert!(authz.authorize(&id("spiffe://c.org/anything")).is_ok());
        assert_eq!(
            authz.authorize(&id("spiffe://a.org/web2")),
            Err(PeerError::IdNotAllowed("spiffe://a.org/web2".into()))
        );
        assert_eq!(
            authz.authorize(&id("spiffe://b.org/ns/production")),
            Err(PeerError::IdNotAllowed(
                "spiffe://b.org/ns/production".into()
            ))
        );
        assert_eq!(
            authz.authorize(&id("spiffe://d.org/web")),
            Err(PeerError::WrongTrustDomain("d.org".into()))
        );
        assert!(Authorizer::any_trusted()
            .authorize(&id("spiffe://d.org/x"))
            .is_ok());
    }
}
