//! `meshtls bench handshake` and `meshtls bench transfer` end to end: every row runs for a
//! tiny budget and reports a positive rate, with its goals block under the table. No timing
//! is asserted.
//!
//! Tongsuo's rows run against a built Tongsuo tree: `$MESHTLS_TONGSUO_DIR`, else the one the
//! interop tests (`meshtls-tests`' `tongsuo_interop`) build under this target directory's
//! `tongsuo-*/src`. Without one, the Tongsuo test says so and checks the skip note instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn meshtls() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshtls"));
    // Keep auto-selection scores out of the user's cache.
    cmd.env("MESHTLS_CACHE_DIR", scratch("cache"));
    cmd
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshtls-bench-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    eprintln!("stdout: {}", String::from_utf8_lossy(&out.stdout));
    eprintln!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The JSON records a bench wrote to `path`.
fn records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A built Tongsuo tree, if this machine has one.
fn tongsuo_tree() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MESHTLS_TONGSUO_DIR") {
        return Some(PathBuf::from(dir));
    }
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_meshtls"));
    let target = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())?;
    std::fs::read_dir(target)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("tongsuo-"))
        .map(|e| e.path().join("src"))
        .find(|src| src.join("libssl.a").is_file() && src.join("libcrypto.a").is_file())
}

/// (client, server, suite) of each handshake record, all with a positive rate.
fn handshake_rows(path: &Path) -> Vec<(String, String, String)> {
    records(path)
        .iter()
        .map(|r| {
            let rate = r["handshakes_per_s"].as_f64().unwrap();
            assert!(rate > 0.0, "{r}");
            assert_eq!(r["mode"], "full");
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            // CPU time is known when both sides ran in one process, and only then.
            let cpu = &r["cpu_us_per_handshake"];
            if s("client") == s("server") {
                assert!(cpu.as_f64().unwrap() > 0.0, "{r}");
            } else {
                assert!(cpu.is_null(), "{r}");
            }
            (s("client"), s("server"), s("suite"))
        })
        .collect()
}

fn row(client: &str, server: &str, suite: &str) -> (String, String, String) {
    (client.into(), server.into(), suite.into())
}

#[test]
fn handshake_measures_every_sm_and_standard_row() {
    let json = scratch("handshake").join("handshake.json");
    let out = run(meshtls()
        .args([
            "bench",
            "handshake",
            "--duration-ms",
            "20",
            "--rounds",
            "1",
            "--json",
        ])
        .arg(&json));
    assert!(out.status.success());
    let rows = handshake_rows(&json);
    let expected = [
        row("rustls", "rustls", "TLS_AES_128_GCM_SHA256"),
        row("openssl", "openssl", "TLS_AES_128_GCM_SHA256"),
        row("boring", "boring", "TLS_AES_128_GCM_SHA256"),
        row("rustls", "rustls", "TLS_SM4_GCM_SM3"),
        row("tlcp", "tlcp", "ECC_SM4_GCM_SM3"),
        row("tlcp", "tlcp", "ECDHE_SM4_GCM_SM3"),
    ];
    for r in &expected {
        assert!(rows.contains(r), "{r:?} missing from {rows:?}");
    }
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SM TLS handshake goals"), "{stdout}");
    assert!(stdout.contains("engines (rustls rows): "), "{stdout}");
    assert!(stdout.contains("curvesm2="), "{stdout}");
    assert!(stdout.contains("rustls TLS_SM4_GCM_SM3"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Tongsuo rows skipped: pass --tongsuo DIR"),
        "{stderr}"
    );
}

#[test]
fn handshake_measures_tongsuo_as_a_peer() {
    let Some(tree) = tongsuo_tree() else {
        eprintln!(
            "no built Tongsuo tree (set MESHTLS_TONGSUO_DIR or run meshtls-tests' \
             tongsuo_interop first): only the refusal of a bad --tongsuo is checked"
        );
        let out = run(meshtls().args(["bench", "handshake", "--tongsuo", "/nonexistent"]));
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is not a built Tongsuo tree"), "{stderr}");
        return;
    };
    let json = scratch("tongsuo").join("handshake.json");
    let out = run(meshtls()
        .args([
            "bench",
            "handshake",
            "--stacks",
            "rustls,tlcp",
            "--duration-ms",
            "20",
            "--rounds",
            "1",
        ])
        .arg("--tongsuo")
        .arg(&tree)
        .arg("--json")
        .arg(&json));
    assert!(out.status.success());
    let rows = handshake_rows(&json);
    for suite in ["TLS_SM4_GCM_SM3", "ECC_SM4_GCM_SM3", "ECDHE_SM4_GCM_SM3"] {
        let ours = if suite.starts_with("TLS") {
            "rustls"
        } else {
            "tlcp"
        };
        for r in [
            row(ours, ours, suite),
            row("tongsuo", "tongsuo", suite),
            row(ours, "tongsuo", suite),
            row("tongsuo", ours, suite),
        ] {
            assert!(rows.contains(&r), "{r:?} missing from {rows:?}");
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tlcp ECDHE_SM4_GCM_SM3     / tongsuo ECDHE_SM4_GCM_SM3"),
        "{stdout}"
    );
}

#[test]
fn transfer_measures_aes_and_sm4_record_throughput() {
    let json = scratch("transfer").join("transfer.json");
    let out = run(meshtls()
        .args([
            "bench",
            "transfer",
            "--mib",
            "0.0625",
            "--write-size",
            "4096",
            "--rounds",
            "1",
            "--json",
        ])
        .arg(&json));
    assert!(out.status.success());
    let rows: Vec<(String, String)> = records(&json)
        .iter()
        .map(|r| {
            assert!(r["mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
            assert_eq!(r["bytes"], 65536);
            assert_eq!(r["write_size"], 4096);
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("stack"), s("suite"))
        })
        .collect();
    let expected = [
        ("rustls", "TLS_AES_128_GCM_SHA256"),
        ("openssl", "TLS_AES_128_GCM_SHA256"),
        ("boring", "TLS_AES_128_GCM_SHA256"),
        ("rustls", "TLS_SM4_GCM_SM3"),
        ("rustls", "TLS_SM4_CCM_SM3"),
        ("tlcp", "ECC_SM4_GCM_SM3"),
        ("tlcp", "ECDHE_SM4_GCM_SM3"),
        ("tlcp", "ECDHE_SM4_CBC_SM3"),
    ];
    for (stack, suite) in expected {
        assert!(
            rows.contains(&(stack.into(), suite.into())),
            "{stack} {suite} missing from {rows:?}"
        );
    }
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SM record-throughput goals"), "{stdout}");
}

#[test]
fn transfer_refuses_an_empty_amount() {
    let out = run(meshtls().args(["bench", "transfer", "--mib", "0"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be positive"));
}
