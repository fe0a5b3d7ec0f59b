//! The TLCP server's handshake: pick a suite from the ClientHello (our preference among the
//! client's), resume the offered session if the cache still has it, or run the full
//! handshake with our dual certificates.
//!
//! `ECDHE_*` always sends CertificateRequest, since the SM2 key exchange needs the client's
//! encryption key; `ECC_*` asks only when client authentication is required. The client's
//! `ECDHE_*` ClientKeyExchange is accepted in both encodings seen in the wild (the bare
//! 69-byte `ECParameters || point` and the u16-prefixed vector of the GB/T text).

use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::super::cipher::RecordCipher;
use super::super::config::ServerConfig;
use super::super::error::TlcpError;
use super::super::message::{
    ecc_signed_params, ecdhe_signed_params, Certificate, CertificateRequest, CertificateVerify,
    ClientHello, ClientKeyExchange, EcdheParams, Finished, HandshakeFrame, HandshakePayload,
    HandshakeType, ServerHello, ServerHelloDone, ServerKeyExchange, CERT_TYPE_ECDSA_SIGN,
    MAX_SESSION_ID_LEN, RANDOM_LEN,
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

/// The next thing the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    ClientHello,
    Certificate,
    ClientKeyExchange,
    CertificateVerify,
    ChangeCipherSpec,
    Finished,
    Nothing,
}

/// A TLCP server's handshake in progress.
pub(crate) struct ServerHandshake {
    config: Arc<ServerConfig>,
    expect: Expect,
    transcript: Transcript,
    client_random: [u8; RANDOM_LEN],
    server_random: [u8; RANDOM_LEN],
    suite: Option<CipherSuite>,
    session_id: Vec<u8>,
    /// The session being resumed.
    resumed_session: Option<Session>,
    /// Our half of the SM2 key exchange (`ECDHE_*`).
    kx: Option<KeyExchange>,
    cert_requested: bool,
    client: Option<PeerCerts>,
    master: Option<Zeroizing<[u8; MASTER_SECRET_LEN]>>,
    /// The cipher for the client's records, installed at its ChangeCipherSpec.
    pending_read: Option<RecordCipher>,
    /// Our cipher, switched to when we send ChangeCipherSpec.
    pending_write: Option<RecordCipher>,
}

