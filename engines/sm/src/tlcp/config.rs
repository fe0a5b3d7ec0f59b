//! TLCP client and server configuration: our dual certificates, the suites we allow, how peers
//! are verified, resumption state and the clock.
//!
//! A TLCP party holds two SM2 key pairs (GB/T 38636-2020 section 6.4.5.3): a signing pair
//! whose certificate heads the chain, and an encryption pair used for key transport (`ECC_*`
//! suites) and for the SM2 key exchange (`ECDHE_*` suites). [`DualIdentity`] keeps both and
//! checks at construction that each key matches its certificate. Peer certificates are judged
//! by a [`PeerCertVerifier`], so the SPIFFE rules live with tls-core, not here.
//!
//! Configurations are plain structs with public fields, built with `new` and adjusted by
//! field assignment, shared behind an `Arc` by many connections.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::CertificateDer;

use super::error::TlcpError;
use super::handshake::certs::sm2_public_key;
use super::session::{ClientSessionStore, SessionCache};
use super::suite::{CipherSuite, KeyExchangeKind, ALL_SUITES};
use crate::sm2::PrivateKey;

pub use super::message::EcdheKeyExchangeEncoding;

/// Judges a peer's certificates; the stack plugs tls-core's SPIFFE verifier in here.
pub trait PeerCertVerifier: Send + Sync + Debug {
    /// Accepts or rejects the peer. `sign_chain`: the signing leaf first, then the CA chain as
    /// presented; `enc_cert`: the peer's encryption certificate (always present in TLCP, where
    /// both certificates are sent together).
    fn verify(
        &self,
        sign_chain: &[CertificateDer<'_>],
        enc_cert: Option<&CertificateDer<'_>>,
    ) -> Result<(), TlcpError>;
}

/// Wall-clock time in seconds since the Unix epoch: stamps hello randoms and ages sessions.
/// Tests substitute a fake clock so that expiry needs no sleeping.
pub trait Clock: Send + Sync + Debug {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A TLCP party's two certified SM2 key pairs.
#[derive(Clone)]
pub struct DualIdentity {
    sign_chain: Vec<CertificateDer<'static>>,
    sign_key: PrivateKey,
    enc_cert: CertificateDer<'static>,
    enc_key: PrivateKey,
}

impl DualIdentity {
    /// The signing chain (leaf first, then intermediates; the root may be left out) with its
    /// key, and the encryption certificate with its key.
    ///
    /// [`TlcpError::ApiMisuse`] if the chain is empty, a certificate holds no SM2 key, or a
    /// key does not match its certificate.
    pub fn new(
        sign_chain: Vec<CertificateDer<'static>>,
        sign_key: PrivateKey,
        enc_cert: CertificateDer<'static>,
        enc_key: PrivateKey,
    ) -> Result<Self, TlcpError> {
        let leaf = sign_chain
            .first()
            .ok_or(TlcpError::ApiMisuse("empty signing certificate chain"))?;
        let matches = |cert: &CertificateDer<'_>, key: &PrivateKey| {
            sm2_public_key(cert).is_ok_and(|public| &public == key.public_key())
        };
        if !matches(leaf, &sign_key) {
            return Err(TlcpError::ApiMisuse(
                "signing key does not match the signing certificate",
            ));
        }
        if !matches(&enc_cert, &enc_key) {
            return Err(TlcpError::ApiMisuse(
                "encryption key does not match the encryption certificate",
            ));
        }
        Ok(Self {
            sign_chain,
            sign_key,
            enc_cert,
            enc_key,
        })
    }

    /// The signing leaf, then the CA chain.
    pub fn sign_chain(&self) -> &[CertificateDer<'static>] {
        &self.sign_chain
    }

    /// The signing key.
    pub fn sign_key(&self) -> &PrivateKey {
        &self.sign_key
    }

    /// The encryption certificate.
    pub fn enc_cert(&self) -> &CertificateDer<'static> {
        &self.enc_cert
    }

    /// The encryption key.
    pub fn enc_key(&self) -> &PrivateKey {
        &self.enc_key
    }

