//! SM2 certificates from the CA: every extension of the CA, SVID and TLCP pair certificates,
//! SM2-with-SM3 signatures checked with RustCrypto's `sm2`, keys read by the meshtls SM engine,
//! the SPIFFE leaf rules of tls-core, and mixed SM2 / non-SM2 chains.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meshtls_ca::{CaError, CertificateAuthority, KeyType, LeafOptions, Validity};
use meshtls_tls_core::spiffe::{check_encryption_leaf, check_leaf, SpiffeId, Svid, TrustDomain};
use meshtls_tls_core::PeerError;
use sm2::dsa::signature::Verifier;
use x509_parser::der_parser::asn1_rs::{FromDer, Integer, Sequence};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

const DAY: Duration = Duration::from_secs(86_400);
const SM2_WITH_SM3: &str = "1.2.156.10197.1.501";
const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SM2_CURVE: &str = "1.2.156.10197.1.301";

fn td() -> TrustDomain {
    TrustDomain::parse("example.org").unwrap()
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

fn sm2_ca() -> CertificateAuthority {
    CertificateAuthority::new(td(), KeyType::Sm2, Validity::starting_now(DAY)).unwrap()
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = parse_x509_certificate(der).unwrap();
    assert!(rest.is_empty());
    cert
}

fn uri_sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let san = cert.subject_alternative_name().unwrap().unwrap();
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::URI(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

fn oid(s: &str) -> Oid<'static> {
    Oid::from(
        &s.split('.')
            .map(|p| p.parse::<u64>().unwrap())
            .collect::<Vec<_>>()[..],
    )
    .unwrap()
}

fn ski(cert: &X509Certificate<'_>) -> Vec<u8> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => {
                assert!(!e.critical);
                Some(k.0.to_vec())
            }
            _ => None,
        })
        .expect("subjectKeyIdentifier")
}

fn aki(cert: &X509Certificate<'_>) -> Vec<u8> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(k) => {
                assert!(!e.critical);
                k.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
        .expect("authorityKeyIdentifier")
}

/// The certificate's signature algorithm is SM2-with-SM3 without parameters, and its key
/// is an SM2 key (id-ecPublicKey on the SM2 curve).
fn assert_sm2_signed(cert: &X509Certificate<'_>) {
    assert_eq!(cert.signature_algorithm.algorithm, oid(SM2_WITH_SM3));
    assert!(cert.signature_algorithm.parameters.is_none());
    assert_eq!(cert.tbs_certificate.signature, cert.signature_algorithm);
}

fn assert_sm2_key(cert: &X509Certificate<'_>) {
    let alg = &cert.public_key().algorithm;
    assert_eq!(alg.algorithm, oid(ID_EC_PUBLIC_KEY));
    let curve = alg.parameters.as_ref().unwrap().as_oid().unwrap();
    assert_eq!(curve, oid(SM2_CURVE));
    assert_eq!(cert.public_key().subject_public_key.data.len(), 65);
}

/// Verifies `cert`'s SM2-with-SM3 signature with `issuer`'s key, default ID, in RustCrypto.
fn sm2_verifies(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    let point = &issuer.public_key().subject_public_key.data;
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", point).unwrap();
    let (rest, seq) = Sequence::from_der(&cert.signature_value.data).unwrap();
    assert!(rest.is_empty());
    let (rest, r) = Integer::from_der(&seq.content).unwrap();
    let (rest, s) = Integer::from_der(rest).unwrap();
    assert!(rest.is_empty());
    let field = |i: &Integer<'_>| {
        let bytes = i.as_ref().strip_prefix(&[0]).unwrap_or(i.as_ref());
        let mut out = [0u8; 32];
        out[32 - bytes.len()..].copy_from_slice(bytes);
        out
    };
    let sig = sm2::dsa::Signature::from_scalars(field(&r), field(&s)).unwrap();
    key.verify(cert.tbs_certificate.as_ref(), &sig).is_ok()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The SVID leaf rules shared by SVIDs and the two TLCP certificates.
