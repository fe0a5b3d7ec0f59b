//! Translates a [`TlsPolicy`] (IANA names) into BoringSSL's protocol bounds, cipher string
//! and group list, rejecting what this stack cannot honour instead of silently ignoring it.
//!
//! BoringSSL has no `SSL_CTX_set_ciphersuites`: TLS 1.3 suites ride in the cipher list with
//! btls' "preserve TLS 1.3 cipher list" switch, which orders and limits a client's offer.
//! A server picks among all three suites whatever the list says, so the acceptor checks
//! the negotiated suite against [`NativePolicy::tls13_allowed`] after the handshake.

use btls::ssl::SslVersion;
use meshtls_tls_core::stack::{TlsPolicy, TlsVersion};
use meshtls_tls_core::ConfigError;

/// TLS 1.3 suites BoringSSL implements (RFC 8446 B.4), by IANA name.
const TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// TLS 1.2 suites we allow: ECDHE + AEAD only (RFC 5289, RFC 7905), IANA name -> OpenSSL name.
const TLS12_SUITES: &[(&str, &str)] = &[
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ),
];

/// Groups BoringSSL offers: accepted spellings (lower case) -> BoringSSL's name.
const GROUPS: &[(&[&str], &str)] = &[
    (&["x25519"], "X25519"),
    (&["secp256r1", "p-256", "p256", "prime256v1"], "P-256"),
    (&["secp384r1", "p-384", "p384"], "P-384"),
    (&["x25519mlkem768"], "X25519MLKEM768"),
];

/// A policy in BoringSSL's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NativePolicy {
    /// Lowest version allowed.
    pub(super) min: SslVersion,
    /// Highest version allowed.
    pub(super) max: SslVersion,
    /// The TLS 1.3 suites allowed (IANA names); `None` keeps BoringSSL's defaults.
    pub(super) tls13_allowed: Option<Vec<&'static str>>,
    /// `SSL_CTX_set_cipher_list` string: the TLS 1.2 suites, then any TLS 1.3 restriction.
    pub(super) cipher_list: String,
    /// `SSL_CTX_set1_curves_list` string; `None` keeps BoringSSL's defaults.
    pub(super) groups: Option<String>,
}

/// Resolves `policy`; unknown suites or groups are [`ConfigError::Unsupported`], and a policy
/// that leaves no version with a suite is [`ConfigError::BadPolicy`].
pub(super) fn resolve(policy: &TlsPolicy) -> Result<NativePolicy, ConfigError> {
    let (tls13, tls12) = match &policy.suites {
        None => (None, all_tls12()),
        Some(names) => {
            let mut tls13 = Vec::new();
            let mut tls12 = Vec::new();
            for name in names {
                if let Some(s) = TLS13_SUITES.iter().find(|s| s.eq_ignore_ascii_case(name)) {
                    tls13.push(*s);
                } else if let Some((_, native)) = TLS12_SUITES
                    .iter()
                    .find(|(iana, _)| iana.eq_ignore_ascii_case(name))
                {
                    tls12.push(*native);
                } else {
                    return Err(ConfigError::Unsupported {
                        what: "cipher suite",
                        name: name.clone(),
                    });
                }
            }
            (Some(tls13), tls12)
        }
    };

    let has_suites = |v: TlsVersion| match v {
        TlsVersion::Tls13 => tls13.as_ref().is_none_or(|s| !s.is_empty()),
        TlsVersion::Tls12 => !tls12.is_empty(),
        TlsVersion::Tlcp => false,
    };
    let usable: Vec<TlsVersion> = policy
        .versions
        .iter()
        .copied()
        .filter(|v| has_suites(*v))
        .collect();
    let (Some(min), Some(max)) = (usable.iter().min(), usable.iter().max()) else {
        return Err(ConfigError::BadPolicy {
            input: format!("{policy:?}"),
            reason: "no allowed version has an allowed cipher suite".into(),
        });
    };

    Ok(NativePolicy {
        min: native_version(*min),
        max: native_version(*max),
        // With TLS 1.2 excluded its part is never consulted, but BoringSSL rejects a list
        // without one.
        cipher_list: if tls12.is_empty() { all_tls12() } else { tls12 }
            .into_iter()
            .chain(tls13.iter().flatten().copied())
            .collect::<Vec<_>>()
            .join(":"),
        tls13_allowed: tls13,
        groups: policy.groups.as_deref().map(groups_list).transpose()?,
    })
}

