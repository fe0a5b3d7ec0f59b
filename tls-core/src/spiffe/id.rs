//! SPIFFE IDs and trust domains, parsed exactly as the SPIFFE-ID standard says.

use std::fmt;
use std::str::FromStr;

/// Longest SPIFFE ID we accept (the standard asks implementations to support 2048 bytes).
pub const MAX_ID_LEN: usize = 2048;
/// Longest trust-domain name (SPIFFE-ID standard, section 2.1).
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;

/// Why a string is not a SPIFFE ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpiffeIdError {
    /// The scheme is not `spiffe://`.
    #[error("scheme must be spiffe://")]
    WrongScheme,
    /// The trust domain is empty.
    #[error("trust domain is empty")]
    EmptyTrustDomain,
    /// The trust domain has a character outside `[a-z0-9.-_]` (includes ports and userinfo).
    #[error("trust domain has invalid character {0:?}")]
    BadTrustDomainChar(char),
    /// The trust domain is longer than 255 bytes.
    #[error("trust domain longer than 255 bytes")]
    TrustDomainTooLong,
    /// A path segment is empty (`//` or a trailing `/`).
    #[error("path has an empty segment or a trailing slash")]
    EmptySegment,
    /// A path segment is `.` or `..`.
    #[error("path has a dot segment")]
    DotSegment,
    /// A path character is outside `[a-zA-Z0-9.-_]` (includes `%`, `?` and `#`).
    #[error("path has invalid character {0:?}")]
    BadPathChar(char),
    /// The whole ID is longer than 2048 bytes.
    #[error("SPIFFE ID longer than 2048 bytes")]
    TooLong,
    /// A workload ID was required but the ID has no path.
    #[error("SPIFFE ID has no path")]
    MissingPath,
}

/// A trust domain name, normalised to lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// Parses a bare trust-domain name (`example.org`) or a `spiffe://example.org` ID.
    pub fn parse(s: &str) -> Result<TrustDomain, SpiffeIdError> {
        if has_spiffe_scheme(s) {
            let id = SpiffeId::parse(s)?;
            return Ok(id.trust_domain().clone());
        }
        validate_trust_domain(s)?;
        Ok(TrustDomain(s.to_owned()))
    }

    /// The name (`example.org`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The trust domain's own ID, `spiffe://example.org`.
    pub fn id(&self) -> SpiffeId {
        SpiffeId {
            trust_domain: self.clone(),
            path: String::new(),
        }
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TrustDomain {
    type Err = SpiffeIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrustDomain::parse(s)
    }
}

/// A SPIFFE ID: `spiffe://<trust-domain><path>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpiffeId {
    trust_domain: TrustDomain,
    /// Empty, or `/seg/seg...`.
    path: String,
}

impl SpiffeId {
    /// Parses a SPIFFE ID. The scheme and trust domain must already be lower case: the
    /// standard makes them case-insensitive but requires the canonical form in SVIDs.
    pub fn parse(s: &str) -> Result<SpiffeId, SpiffeIdError> {
        if s.len() > MAX_ID_LEN {
            return Err(SpiffeIdError::TooLong);
        }
        let rest = s
            .strip_prefix("spiffe://")
            .ok_or(SpiffeIdError::WrongScheme)?;
        let (td, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        validate_trust_domain(td)?;
        validate_path(path)?;
        Ok(SpiffeId {
            trust_domain: TrustDomain(td.to_owned()),
            path: path.to_owned(),
        })
    }

    /// Builds an ID from a trust domain and a path (`/ns/default/sa/web`).
    pub fn new(trust_domain: TrustDomain, path: &str) -> Result<SpiffeId, SpiffeIdError> {
        validate_path(path)?;
        let id = SpiffeId {
            trust_domain,
            path: path.to_owned(),
        };
        if id.to_string().len() > MAX_ID_LEN {
            return Err(SpiffeIdError::TooLong);
        }
        Ok(id)
    }

    /// The trust domain.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The path, empty or starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether this names a workload (has a path), as a leaf SVID must.
    pub fn is_workload(&self) -> bool {
        !self.path.is_empty()
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spiffe://{}{}", self.trust_domain, self.path)
    }
}

impl FromStr for SpiffeId {
    type Err = SpiffeIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpiffeId::parse(s)
    }
}

