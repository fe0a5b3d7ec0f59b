//! The TLCP client's handshake: ClientHello out, then the server's flight, our key exchange
//! flight, and the server's Finished; or, when the server resumes our session, its CCS and
//! Finished first and ours after.
//!
//! `ECDHE_*` needs our encryption key pair: the pre-master secret is the SM2 key exchange
//! (GB/T 32918.3) with the server as initiator and us as responder, over both encryption key
//! pairs and both ephemerals, IDs 1234567812345678, 48 bytes; and we must send our
//! certificates, so an `ECDHE_*` server that asks for none is refused.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::super::cipher::RecordCipher;
use super::super::config::ClientConfig;
use super::super::error::TlcpError;
use super::super::message::{
    ecc_signed_params, ecdhe_signed_params, Certificate, CertificateRequest, CertificateVerify,
    ClientHello, ClientKeyExchange, EcdheParams, Finished, HandshakeFrame, HandshakePayload,
    HandshakeType, ServerHello, ServerHelloDone, ServerKeyExchange, COMPRESSION_NULL, RANDOM_LEN,
};
use super::super::prf::{self, Sender, MASTER_SECRET_LEN, PRE_MASTER_SECRET_LEN};
use super::super::record::TLCP_VERSION;
use super::super::session::Session;
use super::super::suite::{CipherSuite, KeyExchangeKind};
use super::certs::PeerCerts;
use super::keys::{self, Secrets};
use super::transcript::Transcript;
use super::{Established, Output};
use crate::sm2::{KeyExchange, PublicKey, Role, DEFAULT_ID};

/// The next thing the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequestOrDone,
    ServerHelloDone,
    ChangeCipherSpec,
    Finished,
    Nothing,
}

/// A TLCP client's handshake in progress.
pub(crate) struct ClientHandshake {
    config: Arc<ClientConfig>,
    expect: Expect,
    transcript: Transcript,
    client_random: [u8; RANDOM_LEN],
    server_random: [u8; RANDOM_LEN],
    offered: Vec<CipherSuite>,
    /// The session offered in the ClientHello, if any.
    offered_session: Option<Session>,
    suite: Option<CipherSuite>,
    session_id: Vec<u8>,
    resumed: bool,
    /// The session being resumed.
    resumed_session: Option<Session>,
    /// The server's certificates and keys (full handshake).
    server: Option<PeerCerts>,
    /// The server's ephemeral point (`ECDHE_*`).
    server_ephemeral: Option<PublicKey>,
    cert_requested: bool,
    master: Option<Zeroizing<[u8; MASTER_SECRET_LEN]>>,
    /// The cipher for the server's records, installed at its ChangeCipherSpec.
    pending_read: Option<RecordCipher>,
    /// Our cipher, kept until we answer the server's Finished (resumption).
    pending_write: Option<RecordCipher>,
}

impl ClientHandshake {
    /// Starts a handshake: emits the ClientHello. Offers the session saved under the
    /// configuration's session key, if any.
    pub(crate) fn start(
        config: Arc<ClientConfig>,
        out: &mut Vec<Output>,
    ) -> Result<Self, TlcpError> {
        let offered = config.offered_suites();
        if offered.is_empty() {
            return Err(TlcpError::ApiMisuse(
                "no cipher suite to offer (ECDHE suites need a client identity)",
            ));
        }
        let now = config.clock.now();
        let offered_session = config
            .session_store
            .as_ref()
            .and_then(|store| store.get(&config.session_key, now))
            .filter(|s| offered.contains(&s.suite));
        let client_random = keys::hello_random(config.clock.as_ref())?;
        let hello = ClientHello {
            version: TLCP_VERSION,
            random: client_random,
            session_id: offered_session
                .as_ref()
                .map(|s| s.id.clone())
                .unwrap_or_default(),
            cipher_suites: offered.iter().map(|s| s.to_u16()).collect(),
            compression_methods: vec![COMPRESSION_NULL],
            extensions: None,
        };
        let mut hs = Self {
            config,
            expect: Expect::ServerHello,
            transcript: Transcript::default(),
            client_random,
            server_random: [0; RANDOM_LEN],
            offered,
            offered_session,
            suite: None,
            session_id: Vec::new(),
            resumed: false,
            resumed_session: None,
            server: None,
            server_ephemeral: None,
            cert_requested: false,
            master: None,
            pending_read: None,
            pending_write: None,
        };
        hs.send(hello.encode()?, out);
        Ok(hs)
    }

