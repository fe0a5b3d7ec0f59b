//! SM2 certificates made by Tongsuo's own CLI (`genpkey`, `req`, `x509`), independent of
//! meshtls' CA: a self-signed SPIFFE CA, X.509-SVIDs following the SPIFFE leaf rules, and
//! TLCP encryption certificates; plus `openssl verify` for certificates made elsewhere.
//!
//! Everything is signed with SM2-with-SM3 under Tongsuo's default SM2 ID
//! (1234567812345678). Keys are PKCS#8 PEM.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::build::cli;
use crate::process::arg;

/// Validity of every certificate made here, in days.
const DAYS: &str = "2";

/// A certificate and its key on disk.
#[derive(Clone, Debug)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its PKCS#8 private key (PEM).
    pub key: PathBuf,
}

/// What a leaf is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafUsage {
    /// An X.509-SVID (and TLCP signing certificate): digitalSignature, serverAuth + clientAuth.
    Signing,
    /// A TLCP encryption certificate: keyEncipherment, dataEncipherment, keyAgreement.
    Encryption,
}

impl LeafUsage {
    fn key_usage(self) -> &'static str {
        match self {
            LeafUsage::Signing => "critical,digitalSignature",
            LeafUsage::Encryption => "critical,keyEncipherment,dataEncipherment,keyAgreement",
        }
    }
}

/// An SM2 CA made by Tongsuo, writing its files into a directory.
#[derive(Debug)]
pub struct TongsuoCa {
    dir: PathBuf,
    files: CertFiles,
}

/// Runs Tongsuo's CLI to completion: whether it succeeded, and all it printed.
fn output(args: &[&str]) -> (bool, String) {
    let output = Command::new(cli())
        .args(args)
        .env("OPENSSL_CONF", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("run Tongsuo {args:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Runs Tongsuo's CLI; panics with its output on failure (test setup).
fn run(args: &[&str]) {
    let (ok, text) = output(args);
    assert!(ok, "Tongsuo {args:?} failed:\n{text}");
}

/// A fresh SM2 key at `path`.
fn sm2_key(path: &Path) {
    run(&["genpkey", "-algorithm", "SM2", "-out", arg(path)]);
}

impl TongsuoCa {
    /// A self-signed SM2 CA for `trust_domain` (URI SAN `spiffe://<trust_domain>`), its
    /// files named `<name>.pem` / `<name>.key` in `dir`.
    pub fn new(dir: &Path, name: &str, trust_domain: &str) -> TongsuoCa {
        let files = CertFiles {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        };
        sm2_key(&files.key);
        let san = format!("subjectAltName=URI:spiffe://{trust_domain}");
        run(&[
            "req",
            "-new",
            "-x509",
            "-sm3",
            "-key",
            arg(&files.key),
            "-days",
            DAYS,
            "-subj",
            &format!("/O=Tongsuo test/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:true",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            &san,
            "-out",
            arg(&files.cert),
        ]);
        TongsuoCa {
            dir: dir.to_owned(),
            files,
        }
    }

    /// The CA certificate and key.
    pub fn files(&self) -> &CertFiles {
        &self.files
    }

    /// A leaf for `spiffe_id` with `usage`, its files named `<name>.pem` / `<name>.key`.
    pub fn issue(&self, name: &str, spiffe_id: &str, usage: LeafUsage) -> CertFiles {
        let files = CertFiles {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
        };
        sm2_key(&files.key);
        let csr = self.dir.join(format!("{name}.csr"));
        run(&[
            "req",
            "-new",
            "-sm3",
            "-key",
            arg(&files.key),
            "-subj",
            &format!("/O=Tongsuo test/CN={name}"),
            "-out",
            arg(&csr),
        ]);
        let extensions = self.dir.join(format!("{name}.ext"));
        let text = format!(
            "basicConstraints=critical,CA:false\nkeyUsage={}\n\
             extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:{spiffe_id}\n",
            usage.key_usage()
        );
        std::fs::write(&extensions, text).expect("write extensions file");
        run(&[
            "x509",
            "-req",
            "-sm3",
            "-in",
            arg(&csr),
            "-CA",
            arg(&self.files.cert),
            "-CAkey",
            arg(&self.files.key),
            "-days",
            DAYS,
            "-extfile",
            arg(&extensions),
            "-out",
            arg(&files.cert),
        ]);
        files
    }
}

/// Tongsuo's `openssl verify -x509_strict -purpose <purpose> -CAfile ca cert` (`purpose`:
/// `sslserver`, `sslclient`): `Ok` with its output if it prints `OK`, `Err` with its output
/// otherwise.
pub fn verify(ca: &Path, cert: &Path, purpose: &str) -> Result<String, String> {
    let (ok, text) = output(&[
        "verify",
        "-x509_strict",
        "-purpose",
        purpose,
        "-CAfile",
        arg(ca),
        arg(cert),
    ]);
    if ok && text.contains(": OK") {
        Ok(text)
    } else {
        Err(text)
    }
}
