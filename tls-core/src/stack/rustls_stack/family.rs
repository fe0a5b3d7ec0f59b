//! The SM family (RFC 8998: `TLS_SM4_*_SM3`, `curveSM2`, `sm2sig_sm3`, an SM2 SVID) and the
//! standard family (everything else) of one rustls provider, and the choice between them.
//!
//! - A server builds one rustls config per family its policy allows and, per ClientHello,
//!   picks the family that both the client's offer and our current SVIDs allow, breaking ties
//!   with [`SmPreference`] ([`choose`]).
//! - A client offers the families its current SVIDs can authenticate, SM first only when it
//!   prefers SM ([`ClientOffer`]).
//!
//! No I/O and no key operations beyond asking loaded keys which schemes they can sign.

use rustls::crypto::CryptoProvider;
use rustls::{CipherSuite, NamedGroup, SignatureScheme};

use super::certs::LoadedSvids;
use crate::compose::rfc8998;
use crate::stack::SmPreference;

/// One side of the split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    /// Every suite, group and scheme that is not SM.
    Standard,
    /// RFC 8998's suites, `curveSM2` and `sm2sig_sm3`.
    Sm,
}

impl Family {
    fn of_suite(suite: CipherSuite) -> Family {
        Family::from_sm(rfc8998::is_sm_suite(suite))
    }

    fn of_group(group: NamedGroup) -> Family {
        Family::from_sm(rfc8998::is_sm_group(group))
    }

    fn of_scheme(scheme: SignatureScheme) -> Family {
        Family::from_sm(rfc8998::is_sm_scheme(scheme))
    }

    fn from_sm(sm: bool) -> Family {
        if sm {
            Family::Sm
        } else {
            Family::Standard
        }
    }
}

/// What one family of a provider holds, in the provider's order.
#[derive(Clone, Debug)]
pub(super) struct FamilyParts {
    /// The family.
    pub(super) family: Family,
    /// Its suites.
    pub(super) suites: Vec<CipherSuite>,
    /// Its key-exchange groups.
    pub(super) groups: Vec<NamedGroup>,
    /// Its handshake signature schemes (those the provider verifies).
    pub(super) schemes: Vec<SignatureScheme>,
}

impl FamilyParts {
    /// `family`'s part of `provider`; `None` when it lacks suites, groups or schemes of it.
    pub(super) fn of(provider: &CryptoProvider, family: Family) -> Option<FamilyParts> {
        let parts = FamilyParts {
            family,
            suites: provider
                .cipher_suites
                .iter()
                .map(|s| s.suite())
                .filter(|s| Family::of_suite(*s) == family)
                .collect(),
            groups: provider
                .kx_groups
                .iter()
                .map(|g| g.name())
                .filter(|g| Family::of_group(*g) == family)
                .collect(),
            schemes: schemes_of(provider, family),
        };
        let complete =
            !parts.suites.is_empty() && !parts.groups.is_empty() && !parts.schemes.is_empty();
        complete.then_some(parts)
    }

    /// `provider` with only this family's suites and groups.
    pub(super) fn restrict(&self, provider: &CryptoProvider) -> CryptoProvider {
        let mut restricted = provider.clone();
        restricted
            .cipher_suites
            .retain(|s| Family::of_suite(s.suite()) == self.family);
        restricted
            .kx_groups
            .retain(|g| Family::of_group(g.name()) == self.family);
        restricted
    }

    /// Whether a ClientHello offering these suites, groups and schemes could complete in this
    /// family with our `svids`.
    fn serves(
        &self,
        suites: &[CipherSuite],
        groups: Option<&[NamedGroup]>,
        schemes: &[SignatureScheme],
        svids: &LoadedSvids,
    ) -> bool {
        let offered: Vec<SignatureScheme> = schemes
            .iter()
            .copied()
            .filter(|s| self.schemes.contains(s))
            .collect();
        suites.iter().any(|s| self.suites.contains(s))
            && groups.is_none_or(|gs| gs.iter().any(|g| self.groups.contains(g)))
            && svids.signing(&offered).is_some()
    }
}

/// The handshake signature schemes of `family` that `provider` verifies.
pub(super) fn schemes_of(provider: &CryptoProvider, family: Family) -> Vec<SignatureScheme> {
    provider
        .signature_verification_algorithms
        .supported_schemes()
        .into_iter()
        .filter(|s| Family::of_scheme(*s) == family)
        .collect()
}

