//! `meshtls cert` end to end: the built binary makes CAs, SVIDs of every key type and TLCP
//! pairs as files; tls-core loads them under the SPIFFE leaf rules, the system `openssl` (3.0)
//! and Tongsuo verify them, a CA loads back from its files, a Tongsuo-made SM2 CA issues
//! through `meshtls cert`, and bad requests fail with a clear message and no files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use meshtls_ca::{CertificateAuthority, KeyType};
use meshtls_tests::process;
use meshtls_tests::tongsuo::pki::TongsuoCa;
use meshtls_tls_core::spiffe::{check_encryption_leaf, check_leaf, SpiffeId, Svid};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::Value;

/// The SM2 signer ID of certificates, as OpenSSL 3.0 needs it spelled out (its default for
/// SM2 certificate signatures is the empty ID).
const DISTID: &str = "distid:1234567812345678";

fn meshtls(args: &[&str]) -> Output {
    let out = Command::new(process::meshtls_binary())
        .args(args)
        .output()
        .expect("run meshtls");
    eprintln!("meshtls {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs a `meshtls cert` command that must succeed; returns its JSON line.
fn cert_ok(args: &[&str]) -> Value {
    let mut full = vec!["cert"];
    full.extend_from_slice(args);
    let out = meshtls(&full);
    assert!(out.status.success(), "meshtls {full:?} failed");
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "one JSON line: {line}");
    serde_json::from_str(&line).unwrap()
}

/// Runs a `meshtls cert` command that must fail with exit status `code`; returns stderr.
fn cert_err(args: &[&str], code: i32) -> String {
    let mut full = vec!["cert"];
    full.extend_from_slice(args);
    let out = meshtls(&full);
    assert_eq!(out.status.code(), Some(code), "meshtls {full:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The files a JSON line lists, as paths.
fn files(line: &Value) -> Vec<PathBuf> {
    line["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| PathBuf::from(f.as_str().unwrap()))
        .collect()
}

/// `openssl verify -partial_chain -CAfile issuer cert` with the system OpenSSL 3.0, passing
/// the certificate ID when `issuer` signs with SM2.
fn openssl_verifies(issuer: &Path, cert: &Path, sm2: bool) -> bool {
    let mut args = vec!["verify", "-partial_chain"];
    if sm2 {
        args.extend(["-vfyopt", DISTID]);
    }
    args.extend(["-CAfile", s(issuer), s(cert)]);
    Command::new("openssl")
        .args(&args)
        .output()
        .unwrap()
        .status
        .success()
}

/// Tongsuo's `verify` (default SM2 ID 1234567812345678, no option needed).
fn tongsuo_verifies(ca: &Path, cert: &Path) -> bool {
    Command::new(meshtls_tests::tongsuo::cli())
        .args(["verify", "-CAfile", s(ca), s(cert)])
        .env("OPENSSL_CONF", "/dev/null")
        .output()
        .unwrap()
        .status
        .success()
}

/// The text `openssl x509 -text` prints for the first certificate of `path`.
fn openssl_text(path: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", s(path)])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `meshtls cert ca` into `dir`; returns (ca.pem, ca.key.pem).
fn make_ca(dir: &Path, key_type: &str) -> (PathBuf, PathBuf) {
    let line = cert_ok(&[
        "ca",
        "--trust-domain",
        "example.org",
        "--key-type",
        key_type,
        "--out",
        s(dir),
    ]);
    assert_eq!(line["id"], "spiffe://example.org");
    assert_eq!(line["key_type"], key_type);
    let files = files(&line);
    assert_eq!(files, [dir.join("ca.pem"), dir.join("ca.key.pem")]);
    (files[0].clone(), files[1].clone())
}

#[test]
fn sm2_ca_svid_and_tlcp_pair() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let (ca_pem, ca_key) = make_ca(&ca_dir, "sm2");
    assert_eq!(mode(&ca_pem), 0o644);
    assert_eq!(mode(&ca_key), 0o600);
    let ca = CertificateAuthority::from_pem(&read(&ca_pem), &read(&ca_key)).unwrap();
    assert_eq!(ca.key_type(), KeyType::Sm2);
    assert!(openssl_text(&ca_pem).contains("Signature Algorithm: SM2-with-SM3"));

    let id = "spiffe://example.org/ns/a/sa/b";
    let want = SpiffeId::parse(id).unwrap();
    let svid_dir = dir.path().join("svid");
    let line = cert_ok(&[
        "svid",
        "--ca-cert",
        s(&ca_pem),
        "--ca-key",
        s(&ca_key),
        "--id",
        id,
        "--key-type",
        "sm2",
        "--out",
        s(&svid_dir),
    ]);
    assert_eq!(line["id"], id);
    assert_eq!(line["key_type"], "sm2");
    let [svid_pem, svid_key] = <[PathBuf; 2]>::try_from(files(&line)).unwrap();
    assert_eq!(svid_pem, svid_dir.join("svid.pem"));
    assert_eq!(svid_key, svid_dir.join("svid.key.pem"));
    assert_eq!(mode(&svid_key), 0o600);
    let svid = Svid::from_pem(&read(&svid_pem), &read(&svid_key)).unwrap();
    assert_eq!(svid.id(), &want);
    assert!(meshtls_engine_sm::sm2::PrivateKey::from_pkcs8_pem(
        &String::from_utf8(read(&svid_key)).unwrap()
    )
    .is_ok());
    assert!(openssl_verifies(&ca_pem, &svid_pem, true));
    assert!(tongsuo_verifies(&ca_pem, &svid_pem));

    let pair_dir = dir.path().join("pair");
    let line = cert_ok(&[
        "tlcp",
        "--ca-cert",
        s(&ca_pem),
        "--ca-key",
        s(&ca_key),
        "--id",
        id,
        "--out",
        s(&pair_dir),
    ]);
    assert_eq!(line["key_type"], "sm2");
    let names: Vec<PathBuf> = ["sign.pem", "sign.key.pem", "enc.pem", "enc.key.pem"]
        .iter()
        .map(|n| pair_dir.join(n))
        .collect();
    assert_eq!(files(&line), names);
    let [sign_pem, sign_key, enc_pem, enc_key] = <[PathBuf; 4]>::try_from(names).unwrap();
    assert_eq!((mode(&sign_key), mode(&enc_key)), (0o600, 0o600));
    assert_eq!(
        Svid::from_pem(&read(&sign_pem), &read(&sign_key))
            .unwrap()
            .id(),
        &want
    );
    assert_eq!(
        Svid::encryption_from_pem(&read(&enc_pem), &read(&enc_key))
            .unwrap()
            .id(),
        &want
    );
    assert!(Svid::from_pem(&read(&enc_pem), &read(&enc_key)).is_err());
    let enc = &certs(&enc_pem)[0];
    assert_eq!(check_encryption_leaf(enc).unwrap(), want);
    assert!(check_leaf(enc).is_err());
    let text = openssl_text(&enc_pem);
    assert!(text.contains("Key Encipherment, Data Encipherment, Key Agreement"));
    assert!(!text.contains("Digital Signature"));
    assert!(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"));
    assert!(text.contains(&format!("URI:{id}")));
    assert!(openssl_text(&sign_pem).contains("Digital Signature"));
    for cert in [&sign_pem, &enc_pem] {
        assert!(openssl_verifies(&ca_pem, cert, true));
        assert!(tongsuo_verifies(&ca_pem, cert));
    }
}

#[test]
fn svids_of_every_key_type_under_sm2_and_ecdsa_cas() {
    let dir = tempfile::tempdir().unwrap();
    let id = "spiffe://example.org/web";
    for ca_type in ["sm2", "ecdsa-p256"] {
        let ca_dir = dir.path().join(ca_type);
        let (ca_pem, ca_key) = make_ca(&ca_dir, ca_type);
        for key_type in ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048", "sm2"] {
            let out = ca_dir.join(key_type);
            let line = cert_ok(&[
                "svid",
                "--ca-cert",
                s(&ca_pem),
                "--ca-key",
                s(&ca_key),
                "--id",
                id,
                "--key-type",
                key_type,
                "--dns",
                "localhost",
                "--out",
                s(&out),
            ]);
            assert_eq!(line["key_type"], key_type);
            let svid = Svid::from_pem(
                &read(&out.join("svid.pem")),
                &read(&out.join("svid.key.pem")),
            )
            .unwrap();
            assert_eq!(svid.id().to_string(), id);
            let text = openssl_text(&out.join("svid.pem"));
            assert!(text.contains("DNS:localhost"), "{ca_type}/{key_type}");
            assert!(
                openssl_verifies(&ca_pem, &out.join("svid.pem"), ca_type == "sm2"),
                "{key_type} SVID under a {ca_type} CA"
            );
        }
    }
}

#[test]
fn lifetimes_and_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, ca_key) = make_ca(dir.path(), "ecdsa-p256");
    let before = unix_now();
    let line = cert_ok(&[
        "svid",
        "--ca-cert",
        s(&ca_pem),
        "--ca-key",
        s(&ca_key),
        "--id",
        "spiffe://example.org/a",
        "--lifetime",
        "2h",
        "--out",
        s(dir.path()),
    ]);
    let not_after = line["not_after"].as_u64().unwrap();
    assert!((before + 7_200..=unix_now() + 7_200).contains(&not_after));
    assert_eq!(line["key_type"], "ecdsa-p256", "the default key type");

    // Existing files are kept unless --force; nothing is written on refusal.
    let old_key = read(&dir.path().join("svid.key.pem"));
    let args = [
        "svid",
        "--ca-cert",
        s(&ca_pem),
        "--ca-key",
        s(&ca_key),
        "--id",
        "spiffe://example.org/a",
        "--validity",
        "3d",
        "--out",
        s(dir.path()),
    ];
    let err = cert_err(&args, 1);
    assert!(err.contains("svid.pem exists; pass --force"), "{err}");
    assert_eq!(read(&dir.path().join("svid.key.pem")), old_key);
    let mut forced = args.to_vec();
    forced.push("--force");
    let line = cert_ok(&forced);
    assert!(line["not_after"].as_u64().unwrap() >= before + 3 * 86_400);
    assert_ne!(read(&dir.path().join("svid.key.pem")), old_key);
    assert_eq!(mode(&dir.path().join("svid.key.pem")), 0o600);
    let err = cert_err(
        &[
            "ca",
            "--trust-domain",
            "example.org",
            "--out",
            s(dir.path()),
        ],
        1,
    );
    assert!(err.contains("ca.pem exists"), "{err}");
}

#[test]
fn bad_requests_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, ca_key) = make_ca(&dir.path().join("a"), "sm2");
    let (_, other_key) = make_ca(&dir.path().join("b"), "sm2");
    let out = dir.path().join("out");
    let leaf = |id: &str, cert: &Path, key: &Path| {
        vec![
            "svid".to_owned(),
            "--ca-cert".into(),
            s(cert).into(),
            "--ca-key".into(),
            s(key).into(),
            "--id".into(),
            id.into(),
            "--out".into(),
            s(&out).into(),
        ]
    };
    let run_err = |args: Vec<String>, code| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cert_err(&args, code)
    };

    let err = run_err(leaf("spiffe://other.org/a", &ca_pem, &ca_key), 1);
    assert!(
        err.contains("outside this CA's trust domain example.org"),
        "{err}"
    );
    let err = run_err(leaf("spiffe://example.org", &ca_pem, &ca_key), 1);
    assert!(err.contains("not a workload ID"), "{err}");
    let err = run_err(leaf("spiffe://example.org/a", &ca_pem, &other_key), 1);
    assert!(err.contains("does not match"), "{err}");
    let missing = dir.path().join("missing.pem");
    let err = run_err(leaf("spiffe://example.org/a", &missing, &ca_key), 1);
    assert!(err.contains("missing.pem"), "{err}");
    // A leaf is not a CA.
    let svid_dir = dir.path().join("leaf");
    cert_ok(&[
        "svid",
        "--ca-cert",
        s(&ca_pem),
        "--ca-key",
        s(&ca_key),
        "--id",
        "spiffe://example.org/a",
        "--out",
        s(&svid_dir),
    ]);
    let err = run_err(
        leaf(
            "spiffe://example.org/a",
            &svid_dir.join("svid.pem"),
            &svid_dir.join("svid.key.pem"),
        ),
        1,
    );
    assert!(err.contains("not a CA"), "{err}");
    assert!(!out.exists(), "no files for failed requests");

    // Argument errors are clap's (exit status 2).
    let mut bad_type = leaf("spiffe://example.org/a", &ca_pem, &ca_key);
    bad_type.extend(["--key-type".into(), "dsa".into()]);
    let err = run_err(bad_type, 2);
    assert!(err.contains("unknown key type"), "{err}");
    let mut bad_lifetime = leaf("spiffe://example.org/a", &ca_pem, &ca_key);
    bad_lifetime.extend(["--validity".into(), "10w".into()]);
    assert!(run_err(bad_lifetime, 2).contains("unit s, m, h or d"));
    let err = run_err(leaf("spiffe://Example.org/a", &ca_pem, &ca_key), 2);
    assert!(err.contains("--id"), "{err}");
    let err = cert_err(&["ca", "--trust-domain", "bad domain", "--out", s(&out)], 2);
    assert!(err.contains("--trust-domain"), "{err}");
}

#[test]
fn tongsuo_made_ca_issues_through_meshtls_cert() {
    let dir = tempfile::tempdir().unwrap();
    let tongsuo = TongsuoCa::new(dir.path(), "tongsuo-ca", "example.org");
    let ca = tongsuo.files();
    let id = "spiffe://example.org/ns/t/sa/w";
    let out = dir.path().join("pair");
    cert_ok(&[
        "tlcp",
        "--ca-cert",
        s(&ca.cert),
        "--ca-key",
        s(&ca.key),
        "--id",
        id,
        "--out",
        s(&out),
    ]);
    for cert in ["sign.pem", "enc.pem"] {
        assert!(tongsuo_verifies(&ca.cert, &out.join(cert)), "{cert}");
        assert!(openssl_verifies(&ca.cert, &out.join(cert), true), "{cert}");
    }
    let enc =
        Svid::encryption_from_pem(&read(&out.join("enc.pem")), &read(&out.join("enc.key.pem")))
            .unwrap();
    assert_eq!(enc.id().to_string(), id);
}
