//! The system `openssl` CLI (OpenSSL 3.0) accepts what the CA issues, rejects tampered and
//! foreign chains, reads the SM2 keys, and makes an SM2 CA that
//! [`CertificateAuthority::from_pem`] loads and issues under. Also round trips every key type
//! through `from_pem`.
//!
//! OpenSSL 3.0 signs and verifies SM2 certificates with an empty signer ID unless told
//! otherwise (`-vfyopt distid:..`, `-sigopt distid:..`), while GB/T 35276, Tongsuo and GmSSL use
//! `1234567812345678`: every call here passes that ID, and one test shows the empty ID fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use meshtls_ca::{CaError, CertificateAuthority, KeyType, LeafOptions, LoadError, Validity};
use meshtls_tls_core::spiffe::{check_leaf, SpiffeId, TrustDomain};

const DAY: Duration = Duration::from_secs(86_400);

fn td() -> TrustDomain {
    TrustDomain::parse("example.org").unwrap()
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("run the openssl CLI")
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The SM2 signer ID of certificates (GB/T 35276-2017 section 7), as OpenSSL options.
const DISTID: &str = "distid:1234567812345678";

/// `openssl verify -CAfile ca leaf` succeeded, with the certificate ID for SM2 signatures when
/// `sm2`. OpenSSL 3.0 applies `-vfyopt` to the target certificate's signature only (and fails
/// it on non-SM2 signatures), so longer chains are checked link by link with [`link_verifies`].
fn verifies(ca: &Path, leaf: &Path, sm2: bool) -> bool {
    let mut args = vec!["verify"];
    if sm2 {
        args.extend(["-vfyopt", DISTID]);
    }
    args.extend(["-CAfile", s(ca), s(leaf)]);
    let out = openssl(&args);
    let ok = out.status.success();
    if ok {
        assert!(String::from_utf8_lossy(&out.stdout).contains(": OK"));
    }
    ok
}

/// `cert`'s signature verifies with `issuer`'s key (`-partial_chain`: `issuer` need not be a
/// root).
fn link_verifies(issuer: &Path, cert: &Path, sm2: bool) -> bool {
    let mut args = vec!["verify", "-partial_chain"];
    if sm2 {
        args.extend(["-vfyopt", DISTID]);
    }
    args.extend(["-CAfile", s(issuer), s(cert)]);
    openssl(&args).status.success()
}

#[test]
fn openssl_verifies_sm2_chains() {
    let dir = tempfile::tempdir().unwrap();
    let v = Validity::starting_now(DAY);
    let want = id("spiffe://example.org/ns/a/sa/b");
    let ca = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let ca_pem = write(dir.path(), "ca.pem", ca.ca_pem());

    let svid = ca.issue_svid(&want, KeyType::Sm2, v).unwrap();
    let svid_pem = write(dir.path(), "svid.pem", &svid.chain_pem);
    assert!(verifies(&ca_pem, &svid_pem, true));

    let pair = ca
        .issue_tlcp_pair(&want, &LeafOptions::new(KeyType::Sm2, v))
        .unwrap();
    let sign = write(dir.path(), "sign.pem", &pair.sign.chain_pem);
    let enc = write(dir.path(), "enc.pem", &pair.enc.chain_pem);
    assert!(verifies(&ca_pem, &sign, true));
    assert!(verifies(&ca_pem, &enc, true));

    // Every other key type under the SM2 CA.
    for &kt in KeyType::ALL {
        let leaf = ca.issue_svid(&want, kt, v).unwrap();
        let path = write(dir.path(), &format!("{kt}.pem"), &leaf.chain_pem);
        assert!(verifies(&ca_pem, &path, true), "{kt} leaf under SM2 CA");
    }

    // SM2 leaves under an ECDSA intermediate under the SM2 root, and the reverse.
    for (root_kt, inter_kt) in [
        (KeyType::Sm2, KeyType::EcdsaP256),
        (KeyType::EcdsaP256, KeyType::Sm2),
    ] {
        let root = CertificateAuthority::new(td(), root_kt, v).unwrap();
        let inter = root.issue_intermediate(inter_kt, v).unwrap();
        let root_pem = write(dir.path(), "root.pem", root.ca_pem());
        let inter_pem = write(dir.path(), "inter.pem", inter.cert_pem());
        let leaf = inter.issue_svid(&want, KeyType::Sm2, v).unwrap();
        let leaf_pem = write(dir.path(), "leaf.pem", &leaf.chain_pem);
        let what = format!("{root_kt} root, {inter_kt} intermediate");
        assert!(
            link_verifies(&root_pem, &inter_pem, root_kt == KeyType::Sm2),
            "{what}"
        );
        assert!(
            link_verifies(&inter_pem, &leaf_pem, inter_kt == KeyType::Sm2),
            "{what}"
        );
        // The wrong issuer fails.
        assert!(
            !link_verifies(&root_pem, &leaf_pem, root_kt == KeyType::Sm2),
            "{what}"
        );
    }
}

#[test]
fn openssl_rejects_tampered_and_foreign_sm2_chains() {
    let dir = tempfile::tempdir().unwrap();
    let v = Validity::starting_now(DAY);
    let ca = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let other = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let svid = ca
        .issue_svid(&id("spiffe://example.org/a"), KeyType::Sm2, v)
        .unwrap();
    let leaf = write(dir.path(), "leaf.pem", &svid.chain_pem);
    let other_pem = write(dir.path(), "other.pem", other.ca_pem());
    assert!(!verifies(&other_pem, &leaf, true));

    // One flipped bit in the signature.
    let mut der = svid.leaf().unwrap().to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    let tampered = dir.path().join("tampered.der");
    std::fs::write(&tampered, &der).unwrap();
    let tampered_pem = dir.path().join("tampered.pem");
    let out = openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        s(&tampered),
        "-out",
        s(&tampered_pem),
    ]);
    assert!(out.status.success());
    let ca_pem = write(dir.path(), "ca.pem", ca.ca_pem());
    assert!(!verifies(&ca_pem, &tampered_pem, true));

    // OpenSSL 3.0's default (empty) signer ID is not the one certificates use.
    assert!(!verifies(&ca_pem, &leaf, false));
    assert!(verifies(&ca_pem, &leaf, true));
}

