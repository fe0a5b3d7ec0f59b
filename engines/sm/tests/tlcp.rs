//! TLCP protocol tests: a client and a server [`Connection`] handshaking in memory, records
//! pumped through `Vec` buffers, with SM2 certificates made by the OpenSSL 3 command line
//! (tests/data/tlcp/gen.sh: a CA, dual pairs for a server and a client, and an untrusted CA).
//!
//! Covered: the four suites with mutual authentication, `ECC_*` without client certificates,
//! both `ECDHE_*` ClientKeyExchange encodings, resumption by session ID (and its expiry under
//! a fake clock), application data both ways beyond one record, close_notify both ways,
//! tampered and swapped handshake messages and records, untrusted client certificates,
//! `ECDHE_*` without a client encryption certificate, renegotiation attempts, unexpected
//! messages, oversized records, and random garbage into both sides (errors, never panics).
//!
//! Run: `cargo test -p meshtls-engine-sm --test tlcp`.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Reader, SliceReader};
use meshtls_engine_sm::sm2::{PrivateKey, PublicKey, Signature};
use meshtls_engine_sm::tlcp::alert::{AlertDescription, AlertLevel};
use meshtls_engine_sm::tlcp::config::{
    ClientConfig, Clock, DualIdentity, EcdheKeyExchangeEncoding, PeerCertVerifier, ServerConfig,
};
use meshtls_engine_sm::tlcp::conn::Connection;
use meshtls_engine_sm::tlcp::error::TlcpError;
use meshtls_engine_sm::tlcp::message::{
    Certificate, ClientHello, HandshakePayload, HandshakeType, HelloRequest,
};
use meshtls_engine_sm::tlcp::record::{HEADER_LEN, MAX_CIPHERTEXT_LEN, TLCP_VERSION};
use meshtls_engine_sm::tlcp::session::{ClientSessionStore, SessionCache};
use meshtls_engine_sm::tlcp::suite::{CipherSuite, KeyExchangeKind, ALL_SUITES};
use meshtls_tls_core::PeerError;
use rand::{Rng, RngCore, SeedableRng};
use rustls_pki_types::CertificateDer;

// === Fixtures ===

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tlcp")
        .join(name)
}

fn cert(name: &str) -> CertificateDer<'static> {
    let pem = std::fs::read(data_path(&format!("{name}.pem"))).unwrap();
    let (label, der) = pem_rfc7468::decode_vec(&pem).unwrap();
    assert_eq!(label, "CERTIFICATE");
    CertificateDer::from(der)
}

fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pem(&std::fs::read_to_string(data_path(&format!("{name}.key"))).unwrap())
        .unwrap()
}

/// `prefix`_sign with the CA, `prefix`_enc.
fn identity(prefix: &str, ca: &str) -> DualIdentity {
    DualIdentity::new(
        vec![cert(&format!("{prefix}_sign")), cert(ca)],
        key(&format!("{prefix}_sign")),
        cert(&format!("{prefix}_enc")),
        key(&format!("{prefix}_enc")),
    )
    .unwrap()
}

/// A real, minimal verifier: both leaves must carry an SM2-with-SM3 signature of the test CA
/// (default ID), checked with the engine's SM2.
#[derive(Debug)]
struct CaVerifier {
    ca: PublicKey,
}

impl CaVerifier {
    fn test_ca() -> Arc<Self> {
        Arc::new(Self {
            ca: key("ca").public_key().clone(),
        })
    }

    fn check(&self, cert: &CertificateDer<'_>) -> Result<(), TlcpError> {
        let untrusted = |why: &str| TlcpError::Peer(PeerError::UntrustedChain(why.into()));
        let (tbs, sig) = split_certificate(cert.as_ref()).map_err(|_| untrusted("malformed"))?;
        let sig = Signature::from_der(&sig).map_err(|_| untrusted("malformed signature"))?;
        self.ca
            .verify(&tbs, &sig)
            .map_err(|_| untrusted("not signed by the test CA"))
    }
}

impl PeerCertVerifier for CaVerifier {
    fn verify(
        &self,
        sign_chain: &[CertificateDer<'_>],
        enc_cert: Option<&CertificateDer<'_>>,
    ) -> Result<(), TlcpError> {
        let leaf = sign_chain.first().ok_or(PeerError::NoCertificate)?;
        self.check(leaf)?;
        self.check(enc_cert.ok_or(PeerError::NoCertificate)?)
    }
}

/// A certificate's `tbsCertificate` TLV and signature bytes.
fn split_certificate(der: &[u8]) -> der::Result<(Vec<u8>, Vec<u8>)> {
    let mut reader = SliceReader::new(der)?;
    let parts = reader.sequence(|cert| {
        let tbs = cert.tlv_bytes()?.to_vec();
        AnyRef::decode(cert)?;
        let sig = BitStringRef::decode(cert)?.raw_bytes().to_vec();
        Ok((tbs, sig))
    })?;
    reader.finish(parts)
}

/// A clock the test moves by hand.
#[derive(Debug)]
struct FakeClock(AtomicU64);

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(1_900_000_000)))
    }

    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn server_config(suites: &[CipherSuite]) -> ServerConfig {
    let mut config = ServerConfig::new(identity("server", "ca"), CaVerifier::test_ca());
    config.suites = suites.to_vec();
    config
}

