//! The emulated peer of the handshake targets' peer mode: the fuzz input is the peer's
//! records in plaintext, and this peer makes them acceptable where only a key holder could,
//! so that the fuzzer gets past the signature and Finished checks a replayed transcript fails.
//!
//! The connection under test draws its own randoms, so a recorded ServerKeyExchange or
//! CertificateVerify never verifies again. Holding the fixture keys, the peer re-signs those
//! messages over this run's randoms and transcript. It also learns the pre-master secret:
//! for `ECC_*` suites by decrypting the ClientKeyExchange with the fixture server encryption
//! key (whichever side sent it), for `ECDHE_*` suites by putting its own fixed ephemeral key
//! in the ServerKeyExchange or ClientKeyExchange it sends (when the input's point is a valid
//! one; an invalid point goes through unchanged, for the connection to refuse). With the
//! secret it recomputes Finished and protects every record after its ChangeCipherSpec.
//! Everything else in the input is sent as given, so the fuzzer still picks every message,
//! field and order.

use zeroize::Zeroizing;

use crate::sm2::{Ciphertext, KeyExchange, PrivateKey, PublicKey, Role, DEFAULT_ID};
use crate::sm3::Sm3;
use crate::tlcp::cipher::RecordCipher;
use crate::tlcp::message::{
    ecc_signed_params, ecdhe_signed_params, Certificate, CertificateVerify, ClientHello,
    ClientKeyExchange, EcdheParams, Finished, HandshakeFrame, HandshakeJoiner, HandshakePayload,
    HandshakeType, ServerHello, ServerKeyExchange, RANDOM_LEN,
};
use crate::tlcp::prf::{
    key_block, master_secret, verify_data, Sender, MASTER_SECRET_LEN, PRE_MASTER_SECRET_LEN,
};
use crate::tlcp::record::{
    ContentType, OpaqueRecord, RecordDeframer, RecordOpener, RecordSealer,
    CHANGE_CIPHER_SPEC_PAYLOAD, TLCP_VERSION,
};
use crate::tlcp::suite::{CipherSuite, KeyExchangeKind};

/// The peer's `ECDHE_*` ephemeral scalar (any value in [1, n-1]).
const PEER_EPHEMERAL: [u8; 32] = [0x2a; 32];

/// The fixture keys the peer signs, decrypts and exchanges keys with.
pub(super) struct PeerKeys<'a> {
    /// Signs ServerKeyExchange (when the peer is the server).
    pub(super) server_sign: &'a PrivateKey,
    /// Decrypts `ECC_*` ClientKeyExchange, whoever sent it; the server's static key of the
    /// `ECDHE_*` exchange.
    pub(super) server_enc: &'a PrivateKey,
    /// Signs CertificateVerify (when the peer is the client).
    pub(super) client_sign: &'a PrivateKey,
    /// The client's static key of the `ECDHE_*` exchange.
    pub(super) client_enc: &'a PrivateKey,
}

/// The emulated peer.
pub(super) struct Peer<'a> {
    keys: PeerKeys<'a>,
    /// Whether the peer plays the server (the connection under test is a client).
    is_server: bool,
    /// SM3 over every handshake message either side sent, in order (HelloRequest excluded).
    transcript: Sm3,
    client_random: Option<[u8; RANDOM_LEN]>,
    server_random: Option<[u8; RANDOM_LEN]>,
    suite: Option<CipherSuite>,
    /// The server's encryption certificate, from its Certificate message.
    server_enc_cert: Option<Vec<u8>>,
    /// The `ECDHE_*` ephemeral point of the ServerKeyExchange.
    server_ephemeral: Option<PublicKey>,
    master: Option<Zeroizing<[u8; MASTER_SECRET_LEN]>>,
    /// Joins the messages of the input's handshake records.
    joiner: HandshakeJoiner,
    /// Protects what the peer sends.
    sealer: RecordSealer,
    /// Follows what the connection sends, while it can be read.
    observed: Option<Observer>,
}