fn assert_leaf_profile(leaf: &X509Certificate<'_>, ca: &X509Certificate<'_>, want: &SpiffeId) {
    assert_eq!(uri_sans(leaf), [want.to_string()]);
    let san = leaf.subject_alternative_name().unwrap().unwrap();
    // The subject (O=meshtls) is not empty, so the SAN need not be critical.
    assert!(!leaf.subject().as_raw().is_empty());
    assert!(!san.critical);
    let bc = leaf.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca && bc.value.path_len_constraint.is_none());
    let eku = leaf.extended_key_usage().unwrap().unwrap();
    assert!(!eku.critical);
    assert!(eku.value.server_auth && eku.value.client_auth);
    assert_eq!(eku.value.other.len(), 0);
    assert!(leaf.validity().not_before.timestamp() <= unix_now() - 60);
    assert_eq!(leaf.raw_serial().len(), 16);
    assert_eq!(leaf.raw_serial()[0] & 0x80, 0);
    assert_eq!(leaf.issuer(), ca.subject());
    assert_eq!(aki(leaf), ski(ca));
    assert_eq!(leaf.version().0, 2);
    assert_eq!(leaf.extensions().len(), 6);
}

#[test]
fn sm2_ca_certificate() {
    let ca = sm2_ca();
    assert_eq!(ca.key_type(), KeyType::Sm2);
    let cert = parse(ca.ca_der());
    assert_sm2_signed(&cert);
    assert_sm2_key(&cert);
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    assert_eq!(uri_sans(&cert), ["spiffe://example.org"]);
    assert!(cert.extended_key_usage().unwrap().is_none());
    // Self-signed: the issuer is the subject, the authority key ID the subject key ID.
    assert_eq!(cert.issuer(), cert.subject());
    assert_eq!(aki(&cert), ski(&cert));
    assert_eq!(ski(&cert).len(), 20);
    let cn = cert.subject().iter_common_name().next().unwrap();
    assert!(cn
        .as_str()
        .unwrap()
        .starts_with("meshtls root CA example.org "));
    assert!(sm2_verifies(&cert, &cert));
    assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(ca.key_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
}

#[test]
fn sm2_svid_follows_the_leaf_rules() {
    let ca = sm2_ca();
    let ca_cert = parse(ca.ca_der());
    let want = id("spiffe://example.org/ns/a/sa/b");
    let svid = ca
        .issue_svid(&want, KeyType::Sm2, Validity::starting_now(DAY))
        .unwrap();
    assert_eq!(svid.chain_der.len(), 1);
    let leaf = parse(svid.leaf().unwrap());
    assert_sm2_signed(&leaf);
    assert_sm2_key(&leaf);
    assert_leaf_profile(&leaf, &ca_cert, &want);
    let ku = leaf.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature());
    assert_eq!(ku.value.flags, 1, "digitalSignature alone");
    assert!(sm2_verifies(&leaf, &ca_cert));

    assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want);
    assert_eq!(svid.to_svid().unwrap().id(), &want);
}

#[test]
fn sm2_signatures_are_checked() {
    let ca = sm2_ca();
    let other = sm2_ca();
    let svid = ca
        .issue_svid(
            &id("spiffe://example.org/a"),
            KeyType::Sm2,
            Validity::starting_now(DAY),
        )
        .unwrap();
    let leaf_der = svid.leaf().unwrap().to_vec();
    // The wrong issuer key fails.
    assert!(!sm2_verifies(&parse(&leaf_der), &parse(other.ca_der())));
    // A changed bit in the TBS fails (flip a byte of the serial number).
    let leaf = parse(&leaf_der);
    let serial = leaf.raw_serial();
    let at = leaf_der
        .windows(serial.len())
        .position(|w| w == serial)
        .unwrap();
    let mut tampered = leaf_der.clone();
    tampered[at + 3] ^= 1;
    assert!(!sm2_verifies(&parse(&tampered), &parse(ca.ca_der())));
}