fn client_config(suites: &[CipherSuite], with_identity: bool) -> ClientConfig {
    let mut config = ClientConfig::new(CaVerifier::test_ca());
    config.suites = suites.to_vec();
    if with_identity {
        config.identity = Some(identity("client", "ca"));
    }
    config
}

// === The in-memory pair ===

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

/// What the tamper hook sees: direction, index of the record in that direction, the record.
type Tamper<'a> = &'a mut dyn FnMut(Dir, usize, &mut Vec<u8>);

struct Pair {
    client: Connection,
    server: Connection,
    client_err: Option<TlcpError>,
    server_err: Option<TlcpError>,
    /// Records moved per direction (to server, to client).
    records: [usize; 2],
}

impl Pair {
    fn new(client: ClientConfig, server: ServerConfig) -> Pair {
        Pair::from_conns(
            Connection::client(Arc::new(client)).unwrap(),
            Connection::server(Arc::new(server)),
        )
    }

    fn from_conns(client: Connection, server: Connection) -> Pair {
        Pair {
            client,
            server,
            client_err: None,
            server_err: None,
            records: [0, 0],
        }
    }

    /// Moves bytes both ways until neither side has anything to send.
    fn drive(&mut self) {
        self.drive_with(&mut |_, _, _| {});
    }

    fn drive_with(&mut self, tamper: Tamper<'_>) {
        loop {
            let to_server = pump(
                &mut self.client,
                &mut self.server,
                &mut self.server_err,
                Dir::ToServer,
                &mut self.records[0],
                tamper,
            );
            let to_client = pump(
                &mut self.server,
                &mut self.client,
                &mut self.client_err,
                Dir::ToClient,
                &mut self.records[1],
                tamper,
            );
            if to_server == 0 && to_client == 0 {
                break;
            }
        }
    }

    fn handshake_ok(&mut self) {
        self.drive();
        assert!(self.client_err.is_none(), "client: {:?}", self.client_err);
        assert!(self.server_err.is_none(), "server: {:?}", self.server_err);
        assert!(!self.client.is_handshaking());
        assert!(!self.server.is_handshaking());
    }

    /// Sends `data` from one side and reads it all on the other.
    fn send(&mut self, dir: Dir, data: &[u8]) {
        let from = match dir {
            Dir::ToServer => &mut self.client,
            Dir::ToClient => &mut self.server,
        };
        assert_eq!(from.write_plaintext(data).unwrap(), data.len());
        self.drive();
        let to = match dir {
            Dir::ToServer => &mut self.server,
            Dir::ToClient => &mut self.client,
        };
        assert_eq!(read_all(to), data);
    }
}

/// Moves every queued byte from `from` to `to`, record by record through `tamper`; returns
/// how many bytes moved. An error of `to` lands in `to_err` and stops feeding it.
fn pump(
    from: &mut Connection,
    to: &mut Connection,
    to_err: &mut Option<TlcpError>,
    dir: Dir,
    count: &mut usize,
    tamper: Tamper<'_>,
) -> usize {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).unwrap();
    }
    let mut tampered = Vec::with_capacity(wire.len());
    for mut record in split_records(&wire) {
        tamper(dir, *count, &mut record);
        *count += 1;
        tampered.extend_from_slice(&record);
    }
    let mut rd = &tampered[..];
    while !rd.is_empty() && to_err.is_none() {
        match to.read_tls(&mut rd) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Other => {}
            Err(e) => panic!("read_tls: {e}"),
        }
        if let Err(e) = to.process_new_packets() {
            *to_err = Some(e);
        }
    }
    wire.len()
}

/// Cuts a byte stream into records (a trailing partial record is kept whole).
fn split_records(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let len = if rest.len() >= HEADER_LEN {
            HEADER_LEN + usize::from(u16::from_be_bytes([rest[3], rest[4]]))
        } else {
            rest.len()
        };
        let (record, tail) = rest.split_at(len.min(rest.len()));
        out.push(record.to_vec());
        rest = tail;
    }
    out
}

fn read_all(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read_plaintext(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("read_plaintext: {e}"),
        }
    }
    out
}

fn alert_of(err: &Option<TlcpError>) -> Option<AlertDescription> {
    match err {
        Some(TlcpError::AlertReceived(d)) => Some(*d),
        _ => None,
    }
}

fn big_data(len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    rand::rngs::StdRng::seed_from_u64(len as u64).fill_bytes(&mut data);
    data
}

// === Handshakes that succeed ===

#[test]
fn all_four_suites_with_mutual_auth() {
    for suite in ALL_SUITES {
        let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
        pair.handshake_ok();
        assert_eq!(pair.client.suite(), Some(suite));
        assert_eq!(pair.server.suite(), Some(suite));
        assert!(!pair.client.resumed() && !pair.server.resumed());
        assert_eq!(
            pair.client.peer_sign_chain().unwrap()[0],
            cert("server_sign")
        );
        assert_eq!(pair.client.peer_enc_cert(), Some(&cert("server_enc")));
        assert_eq!(
            pair.server.peer_sign_chain().unwrap()[0],
            cert("client_sign")
        );
        assert_eq!(pair.server.peer_enc_cert(), Some(&cert("client_enc")));

        pair.send(Dir::ToServer, b"ping");
        pair.send(Dir::ToClient, b"pong");
        let big = big_data(100 * 1024 + 7);
        pair.send(Dir::ToServer, &big);
        pair.send(Dir::ToClient, &big);
        pair.send(Dir::ToServer, b"");
    }
}