/// A ClientHello's offer, as the server sees it before picking a config.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hello<'a> {
    /// Offered suites, in the client's order.
    pub(super) suites: &'a [CipherSuite],
    /// Offered groups (`None`: no supported_groups extension).
    pub(super) groups: Option<&'a [NamedGroup]>,
    /// Offered signature schemes.
    pub(super) schemes: &'a [SignatureScheme],
}

/// The family to answer `hello` with, among the server's `families` (in build order,
/// standard first).
///
/// A family is possible when the client offers one of its suites, one of its groups and a
/// scheme that one of our `svids` signs. Both possible: `preference` decides (following the
/// client means the family of its first suite that we serve). Neither: the first family
/// that has an SVID at all, so that rustls refuses the hello with its usual alert.
pub(super) fn choose(
    hello: Hello<'_>,
    families: &[FamilyParts],
    svids: &LoadedSvids,
    preference: SmPreference,
) -> Option<Family> {
    let possible: Vec<&FamilyParts> = families
        .iter()
        .filter(|f| f.serves(hello.suites, hello.groups, hello.schemes, svids))
        .collect();
    let has = |family: Family| possible.iter().any(|f| f.family == family);
    if possible.len() > 1 {
        match preference {
            SmPreference::PreferSm if has(Family::Sm) => return Some(Family::Sm),
            SmPreference::PreferStandard if has(Family::Standard) => return Some(Family::Standard),
            _ => {}
        }
    }
    // The client's order: the family of the first offered suite that a possible family has.
    let followed = hello
        .suites
        .iter()
        .find(|s| possible.iter().any(|f| f.suites.contains(s)))
        .map(|s| Family::of_suite(*s));
    followed.or_else(|| {
        families
            .iter()
            .find(|f| svids.signing(&f.schemes).is_some())
            .or(families.first())
            .map(|f| f.family)
    })
}

/// What a client offers, given its policy-restricted provider and current SVIDs.
#[derive(Debug)]
pub(super) struct ClientOffer {
    /// The provider to handshake with: offered suites and groups, in offer order.
    pub(super) provider: CryptoProvider,
    /// Signature schemes to advertise for the server's CertificateVerify.
    pub(super) schemes: Vec<SignatureScheme>,
    /// Whether the SM family is offered first (our SM2 SVID is then preferred for client
    /// authentication when the server accepts both).
    pub(super) sm_first: bool,
}

impl ClientOffer {
    /// Offers each family of `base` that one of `svids` can authenticate; when none can, every
    /// family of `base` (the server may not ask for a certificate, or will refuse us).
    /// `groups_chosen`: the policy named groups, so their order is kept as given.
    pub(super) fn new(
        base: &CryptoProvider,
        svids: &LoadedSvids,
        preference: SmPreference,
        groups_chosen: bool,
    ) -> ClientOffer {
        let all: Vec<FamilyParts> = [Family::Standard, Family::Sm]
            .into_iter()
            .filter_map(|f| FamilyParts::of(base, f))
            .collect();
        let usable: Vec<Family> = all
            .iter()
            .filter(|f| svids.signing(&f.schemes).is_some())
            .map(|f| f.family)
            .collect();
        let offered = |family: Family| usable.is_empty() || usable.contains(&family);
        let mut provider = base.clone();
        provider
            .cipher_suites
            .retain(|s| offered(Family::of_suite(s.suite())));
        provider
            .kx_groups
            .retain(|g| offered(Family::of_group(g.name())));
        let is_sm = |s: &rustls::SupportedCipherSuite| Family::of_suite(s.suite()) == Family::Sm;
        let sm_first = provider.cipher_suites.iter().any(is_sm)
            && (preference == SmPreference::PreferSm
                || provider.cipher_suites.first().is_some_and(is_sm));
        if sm_first {
            // Stable: each family keeps its own order.
            provider
                .cipher_suites
                .sort_by_key(|s| Family::of_suite(s.suite()) != Family::Sm);
            if !groups_chosen {
                // The first group gets the key share: make it curveSM2's.
                provider
                    .kx_groups
                    .sort_by_key(|g| Family::of_group(g.name()) != Family::Sm);
            }
        }
        let schemes = base
            .signature_verification_algorithms
            .supported_schemes()
            .into_iter()
            .filter(|s| offered(Family::of_scheme(*s)))
            .collect();
        ClientOffer {
            provider,
            schemes,
            sm_first,
        }
    }
}