    /// Processes one handshake message from the server.
    pub(crate) fn handle_message(
        &mut self,
        frame: HandshakeFrame,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        let typ = frame.typ();
        // RFC 5246 section 7.4.1.1: a HelloRequest while negotiating is ignored, unhashed.
        if typ == HandshakeType::HelloRequest {
            return Ok(());
        }
        match (self.expect, typ) {
            (Expect::ServerHello, HandshakeType::ServerHello) => self.server_hello(&frame),
            (Expect::Certificate, HandshakeType::Certificate) => self.certificate(&frame),
            (Expect::ServerKeyExchange, HandshakeType::ServerKeyExchange) => {
                self.server_key_exchange(&frame)
            }
            (Expect::CertificateRequestOrDone, HandshakeType::CertificateRequest) => {
                CertificateRequest::decode(frame.body())?;
                self.transcript.add(frame.encoded());
                self.cert_requested = true;
                self.expect = Expect::ServerHelloDone;
                Ok(())
            }
            (
                Expect::CertificateRequestOrDone | Expect::ServerHelloDone,
                HandshakeType::ServerHelloDone,
            ) => {
                ServerHelloDone::decode(frame.body())?;
                self.transcript.add(frame.encoded());
                self.key_exchange_flight(out)
            }
            (Expect::Finished, HandshakeType::Finished) => self.finished(&frame, out),
            _ => Err(TlcpError::UnexpectedMessage(
                "handshake message out of order (client)",
            )),
        }
    }

    /// Processes the server's ChangeCipherSpec.
    pub(crate) fn handle_change_cipher_spec(&mut self) -> Result<RecordCipher, TlcpError> {
        if self.expect != Expect::ChangeCipherSpec {
            return Err(TlcpError::UnexpectedMessage(
                "ChangeCipherSpec out of order (client)",
            ));
        }
        let cipher = self
            .pending_read
            .take()
            .ok_or(TlcpError::Internal("no pending read cipher"))?;
        self.expect = Expect::Finished;
        Ok(cipher)
    }

    /// Records and emits one of our messages.
    fn send(&mut self, message: Vec<u8>, out: &mut Vec<Output>) {
        self.transcript.add(&message);
        out.push(Output::Message(message));
    }

    fn suite(&self) -> Result<CipherSuite, TlcpError> {
        self.suite
            .ok_or(TlcpError::Internal("suite not negotiated"))
    }

    fn server_hello(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let hello = ServerHello::decode(frame.body())?;
        if hello.version != TLCP_VERSION {
            return Err(TlcpError::ProtocolVersion(hello.version));
        }
        if !self.offered.contains(&hello.cipher_suite) {
            return Err(TlcpError::IllegalParameter(
                "server chose a suite we did not offer",
            ));
        }
        if hello.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            // We offer no extension, so the server may answer none (RFC 5246 section 7.4.1.4).
            return Err(TlcpError::IllegalParameter(
                "server sent an extension we did not offer",
            ));
        }
        self.transcript.add(frame.encoded());
        self.server_random = hello.random;
        self.suite = Some(hello.cipher_suite);
        self.session_id = hello.session_id;