#[test]
fn server_picks_by_its_own_preference() {
    let mut pair = Pair::new(
        client_config(&ALL_SUITES, true),
        server_config(&[CipherSuite::EcdheSm4CbcSm3, CipherSuite::EccSm4GcmSm3]),
    );
    pair.handshake_ok();
    assert_eq!(pair.client.suite(), Some(CipherSuite::EcdheSm4CbcSm3));
}

#[test]
fn ecc_without_client_certificates() {
    for suite in [CipherSuite::EccSm4CbcSm3, CipherSuite::EccSm4GcmSm3] {
        let mut server = server_config(&ALL_SUITES);
        server.require_client_auth = false;
        let mut pair = Pair::new(client_config(&[suite], false), server);
        pair.handshake_ok();
        assert_eq!(pair.client.suite(), Some(suite));
        assert!(pair.server.peer_sign_chain().is_none());
        pair.send(Dir::ToServer, b"anonymous client");
    }
    // Also when the server asks but the client has nothing: an empty Certificate.
    let mut server = server_config(&[CipherSuite::EccSm4CbcSm3]);
    server.require_client_auth = false;
    let mut pair = Pair::new(client_config(&[CipherSuite::EccSm4CbcSm3], false), server);
    pair.handshake_ok();
}

#[test]
fn ecdhe_accepts_both_client_key_exchange_encodings() {
    for suite in [CipherSuite::EcdheSm4GcmSm3, CipherSuite::EcdheSm4CbcSm3] {
        for encoding in [
            EcdheKeyExchangeEncoding::Bare,
            EcdheKeyExchangeEncoding::Vector,
        ] {
            let mut client = client_config(&[suite], true);
            client.ckx_encoding = encoding;
            let mut seen_len = None;
            let mut pair = Pair::new(client, server_config(&ALL_SUITES));
            // Find the ClientKeyExchange body length in the client's second flight.
            pair.drive_with(&mut |dir, _, record| {
                if dir == Dir::ToServer && record[0] == 22 && record[HEADER_LEN] == 16 {
                    let body = &record[HEADER_LEN + 4..];
                    seen_len = Some(body.len());
                }
            });
            assert!(pair.client_err.is_none() && pair.server_err.is_none());
            assert_eq!(pair.server.suite(), Some(suite));
            let expected = match encoding {
                EcdheKeyExchangeEncoding::Bare => 69,
                EcdheKeyExchangeEncoding::Vector => 71,
            };
            assert_eq!(seen_len, Some(expected), "{encoding:?}");
            pair.send(Dir::ToClient, b"ecdhe");
        }
    }
}

// === Resumption ===

#[test]
fn resumption_by_session_id() {
    let clock = FakeClock::new();
    let cache = Arc::new(SessionCache::new(16, 600));
    let store = Arc::new(ClientSessionStore::new(16, 600));
    let make = |suites: &[CipherSuite]| {
        let mut server = server_config(&ALL_SUITES);
        server.session_cache = Arc::clone(&cache);
        server.clock = clock.clone();
        let mut client = client_config(suites, true);
        client.session_store = Some(Arc::clone(&store));
        client.session_key = "server.example:443".into();
        client.clock = clock.clone();
        Pair::new(client, server)
    };

    for suite in ALL_SUITES {
        let mut full = make(&[suite]);
        full.handshake_ok();
        assert!(!full.client.resumed());
        assert_eq!(store.len(), 1);

        let mut again = make(&[suite]);
        again.handshake_ok();
        assert!(again.client.resumed() && again.server.resumed(), "{suite}");
        assert_eq!(again.client.suite(), Some(suite));
        assert!(again.records[0] < full.records[0] && again.records[1] < full.records[1]);
        // The resumed connection still knows who the peers are.
        assert_eq!(
            again.client.peer_sign_chain().unwrap()[0],
            cert("server_sign")
        );
        assert_eq!(again.server.peer_enc_cert(), Some(&cert("client_enc")));
        again.send(Dir::ToServer, b"resumed");
        again.send(Dir::ToClient, &big_data(20_000));
    }

    // Past the lifetime both sides run a full handshake again.
    clock.advance(600);
    let mut expired = make(&[CipherSuite::EccSm4GcmSm3]);
    expired.handshake_ok();
    assert!(!expired.client.resumed());
    let mut fresh = make(&[CipherSuite::EccSm4GcmSm3]);
    fresh.handshake_ok();
    assert!(fresh.client.resumed());
}

