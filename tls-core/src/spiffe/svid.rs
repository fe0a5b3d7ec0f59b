//! X.509-SVIDs: our own (chain + key) and the leaf rules every peer's must follow.
//!
//! The leaf rules are those of the SPIFFE X.509-SVID standard (section 4 and 5): exactly
//! one URI SAN holding a workload SPIFFE ID, not a CA, a critical key usage with
//! digitalSignature and without keyCertSign/cRLSign, both TLS purposes when an extended key
//! usage is present, and a critical SAN when the subject is empty. Path validation is not
//! done here (see [`super::PeerVerifier`]).
//!
//! TLCP (GB/T 38636-2020) encryption certificates follow the same rules except the key usage,
//! which asserts key transport or agreement instead of signing ([`check_encryption_leaf`]).

use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer, UnixTime};
use x509_parser::asn1_rs::{FromDer, Sequence};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::x509::AlgorithmIdentifier;

use super::id::{SpiffeId, SpiffeIdError};
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
    ///
    /// The key's algorithm must match the leaf's public key algorithm; that the key pair
    /// itself matches is checked by each stack when it loads the key with its provider.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivatePkcs8KeyDer<'static>,
    ) -> Result<Svid, ConfigError> {
        Svid::from_der_for(chain, key, LeafPurpose::Signing)
    }

    /// A TLCP encryption certificate and its key, from DER: as [`Svid::from_der`], with the
    /// leaf checked by [`check_encryption_leaf`].
    pub fn encryption_from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivatePkcs8KeyDer<'static>,
    ) -> Result<Svid, ConfigError> {
        Svid::from_der_for(chain, key, LeafPurpose::Encryption)
    }

    fn from_der_for(
        chain: Vec<CertificateDer<'static>>,
        key: PrivatePkcs8KeyDer<'static>,
        purpose: LeafPurpose,
    ) -> Result<Svid, ConfigError> {
        let leaf_der = chain
            .first()
            .ok_or_else(|| bad("the SVID chain holds no certificate"))?;
        let id = check_leaf_for(leaf_der, purpose).map_err(|e| {
            bad(format!(
                "the SVID leaf is not a valid {}: {e}",
                purpose.name()
            ))
        })?;
        let leaf = parse(leaf_der).map_err(|e| bad(format!("SVID leaf: {e}")))?;
        for (i, cert) in chain.iter().enumerate().skip(1) {
            parse(cert).map_err(|e| bad(format!("SVID chain certificate #{i}: {e}")))?;
        }
        let key_alg = pkcs8_algorithm(key.secret_pkcs8_der())
            .ok_or_else(|| bad("the private key is not a PKCS#8 PrivateKeyInfo"))?;
        let leaf_alg = leaf.public_key().algorithm.algorithm.to_id_string();
        if key_alg != leaf_alg {
            return Err(bad(format!(
                "the private key's algorithm {key_alg} differs from the leaf's public key \
                 algorithm {leaf_alg}"
            )));
        }
        let not_after = unix_time(leaf.validity().not_after.timestamp());
        Ok(Svid {
            id,
            chain,
            key,
            not_after,
        })
    }

    /// From PEM files' contents: a chain (leaf first) and a PKCS#8 key.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Svid, ConfigError> {
        let (chain, key) = chain_and_key_from_pem(chain_pem, key_pem)?;
        Svid::from_der(chain, key)
    }

    /// A TLCP encryption certificate and its key, from PEM: as [`Svid::from_pem`], with the
    /// leaf checked by [`check_encryption_leaf`].
    pub fn encryption_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Svid, ConfigError> {
        let (chain, key) = chain_and_key_from_pem(chain_pem, key_pem)?;
        Svid::encryption_from_der(chain, key)
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

/// A PEM chain (leaf first) and PEM PKCS#8 key, decoded.
type PemChainAndKey = (Vec<CertificateDer<'static>>, PrivatePkcs8KeyDer<'static>);

fn chain_and_key_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<PemChainAndKey, ConfigError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("SVID certificate PEM: {e}")))?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem).map_err(|e| {
        bad(format!(
            "SVID key PEM (a PKCS#8 \"PRIVATE KEY\" block is required): {e}"
        ))
    })?;
    Ok((chain, key))
}

/// What a leaf's key is for: the key usage it must assert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LeafPurpose {
    /// An X.509-SVID: digitalSignature.
    Signing,
    /// A TLCP encryption certificate: keyEncipherment or keyAgreement.
    Encryption,
}