#[test]
fn sm2_keys_load_in_the_sm_engine() {
    let ca = sm2_ca();
    let svid = ca
        .issue_svid(
            &id("spiffe://example.org/a"),
            KeyType::Sm2,
            Validity::starting_now(DAY),
        )
        .unwrap();
    for (key_der, key_pem, cert_der) in [
        (ca.key_der(), ca.key_pem(), ca.ca_der()),
        (&svid.key_der, svid.key_pem.clone(), svid.leaf().unwrap()),
    ] {
        let der = key_der.secret_pkcs8_der();
        // PKCS#8 v1: SEQUENCE { INTEGER 0, ... }.
        let header = if der[1] & 0x80 == 0 {
            2
        } else {
            2 + usize::from(der[1] & 0x7f)
        };
        assert_eq!(&der[header..header + 3], &[0x02, 0x01, 0x00]);
        let key = meshtls_engine_sm::sm2::PrivateKey::from_pkcs8_der(der).unwrap();
        let from_pem = meshtls_engine_sm::sm2::PrivateKey::from_pkcs8_pem(&key_pem).unwrap();
        assert_eq!(key.public_key(), from_pem.public_key());
        let cert = parse(cert_der);
        assert_eq!(
            key.public_key().to_uncompressed()[..],
            cert.public_key().subject_public_key.data[..]
        );
    }
}

#[test]
fn tlcp_pair() {
    let ca = sm2_ca();
    let ca_cert = parse(ca.ca_der());
    let want = id("spiffe://example.org/ns/a/sa/b");
    let pair = ca
        .issue_tlcp_pair(
            &want,
            &LeafOptions::new(KeyType::Sm2, Validity::starting_now(DAY)),
        )
        .unwrap();

    let sign = parse(pair.sign.leaf().unwrap());
    assert_sm2_signed(&sign);
    assert_sm2_key(&sign);
    assert_leaf_profile(&sign, &ca_cert, &want);
    let ku = sign.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && ku.value.flags == 1);
    assert!(sm2_verifies(&sign, &ca_cert));

    let enc = parse(pair.enc.leaf().unwrap());
    assert_sm2_signed(&enc);
    assert_sm2_key(&enc);
    assert_leaf_profile(&enc, &ca_cert, &want);
    let ku = enc.key_usage().unwrap().unwrap();
    assert!(ku.critical);
    assert!(ku.value.key_encipherment() && ku.value.data_encipherment());
    assert!(ku.value.key_agreement());
    assert!(!ku.value.digital_signature() && !ku.value.non_repudiation());
    assert!(!ku.value.key_cert_sign() && !ku.value.crl_sign());
    assert!(sm2_verifies(&enc, &ca_cert));

    // Two keys, two serials.
    assert_ne!(
        sign.public_key().subject_public_key.data,
        enc.public_key().subject_public_key.data
    );
    assert_ne!(sign.raw_serial(), enc.raw_serial());
    assert_ne!(
        pair.sign.key_der.secret_pkcs8_der(),
        pair.enc.key_der.secret_pkcs8_der()
    );

    // The signing certificate is an SVID; the encryption one is not (no digitalSignature).
    assert_eq!(check_leaf(pair.sign.leaf().unwrap()).unwrap(), want);
    assert!(matches!(
        check_leaf(pair.enc.leaf().unwrap()),
        Err(PeerError::BadKeyUsage(_))
    ));
    assert_eq!(
        check_encryption_leaf(pair.enc.leaf().unwrap()).unwrap(),
        want
    );
    assert_eq!(
        check_encryption_leaf(pair.sign.leaf().unwrap()).unwrap_err(),
        PeerError::BadKeyUsage("keyUsage lacks keyEncipherment and keyAgreement")
    );

    // Into tls-core, from DER and from the PEM files.
    let (sign_svid, enc_svid) = pair.to_svids().unwrap();
    assert_eq!(sign_svid.id(), &want);
    assert_eq!(enc_svid.id(), &want);
    let enc_svid =
        Svid::encryption_from_pem(pair.enc.chain_pem.as_bytes(), pair.enc.key_pem.as_bytes())
            .unwrap();
    assert_eq!(enc_svid.chain(), &pair.enc.chain_der[..]);
    assert!(Svid::from_pem(pair.enc.chain_pem.as_bytes(), pair.enc.key_pem.as_bytes()).is_err());
    assert!(Svid::from_pem(pair.sign.chain_pem.as_bytes(), pair.sign.key_pem.as_bytes()).is_ok());
}

