//! Tongsuo 8.5 as a handshake peer for `bench handshake --tongsuo DIR`: a small C driver of
//! ours (`benches/tongsuo/driver.c`, embedded here) compiled at bench time with `cc` against
//! a built Tongsuo tree's static `libssl.a` and `libcrypto.a`, run as a child process.
//!
//! Tongsuo's own `s_time` has no TLCP, and Tongsuo cannot be linked into this binary beside
//! OpenSSL and BoringSSL (same symbols), hence a separate program. The driver runs the same
//! loop as the in-process rows (sequential full mutual handshakes over loopback TCP, each with
//! a one-byte round trip, resumption off) as a client and server pair, or one side against a
//! meshtls stack. It reads the SM2 PEM files [`BenchPki::write_sm_pem`] writes.
//!
//! Non-goals: building Tongsuo (the interop tests build one under `target/tongsuo-*`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::Duration;

use super::flavor::TongsuoFlavor;
use super::pki::BenchPki;

/// The driver's source, written out and compiled at bench time.
const DRIVER_SOURCE: &str = include_str!("../../../benches/tongsuo/driver.c");

/// Why Tongsuo could not be measured.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TongsuoError {
    /// `--tongsuo DIR` is not a built Tongsuo tree.
    #[error(
        "{0} is not a built Tongsuo tree (no libssl.a, libcrypto.a and include/openssl/ssl.h \
         there or under src/); the interop tests build one under target/tongsuo-*/src"
    )]
    NotATree(PathBuf),
    /// The work directory or a file in it could not be made.
    #[error("tongsuo work directory {path}: {source}")]
    WorkDir {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `cc` could not be started.
    #[error("starting `cc` to build the Tongsuo driver: {0}")]
    NoCompiler(std::io::Error),
    /// `cc` failed.
    #[error("compiling the Tongsuo driver failed:\n{0}")]
    Compile(String),
    /// The driver could not be started or its output not read.
    #[error("running the Tongsuo driver: {0}")]
    Run(std::io::Error),
    /// The driver exited with failure.
    #[error("the Tongsuo driver failed ({status}):\n{stderr}")]
    Failed {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The driver printed something other than its result line.
    #[error("unexpected output from the Tongsuo driver: {0:?}")]
    Output(String),
}

/// A built Tongsuo tree: the directory holding `libssl.a`, `libcrypto.a` and `include/`.
#[derive(Debug)]
pub(crate) struct TongsuoTree {
    root: PathBuf,
}

impl TongsuoTree {
    /// `dir` itself or `dir/src` (the layout of the interop tests' `target/tongsuo-*`).
    pub(crate) fn locate(dir: &Path) -> Result<TongsuoTree, TongsuoError> {
        [dir.to_path_buf(), dir.join("src")]
            .into_iter()
            .find(|root| {
                root.join("libssl.a").is_file()
                    && root.join("libcrypto.a").is_file()
                    && root.join("include/openssl/ssl.h").is_file()
            })
            .map(|root| TongsuoTree { root })
            .ok_or_else(|| TongsuoError::NotATree(dir.to_path_buf()))
    }
}

impl std::fmt::Display for TongsuoTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.root.display().fmt(f)
    }
}

/// The compiled driver and the PEM files it reads, in a work directory removed on drop.
#[derive(Debug)]
pub(crate) struct Driver {
    dir: PathBuf,
    exe: PathBuf,
}

