//! Tongsuo's `s_server` and `s_client` as child processes on 127.0.0.1: stdout and stderr
//! captured continuously (so a test can wait for a line and still read everything at the
//! end), readiness detected from `s_server`'s `ACCEPT` line, killed when dropped.

use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;

use super::build::cli;
use crate::process::{free_port, CHILD_TIMEOUT};

/// Times `s_server` is started on a fresh port before giving up (another process may take
/// the port between probing and binding).
const BIND_ATTEMPTS: usize = 3;

/// One of the child's output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A running Tongsuo command, killed on drop.
#[derive(Debug)]
pub struct Running {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: watch::Receiver<String>,
    stderr: watch::Receiver<String>,
}

/// What a finished (or killed) command left.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status; `None` if it had to be killed after [`CHILD_TIMEOUT`].
    pub status: Option<ExitStatus>,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl Finished {
    /// Whether it exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Both streams, for assertion messages and output parsing.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Copies `from` into the watch channel until end of stream.
fn capture<R: AsyncRead + Unpin + Send + 'static>(mut from: R) -> watch::Receiver<String> {
    let (tx, rx) = watch::channel(String::new());
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            tx.send_modify(|all| all.push_str(&text));
        }
    });
    rx
}

impl Running {
    /// Starts Tongsuo's CLI with `args` (building it first if needed), with `OPENSSL_CONF`
    /// pointed at an empty file so no system configuration meant for another OpenSSL
    /// applies. Must run inside a tokio runtime.
    pub fn spawn(label: impl Into<String>, args: &[String]) -> Running {
        let label = label.into();
        let mut child = Command::new(cli())
            .args(args)
            .env("OPENSSL_CONF", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: spawn Tongsuo: {e}"));
        let stdout = capture(child.stdout.take().expect("piped stdout"));
        let stderr = capture(child.stderr.take().expect("piped stderr"));
        Running {
            stdin: child.stdin.take(),
            label,
            child,
            stdout,
            stderr,
        }
    }

    /// Everything printed on `stream` so far.
    pub fn printed(&self, stream: Stream) -> String {
        self.receiver(stream).borrow().clone()
    }

    fn receiver(&self, stream: Stream) -> &watch::Receiver<String> {
        match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        }
    }

    /// Waits until `stream` contains `needle`; `Err` with the output so far if the stream
    /// ends or [`CHILD_TIMEOUT`] passes first.
    pub async fn wait_for(&self, stream: Stream, needle: &str) -> Result<(), String> {
        let mut rx = self.receiver(stream).clone();
        let seen = tokio::time::timeout(CHILD_TIMEOUT, rx.wait_for(|all| all.contains(needle)))
            .await
            .is_ok_and(|r| r.is_ok());
        if seen {
            Ok(())
        } else {
            Err(format!(
                "{}: no {needle:?} on {stream:?}; stdout:\n{}\nstderr:\n{}",
                self.label,
                self.printed(Stream::Stdout),
                self.printed(Stream::Stderr)
            ))
        }
    }

    /// Writes `data` to the command's stdin (which fails once the command has exited, e.g.
    /// after a rejected handshake).
    pub async fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "stdin already closed",
            ));
        };
        stdin.write_all(data).await?;
        stdin.flush().await
    }

    /// Closes the command's stdin (`s_client` without `-ign_eof` then closes the connection).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits up to [`CHILD_TIMEOUT`] for the command to exit (killing it after that) and
    /// returns all it printed.
    pub async fn finish(mut self) -> Finished {
        self.stdin = None;
        let status = match tokio::time::timeout(CHILD_TIMEOUT, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = self.child.kill().await;
                None
            }
        };
        // The capture tasks end at end of stream, which follows the exit.
        for rx in [&mut self.stdout, &mut self.stderr] {
            let _ = tokio::time::timeout(CHILD_TIMEOUT, rx.wait_for(|_| false)).await;
        }
        Finished {
            status,
            stdout: self.printed(Stream::Stdout),
            stderr: self.printed(Stream::Stderr),
        }
    }
}

/// `s_server` serving one connection on a free 127.0.0.1 port, ready (its `ACCEPT` line
/// seen). `args` are everything after `s_server` but `-accept` and `-naccept`.
pub async fn s_server(label: &str, args: &[String]) -> (Running, u16) {
    let mut failures = Vec::new();
    for _ in 0..BIND_ATTEMPTS {
        let port = free_port();
        let mut all = vec![
            "s_server".to_owned(),
            "-accept".to_owned(),
            format!("127.0.0.1:{port}"),
            "-naccept".to_owned(),
            "1".to_owned(),
        ];
        all.extend_from_slice(args);
        let server = Running::spawn(label, &all);
        match server.wait_for(Stream::Stdout, "ACCEPT").await {
            Ok(()) => return (server, port),
            Err(e) => failures.push(e),
        }
    }
    panic!("{label}: s_server never became ready: {failures:#?}");
}

/// `s_client` connecting to 127.0.0.1:`port`. `args` are everything after `s_client` but
/// `-connect`.
pub fn s_client(label: &str, port: u16, args: &[String]) -> Running {
    let mut all = vec![
        "s_client".to_owned(),
        "-connect".to_owned(),
        format!("127.0.0.1:{port}"),
    ];
    all.extend_from_slice(args);
    Running::spawn(label, &all)
}