#[test]
fn tlcp_pair_requests_are_checked() {
    let ca = sm2_ca();
    let v = Validity::starting_now(DAY);
    assert!(matches!(
        ca.issue_tlcp_pair(
            &id("spiffe://example.org/a"),
            &LeafOptions::new(KeyType::EcdsaP256, v)
        ),
        Err(CaError::TlcpNeedsSm2(KeyType::EcdsaP256))
    ));
    assert!(matches!(
        ca.issue_tlcp_pair(
            &id("spiffe://other.org/a"),
            &LeafOptions::new(KeyType::Sm2, v)
        ),
        Err(CaError::ForeignTrustDomain { .. })
    ));
    assert!(matches!(
        ca.issue_tlcp_pair(
            &id("spiffe://example.org"),
            &LeafOptions::new(KeyType::Sm2, v)
        ),
        Err(CaError::NotWorkloadId(_))
    ));
}

#[test]
fn sm2_ca_issues_every_key_type_and_any_ca_issues_sm2() {
    let want = id("spiffe://example.org/web");
    let sm2 = sm2_ca();
    for &kt in KeyType::ALL {
        let svid = sm2
            .issue_svid(&want, kt, Validity::starting_now(DAY))
            .unwrap();
        let leaf = parse(svid.leaf().unwrap());
        assert_sm2_signed(&leaf);
        assert!(sm2_verifies(&leaf, &parse(sm2.ca_der())), "{kt}");
        assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want, "{kt}");
        let ku = leaf.key_usage().unwrap().unwrap();
        assert_eq!(ku.value.key_encipherment(), kt == KeyType::Rsa2048, "{kt}");
        svid.to_svid().unwrap();
    }
    for &kt in KeyType::ALL {
        let ca = CertificateAuthority::new(td(), kt, Validity::starting_now(DAY)).unwrap();
        let svid = ca
            .issue_svid(&want, KeyType::Sm2, Validity::starting_now(DAY))
            .unwrap();
        let leaf = parse(svid.leaf().unwrap());
        assert_sm2_key(&leaf);
        assert_eq!(
            leaf.signature_algorithm.algorithm,
            parse(ca.ca_der()).signature_algorithm.algorithm,
            "{kt}"
        );
        assert_leaf_profile(&leaf, &parse(ca.ca_der()), &want);
        assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want, "{kt}");
    }
}

#[test]
fn mixed_intermediates() {
    let want = id("spiffe://example.org/db");
    let v = Validity::starting_now(DAY);
    for (root_kt, inter_kt) in [
        (KeyType::Sm2, KeyType::Sm2),
        (KeyType::Sm2, KeyType::EcdsaP256),
        (KeyType::EcdsaP384, KeyType::Sm2),
    ] {
        let root = CertificateAuthority::new(td(), root_kt, v).unwrap();
        let inter = root.issue_intermediate(inter_kt, v).unwrap();
        let ic = parse(inter.cert_der());
        let bc = ic.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint == Some(0));
        assert_eq!(ic.issuer(), parse(root.ca_der()).subject());
        assert_eq!(aki(&ic), ski(&parse(root.ca_der())));
        assert_eq!(uri_sans(&ic), ["spiffe://example.org"]);
        assert_eq!(inter.ca_der(), root.ca_der());
        if root_kt == KeyType::Sm2 {
            assert!(sm2_verifies(&ic, &parse(root.ca_der())));
        }
        for leaf_kt in [KeyType::Sm2, KeyType::EcdsaP256] {
            let svid = inter.issue_svid(&want, leaf_kt, v).unwrap();
            assert_eq!(svid.chain_der.len(), 2);
            assert_eq!(&svid.chain_der[1], inter.cert_der());
            let leaf = parse(svid.leaf().unwrap());
            assert_eq!(leaf.issuer(), ic.subject());
            assert_eq!(aki(&leaf), ski(&ic));
            if inter_kt == KeyType::Sm2 {
                assert!(sm2_verifies(&leaf, &ic));
            }
            assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want);
        }
    }
}