impl LeafPurpose {
    fn name(self) -> &'static str {
        match self {
            LeafPurpose::Signing => "X.509-SVID",
            LeafPurpose::Encryption => "TLCP encryption certificate",
        }
    }
}

/// Checks the X.509-SVID leaf rules on `leaf` and returns its SPIFFE ID.
///
/// The CA check comes before the ID check so that a signing CA's certificate (whose ID has
/// no path) presented as a leaf is reported as [`PeerError::CaAsLeaf`].
pub fn check_leaf(leaf: &CertificateDer<'_>) -> Result<SpiffeId, PeerError> {
    check_leaf_for(leaf, LeafPurpose::Signing)
}

/// Checks a TLCP (GB/T 38636-2020) encryption certificate and returns its SPIFFE ID: the
/// rules of [`check_leaf`] (one workload URI SAN, not a CA, a critical key usage without
/// keyCertSign or cRLSign, both TLS purposes in an extended key usage, a critical SAN when
/// the subject is empty), except that the key usage must assert keyEncipherment (ECC suites'
/// key transport) or keyAgreement (ECDHE suites) and need not assert digitalSignature.
pub fn check_encryption_leaf(leaf: &CertificateDer<'_>) -> Result<SpiffeId, PeerError> {
    check_leaf_for(leaf, LeafPurpose::Encryption)
}

fn check_leaf_for(leaf: &CertificateDer<'_>, purpose: LeafPurpose) -> Result<SpiffeId, PeerError> {
    let cert = parse(leaf)?;
    if let Some(ext) = cert
        .iter_extensions()
        .find(|e| matches!(e.parsed_extension(), ParsedExtension::ParseError { .. }))
    {
        return Err(PeerError::Malformed(format!(
            "extension {} does not parse",
            ext.oid
        )));
    }
    let malformed = |e: x509_parser::error::X509Error| PeerError::Malformed(e.to_string());

    let san = cert.subject_alternative_name().map_err(malformed)?;
    let uris: Vec<&str> = san
        .as_ref()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::URI(u) => Some(*u),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let uri = match uris.as_slice() {
        [] => return Err(PeerError::NoUriSan),
        [one] => *one,
        many => return Err(PeerError::MultipleUriSans(many.len())),
    };

    let is_ca = cert
        .basic_constraints()
        .map_err(malformed)?
        .is_some_and(|bc| bc.value.ca);
    let key_usage = cert.key_usage().map_err(malformed)?;
    if is_ca
        || key_usage
            .as_ref()
            .is_some_and(|ku| ku.value.key_cert_sign())
    {
        return Err(PeerError::CaAsLeaf);
    }

    let id = SpiffeId::parse(uri)?;
    if !id.is_workload() {
        return Err(SpiffeIdError::MissingPath.into());
    }

    let ku = key_usage.ok_or(PeerError::BadKeyUsage("keyUsage extension missing"))?;
    if !ku.critical {
        return Err(PeerError::BadKeyUsage("keyUsage extension not critical"));
    }
    match purpose {
        LeafPurpose::Signing if !ku.value.digital_signature() => {
            return Err(PeerError::BadKeyUsage("keyUsage lacks digitalSignature"));
        }
        LeafPurpose::Encryption if !(ku.value.key_encipherment() || ku.value.key_agreement()) => {
            return Err(PeerError::BadKeyUsage(
                "keyUsage lacks keyEncipherment and keyAgreement",
            ));
        }
        LeafPurpose::Signing | LeafPurpose::Encryption => {}
    }
    if ku.value.crl_sign() {
        return Err(PeerError::BadKeyUsage("keyUsage has cRLSign"));
    }

    if let Some(eku) = cert.extended_key_usage().map_err(malformed)? {
        if !(eku.value.server_auth && eku.value.client_auth) {
            return Err(PeerError::BadKeyUsage(
                "extendedKeyUsage lacks serverAuth or clientAuth",
            ));
        }
    }

    let subject_empty = cert.subject().iter_attributes().next().is_none();
    if subject_empty && !san.is_some_and(|s| s.critical) {
        return Err(PeerError::Malformed(
            "subject is empty but the subjectAltName extension is not critical".into(),
        ));
    }
    Ok(id)
}

/// Parses one whole certificate; trailing bytes are an error.
fn parse<'a>(der: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, PeerError> {
    match x509_parser::parse_x509_certificate(der.as_ref()) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(PeerError::Malformed(
            "trailing bytes after the certificate".into(),
        )),
        Err(e) => Err(PeerError::Malformed(e.to_string())),
    }
}