#[test]
fn server_without_the_session_runs_a_full_handshake() {
    let store = Arc::new(ClientSessionStore::default());
    let client = || {
        let mut c = client_config(&ALL_SUITES, true);
        c.session_store = Some(Arc::clone(&store));
        c
    };
    let mut first = Pair::new(client(), server_config(&ALL_SUITES));
    first.handshake_ok();
    assert_eq!(store.len(), 1);
    // A new server (empty cache) does not know the session.
    let mut second = Pair::new(client(), server_config(&ALL_SUITES));
    second.handshake_ok();
    assert!(!second.client.resumed());
    // A server with resumption disabled sends an empty session ID: nothing to save.
    let mut server = server_config(&ALL_SUITES);
    server.session_cache = Arc::new(SessionCache::new(0, 0));
    let store2 = Arc::new(ClientSessionStore::default());
    let mut c = client_config(&ALL_SUITES, true);
    c.session_store = Some(Arc::clone(&store2));
    let mut third = Pair::new(c, server);
    third.handshake_ok();
    assert!(store2.is_empty());
}

// === Closure ===

#[test]
fn close_notify_both_ways() {
    for first in [Dir::ToServer, Dir::ToClient] {
        let mut pair = Pair::new(client_config(&ALL_SUITES, true), server_config(&ALL_SUITES));
        pair.handshake_ok();
        let (closer, other) = match first {
            Dir::ToServer => (&mut pair.client, &mut pair.server),
            Dir::ToClient => (&mut pair.server, &mut pair.client),
        };
        closer.write_plaintext(b"last words").unwrap();
        closer.send_close_notify();
        assert!(closer.write_plaintext(b"more").is_err());
        let _ = other;
        pair.drive();
        let other = match first {
            Dir::ToServer => &mut pair.server,
            Dir::ToClient => &mut pair.client,
        };
        assert_eq!(read_all(other), b"last words");
        assert_eq!(other.read_plaintext(&mut [0u8; 8]).unwrap(), 0);
        assert!(!other.wants_read());
        // The other side can still answer, then close too.
        other.write_plaintext(b"bye").unwrap();
        other.send_close_notify();
        pair.drive();
        assert!(pair.client_err.is_none() && pair.server_err.is_none());
        let closer = match first {
            Dir::ToServer => &mut pair.client,
            Dir::ToClient => &mut pair.server,
        };
        assert_eq!(read_all(closer), b"bye");
        assert_eq!(closer.read_plaintext(&mut [0u8; 8]).unwrap(), 0);
    }
}

