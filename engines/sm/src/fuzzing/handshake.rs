//! Targets `tlcp_handshake_server` and `tlcp_handshake_client`: a whole sans-I/O
//! [`Connection`] fed the fuzz input as the peer's bytes, with the fixture certificates of
//! `tests/data/tlcp/` (made by its `gen.sh`) and a verifier pinned to them.
//!
//! A first control byte picks the configuration (see [`ServerControl`] and
//! [`ClientControl`]); the rest arrives in pieces, each read and processed in turn, then end
//! of stream. Whatever happens, the connection must answer with typed errors, everything it
//! writes must deframe as TLCP records, and a failure that calls for an alert must leave one
//! as the last record written.

use std::sync::{Arc, OnceLock};

use meshtls_tls_core::PeerError;
use rustls_pki_types::CertificateDer;

use super::peer::{Peer, PeerKeys};
use crate::sm2::PrivateKey;
use crate::tlcp::config::{
    ClientConfig, Clock, DualIdentity, EcdheKeyExchangeEncoding, PeerCertVerifier, ServerConfig,
};
use crate::tlcp::conn::Connection;
use crate::tlcp::error::TlcpError;
use crate::tlcp::record::{ContentType, RecordDeframer, HEADER_LEN};
use crate::tlcp::suite::{CipherSuite, KeyExchangeKind, ALL_SUITES};

/// The CA both fixture identities chain to.
const CA_PEM: &str = include_str!("../../tests/data/tlcp/ca.pem");
/// The server's signing certificate.
const SERVER_SIGN_PEM: &str = include_str!("../../tests/data/tlcp/server_sign.pem");
/// The server's signing key.
const SERVER_SIGN_KEY: &str = include_str!("../../tests/data/tlcp/server_sign.key");
/// The server's encryption certificate.
const SERVER_ENC_PEM: &str = include_str!("../../tests/data/tlcp/server_enc.pem");
/// The server's encryption key.
const SERVER_ENC_KEY: &str = include_str!("../../tests/data/tlcp/server_enc.key");
/// The client's signing certificate.
const CLIENT_SIGN_PEM: &str = include_str!("../../tests/data/tlcp/client_sign.pem");
/// The client's signing key.
const CLIENT_SIGN_KEY: &str = include_str!("../../tests/data/tlcp/client_sign.key");
/// The client's encryption certificate.
const CLIENT_ENC_PEM: &str = include_str!("../../tests/data/tlcp/client_enc.pem");
/// The client's encryption key.
const CLIENT_ENC_KEY: &str = include_str!("../../tests/data/tlcp/client_enc.key");

/// The clock of every fuzzed configuration (2030-03-17): no expiry depends on the wall clock.
const FIXED_NOW: u64 = 1_900_000_000;

/// The suite lists a control byte can pick, by index.
fn suite_list(choice: u8) -> Vec<CipherSuite> {
    let kind = |k| {
        ALL_SUITES
            .iter()
            .copied()
            .filter(|s| s.key_exchange() == k)
            .collect()
    };
    match choice & 3 {
        0 => ALL_SUITES.to_vec(),
        1 => kind(KeyExchangeKind::Ecc),
        2 => kind(KeyExchangeKind::Ecdhe),
        _ => ALL_SUITES.iter().rev().copied().collect(),
    }
}

/// How `tlcp_handshake_server` reads its first input byte: bit 0 requires client
/// authentication, bits 1-2 pick the suite list (all, `ECC_*`, `ECDHE_*`, all reversed), bit
/// 3 selects peer mode (the input is the client's records in plaintext, sent by an emulated
/// client holding the fixture keys: see the `peer` module), and the top four bits give the size
/// of the pieces the raw input arrives in (1 + 73 * value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerControl {
    /// Demand a client certificate for `ECC_*` suites too.
    pub require_client_auth: bool,
    /// Index of the suite list (0: all, 1: `ECC_*`, 2: `ECDHE_*`, 3: all reversed).
    pub suites: u8,
    /// Whether the input goes through the emulated client.
    pub peer: bool,
    /// Bytes per `read_tls` of raw input.
    pub piece_len: usize,
}

impl ServerControl {
    /// Decodes the control byte.
    pub fn from_byte(byte: u8) -> Self {
        Self {
            require_client_auth: byte & 1 != 0,
            suites: (byte >> 1) & 3,
            peer: byte & 8 != 0,
            piece_len: 1 + 73 * usize::from(byte >> 4),
        }
    }

    /// The control byte, with the largest pieces.
    pub fn to_byte(self) -> u8 {
        0xf0 | (u8::from(self.peer) << 3)
            | ((self.suites & 3) << 1)
            | u8::from(self.require_client_auth)
    }
}