/// The algorithm OID of a PKCS#8 `PrivateKeyInfo` (RFC 5208 section 5), if `der` is one.
fn pkcs8_algorithm(der: &[u8]) -> Option<String> {
    let (rest, seq) = Sequence::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let content: &[u8] = &seq.content;
    let (content, _version) = u32::from_der(content).ok()?;
    let (_, alg) = AlgorithmIdentifier::from_der(content).ok()?;
    Some(alg.algorithm.to_id_string())
}

fn unix_time(timestamp: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(timestamp).unwrap_or(0)))
}

fn bad(msg: impl Into<String>) -> ConfigError {
    ConfigError::BadCredentials(msg.into())
}

#[cfg(test)]
mod tests {
    use rcgen::{DistinguishedName, IsCa, KeyUsagePurpose};

    use super::*;
    use crate::spiffe::test_certs::{
        non_critical_key_usage, pkcs8, san_extension, svid_params, uri, Ca,
    };

    type Edit = dyn FnOnce(&mut rcgen::CertificateParams);

    fn leaf_err(ca: &Ca, edit: impl FnOnce(&mut rcgen::CertificateParams)) -> PeerError {
        let mut params = svid_params(&["spiffe://example.org/web"]);
        edit(&mut params);
        check_leaf(&ca.sign(&params).0).unwrap_err()
    }

    #[test]
    fn valid_leaf_gives_its_id() {
        let ca = Ca::root("example.org");
        let (leaf, _) = ca.svid("spiffe://example.org/ns/default/sa/web");
        assert_eq!(
            check_leaf(&leaf).unwrap().to_string(),
            "spiffe://example.org/ns/default/sa/web"
        );
    }

    #[test]
    fn uri_san_count() {
        let ca = Ca::root("example.org");
        let two = svid_params(&["spiffe://example.org/a", "spiffe://example.org/b"]);
        assert_eq!(
            check_leaf(&ca.sign(&two).0).unwrap_err(),
            PeerError::MultipleUriSans(2)
        );
        let err = leaf_err(&ca, |p| {
            p.subject_alt_names = vec![rcgen::SanType::DnsName(
                "web.example.org".try_into().unwrap(),
            )]
        });
        assert_eq!(err, PeerError::NoUriSan);
        // Other SAN types beside the one URI are allowed.
        let mut mixed = svid_params(&["spiffe://example.org/a"]);
        mixed
            .subject_alt_names
            .push(rcgen::SanType::DnsName("a.example.org".try_into().unwrap()));
        assert!(check_leaf(&ca.sign(&mixed).0).is_ok());
    }

    #[test]
    fn id_must_be_valid_workload_id() {
        let ca = Ca::root("example.org");
        let err = leaf_err(&ca, |p| {
            p.subject_alt_names = vec![uri("spiffe://Example.org/a")]
        });
        assert_eq!(
            err,
            PeerError::InvalidSpiffeId(SpiffeIdError::BadTrustDomainChar('E'))
        );
        let err = leaf_err(&ca, |p| {
            p.subject_alt_names = vec![uri("spiffe://example.org")]
        });
        assert_eq!(err, PeerError::InvalidSpiffeId(SpiffeIdError::MissingPath));
    }

    #[test]
    fn ca_certificates_are_not_leaves() {
        let ca = Ca::root("example.org");
        assert_eq!(check_leaf(&ca.cert).unwrap_err(), PeerError::CaAsLeaf);
        let err = leaf_err(&ca, |p| {
            p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
        });
        assert_eq!(err, PeerError::CaAsLeaf);
        let err = leaf_err(&ca, |p| p.key_usages.push(KeyUsagePurpose::KeyCertSign));
        assert_eq!(err, PeerError::CaAsLeaf);
        // No basicConstraints at all means cA=false.
        assert!(check_leaf(
            &ca.sign(&{
                let mut p = svid_params(&["spiffe://example.org/a"]);
                p.is_ca = IsCa::NoCa;
                p
            })
            .0
        )
        .is_ok());
    }