#[test]
fn eof_without_close_notify_is_reported() {
    let mut pair = Pair::new(client_config(&ALL_SUITES, true), server_config(&ALL_SUITES));
    pair.handshake_ok();
    assert_eq!(pair.server.read_tls(&mut &[][..]).unwrap(), 0);
    pair.server.process_new_packets().unwrap();
    let err = pair.server.read_plaintext(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    // During the handshake, EOF is an error of its own.
    let mut server = Connection::server(Arc::new(server_config(&ALL_SUITES)));
    server.read_tls(&mut &[][..]).unwrap();
    assert!(matches!(
        server.process_new_packets(),
        Err(TlcpError::UnexpectedEof)
    ));
    assert!(!server.wants_write(), "no alert on a dead transport");
}

// === Failures ===

#[test]
fn untrusted_client_certificate_is_rejected() {
    let mut client = client_config(&ALL_SUITES, false);
    client.identity = Some(identity("rogue", "rogue_ca"));
    let mut pair = Pair::new(client, server_config(&ALL_SUITES));
    pair.drive();
    assert!(matches!(
        pair.server_err,
        Some(TlcpError::Peer(PeerError::UntrustedChain(_)))
    ));
    assert_eq!(
        alert_of(&pair.client_err),
        Some(AlertDescription::UnknownCa)
    );
}

#[test]
fn client_auth_required_but_missing() {
    let mut pair = Pair::new(
        client_config(&[CipherSuite::EccSm4GcmSm3], false),
        server_config(&ALL_SUITES),
    );
    pair.drive();
    assert!(matches!(
        pair.server_err,
        Some(TlcpError::Peer(PeerError::NoCertificate))
    ));
    assert_eq!(
        alert_of(&pair.client_err),
        Some(AlertDescription::HandshakeFailure)
    );
}

#[test]
fn ecdhe_needs_a_client_encryption_certificate() {
    // A client without an identity cannot offer ECDHE at all.
    let only_ecdhe = [CipherSuite::EcdheSm4GcmSm3, CipherSuite::EcdheSm4CbcSm3];
    assert!(matches!(
        Connection::client(Arc::new(client_config(&only_ecdhe, false))),
        Err(TlcpError::ApiMisuse(_))
    ));
    // Offering everything, it offers only ECC; an ECDHE-only server finds nothing in common.
    let mut pair = Pair::new(
        client_config(&ALL_SUITES, false),
        server_config(&only_ecdhe),
    );
    pair.drive();
    assert!(matches!(
        pair.server_err,
        Some(TlcpError::HandshakeFailure(_))
    ));
    assert_eq!(
        alert_of(&pair.client_err),
        Some(AlertDescription::HandshakeFailure)
    );

    // A client that sends an empty Certificate on ECDHE is refused by the server.
    let mut server = Connection::server(Arc::new(server_config(&only_ecdhe)));
    let hello = ClientHello {
        version: TLCP_VERSION,
        random: [7; 32],
        session_id: Vec::new(),
        cipher_suites: vec![CipherSuite::EcdheSm4GcmSm3.to_u16()],
        compression_methods: vec![0],
        extensions: None,
    };
    feed(&mut server, 22, &hello.encode().unwrap()).unwrap();
    assert!(server.wants_write());
    let err = feed(
        &mut server,
        22,
        &Certificate { certs: vec![] }.encode().unwrap(),
    );
    assert!(
        matches!(err, Err(TlcpError::HandshakeFailure(_))),
        "{err:?}"
    );
    // A lone signing certificate is not enough either.
    let mut server = Connection::server(Arc::new(server_config(&only_ecdhe)));
    feed(&mut server, 22, &hello.encode().unwrap()).unwrap();
    let lone = Certificate {
        certs: vec![cert("client_sign")],
    };
    let err = feed(&mut server, 22, &lone.encode().unwrap());
    assert!(
        matches!(err, Err(TlcpError::HandshakeFailure(_))),
        "{err:?}"
    );
}

#[test]
fn mismatched_keys_are_refused_at_configuration() {
    let err = DualIdentity::new(
        vec![cert("server_sign")],
        key("server_sign"),
        cert("server_enc"),
        key("client_enc"),
    );
    assert!(matches!(err, Err(TlcpError::ApiMisuse(_))));
    let err = DualIdentity::new(
        vec![cert("server_sign")],
        key("server_enc"),
        cert("server_enc"),
        key("server_enc"),
    );
    assert!(matches!(err, Err(TlcpError::ApiMisuse(_))));
    assert!(DualIdentity::new(vec![], key("ca"), cert("ca"), key("ca")).is_err());
}

/// Replaces the server's encryption certificate in its Certificate message with another
/// certificate of the same CA (the client's): the chain still verifies, but the server's key
/// exchange binds its real encryption certificate, so the handshake must fail.
#[test]
fn swapped_server_encryption_certificate_is_refused() {
    for suite in ALL_SUITES {
        let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
        pair.drive_with(&mut |dir, _, record| {
            if dir == Dir::ToClient && record[0] == 22 && record[HEADER_LEN] == 11 {
                let mut msg = Certificate::decode(&record[HEADER_LEN + 4..]).unwrap();
                msg.certs[1] = cert("client_enc");
                let encoded = msg.encode().unwrap();
                record.truncate(3);
                record.extend_from_slice(&(encoded.len() as u16).to_be_bytes());
                record.extend_from_slice(&encoded);
            }
        });
        match suite.key_exchange() {
            // The ServerKeyExchange signature covers the encryption certificate.
            KeyExchangeKind::Ecc => assert!(
                matches!(pair.client_err, Some(TlcpError::Crypto(_))),
                "{suite}: {:?}",
                pair.client_err
            ),
            // ECDHE signs only the ephemeral point, but the transcripts now differ: the
            // client's CertificateVerify does not verify at the server.
            KeyExchangeKind::Ecdhe => {
                assert!(
                    matches!(pair.server_err, Some(TlcpError::Crypto(_))),
                    "{suite}: {:?}",
                    pair.server_err
                );
                assert_eq!(
                    alert_of(&pair.client_err),
                    Some(AlertDescription::DecryptError)
                );
            }
        }
        assert!(pair.client.is_handshaking() && pair.server.is_handshaking());
    }
}

#[test]
fn tampered_records_never_complete_a_handshake() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for suite in ALL_SUITES {
        // Learn how many records each direction carries.
        let mut clean = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
        clean.handshake_ok();
        let [to_server, to_client] = clean.records;
        for (dir, n) in [(Dir::ToServer, to_server), (Dir::ToClient, to_client)] {
            for target in 0..n {
                let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
                let pos = rng.gen::<usize>();
                let bit = 1u8 << rng.gen_range(0..8);
                pair.drive_with(&mut |d, i, record| {
                    if d == dir && i == target {
                        let at = HEADER_LEN + pos % (record.len() - HEADER_LEN);
                        record[at] ^= bit;
                    }
                });
                // Either side fails, or (a tampered length) waits for bytes that never come;
                // no handshake completes on tampered bytes.
                assert!(
                    pair.client.is_handshaking() || pair.server.is_handshaking(),
                    "{suite} {dir:?} record {target}: tampering went unnoticed"
                );
                if pair.client_err.is_none() && pair.server_err.is_none() {
                    let stalled = [&pair.client, &pair.server]
                        .iter()
                        .all(|c| !c.wants_write());
                    assert!(stalled, "{suite} {dir:?} record {target}");
                }
            }
        }
    }
}