/// The peer's view of the connection's output.
#[derive(Default)]
struct Observer {
    deframer: RecordDeframer,
    opener: RecordOpener,
    joiner: HandshakeJoiner,
}

impl<'a> Peer<'a> {
    /// A peer playing the server if `is_server`, else the client.
    pub(super) fn new(keys: PeerKeys<'a>, is_server: bool) -> Self {
        Self {
            keys,
            is_server,
            transcript: Sm3::new(),
            client_random: None,
            server_random: None,
            suite: None,
            server_enc_cert: None,
            server_ephemeral: None,
            master: None,
            joiner: HandshakeJoiner::new(),
            sealer: RecordSealer::new(),
            observed: Some(Observer::default()),
        }
    }

    /// The wire bytes for one plaintext input record: its handshake messages fixed up, each in
    /// its own record, and protected once the peer has sent ChangeCipherSpec.
    pub(super) fn send(&mut self, record: OpaqueRecord) -> Vec<u8> {
        let mut wire = Vec::new();
        match record.typ {
            ContentType::Handshake => {
                if self.joiner.push(&record.payload).is_err() {
                    self.joiner = HandshakeJoiner::new();
                    self.seal(record.typ, &record.payload, &mut wire);
                    return wire;
                }
                while let Ok(Some(frame)) = self.joiner.next_message() {
                    let message = self.fix(frame);
                    self.learn(&message);
                    self.seal(ContentType::Handshake, &message, &mut wire);
                }
            }
            ContentType::ChangeCipherSpec => {
                // A partial message cannot be fixed up; drop it rather than send it unfixed.
                self.joiner = HandshakeJoiner::new();
                self.seal(record.typ, &record.payload, &mut wire);
                if record.payload == CHANGE_CIPHER_SPEC_PAYLOAD {
                    if let Some(cipher) = self.cipher(self.is_server) {
                        self.sealer.set_cipher(cipher);
                    }
                }
            }
            ContentType::Alert | ContentType::ApplicationData => {
                self.seal(record.typ, &record.payload, &mut wire);
            }
        }
        wire
    }

    /// Reads what the connection wrote: its handshake messages join the transcript (and
    /// teach the peer randoms and secrets); protected records are opened once the keys are
    /// known. Anything unreadable ends the observation.
    pub(super) fn observe(&mut self, written: &[u8]) {
        let Some(mut observer) = self.observed.take() else {
            return;
        };
        observer.deframer.push(written);
        while let Ok(Some(record)) = observer.deframer.next_record() {
            let Ok(plain) = observer.opener.open(record) else {
                return;
            };
            match plain.typ {
                ContentType::ChangeCipherSpec => match self.cipher(!self.is_server) {
                    Some(cipher) => observer.opener.set_cipher(cipher),
                    None => return,
                },
                ContentType::Handshake => {
                    if observer.joiner.push(&plain.payload).is_err() {
                        return;
                    }
                    while let Ok(Some(frame)) = observer.joiner.next_message() {
                        self.learn(frame.encoded());
                    }
                }
                ContentType::Alert | ContentType::ApplicationData => {}
            }
        }
        self.observed = Some(observer);
    }

    /// Protects `payload` with the peer's current write state. An empty payload still makes
    /// a record before ChangeCipherSpec (the sealer makes none), so that case stays reachable.
    fn seal(&mut self, typ: ContentType, payload: &[u8], wire: &mut Vec<u8>) {
        if payload.is_empty() && !self.sealer.is_encrypting() {
            wire.push(typ.to_u8());
            wire.extend_from_slice(&TLCP_VERSION.to_be_bytes());
            wire.extend_from_slice(&0u16.to_be_bytes());
            return;
        }
        // Sealing fails only at sequence exhaustion, which a fuzz input cannot reach.
        let _ = self.sealer.seal(typ, payload, wire);
    }

    /// The record cipher for what the server (`server_write`) or the client writes, once the
    /// master secret is known.
    fn cipher(&self, server_write: bool) -> Option<RecordCipher> {
        let (suite, master) = (self.suite?, self.master.as_ref()?);
        let block = key_block(suite, master, &self.client_random?, &self.server_random?);
        let keys = if server_write {
            &block.server_write
        } else {
            &block.client_write
        };
        RecordCipher::new(suite, keys).ok()
    }