#[test]
fn openssl_reads_sm2_keys() {
    let dir = tempfile::tempdir().unwrap();
    let v = Validity::starting_now(DAY);
    let ca = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let svid = ca
        .issue_svid(&id("spiffe://example.org/a"), KeyType::Sm2, v)
        .unwrap();
    for (cert, key) in [
        (ca.ca_pem().to_owned(), ca.key_pem()),
        (svid.chain_pem.clone(), svid.key_pem.clone()),
    ] {
        let cert = write(dir.path(), "c.pem", &cert);
        let key = write(dir.path(), "k.pem", &key);
        let from_key = openssl(&["pkey", "-in", s(&key), "-pubout"]);
        assert!(
            from_key.status.success(),
            "{}",
            String::from_utf8_lossy(&from_key.stderr)
        );
        let from_cert = openssl(&["x509", "-in", s(&cert), "-noout", "-pubkey"]);
        assert!(from_cert.status.success());
        assert_eq!(from_key.stdout, from_cert.stdout);
        let text = openssl(&["pkey", "-in", s(&key), "-noout", "-text"]);
        assert!(String::from_utf8_lossy(&text.stdout).contains("ASN1 OID: SM2"));
    }
}

#[test]
fn openssl_made_sm2_ca_loads_and_issues() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ca.key.pem");
    let cert = dir.path().join("ca.pem");
    let out = openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        s(&key),
    ]);
    assert!(out.status.success());
    let out = openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        s(&key),
        "-sm3",
        "-sigopt",
        DISTID,
        "-days",
        "1",
        "-subj",
        "/O=openssl/CN=openssl SM2 CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectAltName=URI:spiffe://example.org",
        "-out",
        s(&cert),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let ca = CertificateAuthority::from_pem(
        &std::fs::read(&cert).unwrap(),
        &std::fs::read(&key).unwrap(),
    )
    .unwrap();
    assert_eq!(ca.key_type(), KeyType::Sm2);
    assert_eq!(ca.trust_domain(), &td());
    let want = id("spiffe://example.org/w");
    let svid = ca
        .issue_svid(&want, KeyType::Sm2, Validity::starting_now(DAY))
        .unwrap();
    assert_eq!(check_leaf(svid.leaf().unwrap()).unwrap(), want);
    let leaf = write(dir.path(), "leaf.pem", &svid.chain_pem);
    assert!(verifies(&cert, &leaf, true));
}