#[test]
fn tampered_handshake_messages_get_the_right_alerts() {
    let suite = CipherSuite::EccSm4GcmSm3;
    // Flip a byte of the ServerKeyExchange signature: decrypt_error.
    let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToClient && record[0] == 22 {
            tamper_message(record, HandshakeType::ServerKeyExchange, 20);
        }
    });
    assert!(
        matches!(pair.client_err, Some(TlcpError::Crypto(_))),
        "{:?}",
        pair.client_err
    );
    assert_eq!(
        alert_of(&pair.server_err),
        Some(AlertDescription::DecryptError)
    );

    // Flip a byte of the ClientKeyExchange ciphertext: the pre-master does not decrypt.
    let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToServer && record[0] == 22 {
            tamper_message(record, HandshakeType::ClientKeyExchange, 120);
        }
    });
    assert!(
        matches!(pair.server_err, Some(TlcpError::DecryptError(_))),
        "{:?}",
        pair.server_err
    );
    assert_eq!(
        alert_of(&pair.client_err),
        Some(AlertDescription::DecryptError)
    );

    // Flip a byte of the CertificateVerify signature.
    let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToServer && record[0] == 22 {
            tamper_message(record, HandshakeType::CertificateVerify, 30);
        }
    });
    assert!(
        matches!(pair.server_err, Some(TlcpError::Crypto(_))),
        "{:?}",
        pair.server_err
    );
    assert_eq!(
        alert_of(&pair.client_err),
        Some(AlertDescription::DecryptError)
    );

    // Flip a byte of the server's signing certificate signature: untrusted.
    let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
    let leaf = cert("server_sign");
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToClient && record[0] == 22 {
            if let Some(pos) = record.windows(leaf.len()).position(|w| w == leaf.as_ref()) {
                record[pos + leaf.len() - 3] ^= 0x40;
            }
        }
    });
    assert!(matches!(
        pair.client_err,
        Some(TlcpError::Peer(PeerError::UntrustedChain(_)))
    ));
    assert_eq!(
        alert_of(&pair.server_err),
        Some(AlertDescription::UnknownCa)
    );
}

/// Flips a byte at `offset` into the body of the first `typ` message of a plaintext
/// handshake record.
fn tamper_message(record: &mut [u8], typ: HandshakeType, offset: usize) {
    let mut at = HEADER_LEN;
    while at + 4 <= record.len() {
        let len = u32::from_be_bytes([0, record[at + 1], record[at + 2], record[at + 3]]) as usize;
        if record[at] == typ.to_u8() {
            record[at + 4 + offset % len] ^= 0x01;
            return;
        }
        at += 4 + len;
    }
}

#[test]
fn tampered_application_data_is_a_bad_record_mac() {
    for suite in ALL_SUITES {
        let mut pair = Pair::new(client_config(&[suite], true), server_config(&ALL_SUITES));
        pair.handshake_ok();
        pair.client.write_plaintext(b"to be tampered with").unwrap();
        pair.drive_with(&mut |dir, _, record| {
            if dir == Dir::ToServer && record[0] == 23 {
                let last = record.len() - 1;
                record[last] ^= 0x80;
            }
        });
        assert!(matches!(pair.server_err, Some(TlcpError::BadRecordMac)));
        assert_eq!(
            alert_of(&pair.client_err),
            Some(AlertDescription::BadRecordMac)
        );
        // A dead connection stays dead.
        assert!(pair.server.write_plaintext(b"x").is_err());
        assert!(pair.server.process_new_packets().is_err());
    }
}

#[test]
fn replayed_and_reordered_records_are_refused() {
    let mut pair = Pair::new(client_config(&ALL_SUITES, true), server_config(&ALL_SUITES));
    pair.handshake_ok();
    pair.client.write_plaintext(b"once").unwrap();
    let mut wire = Vec::new();
    pair.client.write_tls(&mut wire).unwrap();
    let mut twice = wire.clone();
    twice.extend_from_slice(&wire);
    pair.server.read_tls(&mut &twice[..]).unwrap();
    assert!(matches!(
        pair.server.process_new_packets(),
        Err(TlcpError::BadRecordMac)
    ));
    // What arrived before the replay is still readable; then the failure shows.
    let mut buf = [0u8; 16];
    assert_eq!(pair.server.read_plaintext(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"once");
    assert!(pair.server.read_plaintext(&mut buf).is_err());
}

#[test]
fn renegotiation_is_refused_with_a_warning() {
    let mut pair = Pair::new(client_config(&ALL_SUITES, true), server_config(&ALL_SUITES));
    pair.handshake_ok();

    // The server asks for renegotiation: the client answers no_renegotiation and goes on.
    pair.server
        .inject_handshake_message(&HelloRequest.encode().unwrap())
        .unwrap();
    let mut alerts = 0;
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToServer {
            assert_eq!(record[0], 21, "the client answers with an alert record");
            alerts += 1;
        }
    });
    assert_eq!(alerts, 1);
    assert!(pair.client_err.is_none() && pair.server_err.is_none());
    pair.send(Dir::ToServer, b"still here");

    // The client tries a new ClientHello: the server answers no_renegotiation.
    let hello = ClientHello {
        version: TLCP_VERSION,
        random: [1; 32],
        session_id: Vec::new(),
        cipher_suites: vec![CipherSuite::EccSm4GcmSm3.to_u16()],
        compression_methods: vec![0],
        extensions: None,
    };
    pair.client
        .inject_handshake_message(&hello.encode().unwrap())
        .unwrap();
    let mut alerts = 0;
    pair.drive_with(&mut |dir, _, record| {
        if dir == Dir::ToClient {
            assert_eq!(record[0], 21);
            alerts += 1;
        }
    });
    assert_eq!(alerts, 1);
    assert!(pair.client_err.is_none() && pair.server_err.is_none());
    pair.send(Dir::ToClient, b"no renegotiation, but data flows");
}