impl serde::Serialize for SpiffeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn has_spiffe_scheme(s: &str) -> bool {
    s.contains("://")
}

fn validate_trust_domain(td: &str) -> Result<(), SpiffeIdError> {
    if td.is_empty() {
        return Err(SpiffeIdError::EmptyTrustDomain);
    }
    if td.len() > MAX_TRUST_DOMAIN_LEN {
        return Err(SpiffeIdError::TrustDomainTooLong);
    }
    match td
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
    {
        Some(c) => Err(SpiffeIdError::BadTrustDomainChar(c)),
        None => Ok(()),
    }
}

fn validate_path(path: &str) -> Result<(), SpiffeIdError> {
    if path.is_empty() {
        return Ok(());
    }
    let Some(segments) = path.strip_prefix('/') else {
        return Err(SpiffeIdError::EmptySegment);
    };
    for seg in segments.split('/') {
        match seg {
            "" => return Err(SpiffeIdError::EmptySegment),
            "." | ".." => return Err(SpiffeIdError::DotSegment),
            _ => {}
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(SpiffeIdError::BadPathChar(c));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_ids() {
        for ok in [
            "spiffe://example.org",
            "spiffe://example.org/ns/default/sa/web",
            "spiffe://a-b_c.9/x.y-z_0",
            "spiffe://td/..a/.b",
        ] {
            let id = SpiffeId::parse(ok).unwrap();
            assert_eq!(id.to_string(), ok);
        }
    }

    #[test]
    fn rejects_each_rule() {
        use SpiffeIdError::*;
        let cases: &[(&str, SpiffeIdError)] = &[
            ("http://example.org/a", WrongScheme),
            ("SPIFFE://example.org/a", WrongScheme),
            ("spiffe:///a", EmptyTrustDomain),
            ("spiffe://Example.org/a", BadTrustDomainChar('E')),
            ("spiffe://example.org:8080/a", BadTrustDomainChar(':')),
            ("spiffe://user@example.org/a", BadTrustDomainChar('@')),
            ("spiffe://example.org/", EmptySegment),
            ("spiffe://example.org/a//b", EmptySegment),
            ("spiffe://example.org/a/./b", DotSegment),
            ("spiffe://example.org/a/..", DotSegment),
            ("spiffe://example.org/a%20b", BadPathChar('%')),
            ("spiffe://example.org/a?q=1", BadPathChar('?')),
            ("spiffe://example.org/a#f", BadPathChar('#')),
        ];
        for (input, want) in cases {
            assert_eq!(SpiffeId::parse(input).unwrap_err(), *want, "{input}");
        }
    }

    #[test]
    fn length_limits() {
        let td = "a".repeat(256);
        assert_eq!(
            SpiffeId::parse(&format!("spiffe://{td}")).unwrap_err(),
            SpiffeIdError::TrustDomainTooLong
        );
        let long = format!("spiffe://example.org/{}", "a".repeat(2048));
        assert_eq!(SpiffeId::parse(&long).unwrap_err(), SpiffeIdError::TooLong);
        let max = format!("spiffe://example.org/{}", "a".repeat(MAX_ID_LEN - 21));
        assert_eq!(max.len(), MAX_ID_LEN);
        assert!(SpiffeId::parse(&max).is_ok());
    }

    #[test]
    fn trust_domain_forms() {
        assert_eq!(
            TrustDomain::parse("example.org").unwrap().as_str(),
            "example.org"
        );
        assert_eq!(
            TrustDomain::parse("spiffe://example.org").unwrap().as_str(),
            "example.org"
        );
        assert!(TrustDomain::parse("Example.org").is_err());
    }
}