    #[test]
    fn key_usage_rules() {
        let ca = Ca::root("example.org");
        let cases: Vec<Box<Edit>> = vec![
            Box::new(|p| p.key_usages.clear()),
            Box::new(|p| {
                p.key_usages.clear();
                p.custom_extensions.push(non_critical_key_usage());
            }),
            Box::new(|p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]),
            Box::new(|p| p.key_usages.push(KeyUsagePurpose::CrlSign)),
            Box::new(|p| p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth]),
            Box::new(|p| p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth]),
        ];
        for edit in cases {
            assert!(matches!(leaf_err(&ca, edit), PeerError::BadKeyUsage(_)));
        }
        // keyEncipherment and keyAgreement beside digitalSignature are allowed; no EKU is fine.
        let mut ok = svid_params(&["spiffe://example.org/a"]);
        ok.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        ok.key_usages.push(KeyUsagePurpose::KeyAgreement);
        ok.extended_key_usages.clear();
        assert!(check_leaf(&ca.sign(&ok).0).is_ok());
    }

    #[test]
    fn empty_subject_needs_critical_san() {
        let ca = Ca::root("example.org");
        let mut params = svid_params(&[]);
        params.distinguished_name = DistinguishedName::new();
        params
            .custom_extensions
            .push(san_extension("spiffe://example.org/a", false));
        assert!(matches!(
            check_leaf(&ca.sign(&params).0),
            Err(PeerError::Malformed(_))
        ));
        params.custom_extensions = vec![san_extension("spiffe://example.org/a", true)];
        assert!(check_leaf(&ca.sign(&params).0).is_ok());
    }

    #[test]
    fn garbage_is_malformed() {
        for der in [&b""[..], b"\x30\x03\x02\x01\x00", b"not a certificate"] {
            assert!(matches!(
                check_leaf(&CertificateDer::from(der)),
                Err(PeerError::Malformed(_))
            ));
        }
        let ca = Ca::root("example.org");
        let (leaf, _) = ca.svid("spiffe://example.org/a");
        let mut trailing = leaf.to_vec();
        trailing.push(0);
        assert!(matches!(
            check_leaf(&CertificateDer::from(trailing)),
            Err(PeerError::Malformed(_))
        ));
    }

    #[test]
    fn svid_from_der_and_pem() {
        let ca = Ca::root("example.org");
        let (leaf, key) = ca.svid("spiffe://example.org/web");
        let svid = Svid::from_der(vec![leaf.clone(), ca.cert.clone()], pkcs8(&key)).unwrap();
        assert_eq!(svid.id().to_string(), "spiffe://example.org/web");
        assert_eq!(svid.chain().len(), 2);
        // rcgen's default not_after is 4096-01-01.
        assert!(svid.not_after().as_secs() > 4_000_000_000);

        let (leaf_pem, key_pem) = ca.svid_pem("spiffe://example.org/api");
        let chain_pem = format!("{leaf_pem}{}", ca.pem());
        let svid = Svid::from_pem(chain_pem.as_bytes(), key_pem.as_bytes()).unwrap();
        assert_eq!(svid.id().to_string(), "spiffe://example.org/api");
        assert_eq!(svid.chain()[1], ca.cert);
    }

    #[test]
    fn svid_rejects_bad_credentials() {
        let ca = Ca::root("example.org");
        let (leaf, key) = ca.svid("spiffe://example.org/web");
        let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let cases = [
            Svid::from_der(vec![], pkcs8(&key)),
            Svid::from_der(vec![ca.cert.clone()], pkcs8(&key)),
            Svid::from_der(vec![leaf.clone()], pkcs8(&other)),
            Svid::from_der(vec![leaf.clone()], PrivatePkcs8KeyDer::from(vec![1, 2, 3])),
            Svid::from_der(
                vec![leaf.clone(), CertificateDer::from(vec![0x30, 0])],
                pkcs8(&key),
            ),
            Svid::from_pem(b"", key.serialize_pem().as_bytes()),
            Svid::from_pem(ca.svid_pem("spiffe://example.org/a").0.as_bytes(), b"junk"),
        ];
        for (i, case) in cases.into_iter().enumerate() {
            assert!(
                matches!(case, Err(ConfigError::BadCredentials(_))),
                "case {i}: {case:?}"
            );
        }
    }

    /// Parameters of a valid TLCP encryption certificate for `id`.
    fn enc_params(id: &str) -> rcgen::CertificateParams {
        let mut params = svid_params(&[id]);
        params.key_usages = vec![
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::DataEncipherment,
            KeyUsagePurpose::KeyAgreement,
        ];
        params
    }

    fn enc_err(ca: &Ca, edit: impl FnOnce(&mut rcgen::CertificateParams)) -> PeerError {
        let mut params = enc_params("spiffe://example.org/web");
        edit(&mut params);
        check_encryption_leaf(&ca.sign(&params).0).unwrap_err()
    }

    #[test]
    fn encryption_leaf_gives_its_id_and_is_no_svid() {
        let ca = Ca::root("example.org");
        let (enc, _) = ca.sign(&enc_params("spiffe://example.org/ns/a/sa/b"));
        assert_eq!(
            check_encryption_leaf(&enc).unwrap().to_string(),
            "spiffe://example.org/ns/a/sa/b"
        );
        assert_eq!(
            check_leaf(&enc).unwrap_err(),
            PeerError::BadKeyUsage("keyUsage lacks digitalSignature")
        );
        // Key transport alone, key agreement alone, and digitalSignature beside them pass.
        let usages = [
            vec![KeyUsagePurpose::KeyEncipherment],
            vec![KeyUsagePurpose::KeyAgreement],
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
        ];
        for key_usages in usages {
            let mut params = enc_params("spiffe://example.org/a");
            params.key_usages = key_usages;
            assert!(check_encryption_leaf(&ca.sign(&params).0).is_ok());
        }
        // No EKU at all is fine, as for SVIDs.
        let mut params = enc_params("spiffe://example.org/a");
        params.extended_key_usages.clear();
        assert!(check_encryption_leaf(&ca.sign(&params).0).is_ok());
    }

    #[test]
    fn encryption_leaf_key_usage_rules() {
        let ca = Ca::root("example.org");
        let cases: Vec<Box<Edit>> = vec![
            Box::new(|p| p.key_usages.clear()),
            Box::new(|p| {
                p.key_usages.clear();
                p.custom_extensions.push(non_critical_key_usage());
            }),
            Box::new(|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature]),
            Box::new(|p| p.key_usages = vec![KeyUsagePurpose::DataEncipherment]),
            Box::new(|p| p.key_usages.push(KeyUsagePurpose::CrlSign)),
            Box::new(|p| p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth]),
        ];
        for edit in cases {
            assert!(matches!(enc_err(&ca, edit), PeerError::BadKeyUsage(_)));
        }
    }

    #[test]
    fn encryption_leaf_shares_the_id_and_ca_rules() {
        let ca = Ca::root("example.org");
        assert_eq!(
            check_encryption_leaf(&ca.cert).unwrap_err(),
            PeerError::CaAsLeaf
        );
        let err = enc_err(&ca, |p| p.key_usages.push(KeyUsagePurpose::KeyCertSign));
        assert_eq!(err, PeerError::CaAsLeaf);
        let err = enc_err(&ca, |p| {
            p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
        });
        assert_eq!(err, PeerError::CaAsLeaf);
        let err = enc_err(&ca, |p| {
            p.subject_alt_names = vec![uri("spiffe://example.org/a"), uri("spiffe://example.org/b")]
        });
        assert_eq!(err, PeerError::MultipleUriSans(2));
        let err = enc_err(&ca, |p| p.subject_alt_names.clear());
        assert_eq!(err, PeerError::NoUriSan);
        let err = enc_err(&ca, |p| {
            p.subject_alt_names = vec![uri("spiffe://example.org")]
        });
        assert_eq!(err, PeerError::InvalidSpiffeId(SpiffeIdError::MissingPath));

        let mut params = enc_params("spiffe://example.org/a");
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names.clear();
        params
            .custom_extensions
            .push(san_extension("spiffe://example.org/a", false));
        assert!(matches!(
            check_encryption_leaf(&ca.sign(&params).0),
            Err(PeerError::Malformed(_))
        ));
    }

    #[test]
    fn encryption_svid_from_der_and_pem() {
        let ca = Ca::root("example.org");
        let (enc, key) = ca.sign(&enc_params("spiffe://example.org/web"));
        let svid = Svid::encryption_from_der(vec![enc.clone()], pkcs8(&key)).unwrap();
        assert_eq!(svid.id().to_string(), "spiffe://example.org/web");
        assert!(matches!(
            Svid::from_der(vec![enc.clone()], pkcs8(&key)),
            Err(ConfigError::BadCredentials(_))
        ));
        let (sign, sign_key) = ca.svid("spiffe://example.org/web");
        assert!(matches!(
            Svid::encryption_from_der(vec![sign], pkcs8(&sign_key)),
            Err(ConfigError::BadCredentials(_))
        ));

        // PEM: an SVID is not an encryption certificate, and the key must be PKCS#8 PEM (the
        // accepted case is in the CA's tests, which write encryption certificates as PEM).
        let (leaf_pem, key_pem) = ca.svid_pem("spiffe://example.org/api");
        assert!(matches!(
            Svid::encryption_from_pem(leaf_pem.as_bytes(), key_pem.as_bytes()),
            Err(ConfigError::BadCredentials(_))
        ));
        assert!(matches!(
            Svid::encryption_from_pem(leaf_pem.as_bytes(), b"junk"),
            Err(ConfigError::BadCredentials(_))
        ));
        assert!(Svid::from_pem(leaf_pem.as_bytes(), key_pem.as_bytes()).is_ok());
    }
}
