//! What a TLS bench row speaks: version, suite, group and credentials, which stacks can speak
//! it, and Tongsuo's names for it. `bench handshake` and `bench transfer` both build their
//! rows from these.

use meshtls_tls_core::stack::{TlsPolicy, TlsVersion};

use super::pki::Credential;
use crate::error::CliError;

/// The `tlcp` stack's name (the SM engine's TLCP stack).
pub(crate) const TLCP_STACK: &str = "tlcp";
/// The stacks that speak standard TLS 1.3.
const TLS_STACKS: &[&str] = &["rustls", "openssl", "boring"];
/// The stacks that speak RFC 8998 (rustls on the composed provider).
const RFC8998_STACKS: &[&str] = &["rustls"];

/// A protocol configuration measured as one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flavor {
    /// The protocol version.
    pub(crate) version: TlsVersion,
    /// The one suite offered, by the name `PeerInfo::suite` reports.
    pub(crate) suite: &'static str,
    /// The one key-exchange group offered; `None` for TLCP's ECC key transport.
    pub(crate) group: Option<&'static str>,
    /// Both sides' credentials.
    pub(crate) credential: Credential,
    /// The meshtls stacks that speak it.
    stacks: &'static [&'static str],
    /// Tongsuo's protocol argument and suite name for it, if Tongsuo is a peer here.
    pub(crate) tongsuo: Option<TongsuoFlavor>,
}

/// How the Tongsuo driver is told to speak a [`Flavor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TongsuoFlavor {
    /// `tlcp` or `tls13`.
    pub(crate) protocol: &'static str,
    /// Tongsuo's suite name (`ECDHE-SM2-SM4-GCM-SM3`, `TLS_SM4_GCM_SM3`).
    pub(crate) suite: &'static str,
}

/// Standard TLS 1.3: AES-128-GCM, X25519, ECDSA P-256 SVIDs.
pub(crate) const TLS13_AES_128_GCM: Flavor = Flavor {
    version: TlsVersion::Tls13,
    suite: "TLS_AES_128_GCM_SHA256",
    group: Some("X25519"),
    credential: Credential::EcdsaP256,
    stacks: TLS_STACKS,
    tongsuo: None,
};

/// RFC 8998: TLS_SM4_GCM_SM3, curveSM2, sm2sig_sm3 with SM2 SVIDs.
pub(crate) const TLS13_SM4_GCM: Flavor = Flavor {
    version: TlsVersion::Tls13,
    suite: "TLS_SM4_GCM_SM3",
    group: Some("curveSM2"),
    credential: Credential::Sm2,
    stacks: RFC8998_STACKS,
    tongsuo: Some(TongsuoFlavor {
        protocol: "tls13",
        suite: "TLS_SM4_GCM_SM3",
    }),
};

/// RFC 8998: TLS_SM4_CCM_SM3, curveSM2, sm2sig_sm3 with SM2 SVIDs.
pub(crate) const TLS13_SM4_CCM: Flavor = Flavor {
    version: TlsVersion::Tls13,
    suite: "TLS_SM4_CCM_SM3",
    group: Some("curveSM2"),
    credential: Credential::Sm2,
    stacks: RFC8998_STACKS,
    tongsuo: Some(TongsuoFlavor {
        protocol: "tls13",
        suite: "TLS_SM4_CCM_SM3",
    }),
};

/// TLCP key transport (SM2 encryption to the server's encryption certificate), SM4-GCM.
pub(crate) const TLCP_ECC_GCM: Flavor = tlcp("ECC_SM4_GCM_SM3", None, "ECC-SM2-SM4-GCM-SM3");
/// TLCP SM2 key exchange over ephemeral and encryption keys, SM4-GCM.
pub(crate) const TLCP_ECDHE_GCM: Flavor = tlcp(
    "ECDHE_SM4_GCM_SM3",
    Some("curveSM2"),
    "ECDHE-SM2-SM4-GCM-SM3",
);
/// TLCP SM2 key exchange, SM4-CBC with HMAC-SM3.
pub(crate) const TLCP_ECDHE_CBC: Flavor = tlcp(
    "ECDHE_SM4_CBC_SM3",
    Some("curveSM2"),
    "ECDHE-SM2-SM4-CBC-SM3",
);