#[test]
fn every_key_type_round_trips_through_pem() {
    let dir = tempfile::tempdir().unwrap();
    let v = Validity::starting_now(DAY);
    let want = id("spiffe://example.org/w");
    for &kt in KeyType::ALL {
        let original = CertificateAuthority::new(td(), kt, v).unwrap();
        let loaded = CertificateAuthority::from_pem(
            original.cert_pem().as_bytes(),
            original.key_pem().as_bytes(),
        )
        .unwrap();
        assert_eq!(loaded.key_type(), kt);
        assert_eq!(loaded.trust_domain(), &td());
        assert_eq!(loaded.ca_der(), original.ca_der());
        assert_eq!(loaded.key_pem(), original.key_pem());
        let ca_pem = write(dir.path(), "ca.pem", original.ca_pem());
        for leaf_kt in [KeyType::Sm2, KeyType::EcdsaP256] {
            let svid = loaded.issue_svid(&want, leaf_kt, v).unwrap();
            let leaf = write(dir.path(), "leaf.pem", &svid.chain_pem);
            assert!(
                link_verifies(&ca_pem, &leaf, kt == KeyType::Sm2),
                "{kt} CA, {leaf_kt} leaf"
            );
        }
    }

    // An intermediate loads with its chain: leaves it issues carry the intermediate.
    let root = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let inter = root.issue_intermediate(KeyType::Sm2, v).unwrap();
    let chain = format!("{}{}", inter.cert_pem(), root.ca_pem());
    let loaded =
        CertificateAuthority::from_pem(chain.as_bytes(), inter.key_pem().as_bytes()).unwrap();
    assert_eq!(loaded.ca_der(), root.ca_der());
    let svid = loaded.issue_svid(&want, KeyType::Sm2, v).unwrap();
    assert_eq!(svid.chain_der.len(), 2);
    let ca_pem = write(dir.path(), "root.pem", root.ca_pem());
    let leaf = write(dir.path(), "leaf.pem", &svid.chain_pem);
    let inter_pem = write(dir.path(), "inter.pem", inter.cert_pem());
    assert!(link_verifies(&ca_pem, &inter_pem, true));
    assert!(link_verifies(&inter_pem, &leaf, true));
}

#[test]
fn bad_ca_files_are_typed_errors() {
    let v = Validity::starting_now(DAY);
    let ca = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let other = CertificateAuthority::new(td(), KeyType::Sm2, v).unwrap();
    let ecdsa = CertificateAuthority::new(td(), KeyType::EcdsaP256, v).unwrap();
    let svid = ca
        .issue_svid(&id("spiffe://example.org/a"), KeyType::Sm2, v)
        .unwrap();
    let load =
        |cert: &str, key: &str| CertificateAuthority::from_pem(cert.as_bytes(), key.as_bytes());
    let load_err = |cert: &str, key: &str| match load(cert, key) {
        Err(CaError::Load(e)) => e,
        other => panic!("expected a load error, got {other:?}"),
    };
    assert_eq!(load_err("", &ca.key_pem()), LoadError::NoCertificate);
    assert_eq!(
        load_err(
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            &ca.key_pem()
        ),
        LoadError::Pem("certificate")
    );
    assert_eq!(
        load_err(
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
            &ca.key_pem()
        ),
        LoadError::BadCertificate(0)
    );
    assert_eq!(load_err(ca.cert_pem(), "junk"), LoadError::Pem("key"));
    assert_eq!(
        load_err(ca.cert_pem(), &other.key_pem()),
        LoadError::KeyMismatch
    );
    assert_eq!(
        load_err(ca.cert_pem(), &ecdsa.key_pem()),
        LoadError::KeyMismatch
    );
    assert_eq!(load_err(&svid.chain_pem, &svid.key_pem), LoadError::NotCa);
    let sec1 = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
    assert_eq!(load_err(ca.cert_pem(), sec1), LoadError::UnsupportedKey);
}
