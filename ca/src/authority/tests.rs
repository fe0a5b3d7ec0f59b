use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meshtls_tls_core::spiffe::check_leaf;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

fn td(s: &str) -> TrustDomain {
    TrustDomain::parse(s).unwrap()
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

fn parse<'a>(der: &'a [u8]) -> X509Certificate<'a> {
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn signing_ca_follows_the_spiffe_rules() {
    for &kt in KeyType::ALL {
        let ca =
            CertificateAuthority::new(td("example.org"), kt, Validity::starting_now(DAY)).unwrap();
        let cert = parse(ca.ca_der());
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca, "{kt}");
        let ku = cert.key_usage().unwrap().unwrap();
        assert!(
            ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign(),
            "{kt}"
        );
        assert!(!ku.value.digital_signature(), "{kt}");
        assert_eq!(uri_sans(&cert), ["spiffe://example.org"], "{kt}");
        assert_eq!(ca.cert_der(), ca.ca_der());
        assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(ca.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(ca.key_type(), kt);
    }
}

#[test]
fn svid_of_every_key_type_passes_the_leaf_rules() {
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP256,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let want = id("spiffe://example.org/ns/default/sa/web");
    for &kt in KeyType::ALL {
        let svid = ca
            .issue_svid(&want, kt, Validity::starting_now(DAY))
            .unwrap();
        assert_eq!(svid.chain_der.len(), 1);
        assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want, "{kt}");

        let cert = parse(svid.leaf().unwrap());
        assert_eq!(uri_sans(&cert), [want.to_string()], "{kt}");
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(!bc.value.ca, "{kt}");
        let ku = cert.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.digital_signature(), "{kt}");
        assert!(!ku.value.key_cert_sign() && !ku.value.crl_sign(), "{kt}");
        assert_eq!(ku.value.key_encipherment(), kt == KeyType::Rsa2048, "{kt}");
        let eku = cert.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.server_auth && eku.value.client_auth, "{kt}");
        let not_before = cert.validity().not_before.timestamp();
        assert!(
            not_before <= unix_now() - 60,
            "{kt}: not_before is not backdated"
        );
        assert_eq!(cert.issuer(), parse(ca.ca_der()).subject());

        assert!(svid.chain_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(svid.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(svid.to_svid().unwrap().id(), &want);
    }
}

#[test]
fn keys_are_pkcs8_v1() {
    // PrivateKeyInfo ::= SEQUENCE { version INTEGER (0 for v1), ... }; BoringSSL rejects v2.
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::Ed25519,
        Validity::starting_now(DAY),
    )
    .unwrap();
    for &kt in KeyType::ALL {
        let svid = ca
            .issue_svid(
                &id("spiffe://example.org/k"),
                kt,
                Validity::starting_now(DAY),
            )
            .unwrap();
        let der = svid.key_der.secret_pkcs8_der();
        let header_len = if der[1] & 0x80 == 0 {
            2
        } else {
            2 + usize::from(der[1] & 0x7f)
        };
        assert_eq!(
            &der[header_len..header_len + 3],
            &[0x02, 0x01, 0x00],
            "{kt}"
        );
    }
}

#[test]
fn serials_are_random_and_positive() {
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP256,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let a = ca
        .issue_svid(
            &id("spiffe://example.org/a"),
            KeyType::EcdsaP256,
            Validity::starting_now(DAY),
        )
        .unwrap();
    let b = ca
        .issue_svid(
            &id("spiffe://example.org/a"),
            KeyType::EcdsaP256,
            Validity::starting_now(DAY),
        )
        .unwrap();
    let (a, b) = (parse(a.leaf().unwrap()), parse(b.leaf().unwrap()));
    assert_ne!(a.raw_serial(), b.raw_serial());
    assert_eq!(a.raw_serial().len(), 16);
    assert!(a.raw_serial()[0] & 0x80 == 0);
}

#[test]
fn intermediate_chain() {
    let root = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP384,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let inter = root
        .issue_intermediate(KeyType::EcdsaP256, Validity::starting_now(DAY))
        .unwrap();
    assert_eq!(inter.ca_der(), root.ca_der());
    assert_ne!(inter.cert_der(), root.cert_der());

    let ic = parse(inter.cert_der());
    let bc = ic.basic_constraints().unwrap().unwrap();
    assert!(bc.value.ca && bc.value.path_len_constraint == Some(0));
    assert_eq!(ic.issuer(), parse(root.ca_der()).subject());
    assert_eq!(uri_sans(&ic), ["spiffe://example.org"]);

    let want = id("spiffe://example.org/db");
    let svid = inter
        .issue_svid(&want, KeyType::Ed25519, Validity::starting_now(DAY))
        .unwrap();
    assert_eq!(svid.chain_der.len(), 2);
    assert_eq!(&svid.chain_der[1], inter.cert_der());
    assert_eq!(parse(svid.leaf().unwrap()).issuer(), ic.subject());
    assert_eq!(svid.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
    assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want);
}

#[test]
fn extra_dns_sans() {
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP256,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let want = id("spiffe://example.org/web");
    let mut options = LeafOptions::new(KeyType::EcdsaP256, Validity::starting_now(DAY));
    options.dns_names.push("localhost".into());
    let svid = ca.issue_svid_with(&want, &options).unwrap();
    let cert = parse(svid.leaf().unwrap());
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(san
        .value
        .general_names
        .contains(&GeneralName::DNSName("localhost")));
    assert_eq!(uri_sans(&cert).len(), 1);
    assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want);
}

#[test]
fn bad_requests_are_typed_errors() {
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP256,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let v = Validity::starting_now(DAY);
    assert!(matches!(
        ca.issue_svid(&id("spiffe://other.org/a"), KeyType::EcdsaP256, v),
        Err(CaError::ForeignTrustDomain { .. })
    ));
    assert!(matches!(
        ca.issue_svid(&id("spiffe://example.org"), KeyType::EcdsaP256, v),
        Err(CaError::NotWorkloadId(_))
    ));
    let empty = Validity {
        not_before: v.not_after,
        not_after: v.not_before,
    };
    assert!(matches!(
        ca.issue_svid(&id("spiffe://example.org/a"), KeyType::EcdsaP256, empty),
        Err(CaError::EmptyValidity)
    ));
    let mut options = LeafOptions::new(KeyType::EcdsaP256, v);
    options.dns_names.push("bad\u{e9}.example".into());
    assert!(matches!(
        ca.issue_svid_with(&id("spiffe://example.org/a"), &options),
        Err(CaError::Certificate(_))
    ));
}

#[test]
fn expired_leaf_can_be_issued() {
    let ca = CertificateAuthority::new(
        td("example.org"),
        KeyType::EcdsaP256,
        Validity::starting_now(DAY),
    )
    .unwrap();
    let now = SystemTime::now();
    let expired = Validity {
        not_before: now - 2 * DAY,
        not_after: now - DAY,
    };
    let svid = ca
        .issue_svid(&id("spiffe://example.org/old"), KeyType::EcdsaP256, expired)
        .unwrap();
    assert!(parse(svid.leaf().unwrap()).validity().not_after.timestamp() < unix_now());
}

#[test]
fn key_type_names_round_trip() {
    for &kt in KeyType::ALL {
        assert_eq!(kt.name().parse::<KeyType>().unwrap(), kt);
    }
    assert!("dsa".parse::<KeyType>().is_err());
}