const fn tlcp(suite: &'static str, group: Option<&'static str>, tongsuo: &'static str) -> Flavor {
    Flavor {
        version: TlsVersion::Tlcp,
        suite,
        group,
        credential: Credential::TlcpPair,
        stacks: &[TLCP_STACK],
        tongsuo: Some(TongsuoFlavor {
            protocol: "tlcp",
            suite: tongsuo,
        }),
    }
}

/// The flavors of `all` whose suite is named in `names` (case-insensitive), in `all`'s
/// order; all of them when `names` is empty.
pub(crate) fn select(all: &[Flavor], names: &[String]) -> Result<Vec<Flavor>, CliError> {
    if let Some(unknown) = names
        .iter()
        .find(|n| !all.iter().any(|f| f.suite.eq_ignore_ascii_case(n.trim())))
    {
        let known: Vec<&str> = all.iter().map(|f| f.suite).collect();
        return Err(CliError::Usage(format!(
            "unknown suite {unknown:?}; this bench measures {}",
            known.join(", ")
        )));
    }
    Ok(all
        .iter()
        .copied()
        .filter(|f| {
            names.is_empty() || names.iter().any(|n| f.suite.eq_ignore_ascii_case(n.trim()))
        })
        .collect())
}

impl Flavor {
    /// Whether the meshtls stack `stack` speaks this.
    pub(crate) fn spoken_by(&self, stack: &str) -> bool {
        self.stacks.contains(&stack)
    }

    /// The policy offering exactly this version, suite and group.
    pub(crate) fn policy(&self) -> TlsPolicy {
        TlsPolicy {
            versions: vec![self.version],
            suites: Some(vec![self.suite.to_owned()]),
            groups: self.group.map(|g| vec![g.to_owned()]),
            ..TlsPolicy::default()
        }
    }

    /// The version's name (`TLSv1.3`, `TLCP`).
    pub(crate) fn protocol(&self) -> &'static str {
        self.version.name()
    }

    /// Checks what a handshake negotiated against this flavor, so that no row is mislabelled.
    pub(crate) fn check(&self, suite: &str, group: Option<&str>) -> Result<(), String> {
        let group_ok = match (self.group, group) {
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            // A stack that does not report the group, or TLCP's ECC (no group) reported as such.
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if self.suite.eq_ignore_ascii_case(suite) && group_ok {
            Ok(())
        } else {
            Err(format!(
                "negotiated {suite} {} instead of {} {}",
                group.unwrap_or("-"),
                self.suite,
                self.group.unwrap_or("-")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_offer_exactly_one_suite_and_group() {
        let p = TLCP_ECC_GCM.policy();
        assert_eq!(p.versions, vec![TlsVersion::Tlcp]);
        assert_eq!(p.suites, Some(vec!["ECC_SM4_GCM_SM3".to_owned()]));
        assert_eq!(p.groups, None);
        let p = TLS13_SM4_GCM.policy();
        assert_eq!(p.groups, Some(vec!["curveSM2".to_owned()]));
        assert!(TLS13_SM4_GCM.spoken_by("rustls") && !TLS13_SM4_GCM.spoken_by("openssl"));
        assert!(TLCP_ECDHE_GCM.spoken_by("tlcp") && !TLCP_ECDHE_GCM.spoken_by("rustls"));
    }

    #[test]
    fn select_filters_by_suite_name() {
        let all = [TLS13_AES_128_GCM, TLCP_ECC_GCM];
        assert_eq!(select(&all, &[]).unwrap(), all);
        assert_eq!(
            select(&all, &["ecc_sm4_gcm_sm3".into()]).unwrap(),
            [TLCP_ECC_GCM]
        );
        let err = select(&all, &["TLS_NOPE".into()]).unwrap_err().to_string();
        assert!(
            err.contains("TLS_NOPE") && err.contains("ECC_SM4_GCM_SM3"),
            "{err}"
        );
    }

    #[test]
    fn check_refuses_another_suite_or_group() {
        assert!(TLS13_SM4_GCM
            .check("TLS_SM4_GCM_SM3", Some("curveSM2"))
            .is_ok());
        assert!(TLS13_SM4_GCM.check("TLS_SM4_GCM_SM3", None).is_ok());
        assert!(TLS13_SM4_GCM
            .check("TLS_AES_128_GCM_SHA256", Some("X25519"))
            .is_err());
        assert!(TLCP_ECC_GCM
            .check("ECC_SM4_GCM_SM3", Some("curveSM2"))
            .is_err());
    }
}