/// Feeds one plaintext record of type `typ` to `conn` and processes it.
fn feed(conn: &mut Connection, typ: u8, payload: &[u8]) -> Result<(), TlcpError> {
    let mut record = vec![typ, 1, 1];
    record.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    record.extend_from_slice(payload);
    let mut rd = &record[..];
    while !rd.is_empty() {
        conn.read_tls(&mut rd).unwrap();
        conn.process_new_packets()?;
    }
    Ok(())
}

/// The first alert a connection queued, in plaintext (before any ChangeCipherSpec).
fn queued_alert(conn: &mut Connection) -> Option<(AlertLevel, AlertDescription)> {
    let mut wire = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut wire).unwrap();
    }
    split_records(&wire)
        .into_iter()
        .find(|r| r[0] == 21 && r.len() == HEADER_LEN + 2)
        .map(|r| {
            (
                AlertLevel::from_u8(r[HEADER_LEN]),
                AlertDescription::from_u8(r[HEADER_LEN + 1]),
            )
        })
}

#[test]
fn unexpected_messages_get_unexpected_message() {
    let server = || Connection::server(Arc::new(server_config(&ALL_SUITES)));
    // Finished, CCS, application data and ServerHelloDone before a ClientHello.
    for (typ, payload) in [
        (22u8, vec![20, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (22, vec![14, 0, 0, 0]),
        (20, vec![1]),
        (23, b"early data".to_vec()),
    ] {
        let mut s = server();
        assert!(matches!(
            feed(&mut s, typ, &payload),
            Err(TlcpError::UnexpectedMessage(_))
        ));
        assert_eq!(
            queued_alert(&mut s),
            Some((AlertLevel::Fatal, AlertDescription::UnexpectedMessage))
        );
    }
    // A second ClientHello in the middle of the handshake.
    let hello = ClientHello {
        version: TLCP_VERSION,
        random: [3; 32],
        session_id: Vec::new(),
        cipher_suites: vec![CipherSuite::EccSm4CbcSm3.to_u16()],
        compression_methods: vec![0],
        extensions: None,
    };
    let mut s = server();
    feed(&mut s, 22, &hello.encode().unwrap()).unwrap();
    assert!(matches!(
        feed(&mut s, 22, &hello.encode().unwrap()),
        Err(TlcpError::UnexpectedMessage(_))
    ));
    // A client that gets a ClientHello.
    let mut c = Connection::client(Arc::new(client_config(&ALL_SUITES, true))).unwrap();
    let _ = queued_alert(&mut c);
    assert!(matches!(
        feed(&mut c, 22, &hello.encode().unwrap()),
        Err(TlcpError::UnexpectedMessage(_))
    ));
    assert_eq!(
        queued_alert(&mut c),
        Some((AlertLevel::Fatal, AlertDescription::UnexpectedMessage))
    );
    // A HelloRequest while negotiating: ignored by a client, unexpected at a server.
    let mut c = Connection::client(Arc::new(client_config(&ALL_SUITES, true))).unwrap();
    let _ = queued_alert(&mut c);
    feed(&mut c, 22, &HelloRequest.encode().unwrap()).unwrap();
    assert!(!c.wants_write());
    assert!(matches!(
        feed(&mut server(), 22, &HelloRequest.encode().unwrap()),
        Err(TlcpError::UnexpectedMessage(_))
    ));
    // A TLS 1.2 ClientHello: protocol_version.
    let mut tls = hello.clone();
    tls.version = 0x0303;
    let mut s = server();
    assert!(matches!(
        feed(&mut s, 22, &tls.encode().unwrap()),
        Err(TlcpError::ProtocolVersion(0x0303))
    ));
    assert_eq!(
        queued_alert(&mut s),
        Some((AlertLevel::Fatal, AlertDescription::ProtocolVersion))
    );
    // No suite in common: handshake_failure.
    let mut other = hello;
    other.cipher_suites = vec![0x1301, 0xc02b];
    let mut s = server();
    assert!(matches!(
        feed(&mut s, 22, &other.encode().unwrap()),
        Err(TlcpError::HandshakeFailure(_))
    ));
}

#[test]
fn alerts_from_the_peer_end_the_connection() {
    let mut c = Connection::client(Arc::new(client_config(&ALL_SUITES, true))).unwrap();
    assert!(matches!(
        feed(&mut c, 21, &[2, 40]),
        Err(TlcpError::AlertReceived(AlertDescription::HandshakeFailure))
    ));
    assert!(queued_alert(&mut c).is_none(), "no alert answers an alert");
    // A warning is ignored; close_notify during the handshake is an error.
    let mut s = Connection::server(Arc::new(server_config(&ALL_SUITES)));
    feed(&mut s, 21, &[1, 90]).unwrap();
    assert!(matches!(
        feed(&mut s, 21, &[1, 0]),
        Err(TlcpError::AlertReceived(AlertDescription::CloseNotify))
    ));
    // A malformed alert is a decode error.
    let mut s = Connection::server(Arc::new(server_config(&ALL_SUITES)));
    assert!(feed(&mut s, 21, &[2, 40, 0]).is_err());
}

#[test]
fn record_size_limits() {
    let mut pair = Pair::new(client_config(&ALL_SUITES, true), server_config(&ALL_SUITES));
    pair.handshake_ok();
    pair.client.write_plaintext(&big_data(70_000)).unwrap();
    let mut wire = Vec::new();
    while pair.client.wants_write() {
        pair.client.write_tls(&mut wire).unwrap();
    }
    let records = split_records(&wire);
    assert_eq!(records.len(), 5);
    assert!(records
        .iter()
        .all(|r| r.len() - HEADER_LEN <= MAX_CIPHERTEXT_LEN));
    // An announced length above 2^14 + 2048 is a record_overflow.
    let mut s = Connection::server(Arc::new(server_config(&ALL_SUITES)));
    let header = [22u8, 1, 1, 0x48, 0x01];
    s.read_tls(&mut &header[..]).unwrap();
    assert!(matches!(
        s.process_new_packets(),
        Err(TlcpError::RecordOverflow { .. })
    ));
    assert_eq!(
        queued_alert(&mut s),
        Some((AlertLevel::Fatal, AlertDescription::RecordOverflow))
    );
    // A plaintext record over 2^14 bytes during the handshake, too.
    let mut s = Connection::server(Arc::new(server_config(&ALL_SUITES)));
    assert!(matches!(
        feed(&mut s, 22, &vec![0u8; (1 << 14) + 1]),
        Err(TlcpError::RecordOverflow { .. })
    ));
}

// === Garbage ===

/// Random bytes, random records, and random handshake messages into both sides, at several
/// points of the handshake: every outcome is fine except a panic.
#[test]
fn garbage_never_panics() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(38636);
    let server_cfg = Arc::new(server_config(&ALL_SUITES));
    let client_cfg = Arc::new(client_config(&ALL_SUITES, true));
    for round in 0..400 {
        // A client or server fresh, or one that has seen the peer's first flight.
        let mut conn = match round % 4 {
            0 => Connection::server(Arc::clone(&server_cfg)),
            1 => Connection::client(Arc::clone(&client_cfg)).unwrap(),
            2 => {
                let mut server = Connection::server(Arc::clone(&server_cfg));
                let mut client = Connection::client(Arc::clone(&client_cfg)).unwrap();
                let mut wire = Vec::new();
                client.write_tls(&mut wire).unwrap();
                server.read_tls(&mut &wire[..]).unwrap();
                server.process_new_packets().unwrap();
                server
            }
            _ => {
                let mut server = Connection::server(Arc::clone(&server_cfg));
                let mut client = Connection::client(Arc::clone(&client_cfg)).unwrap();
                let mut wire = Vec::new();
                client.write_tls(&mut wire).unwrap();
                server.read_tls(&mut &wire[..]).unwrap();
                server.process_new_packets().unwrap();
                wire.clear();
                while server.wants_write() {
                    server.write_tls(&mut wire).unwrap();
                }
                client.read_tls(&mut &wire[..]).unwrap();
                client.process_new_packets().unwrap();
                client
            }
        };
        let input = garbage(&mut rng);
        let mut rd = &input[..];
        while !rd.is_empty() {
            if conn.read_tls(&mut rd).is_err() || conn.process_new_packets().is_err() {
                break;
            }
        }
        let mut sink = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut sink).unwrap();
        }
        let _ = conn.read_plaintext(&mut [0u8; 64]);
        let _ = conn.write_plaintext(b"after garbage");
    }
}

