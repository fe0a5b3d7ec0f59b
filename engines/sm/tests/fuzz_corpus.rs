//! Regression run of the fuzz corpus: every file kept in `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the same `meshtls_engine_sm::fuzzing` function the
//! cargo-fuzz target calls; a panic in any of them fails the test, naming the file.
//!
//! Run: `cargo test -p meshtls-engine-sm --test fuzz_corpus`. The ignored `seed_*` tests write
//! the hand-made seed inputs into the corpus directories (run them with `-- --ignored`, then
//! fuzz and `cargo fuzz cmin`); they are how the committed corpus was started. The handshake
//! seeds carry the certificates of `tests/data/tlcp/`: after its `gen.sh` makes new ones, the
//! old corpus still runs but gets less far, so seed again.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshtls_engine_sm::fuzzing::{self, ClientControl, ServerControl};
use meshtls_engine_sm::sm2::encrypt_with_nonce;
use meshtls_engine_sm::tlcp::alert::{Alert, AlertDescription};
use meshtls_engine_sm::tlcp::config::{ClientConfig, ServerConfig};
use meshtls_engine_sm::tlcp::conn::Connection;
use meshtls_engine_sm::tlcp::message::{Finished, HandshakePayload, HelloRequest};
use meshtls_engine_sm::tlcp::record::{ContentType, RecordDeframer, HEADER_LEN, TLCP_VERSION};
use meshtls_engine_sm::tlcp::suite::{KeyExchangeKind, ALL_SUITES};

/// The cargo-fuzz crate at the repository root.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files directly in `dir`, sorted; none if it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every corpus and regression input of `target` through `run`; fails listing the inputs
/// that panicked, or if the corpus is empty (a moved directory must not pass silently).
fn replay(target: &str, run: fn(&[u8])) {
    let corpus = files_in(&fuzz_dir().join("corpus").join(target));
    assert!(!corpus.is_empty(), "no corpus for {target}");
    let regressions = files_in(&fuzz_dir().join("regressions").join(target));
    let failed: Vec<String> = corpus
        .iter()
        .chain(&regressions)
        .filter(|path| {
            let data = fs::read(path).expect("readable corpus file");
            catch_unwind(AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: inputs that panic: {failed:#?}"
    );
}

/// Writes `data` as the seed file `name` of `target`'s corpus.
fn write_seed(target: &str, name: &str, data: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    fs::create_dir_all(&dir).expect("create corpus directory");
    fs::write(dir.join(name), data).expect("write seed");
}

#[test]
fn sm2_ciphertext() {
    replay("sm2_ciphertext", fuzzing::sm2_ciphertext);
}

#[test]
fn tlcp_record() {
    replay("tlcp_record", fuzzing::tlcp_record);
}

#[test]
fn tlcp_message() {
    replay("tlcp_message", fuzzing::tlcp_message);
}

#[test]
fn tlcp_handshake_server() {
    replay("tlcp_handshake_server", fuzzing::tlcp_handshake_server);
}

#[test]
fn tlcp_handshake_client() {
    replay("tlcp_handshake_client", fuzzing::tlcp_handshake_client);
}

/// Seeds for `sm2_ciphertext`: valid ciphertexts for the fixed key, DER and raw, of message
/// lengths around the KDF's 32-byte block and the DER length-field steps.
#[test]
#[ignore = "writes seed files into fuzz/corpus"]
fn seed_sm2_ciphertext() {
    let key = fuzzing::sm2_fixed_key().public_key();
    for (i, len) in [1usize, 31, 32, 33, 64, 100, 127, 128, 300]
        .into_iter()
        .enumerate()
    {
        let msg: Vec<u8> = (0..len).map(|b| b as u8).collect();
        let mut k = [0x5au8; 32];
        k[31] = i as u8 + 1;
        let ct = encrypt_with_nonce(key, &msg, &k).expect("encrypt");
        write_seed("sm2_ciphertext", &format!("seed-der-{len}"), &ct.to_der());
        write_seed("sm2_ciphertext", &format!("seed-raw-{len}"), &ct.to_raw());
    }
}

/// The bytes each side sent in one in-memory handshake, application data both ways and
/// close_notify both ways.
struct Transcript {
    client_to_server: Vec<u8>,
    server_to_client: Vec<u8>,
}

/// Moves everything `from` has queued into `to`, appending it to `log`.
fn pump(from: &mut Connection, to: &mut Connection, log: &mut Vec<u8>) -> bool {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).unwrap();
    }
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).unwrap();
        to.process_new_packets().unwrap();
    }
    log.extend_from_slice(&bytes);
    !bytes.is_empty()
}

/// Runs a real client and server to the end of a session.
fn transcript(client: ClientConfig, server: ServerConfig) -> Transcript {
    let mut c = Connection::client(Arc::new(client)).unwrap();
    let mut s = Connection::server(Arc::new(server));
    let mut t = Transcript {
        client_to_server: Vec::new(),
        server_to_client: Vec::new(),
    };
    while pump(&mut c, &mut s, &mut t.client_to_server)
        | pump(&mut s, &mut c, &mut t.server_to_client)
    {}
    assert!(!c.is_handshaking() && !s.is_handshaking());
    c.write_plaintext(b"ping").unwrap();
    s.write_plaintext(b"pong").unwrap();
    c.send_close_notify();
    s.send_close_notify();
    pump(&mut c, &mut s, &mut t.client_to_server);
    pump(&mut s, &mut c, &mut t.server_to_client);
    t
}

