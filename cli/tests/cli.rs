//! End-to-end tests of the `meshtls` binary: real engines, real sockets on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use meshtls_ca::{CertificateAuthority, KeyType, Validity};
use meshtls_tls_core::spiffe::{SpiffeId, TrustDomain};
use serde_json::Value;

/// The general-purpose engines (every TLS algorithm); `sm` has the SM algorithms only.
const ENGINES: [&str; 4] = ["ring", "aws-lc", "openssl", "boring"];

fn meshtls() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshtls"));
    // Keep auto-selection scores out of the user's cache.
    cmd.env("MESHTLS_CACHE_DIR", scratch("cache"));
    cmd
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshtls-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    eprintln!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn engines_json_lists_every_engine_and_a_selection() {
    let out = run(meshtls().args(["engines", "--json", "--backend", "sha256=openssl"]));
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let engines = doc["engines"].as_array().unwrap();
    let names: Vec<&str> = engines
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for name in ENGINES.iter().chain(&["sm"]) {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for engine in engines {
        assert!(!engine["version"].as_str().unwrap().is_empty());
        let algs = engine["algorithms"].as_array().unwrap();
        let has = |a: &str| algs.iter().any(|x| x["algorithm"] == a);
        let expected: &[&str] = if engine["name"] == "sm" {
            &["sm4-gcm", "sm4-ccm", "sm3", "curvesm2", "sm2"]
        } else {
            &["aes-128-gcm", "sha256", "x25519", "p256", "ecdsa-p256"]
        };
        for a in expected {
            assert!(has(a), "{} lacks {a}", engine["name"]);
        }
        assert!(algs.iter().all(|a| a["cpu_features"].is_array()));
    }
    let selection = doc["selection"].as_array().unwrap();
    let sha = selection
        .iter()
        .find(|s| s["algorithm"] == "sha256")
        .unwrap();
    assert_eq!(sha["engine"], "openssl");
    assert_eq!(sha["reason"], "explicit");
    for s in selection {
        assert!(names.contains(&s["engine"].as_str().unwrap()));
        assert!(s["reason"].is_string(), "{s}");
    }
}

#[test]
fn engines_rejects_an_unknown_engine() {
    let out = run(meshtls().args(["engines", "--backend", "sha256=nosuch"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));
}

#[test]
fn bench_ciphers_writes_records_for_every_backend() {
    let dir = scratch("bench");
    let json = dir.join("ciphers.json");
    let svg = dir.join("ciphers.svg");
    let out = run(meshtls()
        .args(["bench", "ciphers", "--algs", "aes-128-gcm,sha256"])
        .args([
            "--sizes",
            "1024",
            "--duration-ms",
            "20",
            "--json",
            json.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ]));
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("aes-128-gcm"), "{table}");
    let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for backend in ENGINES {
        for (alg, op) in [
            ("aes-128-gcm", "seal"),
            ("aes-128-gcm", "open"),
            ("sha256", "hash"),
        ] {
            let r = records
                .iter()
                .find(|r| r["backend"] == backend && r["algorithm"] == alg && r["op"] == op)
                .unwrap_or_else(|| panic!("no {alg} {op} record for {backend}"));
            assert_eq!(r["size"], 1024);
            assert!(r["mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
            assert_eq!(r.as_object().unwrap().len(), 5, "{r}");
        }
    }
    assert_eq!(records.len(), 3 * ENGINES.len());
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg"));
    assert!(chart.contains("boring") && chart.contains("aes-128-gcm"));
}

/// The SM rows: catalogue SM algorithms from the engines, SM4-CTR/CBC and the peer libraries
/// by direct calls, `--sm-paths` columns, and the goals block computed from the same run.
#[test]
fn bench_ciphers_measures_sm_rows_peers_and_goals() {
    let dir = scratch("bench-sm");
    let json = dir.join("sm.json");
    let algs = "sm4-gcm,sm4-ctr,sm4-cbc,sm3,sm2,curvesm2,aes-128-gcm,ecdsa-p256,p256";
    let out = run(meshtls()
        .args(["bench", "ciphers", "--algs", algs])
        .args([
            "--backends",
            "sm,openssl,rustcrypto,sm-crypto",
            "--sm-paths",
        ])
        .args(["--sizes", "16384", "--duration-ms", "5"])
        .args(["--json", json.to_str().unwrap()]));
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let header = table.lines().next().unwrap();
    for column in ["sm", "openssl", "rustcrypto", "sm-crypto", "sm/soft"] {
        assert!(
            header.split_whitespace().any(|c| c == column),
            "no {column} column: {header}"
        );
    }
    assert!(
        !header.contains("ring"),
        "--backends filters engines: {header}"
    );
    for row in ["sm4-gcm", "sm4-ctr", "sm4-cbc", "sm3", "sm2", "curvesm2"] {
        assert!(
            table.lines().any(|l| l.starts_with(&format!("{row} "))),
            "no {row} row:\n{table}"
        );
    }
    assert!(table.contains("SM goals (issue #3"), "{table}");
    // Both cells of this goal are direct calls, measured whatever the engines do.
    assert!(
        table.lines().any(|l| l.contains("sm sm4-ctr encrypt 16384")
            && l.contains("/ openssl sm4-ctr encrypt 16384")
            && l.contains("(goal >= 15x")),
        "{table}"
    );

    let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let has = |alg: &str, op: &str, backend: &str| {
        records
            .iter()
            .any(|r| r["algorithm"] == alg && r["op"] == op && r["backend"] == backend)
    };
    let cells: &[(&str, &str, &[&str])] = &[
        (
            "sm4-ctr",
            "encrypt",
            &["sm", "openssl", "rustcrypto", "sm/soft"],
        ),
        (
            "sm4-cbc",
            "encrypt",
            &["sm", "openssl", "rustcrypto", "sm-crypto"],
        ),
        (
            "sm4-cbc",
            "decrypt",
            &["sm", "openssl", "rustcrypto", "sm-crypto"],
        ),
        ("sm4-gcm", "seal", &["sm", "rustcrypto", "sm/soft"]),
        (
            "sm3",
            "hash",
            &["sm", "openssl", "rustcrypto", "sm-crypto", "sm/soft"],
        ),
        ("sm2", "sign", &["sm", "openssl", "rustcrypto", "sm-crypto"]),
        (
            "sm2",
            "verify",
            &["sm", "openssl", "rustcrypto", "sm-crypto"],
        ),
        ("curvesm2", "exchange", &["sm", "openssl", "rustcrypto"]),
        ("aes-128-gcm", "seal", &["openssl"]),
    ];
    for (alg, op, backends) in cells {
        for backend in *backends {
            assert!(has(alg, op, backend), "no {alg} {op} record for {backend}");
        }
    }
    for r in &records {
        let backend = r["backend"].as_str().unwrap();
        assert!(
            ["sm", "openssl", "rustcrypto", "sm-crypto"].contains(&backend)
                || backend.starts_with("sm/"),
            "{r}"
        );
        assert!(r["mb_per_s"].as_f64().or(r["ops_per_s"].as_f64()).unwrap() > 0.0);
    }
}

#[test]
fn bench_ciphers_rejects_unknown_rows_and_backends() {
    let out = run(meshtls().args(["bench", "ciphers", "--algs", "sm4-ofb"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sm4-ctr"));
    let out = run(meshtls().args(["bench", "ciphers", "--backends", "gmssl"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gmssl"));
}

/// A CA and PEM files for a server and a client SVID.
struct Certs {
    dir: PathBuf,
    ca: CertificateAuthority,
    server_id: String,
    client_id: String,
}

impl Certs {
    fn issue(name: &str) -> Certs {
        let dir = scratch(name);
        let td = TrustDomain::parse("example.org").unwrap();
        let validity = Validity::starting_now(Duration::from_secs(600));
        let ca = CertificateAuthority::new(td.clone(), KeyType::EcdsaP256, validity).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.ca_pem()).unwrap();
        for who in ["server", "client"] {
            let id = SpiffeId::new(td.clone(), &format!("/{who}")).unwrap();
            let svid = ca.issue_svid(&id, KeyType::EcdsaP256, validity).unwrap();
            std::fs::write(dir.join(format!("{who}.pem")), &svid.chain_pem).unwrap();
            std::fs::write(dir.join(format!("{who}.key")), &svid.key_pem).unwrap();
        }
        Certs {
            dir,
            ca,
            server_id: "spiffe://example.org/server".into(),
            client_id: "spiffe://example.org/client".into(),
        }
    }

    /// Overwrites the server's files with a fresh SVID for `path`.
    fn reissue_server(&self, path: &str) {
        let td = TrustDomain::parse("example.org").unwrap();
        let id = SpiffeId::new(td, path).unwrap();
        let validity = Validity::starting_now(Duration::from_secs(600));
        let svid = self
            .ca
            .issue_svid(&id, KeyType::EcdsaP256, validity)
            .unwrap();
        std::fs::write(self.dir.join("server.pem"), &svid.chain_pem).unwrap();
        std::fs::write(self.dir.join("server.key"), &svid.key_pem).unwrap();
    }

    fn args(&self, who: &str) -> Vec<String> {
        let p = |f: String| self.dir.join(f).to_str().unwrap().to_owned();
        vec![
            "--cert".into(),
            p(format!("{who}.pem")),
            "--key".into(),
            p(format!("{who}.key")),
            "--bundle".into(),
            p("ca.pem".into()),
        ]
    }
}

/// Starts `tls serve` and returns it, the address it bound, and its later stderr lines.
fn serve(certs: &Certs, stack: &str, extra: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = meshtls()
        .args(["tls", "serve", "--listen", "127.0.0.1:0", "--stack", stack])
        .args(certs.args("server"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("server: {line}");
            // Keep draining even when nobody listens, so the server never blocks on stderr.
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server listening");
        if let Some((_, addr)) = line.rsplit_once(" on ") {
            break addr.to_owned();
        }
    };
    (child, addr, rx)
}

/// Starts `tls serve --once` and returns it with the address it bound.
fn serve_once(certs: &Certs, stack: &str, extra: &[&str]) -> (Child, String) {
    let mut args = vec!["--once"];
    args.extend_from_slice(extra);
    let (child, addr, _) = serve(certs, stack, &args);
    (child, addr)
}

fn connect(certs: &Certs, stack: &str, addr: &str, extra: &[&str]) -> Output {
    run(meshtls()
        .args(["tls", "connect", "--connect", addr, "--stack", stack])
        .args(certs.args("client"))
        .args(extra))
}

fn json_line(text: &str) -> Value {
    serde_json::from_str(text.lines().next().expect("a JSON line")).unwrap()
}

fn assert_ok_line(line: &Value, stack: &str, peer: &str) {
    assert_eq!(line["result"], "ok", "{line}");
    assert_eq!(line["stack"], stack, "{line}");
    assert_eq!(line["version"], "TLSv1.3", "{line}");
    assert_eq!(line["peer_id"], peer, "{line}");
    assert!(
        line["suite"].as_str().unwrap().starts_with("TLS_"),
        "{line}"
    );
}

fn wait(child: Child) -> Output {
    let out = child.wait_with_output().unwrap();
    eprintln!("server stdout: {}", String::from_utf8_lossy(&out.stdout));
    out
}

#[test]
fn rustls_serve_once_and_connect_echo() {
    let certs = Certs::issue("echo");
    let (server, addr) = serve_once(&certs, "rustls", &[]);
    let server_id = certs.server_id.clone();
    let out = connect(
        &certs,
        "rustls",
        &addr,
        &["--send", "hello mesh", "--expect-id", &server_id],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert_ok_line(&json_line(&stdout), "rustls", &certs.server_id);
    assert_eq!(stdout.lines().nth(1), Some("hello mesh"), "{stdout}");

    let served = wait(server);
    assert!(served.status.success());
    let served = String::from_utf8(served.stdout).unwrap();
    assert_eq!(served.lines().count(), 1, "{served}");
    assert_ok_line(&json_line(&served), "rustls", &certs.client_id);
}

#[test]
fn native_stacks_serve_once_and_connect_echo() {
    let certs = Certs::issue("native");
    for stack in ["openssl", "boring"] {
        let (server, addr) = serve_once(&certs, stack, &[]);
        let out = connect(&certs, stack, &addr, &["--send", "ping"]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{stack}: {stdout}");
        assert_ok_line(&json_line(&stdout), stack, &certs.server_id);
        assert_eq!(stdout.lines().nth(1), Some("ping"), "{stdout}");
        let served = wait(server);
        assert!(served.status.success(), "{stack}");
        assert_ok_line(
            &json_line(&String::from_utf8(served.stdout).unwrap()),
            stack,
            &certs.client_id,
        );
    }
}

#[test]
fn sighup_rotates_the_server_identity_without_restarting() {
    let certs = Certs::issue("rotate");
    let (mut server, addr, stderr) = serve(&certs, "rustls", &[]);
    let first = connect(&certs, "rustls", &addr, &[]);
    assert!(first.status.success());
    assert_ok_line(
        &json_line(&String::from_utf8(first.stdout).unwrap()),
        "rustls",
        &certs.server_id,
    );

    // New files: a server SVID with another ID from the same CA.
    certs.reissue_server("/server-rotated");
    let hup = Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let rotated = loop {
        let line = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("rotation logged");
        if line.contains("SIGHUP") {
            break line;
        }
    };
    assert!(rotated.contains("rotated"), "{rotated}");

    let second = connect(&certs, "rustls", &addr, &[]);
    assert!(second.status.success());
    assert_ok_line(
        &json_line(&String::from_utf8(second.stdout).unwrap()),
        "rustls",
        "spiffe://example.org/server-rotated",
    );
    server.kill().unwrap();
    let served = wait(server);
    let served = String::from_utf8(served.stdout).unwrap();
    assert_eq!(
        served.lines().count(),
        2,
        "one line per connection: {served}"
    );
}

#[test]
fn rustls_serve_answers_http() {
    let certs = Certs::issue("http");
    let (server, addr) = serve_once(&certs, "rustls", &[]);
    let out = connect(
        &certs,
        "rustls",
        &addr,
        &["--send", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("HTTP/1.1 200 OK"), "{stdout}");
    assert!(
        stdout.contains("hello spiffe://example.org/client"),
        "{stdout}"
    );
    assert!(wait(server).status.success());
}

#[test]
fn wrong_expected_id_fails_with_a_typed_label() {
    let certs = Certs::issue("expect");
    let (server, addr) = serve_once(&certs, "rustls", &[]);
    let out = connect(
        &certs,
        "rustls",
        &addr,
        &["--send", "x", "--expect-id", "spiffe://example.org/other"],
    );
    assert!(!out.status.success());
    let line = json_line(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(line["result"], "error", "{line}");
    assert_eq!(line["error"], "unexpected_id", "{line}");
    assert!(!wait(server).status.success());
}

#[test]
fn server_authorization_rejects_a_client_not_allowed() {
    let certs = Certs::issue("authz");
    let (server, addr) = serve_once(
        &certs,
        "rustls",
        &["--allow-id", "spiffe://example.org/web"],
    );
    let out = connect(&certs, "rustls", &addr, &["--send", "x"]);
    assert!(!out.status.success());
    let served = wait(server);
    assert!(!served.status.success());
    let line = json_line(&String::from_utf8(served.stdout).unwrap());
    assert_eq!(line["result"], "error", "{line}");
    assert_eq!(line["error"], "id_not_allowed", "{line}");
}

#[test]
fn connect_to_a_closed_port_prints_an_error_line() {
    let certs = Certs::issue("closed");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = connect(&certs, "rustls", &format!("127.0.0.1:{port}"), &[]);
    assert!(!out.status.success());
    let line = json_line(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(line["result"], "error");
    assert_eq!(line["error"], "io");
}
