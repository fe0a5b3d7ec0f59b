//! The files `meshtls cert` reads (a CA's certificate and key) and writes (certificates
//! world-readable, private keys 0600), and the JSON line that lists what was written.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use meshtls_ca::CertificateAuthority;
use serde::Serialize;

use crate::error::CliError;

/// Mode of written private keys: owner read/write only.
const KEY_MODE: u32 = 0o600;
/// Mode of written certificates.
const CERT_MODE: u32 = 0o644;

/// An output directory; files already there are kept unless `force`.
pub(super) struct OutDir<'a> {
    dir: &'a Path,
    force: bool,
}

impl<'a> OutDir<'a> {
    /// An output directory where none of `names` may exist unless `force`: checked before
    /// anything is issued, so that a refused request writes nothing. The directory itself
    /// (and its parents) is created by the first write.
    pub(super) fn check(
        dir: &'a Path,
        force: bool,
        names: &[&str],
    ) -> Result<OutDir<'a>, CliError> {
        if !force {
            if let Some(existing) = names.iter().map(|n| dir.join(n)).find(|p| p.exists()) {
                return Err(CliError::Usage(format!(
                    "{} exists; pass --force to overwrite it",
                    existing.display()
                )));
            }
        }
        Ok(OutDir { dir, force })
    }

    /// Writes a certificate (chain) file.
    pub(super) fn cert(&self, name: &str, pem: &str) -> Result<PathBuf, CliError> {
        self.write(name, pem, CERT_MODE)
    }

    /// Writes a private key file, readable by its owner only.
    pub(super) fn key(&self, name: &str, pem: &str) -> Result<PathBuf, CliError> {
        self.write(name, pem, KEY_MODE)
    }

    fn write(&self, name: &str, contents: &str, mode: u32) -> Result<PathBuf, CliError> {
        fs::create_dir_all(self.dir).map_err(|e| CliError::file(self.dir, e))?;
        let path = self.dir.join(name);
        let fail = |e| CliError::file(&path, e);
        let mut options = OpenOptions::new();
        options.write(true);
        if self.force {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        let mut file = options.open(&path).map_err(fail)?;
        // An overwritten file keeps its old mode unless set again.
        #[cfg(unix)]
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(fail)?;
        file.write_all(contents.as_bytes()).map_err(fail)?;
        Ok(path)
    }
}

/// Loads a CA from its certificate (chain) and PKCS#8 key files.
pub(super) fn load_ca(cert: &Path, key: &Path) -> Result<CertificateAuthority, CliError> {
    let cert_pem = fs::read(cert).map_err(|e| CliError::file(cert, e))?;
    let key_pem = fs::read(key).map_err(|e| CliError::file(key, e))?;
    CertificateAuthority::from_pem(&cert_pem, &key_pem)
        .map_err(|e| CliError::Usage(format!("{} with {}: {e}", cert.display(), key.display())))
}

/// What a subcommand wrote: `{"id","key_type","not_after","files":[...]}` on stdout.
#[derive(Debug, Serialize)]
pub(super) struct Written {
    /// The SPIFFE ID certified (the trust domain's ID for a CA).
    pub(super) id: String,
    /// The key type of the new key(s).
    pub(super) key_type: String,
    /// When the new certificate(s) expire, in seconds since the Unix epoch.
    pub(super) not_after: u64,
    /// The files written, certificates before keys.
    pub(super) files: Vec<PathBuf>,
}

impl Written {
    /// Prints the JSON line.
    pub(super) fn print(&self) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, self)?;
        writeln!(out)?;
        Ok(())
    }
}
