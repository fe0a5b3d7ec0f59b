//! Child processes (the openssl CLI, curl, the `meshtls` binary) that die with the test, and
//! the PEM files they read.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use meshtls_ca::{CertificateAuthority, IssuedSvid};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// Bound on any one child's run.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(20);

/// PEM files in a temporary directory removed on drop.
#[derive(Debug)]
pub struct PemDir {
    dir: tempfile::TempDir,
}

/// Where one SVID's files are.
#[derive(Clone, Debug)]
pub struct SvidFiles {
    /// The chain, leaf first.
    pub cert: PathBuf,
    /// The PKCS#8 key.
    pub key: PathBuf,
}

impl PemDir {
    /// A fresh directory.
    pub fn new() -> PemDir {
        PemDir {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write PEM file");
        path
    }

    /// Writes `svid` as `<name>.pem` and `<name>.key`.
    pub fn svid(&self, name: &str, svid: &IssuedSvid) -> SvidFiles {
        SvidFiles {
            cert: self.write(&format!("{name}.pem"), &svid.chain_pem),
            key: self.write(&format!("{name}.key"), &svid.key_pem),
        }
    }

    /// Writes the trust anchor of `ca` as `<name>.pem`.
    pub fn ca(&self, name: &str, ca: &CertificateAuthority) -> PathBuf {
        self.write(&format!("{name}.pem"), ca.ca_pem())
    }
}

impl Default for PemDir {
    fn default() -> Self {
        PemDir::new()
    }
}

/// Spawns `program` with piped stdio, killed if the handle is dropped (test failure, panic).
pub fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"))
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Reads lines from `out` until one contains `needle` (the child's readiness signal);
/// returns every line read, or `Err` with them if the stream ends or time runs out first.
pub async fn wait_for_line<R: AsyncRead + Unpin>(
    out: &mut BufReader<R>,
    needle: &str,
) -> Result<Vec<String>, Vec<String>> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(CHILD_TIMEOUT, async {
        let mut line = String::new();
        loop {
            line.clear();
            match out.read_line(&mut line).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {
                    seen.push(line.trim_end().to_owned());
                    if line.contains(needle) {
                        return true;
                    }
                }
            }
        }
    })
    .await;
    match found {
        Ok(true) => Ok(seen),
        _ => Err(seen),
    }
}

/// A port on 127.0.0.1 that was free a moment ago (for children that must bind it
/// themselves).
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind probe");
    probe.local_addr().expect("probe address").port()
}

/// The `meshtls` binary next to the running test's `deps` directory (`cargo test
/// --workspace` builds it; alone, run `cargo build -p meshtls-cli` first).
pub fn meshtls_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("meshtls");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p meshtls-cli` first",
        binary.display()
    );
    binary
}