/// How `tlcp_handshake_client` reads its first input byte: bit 0 gives the client its
/// identity (client authentication and `ECDHE_*`), bit 1 picks the vector encoding of the
/// `ECDHE_*` ClientKeyExchange, bits 2-3 the suite list (as [`ServerControl::suites`]), bit 4
/// peer mode (an emulated server, as for [`ServerControl::peer`]), and the top three bits the
/// size of the pieces the raw input arrives in (1 + 157 * value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientControl {
    /// Whether the client has its dual certificates.
    pub identity: bool,
    /// Send the `ECDHE_*` ClientKeyExchange as a vector.
    pub vector_ckx: bool,
    /// Index of the suite list.
    pub suites: u8,
    /// Whether the input goes through the emulated server.
    pub peer: bool,
    /// Bytes per `read_tls` of raw input.
    pub piece_len: usize,
}

impl ClientControl {
    /// Decodes the control byte.
    pub fn from_byte(byte: u8) -> Self {
        Self {
            identity: byte & 1 != 0,
            vector_ckx: byte & 2 != 0,
            suites: (byte >> 2) & 3,
            peer: byte & 16 != 0,
            piece_len: 1 + 157 * usize::from(byte >> 5),
        }
    }

    /// The control byte, with the largest pieces.
    pub fn to_byte(self) -> u8 {
        0xe0 | (u8::from(self.peer) << 4)
            | ((self.suites & 3) << 2)
            | (u8::from(self.vector_ckx) << 1)
            | u8::from(self.identity)
    }
}

/// The parsed fixtures.
struct Fixtures {
    server: DualIdentity,
    client: DualIdentity,
}

/// The fixture identities, parsed once.
fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| Fixtures {
        server: identity(
            SERVER_SIGN_PEM,
            SERVER_SIGN_KEY,
            SERVER_ENC_PEM,
            SERVER_ENC_KEY,
        ),
        client: identity(
            CLIENT_SIGN_PEM,
            CLIENT_SIGN_KEY,
            CLIENT_ENC_PEM,
            CLIENT_ENC_KEY,
        ),
    })
}

/// A certificate from a fixture PEM.
fn cert(pem: &str) -> CertificateDer<'static> {
    let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).expect("fixture certificate PEM");
    assert_eq!(label, "CERTIFICATE");
    CertificateDer::from(der)
}

/// A dual identity from fixture PEMs, its chain ending at the test CA.
fn identity(sign_pem: &str, sign_key: &str, enc_pem: &str, enc_key: &str) -> DualIdentity {
    let key = |pem: &str| PrivateKey::from_pem(pem).expect("fixture key PEM");
    DualIdentity::new(
        vec![cert(sign_pem), cert(CA_PEM)],
        key(sign_key),
        cert(enc_pem),
        key(enc_key),
    )
    .expect("fixture keys match their certificates")
}

/// Accepts exactly one peer: the fixture identity's certificates, byte for byte.
#[derive(Debug)]
struct PinnedVerifier {
    sign: CertificateDer<'static>,
    enc: CertificateDer<'static>,
}

impl PinnedVerifier {
    fn new(peer: &DualIdentity) -> Arc<Self> {
        Arc::new(Self {
            sign: peer.sign_chain()[0].clone(),
            enc: peer.enc_cert().clone(),
        })
    }
}

impl PeerCertVerifier for PinnedVerifier {
    fn verify(
        &self,
        sign_chain: &[CertificateDer<'_>],
        enc_cert: Option<&CertificateDer<'_>>,
    ) -> Result<(), TlcpError> {
        let leaf = sign_chain.first().ok_or(PeerError::NoCertificate)?;
        let enc = enc_cert.ok_or(PeerError::NoCertificate)?;
        if leaf.as_ref() != self.sign.as_ref() || enc.as_ref() != self.enc.as_ref() {
            return Err(PeerError::UntrustedChain("not the pinned fixture".into()).into());
        }
        Ok(())
    }
}

/// A clock stopped at [`FIXED_NOW`].
#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        FIXED_NOW
    }
}

/// The fuzzed server's configuration: the fixture server identity, trusting only the
/// fixture client, with a fresh session cache (so runs do not depend on each other).
pub fn server_config(control: &ServerControl) -> ServerConfig {
    let fixtures = fixtures();
    let mut config = ServerConfig::new(
        fixtures.server.clone(),
        PinnedVerifier::new(&fixtures.client),
    );
    config.suites = suite_list(control.suites);
    config.require_client_auth = control.require_client_auth;
    config.clock = Arc::new(FixedClock);
    config
}

/// The fuzzed client's configuration: trusting only the fixture server, with the fixture
/// client identity if the control says so, and no session store.
pub fn client_config(control: &ClientControl) -> ClientConfig {
    let fixtures = fixtures();
    let mut config = ClientConfig::new(PinnedVerifier::new(&fixtures.server));
    config.suites = suite_list(control.suites);
    config.identity = control.identity.then(|| fixtures.client.clone());
    config.ckx_encoding = if control.vector_ckx {
        EcdheKeyExchangeEncoding::Vector
    } else {
        EcdheKeyExchangeEncoding::Bare
    };
    config.clock = Arc::new(FixedClock);
    config
}