/// The plaintext handshake messages at the start of `wire` (up to the first
/// ChangeCipherSpec), joined.
fn plaintext_handshake(wire: &[u8]) -> Vec<u8> {
    let mut deframer = RecordDeframer::new();
    deframer.push(wire);
    let mut out = Vec::new();
    while let Some(record) = deframer.next_record().unwrap() {
        match record.typ {
            ContentType::Handshake => out.extend_from_slice(&record.payload),
            _ => break,
        }
    }
    out
}

/// The plaintext records at the start of `wire` (up to the first ChangeCipherSpec), then
/// the rest of a session in plaintext: ChangeCipherSpec, Finished (its verify_data for the
/// emulated peer to recompute), application data and close_notify. The input of the
/// handshake targets' peer mode.
fn plaintext_session(wire: &[u8]) -> Vec<u8> {
    let mut deframer = RecordDeframer::new();
    deframer.push(wire);
    let mut len = 0;
    while let Some(record) = deframer.next_record().unwrap() {
        if record.typ != ContentType::Handshake {
            break;
        }
        len += HEADER_LEN + record.payload.len();
    }
    let mut out = wire[..len].to_vec();
    let finished = Finished {
        verify_data: [0; 12],
    }
    .encode()
    .unwrap();
    let close = Alert::warning(AlertDescription::CloseNotify).encode();
    let rest: [(ContentType, &[u8]); 4] = [
        (ContentType::ChangeCipherSpec, &[1]),
        (ContentType::Handshake, &finished),
        (ContentType::ApplicationData, b"ping"),
        (ContentType::Alert, &close),
    ];
    for (typ, payload) in rest {
        out.push(typ.to_u8());
        out.extend_from_slice(&TLCP_VERSION.to_be_bytes());
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }
    out
}

/// `control` followed by `body`.
fn with_control(control: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![control];
    out.extend_from_slice(body);
    out
}

/// Seeds for the two handshake targets (raw and peer mode), `tlcp_message` and `tlcp_record`,
/// from real handshakes: every suite with mutual authentication, both `ECDHE_*`
/// ClientKeyExchange encodings, and `ECC_*` without a client certificate.
#[test]
#[ignore = "writes seed files into fuzz/corpus"]
fn seed_tlcp() {
    for suite in ALL_SUITES {
        let ecdhe = suite.key_exchange() == KeyExchangeKind::Ecdhe;
        let mut cases = vec![(true, false, true)];
        if ecdhe {
            cases.push((true, true, true));
        } else {
            cases.push((false, false, false));
        }
        for (identity, vector_ckx, client_auth) in cases {
            let client_control = ClientControl {
                identity,
                vector_ckx,
                suites: 0,
                peer: false,
                piece_len: 0,
            };
            let server_control = ServerControl {
                require_client_auth: client_auth,
                suites: 0,
                peer: false,
                piece_len: 0,
            };
            let mut client = fuzzing::client_config(&client_control);
            client.suites = vec![suite];
            let mut server = fuzzing::server_config(&server_control);
            server.suites = vec![suite];
            let t = transcript(client, server);
            // The fuzzed client offers every suite; the fuzzed server accepts every suite.
            let name = format!(
                "seed-{}-{}",
                suite.name(),
                if vector_ckx {
                    "vector"
                } else if identity {
                    "mutual"
                } else {
                    "anonymous"
                }
            );
            write_seed(
                "tlcp_handshake_server",
                &name,
                &with_control(server_control.to_byte(), &t.client_to_server),
            );
            write_seed(
                "tlcp_handshake_client",
                &name,
                &with_control(client_control.to_byte(), &t.server_to_client),
            );
            let server_peer = ServerControl {
                peer: true,
                ..server_control
            };
            write_seed(
                "tlcp_handshake_server",
                &format!("{name}-peer"),
                &with_control(
                    server_peer.to_byte(),
                    &plaintext_session(&t.client_to_server),
                ),
            );
            let client_peer = ClientControl {
                peer: true,
                ..client_control
            };
            write_seed(
                "tlcp_handshake_client",
                &format!("{name}-peer"),
                &with_control(
                    client_peer.to_byte(),
                    &plaintext_session(&t.server_to_client),
                ),
            );
            for (dir, wire) in [("c2s", &t.client_to_server), ("s2c", &t.server_to_client)] {
                write_seed(
                    "tlcp_message",
                    &format!("{name}-{dir}"),
                    &plaintext_handshake(wire),
                );
                write_seed(
                    "tlcp_record",
                    &format!("{name}-{dir}"),
                    &with_control(fuzzing::RecordControl::to_byte(suite, false), wire),
                );
            }
        }
    }
    seed_protected_records();
}

/// Seeds for `tlcp_record`: every content type protected under each suite's fixed keys.
fn seed_protected_records() {
    let finished = Finished {
        verify_data: [0x42; 12],
    }
    .encode()
    .unwrap();
    let hello_request = HelloRequest.encode().unwrap();
    let alert = Alert::fatal(AlertDescription::HandshakeFailure).encode();
    let close = Alert::warning(AlertDescription::CloseNotify).encode();
    let big = vec![0x61u8; 16384 + 100];
    for suite in ALL_SUITES {
        let records: [(ContentType, &[u8]); 6] = [
            (ContentType::Handshake, &finished),
            (ContentType::ApplicationData, b"hello"),
            (ContentType::Handshake, &hello_request),
            (ContentType::Alert, &alert),
            (ContentType::ApplicationData, &big),
            (ContentType::Alert, &close),
        ];
        let wire = fuzzing::tlcp_record_input(suite, true, &records).unwrap();
        write_seed(
            "tlcp_record",
            &format!("seed-{}-protected", suite.name()),
            &wire,
        );
    }
}