#[test]
fn sign_custom_needs_rcgen() {
    let ca = sm2_ca();
    let params = rcgen_params();
    assert!(matches!(
        ca.sign_custom(params.clone(), KeyType::EcdsaP256),
        Err(CaError::Sm2Unsupported(_))
    ));
    let ecdsa =
        CertificateAuthority::new(td(), KeyType::EcdsaP256, Validity::starting_now(DAY)).unwrap();
    assert!(matches!(
        ecdsa.sign_custom(params.clone(), KeyType::Sm2),
        Err(CaError::Sm2Unsupported(_))
    ));
    assert!(ecdsa.sign_custom(params, KeyType::EcdsaP256).is_ok());
}

fn rcgen_params() -> meshtls_ca::rcgen::CertificateParams {
    let mut params = meshtls_ca::rcgen::CertificateParams::default();
    params.subject_alt_names = vec![meshtls_ca::rcgen::SanType::URI(
        "spiffe://example.org/x".try_into().unwrap(),
    )];
    params
}

#[test]
fn empty_validity_and_bad_dns_names_are_typed_errors() {
    let ca = sm2_ca();
    let v = Validity::starting_now(DAY);
    let empty = Validity {
        not_before: v.not_after,
        not_after: v.not_before,
    };
    assert!(matches!(
        ca.issue_svid(&id("spiffe://example.org/a"), KeyType::Sm2, empty),
        Err(CaError::EmptyValidity)
    ));
    assert!(matches!(
        CertificateAuthority::new(td(), KeyType::Sm2, empty),
        Err(CaError::EmptyValidity)
    ));
    let mut options = LeafOptions::new(KeyType::Sm2, v);
    options.dns_names.push("bad\u{e9}.example".into());
    assert!(matches!(
        ca.issue_svid_with(&id("spiffe://example.org/a"), &options),
        Err(CaError::Encoding(_))
    ));
    let mut options = LeafOptions::new(KeyType::Sm2, v);
    options.dns_names.push("localhost".into());
    let svid = ca
        .issue_svid_with(&id("spiffe://example.org/a"), &options)
        .unwrap();
    let leaf = parse(svid.leaf().unwrap());
    let san = leaf.subject_alternative_name().unwrap().unwrap();
    assert_eq!(
        san.value.general_names,
        [
            GeneralName::URI("spiffe://example.org/a"),
            GeneralName::DNSName("localhost")
        ]
    );
}

#[test]
fn validity_after_2049_is_generalized_time() {
    let ca = sm2_ca();
    let now = SystemTime::now();
    let long = Validity {
        not_before: now,
        not_after: UNIX_EPOCH + Duration::from_secs(2_600_000_000), // 2052
    };
    let svid = ca
        .issue_svid(&id("spiffe://example.org/a"), KeyType::Sm2, long)
        .unwrap();
    let leaf = parse(svid.leaf().unwrap());
    assert_eq!(leaf.validity().not_after.timestamp(), 2_600_000_000);
    assert_eq!(
        leaf.validity().not_before.timestamp(),
        now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
    );
    // And the DER holds one GeneralizedTime (tag 0x18) and one UTCTime (tag 0x17).
    let der: &[u8] = svid.leaf().unwrap().as_ref();
    assert!(der.windows(2).any(|w| w == [0x18, 0x0f]));
    assert!(der.windows(2).any(|w| w == [0x17, 0x0d]));
}