/// Target `tlcp_handshake_server`: a server connection fed the input (after the control
/// byte) as the client's bytes.
pub fn tlcp_handshake_server(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let control = ServerControl::from_byte(control);
    let mut conn = Connection::server(Arc::new(server_config(&control)));
    if control.peer {
        drive_peer(&mut conn, input, false);
    } else {
        drive(&mut conn, input, control.piece_len);
    }
}

/// Target `tlcp_handshake_client`: a client connection (its ClientHello sent) fed the input
/// (after the control byte) as the server's bytes.
pub fn tlcp_handshake_client(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let control = ClientControl::from_byte(control);
    // ECDHE suites alone without an identity offer nothing: a configuration error, not input.
    let Ok(mut conn) = Connection::client(Arc::new(client_config(&control))) else {
        return;
    };
    if control.peer {
        drive_peer(&mut conn, input, true);
    } else {
        drive(&mut conn, input, control.piece_len);
    }
}

/// Feeds `input` to `conn` in pieces of `piece_len` bytes, then end of stream, processing
/// after each read and checking what the connection writes.
fn drive(conn: &mut Connection, input: &[u8], piece_len: usize) {
    let mut written = Written::default();
    written.take(conn);
    for piece in input.chunks(piece_len) {
        if !feed(conn, piece, &mut written) {
            return;
        }
    }
    end_of_stream(conn, &mut written);
}

/// Feeds `input`, plaintext records, through an emulated peer (the server if `peer_is_server`)
/// that fixes them up and protects them (see [`super::peer`]). What does not deframe as
/// records (an invalid header, a truncated last record) is sent raw, then end of stream.
fn drive_peer(conn: &mut Connection, input: &[u8], peer_is_server: bool) {
    let fixtures = fixtures();
    let keys = PeerKeys {
        server_sign: fixtures.server.sign_key(),
        server_enc: fixtures.server.enc_key(),
        client_sign: fixtures.client.sign_key(),
        client_enc: fixtures.client.enc_key(),
    };
    let mut peer = Peer::new(keys, peer_is_server);
    let mut written = Written::default();
    written.take(conn);
    peer.observe(&written.last_batch);
    let mut deframer = RecordDeframer::new();
    deframer.push(input);
    let mut consumed = 0;
    while let Ok(Some(record)) = deframer.next_record() {
        consumed += HEADER_LEN + record.payload.len();
        if !feed(conn, &peer.send(record), &mut written) {
            return;
        }
        peer.observe(&written.last_batch);
    }
    if consumed < input.len() && !feed(conn, &input[consumed..], &mut written) {
        return;
    }
    end_of_stream(conn, &mut written);
}

/// Reads `wire` into `conn` and processes it; `false` once the connection has failed.
fn feed(conn: &mut Connection, wire: &[u8], written: &mut Written) -> bool {
    let mut rest = wire;
    while !rest.is_empty() {
        if !matches!(conn.read_tls(&mut rest), Ok(n) if n > 0) {
            return false;
        }
    }
    process(conn, written)
}

/// Signals end of stream and processes it.
fn end_of_stream(conn: &mut Connection, written: &mut Written) {
    let mut eof: &[u8] = &[];
    if conn.read_tls(&mut eof).is_ok() {
        process(conn, written);
    }
}

/// Processes what was read; `false` once the connection has failed. Received application
/// data is echoed and a close_notify answered, so the write side runs after the handshake
/// too. Checks that a failure that calls for an alert queued one.
fn process(conn: &mut Connection, written: &mut Written) -> bool {
    let result = conn.process_new_packets();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read_plaintext(&mut buf) {
            Ok(0) => {
                conn.send_close_notify();
                written.closed = true;
                break;
            }
            Ok(n) => {
                // Refused once the connection has failed; the error is already in `result`.
                let _ = conn.write_plaintext(&buf[..n]);
            }
            Err(_) => break,
        }
    }
    written.take(conn);
    match result {
        Ok(()) => true,
        Err(err) => {
            if err.sends_alert() && !written.closed {
                assert_eq!(
                    written.last_type,
                    Some(ContentType::Alert),
                    "no alert after {err}"
                );
            }
            assert!(
                conn.process_new_packets().is_err(),
                "a failed connection went on"
            );
            false
        }
    }
}

/// What the connection has written, deframed as it comes.
#[derive(Default)]
struct Written {
    deframer: RecordDeframer,
    /// The type of the last whole record written.
    last_type: Option<ContentType>,
    /// The bytes of the last [`take`](Self::take).
    last_batch: Vec<u8>,
    /// We had the connection send close_notify, after which a failure sends no alert.
    closed: bool,
}

impl Written {
    /// Takes everything `conn` has queued; it must be well-formed TLCP records.
    fn take(&mut self, conn: &mut Connection) {
        self.last_batch.clear();
        while conn.wants_write() {
            conn.write_tls(&mut self.last_batch)
                .expect("writing to a Vec");
        }
        self.deframer.push(&self.last_batch);
        while let Some(record) = self
            .deframer
            .next_record()
            .expect("the connection writes valid records")
        {
            self.last_type = Some(record.typ);
        }
    }
}