impl ServerHandshake {
    /// A server waiting for a ClientHello.
    pub(crate) fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            config,
            expect: Expect::ClientHello,
            transcript: Transcript::default(),
            client_random: [0; RANDOM_LEN],
            server_random: [0; RANDOM_LEN],
            suite: None,
            session_id: Vec::new(),
            resumed_session: None,
            kx: None,
            cert_requested: false,
            client: None,
            master: None,
            pending_read: None,
            pending_write: None,
        }
    }

    /// Processes one handshake message from the client.
    pub(crate) fn handle_message(
        &mut self,
        frame: HandshakeFrame,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        match (self.expect, frame.typ()) {
            (Expect::ClientHello, HandshakeType::ClientHello) => self.client_hello(&frame, out),
            (Expect::Certificate, HandshakeType::Certificate) => self.certificate(&frame),
            (Expect::ClientKeyExchange, HandshakeType::ClientKeyExchange) => {
                self.client_key_exchange(&frame)
            }
            (Expect::CertificateVerify, HandshakeType::CertificateVerify) => {
                self.certificate_verify(&frame)
            }
            (Expect::Finished, HandshakeType::Finished) => self.finished(&frame, out),
            _ => Err(TlcpError::UnexpectedMessage(
                "handshake message out of order (server)",
            )),
        }
    }

    /// Processes the client's ChangeCipherSpec.
    pub(crate) fn handle_change_cipher_spec(&mut self) -> Result<RecordCipher, TlcpError> {
        if self.expect != Expect::ChangeCipherSpec {
            return Err(TlcpError::UnexpectedMessage(
                "ChangeCipherSpec out of order (server)",
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

    fn client_hello(
        &mut self,
        frame: &HandshakeFrame,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        let hello = ClientHello::decode(frame.body())?;
        if hello.version != TLCP_VERSION {
            return Err(TlcpError::ProtocolVersion(hello.version));
        }
        self.transcript.add(frame.encoded());
        self.client_random = hello.random;
        self.server_random = keys::hello_random(self.config.clock.as_ref())?;

        let offered: Vec<CipherSuite> = hello.known_suites().collect();
        let acceptable =
            |suite: &CipherSuite| offered.contains(suite) && self.config.suites.contains(suite);
        let now = self.config.clock.now();
        let resumable = self
            .config
            .session_cache
            .get(&hello.session_id, now)
            .filter(|s| acceptable(&s.suite))
            .filter(|s| !self.config.require_client_auth || !s.peer_sign_chain.is_empty());
        if let Some(session) = resumable {
            return self.resume(session, out);
        }

        let suite = self
            .config
            .suites
            .iter()
            .copied()
            .find(|s| offered.contains(s))
            .ok_or(TlcpError::HandshakeFailure("no cipher suite in common"))?;
        self.suite = Some(suite);
        if self.config.session_cache.enabled() {
            let mut id = vec![0u8; MAX_SESSION_ID_LEN];
            keys::fill_random(&mut id)?;
            self.session_id = id;
        }
        self.full_handshake_flight(suite, out)
    }

    /// ServerHello with the cached session's ID, then our ChangeCipherSpec and Finished.
    fn resume(&mut self, session: Session, out: &mut Vec<Output>) -> Result<(), TlcpError> {
        self.suite = Some(session.suite);
        self.session_id = session.id.clone();
        let hello = ServerHello {
            version: TLCP_VERSION,
            random: self.server_random,
            session_id: session.id.clone(),
            cipher_suite: session.suite,
            extensions: None,
        };
        self.send(hello.encode()?, out);
        let Secrets {
            master,
            client_write,
            server_write,
        } = Secrets::from_master(
            session.suite,
            session.master_secret.clone(),
            &self.client_random,
            &self.server_random,
        )?;
        self.send_finished(&master, server_write, out)?;
        self.pending_read = Some(client_write);
        self.master = Some(master);
        self.resumed_session = Some(session);
        self.expect = Expect::ChangeCipherSpec;
        Ok(())
    }

    /// ServerHello, Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone.
    fn full_handshake_flight(
        &mut self,
        suite: CipherSuite,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        let config = Arc::clone(&self.config);
        let identity = &config.identity;
        let hello = ServerHello {
            version: TLCP_VERSION,
            random: self.server_random,
            session_id: self.session_id.clone(),
            cipher_suite: suite,
            extensions: None,
        };
        self.send(hello.encode()?, out);
        let certs = identity.certificate_list();
        self.send(Certificate { certs }.encode()?, out);

        let ske = match suite.key_exchange() {
            KeyExchangeKind::Ecc => {
                let signed = ecc_signed_params(
                    &self.client_random,
                    &self.server_random,
                    identity.enc_cert().as_ref(),
                )?;
                ServerKeyExchange::Ecc {
                    signature: keys::sign(identity.sign_key(), &signed)?,
                }
            }
            KeyExchangeKind::Ecdhe => {
                let kx = KeyExchange::new(Role::Initiator, identity.enc_key(), DEFAULT_ID)?;
                let params = EcdheParams {
                    point: kx.ephemeral_public_key().to_uncompressed().to_vec(),
                };
                self.kx = Some(kx);
                let signed =
                    ecdhe_signed_params(&self.client_random, &self.server_random, &params)?;
                ServerKeyExchange::Ecdhe {
                    signature: keys::sign(identity.sign_key(), &signed)?,
                    params,
                }
            }
        };
        self.send(ske.encode()?, out);

        self.cert_requested =
            config.require_client_auth || suite.key_exchange() == KeyExchangeKind::Ecdhe;
        if self.cert_requested {
            let request = CertificateRequest {
                certificate_types: vec![CERT_TYPE_ECDSA_SIGN],
                authorities: Vec::new(),
            };
            self.send(request.encode()?, out);
        }
        self.send(ServerHelloDone.encode()?, out);
        self.expect = if self.cert_requested {
            Expect::Certificate
        } else {
            Expect::ClientKeyExchange
        };
        Ok(())
    }

    fn certificate(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let suite = self.suite()?;
        let msg = Certificate::decode(frame.body())?;
        if msg.certs.is_empty() {
            if suite.key_exchange() == KeyExchangeKind::Ecdhe {
                return Err(TlcpError::HandshakeFailure(
                    "ECDHE needs the client's encryption certificate",
                ));
            }
            if self.config.require_client_auth {
                return Err(meshtls_tls_core::PeerError::NoCertificate.into());
            }
        } else {
            let certs = PeerCerts::split(msg.certs)?.ok_or(TlcpError::HandshakeFailure(
                "client must send its signing and encryption certificates",
            ))?;
            self.config
                .verifier
                .verify(&certs.sign_chain, Some(&certs.enc_cert))?;
            self.client = Some(certs);
        }
        self.transcript.add(frame.encoded());
        self.expect = Expect::ClientKeyExchange;
        Ok(())
    }

    fn client_key_exchange(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let suite = self.suite()?;
        let identity = &self.config.identity;
        let pre_master = match ClientKeyExchange::decode(frame.body(), suite.key_exchange())? {
            ClientKeyExchange::Ecc { encrypted_pms } => {
                keys::decrypt_pre_master(identity.enc_key(), &encrypted_pms)?
            }
            ClientKeyExchange::Ecdhe { params, .. } => {
                let client_ephemeral = PublicKey::from_uncompressed(&params.point)?;
                let client = self.client.as_ref().ok_or(TlcpError::HandshakeFailure(
                    "ECDHE needs the client's encryption certificate",
                ))?;
                let kx = self
                    .kx
                    .take()
                    .ok_or(TlcpError::Internal("no key exchange in progress"))?;
                kx.finish(
                    &client.enc_key,
                    DEFAULT_ID,
                    &client_ephemeral,
                    PRE_MASTER_SECRET_LEN,
                )?
                .into_key()
            }
        };
        self.transcript.add(frame.encoded());
        let Secrets {
            master,
            client_write,
            server_write,
        } = Secrets::from_pre_master(suite, &pre_master, &self.client_random, &self.server_random)?;
        self.master = Some(master);
        self.pending_read = Some(client_write);
        self.pending_write = Some(server_write);
        self.expect = if self.client.is_some() {
            Expect::CertificateVerify
        } else {
            Expect::ChangeCipherSpec
        };
        Ok(())
    }

    fn certificate_verify(&mut self, frame: &HandshakeFrame) -> Result<(), TlcpError> {
        let client = self
            .client
            .as_ref()
            .ok_or(TlcpError::Internal("no client certificates"))?;
        let msg = CertificateVerify::decode(frame.body())?;
        keys::verify(&client.sign_key, &self.transcript.current(), &msg.signature)?;
        self.transcript.add(frame.encoded());
        self.expect = Expect::ChangeCipherSpec;
        Ok(())
    }

    /// The client's Finished: check it, then answer (full handshake) or finish (resumed).
    fn finished(&mut self, frame: &HandshakeFrame, out: &mut Vec<Output>) -> Result<(), TlcpError> {
        let master = self
            .master
            .take()
            .ok_or(TlcpError::Internal("no master secret"))?;
        let msg = Finished::decode(frame.body())?;
        let expected = prf::verify_data(&master, Sender::Client, &self.transcript.current());
        if !bool::from(expected.ct_eq(&msg.verify_data)) {
            return Err(TlcpError::DecryptError("client Finished does not verify"));
        }
        self.transcript.add(frame.encoded());
        let suite = self.suite()?;
        let resumed = self.resumed_session.is_some();
        let (peer_sign_chain, peer_enc_cert) = match (&self.client, &self.resumed_session) {
            (Some(certs), _) => (certs.sign_chain.clone(), Some(certs.enc_cert.clone())),
            (None, Some(session)) => (
                session.peer_sign_chain.clone(),
                session.peer_enc_cert.clone(),
            ),
            (None, None) => (Vec::new(), None),
        };
        if !resumed {
            if !self.session_id.is_empty() {
                self.config.session_cache.put(Session {
                    id: self.session_id.clone(),
                    suite,
                    master_secret: master.clone(),
                    peer_sign_chain: peer_sign_chain.clone(),
                    peer_enc_cert: peer_enc_cert.clone(),
                    created: self.config.clock.now(),
                });
            }
            let cipher = self
                .pending_write
                .take()
                .ok_or(TlcpError::Internal("no pending write cipher"))?;
            self.send_finished(&master, cipher, out)?;
        }
        self.expect = Expect::Nothing;
        out.push(Output::Done(Established {
            suite,
            resumed,
            peer_sign_chain,
            peer_enc_cert,
        }));
        Ok(())
    }

    /// Emits ChangeCipherSpec (switching to `cipher`) and our Finished.
    fn send_finished(
        &mut self,
        master: &[u8; MASTER_SECRET_LEN],
        cipher: RecordCipher,
        out: &mut Vec<Output>,
    ) -> Result<(), TlcpError> {
        let verify_data = prf::verify_data(master, Sender::Server, &self.transcript.current());
        out.push(Output::ChangeCipherSpec(Box::new(cipher)));
        self.send(Finished { verify_data }.encode()?, out);
        Ok(())
    }
}