/// One of: random bytes; records of a valid header and random body; handshake records with
/// a valid message header of a random type and a random body.
fn garbage(rng: &mut impl Rng) -> Vec<u8> {
    let mut out = Vec::new();
    match rng.gen_range(0..3) {
        0 => {
            out.resize(rng.gen_range(0..600), 0);
            rng.fill_bytes(&mut out);
        }
        1 => {
            for _ in 0..rng.gen_range(1..4) {
                let mut body = vec![0u8; rng.gen_range(0..300)];
                rng.fill_bytes(&mut body);
                out.extend_from_slice(&[rng.gen_range(20..24), 1, 1]);
                out.extend_from_slice(&(body.len() as u16).to_be_bytes());
                out.extend_from_slice(&body);
            }
        }
        _ => {
            const TYPES: [u8; 11] = [0, 1, 2, 11, 12, 13, 14, 15, 16, 20, 99];
            let mut msg = vec![TYPES[rng.gen_range(0..TYPES.len())], 0];
            let mut body = vec![0u8; rng.gen_range(0..400)];
            rng.fill_bytes(&mut body);
            if rng.gen_bool(0.5) && body.len() > 40 {
                // Start like a TLCP hello so decoding gets further.
                body[0] = 1;
                body[1] = 1;
                body[34] = 0;
            }
            msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
            msg.extend_from_slice(&body);
            out.extend_from_slice(&[22, 1, 1]);
            out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
            out.extend_from_slice(&msg);
        }
    }
    out
}