impl Driver {
    /// Writes the SM2 credentials and compiles the driver against `tree`.
    pub(crate) fn build(tree: &TongsuoTree, pki: &BenchPki) -> Result<Driver, TongsuoError> {
        let dir =
            std::env::temp_dir().join(format!("meshtls-bench-tongsuo-{}", std::process::id()));
        let work_dir = |source| TongsuoError::WorkDir {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(work_dir)?;
        // From here on the directory is removed when `driver` drops, whatever fails.
        let driver = Driver {
            exe: dir.join("driver"),
            dir,
        };
        let source = driver.dir.join("driver.c");
        std::fs::write(&source, DRIVER_SOURCE).map_err(|source| TongsuoError::WorkDir {
            path: driver.dir.clone(),
            source,
        })?;
        pki.write_sm_pem(&driver.dir)
            .map_err(|source| TongsuoError::WorkDir {
                path: driver.dir.clone(),
                source,
            })?;
        let out = Command::new("cc")
            .args(["-O2", "-pthread", "-I"])
            .arg(tree.root.join("include"))
            .arg(&source)
            .arg(tree.root.join("libssl.a"))
            .arg(tree.root.join("libcrypto.a"))
            .args(["-ldl", "-o"])
            .arg(&driver.exe)
            .output()
            .map_err(TongsuoError::NoCompiler)?;
        if !out.status.success() {
            return Err(TongsuoError::Compile(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        Ok(driver)
    }

    fn command(&self, mode: &str, flavor: TongsuoFlavor) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args([mode, flavor.protocol, flavor.suite])
            .arg(&self.dir)
            // Keep any system OpenSSL configuration away from Tongsuo.
            .env("OPENSSL_CONF", "/dev/null");
        cmd
    }

    /// Tongsuo client and server in one process.
    pub(crate) fn pair(
        &self,
        flavor: TongsuoFlavor,
        duration: Duration,
    ) -> Result<Measured, TongsuoError> {
        let out = self
            .command("pair", flavor)
            .arg(duration.as_millis().to_string())
            .output()
            .map_err(TongsuoError::Run)?;
        measured(&out)
    }

    /// A Tongsuo client against a server on 127.0.0.1:`port`.
    pub(crate) fn client(
        &self,
        flavor: TongsuoFlavor,
        port: u16,
        duration: Duration,
    ) -> Result<Measured, TongsuoError> {
        let out = self
            .command("client", flavor)
            .arg(duration.as_millis().to_string())
            .arg(port.to_string())
            .output()
            .map_err(TongsuoError::Run)?;
        measured(&out)
    }

    /// A Tongsuo server on 127.0.0.1, running until the returned value drops.
    pub(crate) fn server(&self, flavor: TongsuoFlavor) -> Result<TongsuoServer, TongsuoError> {
        let mut child = self
            .command("server", flavor)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(TongsuoError::Run)?;
        let stdin = child.stdin.take();
        // From here on the child is stopped when `server` drops.
        let mut server = TongsuoServer {
            child,
            stdin,
            port: 0,
        };
        let stdout = server
            .child
            .stdout
            .take()
            .ok_or_else(|| TongsuoError::Output("no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(TongsuoError::Run)?;
        server.port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| TongsuoError::Output(line.clone()))?;
        Ok(server)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running Tongsuo server; stopped (stdin closed, then killed if need be) on drop.
#[derive(Debug)]
pub(crate) struct TongsuoServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl TongsuoServer {
    /// Its port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TongsuoServer {
    fn drop(&mut self) {
        // Closing stdin makes the driver exit; kill covers a driver stuck in a handshake.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the driver measured: `handshakes N seconds S cpu C`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Measured {
    /// Handshakes completed in the measured loop.
    pub(crate) handshakes: u64,
    /// Its wall-clock time.
    pub(crate) elapsed: Duration,
    /// The driver process's CPU time meanwhile (both sides in `pair` mode).
    pub(crate) cpu: Duration,
}

fn measured(out: &Output) -> Result<Measured, TongsuoError> {
    if !out.status.success() {
        return Err(TongsuoError::Failed {
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| TongsuoError::Output(text.into_owned()))
}

fn parse(text: &str) -> Option<Measured> {
    let mut words = text.split_whitespace();
    let (Some("handshakes"), Some(n), Some("seconds"), Some(s), Some("cpu"), Some(c)) = (
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
        words.next(),
    ) else {
        return None;
    };
    let seconds = |v: &str| Duration::try_from_secs_f64(v.parse().ok()?).ok();
    let measured = Measured {
        handshakes: n.parse().ok()?,
        elapsed: seconds(s)?,
        cpu: seconds(c)?,
    };
    (measured.handshakes > 0 && !measured.elapsed.is_zero()).then_some(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_result_line() {
        assert_eq!(
            parse("handshakes 100 seconds 2.000000 cpu 1.5\n"),
            Some(Measured {
                handshakes: 100,
                elapsed: Duration::from_secs(2),
                cpu: Duration::from_millis(1500),
            })
        );
        assert_eq!(parse("handshakes 1 seconds 0 cpu 0\n"), None);
        assert_eq!(parse("handshakes 1 seconds 1\n"), None);
        assert_eq!(parse("handshakes 1 seconds -1 cpu 0\n"), None);
        assert_eq!(parse("port 4433\n"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_directory_without_tongsuo_is_refused() {
        let err = TongsuoTree::locate(Path::new("/nonexistent")).unwrap_err();
        assert!(matches!(err, TongsuoError::NotATree(_)), "{err}");
    }
}