/// Every allowed TLS 1.2 suite, in table order (AES-128 first, ECDSA before RSA).
fn all_tls12() -> Vec<&'static str> {
    TLS12_SUITES.iter().map(|(_, native)| *native).collect()
}

/// The native constant of a TLS version; TLCP never gets here (no suite allows it above).
fn native_version(v: TlsVersion) -> SslVersion {
    match v {
        TlsVersion::Tlcp | TlsVersion::Tls12 => SslVersion::TLS1_2,
        TlsVersion::Tls13 => SslVersion::TLS1_3,
    }
}

fn groups_list(names: &[String]) -> Result<String, ConfigError> {
    if names.is_empty() {
        return Err(ConfigError::BadPolicy {
            input: String::new(),
            reason: "empty group list".into(),
        });
    }
    names
        .iter()
        .map(|name| {
            let lower = name.trim().to_ascii_lowercase();
            GROUPS
                .iter()
                .find(|(spellings, _)| spellings.contains(&lower.as_str()))
                .map(|(_, native)| *native)
                .ok_or_else(|| ConfigError::Unsupported {
                    what: "group",
                    name: name.clone(),
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|list| list.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        versions: &[TlsVersion],
        suites: Option<&[&str]>,
        groups: Option<&[&str]>,
    ) -> TlsPolicy {
        let owned = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        TlsPolicy {
            versions: versions.to_vec(),
            suites: suites.map(owned),
            groups: groups.map(owned),
            ..TlsPolicy::default()
        }
    }

    #[test]
    fn maps_iana_names_and_bounds_versions() {
        let p = resolve(&policy(
            &[TlsVersion::Tls12, TlsVersion::Tls13],
            Some(&[
                "TLS_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ]),
            Some(&["x25519", "secp384r1"]),
        ))
        .unwrap();
        assert_eq!(p.min, SslVersion::TLS1_2);
        assert_eq!(p.max, SslVersion::TLS1_3);
        assert_eq!(p.tls13_allowed, Some(vec!["TLS_AES_256_GCM_SHA384"]));
        assert_eq!(
            p.cipher_list,
            "ECDHE-RSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384"
        );
        assert_eq!(p.groups.as_deref(), Some("X25519:P-384"));
    }

    #[test]
    fn versions_without_suites_are_dropped() {
        let p = resolve(&policy(
            &[TlsVersion::Tls12, TlsVersion::Tls13],
            Some(&["TLS_AES_128_GCM_SHA256"]),
            None,
        ))
        .unwrap();
        assert_eq!((p.min, p.max), (SslVersion::TLS1_3, SslVersion::TLS1_3));
        let err = resolve(&policy(
            &[TlsVersion::Tls12],
            Some(&["TLS_AES_128_GCM_SHA256"]),
            None,
        ));
        assert!(matches!(err, Err(ConfigError::BadPolicy { .. })));
    }

    #[test]
    fn unknown_names_are_unsupported() {
        let err = resolve(&policy(
            &[TlsVersion::Tls13],
            Some(&["TLS_RSA_WITH_RC4_128_MD5"]),
            None,
        ));
        assert!(matches!(
            err,
            Err(ConfigError::Unsupported {
                what: "cipher suite",
                ..
            })
        ));
        let err = resolve(&policy(&[TlsVersion::Tls13], None, Some(&["ffdhe2048"])));
        assert!(matches!(
            err,
            Err(ConfigError::Unsupported { what: "group", .. })
        ));
        let p = resolve(&policy(
            &[TlsVersion::Tls13],
            None,
            Some(&["X25519MLKEM768"]),
        ))
        .unwrap();
        assert_eq!(p.groups.as_deref(), Some("X25519MLKEM768"));
    }
}