    /// The certificate list TLCP sends: signing leaf, encryption certificate, then the rest
    /// of the signing chain (GB/T 38636-2020 section 6.4.5.3).
    pub(crate) fn certificate_list(&self) -> Vec<CertificateDer<'static>> {
        let mut list = Vec::with_capacity(self.sign_chain.len() + 1);
        list.extend(self.sign_chain.first().cloned());
        list.push(self.enc_cert.clone());
        list.extend(self.sign_chain.iter().skip(1).cloned());
        list
    }
}

impl Debug for DualIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DualIdentity")
            .field("sign_chain_len", &self.sign_chain.len())
            .finish_non_exhaustive()
    }
}

/// How a TLCP server runs its handshakes.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our signing and encryption certificates and keys.
    pub identity: DualIdentity,
    /// Suites we accept, in our order of preference (the server picks).
    pub suites: Vec<CipherSuite>,
    /// Judges client certificates.
    pub verifier: Arc<dyn PeerCertVerifier>,
    /// Demand a client certificate for `ECC_*` suites too (`ECDHE_*` always asks for one,
    /// because the key exchange needs the client's encryption key).
    pub require_client_auth: bool,
    /// Sessions that clients may resume; share one cache between the connections of a
    /// listener.
    pub session_cache: Arc<SessionCache>,
    /// Longest handshake message accepted, in bytes.
    pub max_handshake_len: usize,
    /// The clock for hello randoms and session expiry.
    pub clock: Arc<dyn Clock>,
}

impl ServerConfig {
    /// A server with every suite, client authentication required, a default session cache
    /// and the system clock.
    pub fn new(identity: DualIdentity, verifier: Arc<dyn PeerCertVerifier>) -> Self {
        Self {
            identity,
            suites: ALL_SUITES.to_vec(),
            verifier,
            require_client_auth: true,
            session_cache: Arc::new(SessionCache::default()),
            max_handshake_len: super::message::DEFAULT_MAX_HANDSHAKE_LEN,
            clock: Arc::new(SystemClock),
        }
    }
}

/// How a TLCP client runs its handshakes.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Suites we offer, in order of preference. `ECDHE_*` suites are offered only with an
    /// [`identity`](Self::identity), since they need our encryption key.
    pub suites: Vec<CipherSuite>,
    /// Our certificates and keys, for client authentication and `ECDHE_*` suites.
    pub identity: Option<DualIdentity>,
    /// Judges the server's certificates.
    pub verifier: Arc<dyn PeerCertVerifier>,
    /// How our `ECDHE_*` ClientKeyExchange is encoded (a server accepts both).
    pub ckx_encoding: EcdheKeyExchangeEncoding,
    /// Where sessions are saved for resumption; `None` disables resumption.
    pub session_store: Option<Arc<ClientSessionStore>>,
    /// The key sessions are saved under in [`session_store`](Self::session_store): name the
    /// server and whatever the verifier expects of it, so that a session is only resumed
    /// with a server this configuration would accept. Not sent on the wire.
    pub session_key: String,
    /// Longest handshake message accepted, in bytes.
    pub max_handshake_len: usize,
    /// The clock for hello randoms and session expiry.
    pub clock: Arc<dyn Clock>,
}

impl ClientConfig {
    /// A client offering every suite, without an identity or resumption, on the system clock.
    pub fn new(verifier: Arc<dyn PeerCertVerifier>) -> Self {
        Self {
            suites: ALL_SUITES.to_vec(),
            identity: None,
            verifier,
            ckx_encoding: EcdheKeyExchangeEncoding::default(),
            session_store: None,
            session_key: String::new(),
            max_handshake_len: super::message::DEFAULT_MAX_HANDSHAKE_LEN,
            clock: Arc::new(SystemClock),
        }
    }

    /// The suites this client can actually offer, in order.
    pub(crate) fn offered_suites(&self) -> Vec<CipherSuite> {
        self.suites
            .iter()
            .copied()
            .filter(|s| s.key_exchange() == KeyExchangeKind::Ecc || self.identity.is_some())
            .collect()
    }
}