        let offered = self.offered_session.take();
        match offered {
            Some(session) if !self.session_id.is_empty() && session.id == self.session_id => {
                if session.suite != hello.cipher_suite {
                    return Err(TlcpError::IllegalParameter(
                        "resumed session with another suite",
                    ));
                }
                let secrets = Secrets::from_master(
                    session.suite,
                    session.master_secret.clone(),
                    &self.client_random,
                    &self.server_random,
                )?;
                self.resumed = true;
                self.resumed_session = Some(session);
                self.install(secrets, &mut Vec::new())?;
                self.expect = Expect::ChangeCipherSpec;
            }
            stale => {
                if stale.is_some() {
                    self.forget_session();
                }
                self.expect = Expect::Certificate;
            }
        }
        Ok(())
    }

    fn certificate(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let msg = Certificate::decode(frame.body())?;
        let certs = PeerCerts::split(msg.certs)?.ok_or(TlcpError::HandshakeFailure(
            "server must send its signing and encryption certificates",
        ))?;
        self.config
            .verifier
            .verify(&certs.sign_chain, Some(&certs.enc_cert))?;
        self.transcript.add(frame.encoded());
        self.server = Some(certs);
        self.expect = Expect::ServerKeyExchange;
        Ok(())
    }

    fn server_key_exchange(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let suite = self.suite()?;
        let server = self
            .server
            .as_ref()
            .ok_or(TlcpError::Internal("no server certificates"))?;
        let ske = ServerKeyExchange::decode(frame.body(), suite.key_exchange())?;
        match &ske {
            ServerKeyExchange::Ecc { signature } => {
                let signed = ecc_signed_params(
                    &self.client_random,
                    &self.server_random,
                    server.enc_cert.as_ref(),
                )?;
                keys::verify(&server.sign_key, &signed, signature)?;
            }
            ServerKeyExchange::Ecdhe { params, signature } => {
                let signed = ecdhe_signed_params(&self.client_random, &self.server_random, params)?;
                keys::verify(&server.sign_key, &signed, signature)?;
                self.server_ephemeral = Some(PublicKey::from_uncompressed(&params.point)?);
            }
        }
        self.transcript.add(frame.encoded());
        self.expect = Expect::CertificateRequestOrDone;
        Ok(())
    }

    /// After ServerHelloDone: [Certificate], ClientKeyExchange, [CertificateVerify],
    /// ChangeCipherSpec, Finished.
    fn key_exchange_flight(&mut self, out: &mut Vec<Output>) -> Result<(), TlcpError> {
        let suite = self.suite()?;
        let identity = self.config.identity.clone();
        let ecdhe = suite.key_exchange() == KeyExchangeKind::Ecdhe;
        if ecdhe && !self.cert_requested {
            return Err(TlcpError::HandshakeFailure(
                "ECDHE server did not ask for our encryption certificate",
            ));
        }
        let authenticating = self.cert_requested && identity.is_some();
        if self.cert_requested {
            let certs = identity
                .as_ref()
                .map(|id| id.certificate_list())
                .unwrap_or_default();
            self.send(Certificate { certs }.encode()?, out);
        }

        let server = self
            .server
            .as_ref()
            .ok_or(TlcpError::Internal("no server certificates"))?;
        let (cke, pre_master) = match suite.key_exchange() {
            KeyExchangeKind::Ecc => {
                let pms = keys::ecc_pre_master()?;
                let encrypted_pms = keys::encrypt_pre_master(&server.enc_key, pms.as_ref())?;
                (
                    ClientKeyExchange::Ecc { encrypted_pms },
                    Zeroizing::new(pms.to_vec()),
                )
            }
            KeyExchangeKind::Ecdhe => {
                let identity = identity.as_ref().ok_or(TlcpError::HandshakeFailure(
                    "ECDHE needs a client encryption certificate",
                ))?;
                let server_ephemeral = self
                    .server_ephemeral
                    .as_ref()
                    .ok_or(TlcpError::Internal("no server ephemeral key"))?;
                let kx = KeyExchange::new(Role::Responder, identity.enc_key(), DEFAULT_ID)?;
                let point = kx.ephemeral_public_key().to_uncompressed().to_vec();
                let shared = kx.finish(
                    &server.enc_key,
                    DEFAULT_ID,
                    server_ephemeral,
                    PRE_MASTER_SECRET_LEN,
                )?;
                let cke = ClientKeyExchange::Ecdhe {
                    params: EcdheParams { point },
                    encoding: self.config.ckx_encoding,
                };
                (cke, shared.into_key())
            }
        };
        self.send(cke.encode()?, out);

        if let (true, Some(identity)) = (authenticating, identity.as_ref()) {
            let signature = keys::sign(identity.sign_key(), &self.transcript.current())?;
            self.send(CertificateVerify { signature }.encode()?, out);
        }

        let secrets =
            Secrets::from_pre_master(suite, &pre_master, &self.client_random, &self.server_random)?;
        self.install(secrets, out)?;
        self.expect = Expect::ChangeCipherSpec;
        Ok(())
    }

    /// Keeps the master secret and the server's cipher; in a full handshake emits our
    /// ChangeCipherSpec and Finished now, in a resumed one keeps our cipher for later.
    fn install(&mut self, secrets: Secrets, out: &mut Vec<Output>) -> Result<(), TlcpError> {
        let Secrets {
            master,
            client_write,
            server_write,
        } = secrets;
        self.pending_read = Some(server_write);
        if self.resumed {
            self.pending_write = Some(client_write);
        } else {
            self.send_finished(&master, client_write, out)?;
        }
        self.master = Some(master);
        Ok(())
    }

    /// Emits ChangeCipherSpec (switching to `cipher`) and our Finished.
    fn send_finished(
        &mut self,
        master: &[u8; MASTER_SECRET_LEN],
        cipher: RecordCipher,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        let verify_data = prf::verify_data(master, Sender::Client, &self.transcript.current());
        out.push(Output::ChangeCipherSpec(Box::new(cipher)));
        self.send(Finished { verify_data }.encode()?, out);
        Ok(())
    }

    /// The server's Finished: check it, then finish (and answer, when resuming).
    fn finished(&mut self, frame: &HandshakeFrame, out: &mut Vec<Output>) -> Result<(), TlcpError> {
        let master = self
            .master
            .take()
            .ok_or(TlcpError::Internal("no master secret"))?;
        let msg = Finished::decode(frame.body())?;
        let expected = prf::verify_data(&master, Sender::Server, &self.transcript.current());
        if !bool::from(expected.ct_eq(&msg.verify_data)) {
            return Err(TlcpError::DecryptError("server Finished does not verify"));
        }
        self.transcript.add(frame.encoded());
        let suite = self.suite()?;
        let (peer_sign_chain, peer_enc_cert) = match (&self.server, &self.resumed_session) {
            (Some(certs), _) => (certs.sign_chain.clone(), Some(certs.enc_cert.clone())),
            (None, Some(session)) => (
                session.peer_sign_chain.clone(),
                session.peer_enc_cert.clone(),
            ),
            (None, None) => return Err(TlcpError::Internal("no server certificates")),
        };
        if self.resumed {
            let cipher = self
                .pending_write
                .take()
                .ok_or(TlcpError::Internal("no pending write cipher"))?;
            self.send_finished(&master, cipher, out)?;
        } else if let Some(store) = &self.config.session_store {
            if !self.session_id.is_empty() {
                store.put(
                    &self.config.session_key,
                    Session {
                        id: self.session_id.clone(),
                        suite,
                        master_secret: master,
                        peer_sign_chain: peer_sign_chain.clone(),
                        peer_enc_cert: peer_enc_cert.clone(),
                        created: self.config.clock.now(),
                    },
                );
            }
        }
        self.expect = Expect::Nothing;
        out.push(Output::Done(Established {
            suite,
            resumed: self.resumed,
            peer_sign_chain,
            peer_enc_cert,
        }));
        Ok(())
    }

    /// Drops the saved session the server declined to resume.
    fn forget_session(&self) {
        if let Some(store) = &self.config.session_store {
            store.remove(&self.config.session_key);
        }
    }
}