    /// The transcript hash so far.
    fn transcript_hash(&self) -> [u8; 32] {
        self.transcript.clone().finalize()
    }

    /// One message the peer is about to send, with what only the key holder can produce
    /// recomputed: the ServerKeyExchange signature, the CertificateVerify signature, the
    /// Finished verify_data. Messages that do not decode, or come before what a fix needs,
    /// are sent unchanged.
    fn fix(&self, frame: HandshakeFrame) -> Vec<u8> {
        let fixed = match frame.typ() {
            HandshakeType::ServerKeyExchange if self.is_server => self.fix_ske(&frame),
            HandshakeType::ClientKeyExchange if !self.is_server => self.fix_cke(&frame),
            HandshakeType::CertificateVerify if !self.is_server => {
                let hash = self.transcript_hash();
                CertificateVerify::decode(frame.body())
                    .ok()
                    .and_then(|_| self.keys.client_sign.sign(&hash).ok())
                    .and_then(|sig| {
                        CertificateVerify {
                            signature: sig.to_der(),
                        }
                        .encode()
                        .ok()
                    })
            }
            HandshakeType::Finished => {
                let sender = if self.is_server {
                    Sender::Server
                } else {
                    Sender::Client
                };
                let master = self.master.as_ref();
                Finished::decode(frame.body())
                    .ok()
                    .zip(master)
                    .and_then(|(_, master)| {
                        let verify_data = verify_data(master, sender, &self.transcript_hash());
                        Finished { verify_data }.encode().ok()
                    })
            }
            _ => None,
        };
        fixed.unwrap_or_else(|| frame.into_encoded())
    }

    /// ServerKeyExchange signed by the fixture server key over this run's randoms.
    fn fix_ske(&self, frame: &HandshakeFrame) -> Option<Vec<u8>> {
        let (cr, sr) = (self.client_random.as_ref()?, self.server_random.as_ref()?);
        let ske = ServerKeyExchange::decode(frame.body(), self.suite?.key_exchange()).ok()?;
        let fixed = match ske {
            ServerKeyExchange::Ecc { .. } => {
                let tbs = ecc_signed_params(cr, sr, self.server_enc_cert.as_ref()?).ok()?;
                let signature = self.keys.server_sign.sign(&tbs).ok()?.to_der();
                ServerKeyExchange::Ecc { signature }
            }
            ServerKeyExchange::Ecdhe { params, .. } => {
                let params = self.own_point(params, Role::Initiator);
                let tbs = ecdhe_signed_params(cr, sr, &params).ok()?;
                let signature = self.keys.server_sign.sign(&tbs).ok()?.to_der();
                ServerKeyExchange::Ecdhe { params, signature }
            }
        };
        fixed.encode().ok()
    }

    /// An `ECDHE_*` ClientKeyExchange carrying the peer's ephemeral point.
    fn fix_cke(&self, frame: &HandshakeFrame) -> Option<Vec<u8>> {
        match ClientKeyExchange::decode(frame.body(), self.suite?.key_exchange()).ok()? {
            ClientKeyExchange::Ecdhe { params, encoding } => ClientKeyExchange::Ecdhe {
                params: self.own_point(params, Role::Responder),
                encoding,
            }
            .encode()
            .ok(),
            ClientKeyExchange::Ecc { .. } => None,
        }
    }

    /// The peer's key exchange as `role` (server: initiator, client: responder).
    fn exchange(&self, role: Role) -> Option<KeyExchange> {
        let static_key = match role {
            Role::Initiator => self.keys.server_enc,
            Role::Responder => self.keys.client_enc,
        };
        KeyExchange::with_ephemeral(role, static_key, DEFAULT_ID, &PEER_EPHEMERAL).ok()
    }

    /// `params` with the peer's ephemeral point instead of a valid input point.
    fn own_point(&self, params: EcdheParams, role: Role) -> EcdheParams {
        if PublicKey::from_uncompressed(&params.point).is_err() {
            return params;
        }
        match self.exchange(role) {
            Some(kx) => EcdheParams {
                point: kx.ephemeral_public_key().to_uncompressed().to_vec(),
            },
            None => params,
        }
    }

    /// Adds one handshake message (either side's) to the transcript and takes what the peer
    /// needs from it: randoms, the suite, the server's encryption certificate, and the
    /// `ECC_*` pre-master secret.
    fn learn(&mut self, encoded: &[u8]) {
        let Some((&typ, body)) = encoded.split_first() else {
            return;
        };
        let body = body.get(3..).unwrap_or_default();
        let typ = HandshakeType::from_u8(typ);
        if typ != HandshakeType::HelloRequest {
            self.transcript.update(encoded);
        }
        match typ {
            HandshakeType::ClientHello => {
                self.client_random = ClientHello::decode(body).ok().map(|m| m.random);
            }
            HandshakeType::ServerHello => {
                if let Ok(hello) = ServerHello::decode(body) {
                    self.server_random = Some(hello.random);
                    self.suite = Some(hello.cipher_suite);
                }
            }
            HandshakeType::Certificate if self.server_enc_cert.is_none() => {
                // The server's Certificate comes first: signing leaf, then encryption cert.
                self.server_enc_cert = Certificate::decode(body)
                    .ok()
                    .and_then(|m| m.certs.get(1).map(|c| c.as_ref().to_vec()));
            }
            HandshakeType::ServerKeyExchange => {
                if let Ok(ServerKeyExchange::Ecdhe { params, .. }) =
                    ServerKeyExchange::decode(body, KeyExchangeKind::Ecdhe)
                {
                    self.server_ephemeral = PublicKey::from_uncompressed(&params.point).ok();
                }
            }
            HandshakeType::ClientKeyExchange => {
                let pre_master = match self.suite.map(|s| s.key_exchange()) {
                    Some(KeyExchangeKind::Ecc) => self.ecc_pre_master(body),
                    Some(KeyExchangeKind::Ecdhe) => self.ecdhe_pre_master(body),
                    None => None,
                };
                self.master = pre_master.and_then(|pms| {
                    Some(master_secret(
                        &pms,
                        self.client_random.as_ref()?,
                        self.server_random.as_ref()?,
                    ))
                });
            }
            _ => {}
        }
    }

    /// The pre-master secret of an `ECC_*` ClientKeyExchange body, decrypted with the
    /// fixture server encryption key.
    fn ecc_pre_master(&self, body: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let Ok(ClientKeyExchange::Ecc { encrypted_pms }) =
            ClientKeyExchange::decode(body, KeyExchangeKind::Ecc)
        else {
            return None;
        };
        let ct = Ciphertext::from_der(&encrypted_pms).ok()?;
        self.keys.server_enc.decrypt(&ct).ok()
    }

    /// The pre-master secret of an `ECDHE_*` exchange in which the peer's side used its own
    /// ephemeral key: with the client's point from this ClientKeyExchange body when the peer
    /// is the server, with the server's point from the ServerKeyExchange when it is the client.
    fn ecdhe_pre_master(&self, body: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (role, peer_static, peer_ephemeral) = if self.is_server {
            let Ok(ClientKeyExchange::Ecdhe { params, .. }) =
                ClientKeyExchange::decode(body, KeyExchangeKind::Ecdhe)
            else {
                return None;
            };
            let point = PublicKey::from_uncompressed(&params.point).ok()?;
            (Role::Initiator, self.keys.client_enc.public_key(), point)
        } else {
            let point = self.server_ephemeral.clone()?;
            (Role::Responder, self.keys.server_enc.public_key(), point)
        };
        let shared = self.exchange(role)?.finish(
            peer_static,
            DEFAULT_ID,
            &peer_ephemeral,
            PRE_MASTER_SECRET_LEN,
        );
        shared.ok().map(|s| s.into_key())
    }
}
