//! The `tlcp` stack: TLCP behind tls-core's [`TlsStack`] API, so that listeners, the CLI and
//! the proxy drive it like rustls, with SPIFFE identities and the same [`PeerInfo`].
//!
//! - Credentials: at every handshake the acceptor and connector read
//!   [`IdentityStore::current`](meshtls_tls_core::IdentityStore::current): the signing pair is
//!   the SVID among [`Credentials::svids`] whose key is SM2, the encryption pair is
//!   [`Credentials::encryption`]. Both are required (every meshtls connection is mutually
//!   authenticated, and a TLCP client proves its identity with both). The TLCP
//!   configuration built from them is cached per credentials generation, so a rotation
//!   reaches the next handshake while live connections keep the state they own.
//! - Peers: `SpiffeCheck` runs tls-core's [`PeerVerifier`] on the signing chain (role,
//!   bundles, authorizer, expected ID) and checks the encryption certificate: the
//!   encryption-leaf rules, the same SPIFFE ID as the signing leaf, an SM2 key, and a path to
//!   the same trust anchors. Rejections surface as [`TlsError::Peer`] with the exact reason.
//! - Session resumption by session ID when `TlsPolicy::resumption` is set (off by default,
//!   as in every stack, so each connection verifies its peer against the current bundles).
//!   The server cache and the client store live with the per-generation configuration, so a
//!   rotation ends every session; the client files sessions under the server's expected ID
//!   and name, so a session is resumed only with a server this connector would accept.
//! - Policy: `suites` by their GB/T names (default: ECDHE before ECC, GCM before CBC);
//!   `versions` and `groups` do not apply (the stack speaks only TLCP, whose ECDHE is always
//!   curveSM2). A listener for TLCP and TLS puts this acceptor beside a TLS stack's with
//!   tls-core's `SniffingAcceptor`.

use std::sync::{Arc, Mutex, PoisonError};

use meshtls_tls_core::error::{ConfigError, PeerError, TlsError};
use meshtls_tls_core::identity::Credentials;
use meshtls_tls_core::spiffe::{
    check_encryption_leaf, check_leaf, PeerRole, PeerVerifier, SpiffeId, Svid,
};
use meshtls_tls_core::stack::{
    BoxedIo, ConnectOptions, HandshakeFuture, PeerInfo, StackConfig, TlsAcceptor, TlsConnector,
    TlsStack, TlsStream, TlsVersion,
};
use rustls_pki_types::{CertificateDer, UnixTime};

use super::config::{ClientConfig, DualIdentity, PeerCertVerifier, ServerConfig};
use super::conn::Connection;
use super::error::TlcpError;
use super::handshake::certs::sm2_public_key;
use super::session::{ClientSessionStore, SessionCache};

/// Sessions kept per listener or connector when resumption is on.
const SESSION_CAPACITY: usize = 1024;
/// How long a session stays resumable: short, since resumption skips peer verification.
const SESSION_LIFETIME_SECS: u64 = 300;
use super::stream::{tlcp_error, TlcpStream};
use super::suite::{CipherSuite, KeyExchangeKind};
use crate::sm2::PrivateKey;

/// The name the stack is known by (`--stack tlcp`, `PeerInfo.stack`).
pub const STACK_NAME: &str = "tlcp";

/// The group TLCP's ECDHE suites use, as [`PeerInfo::group`] reports it.
pub const ECDHE_GROUP: &str = "curveSM2";

/// Suites in default preference order: forward secrecy first, then AEAD first.
pub const DEFAULT_SUITES: [CipherSuite; 4] = [
    CipherSuite::EcdheSm4GcmSm3,
    CipherSuite::EccSm4GcmSm3,
    CipherSuite::EcdheSm4CbcSm3,
    CipherSuite::EccSm4CbcSm3,
];

/// The TLCP stack.
#[derive(Debug)]
pub struct TlcpStack;

/// The one instance of the TLCP stack.
pub static TLCP_STACK: TlcpStack = TlcpStack;

impl TlsStack for TlcpStack {
    fn name(&self) -> &'static str {
        STACK_NAME
    }

    fn acceptor(&self, config: &StackConfig) -> Result<Arc<dyn TlsAcceptor>, TlsError> {
        let shared = Arc::new(Shared::new(config)?);
        // Fail now, not at the first client, if our credentials cannot serve TLCP.
        shared.server_config()?;
        Ok(Arc::new(TlcpAcceptor { shared }))
    }

    fn connector(&self, config: &StackConfig) -> Result<Arc<dyn TlsConnector>, TlsError> {
        let shared = Arc::new(Shared::new(config)?);
        shared.client_parts()?;
        Ok(Arc::new(TlcpConnector { shared }))
    }
}

// === Per-generation configuration ===

/// What the acceptors or connectors built from one [`StackConfig`] share.
#[derive(Debug)]
struct Shared {
    config: Arc<StackConfig>,
    suites: Vec<CipherSuite>,
    server: Mutex<Option<(u64, Arc<ServerConfig>)>>,
    client: Mutex<Option<Arc<ClientParts>>>,
}

/// The generation-bound parts of a client configuration (the rest depends on the call).
#[derive(Debug)]
struct ClientParts {
    creds: Arc<Credentials>,
    identity: DualIdentity,
    /// Saved sessions of this generation, when resumption is on.
    sessions: Option<Arc<ClientSessionStore>>,
}

impl Shared {
    fn new(config: &StackConfig) -> Result<Shared, TlsError> {
        let suites = match &config.policy.suites {
            None => DEFAULT_SUITES.to_vec(),
            Some(names) => names
                .iter()
                .map(|name| {
                    CipherSuite::from_name(&name.trim().to_ascii_uppercase()).ok_or_else(|| {
                        ConfigError::Unsupported {
                            what: "TLCP cipher suite",
                            name: name.clone(),
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if suites.is_empty() {
            return Err(TlsError::Config(ConfigError::Unsupported {
                what: "TLCP cipher suite",
                name: "(none)".into(),
            }));
        }
        Ok(Shared {
            config: Arc::new(config.clone()),
            suites,
            server: Mutex::new(None),
            client: Mutex::new(None),
        })
    }

    /// The server configuration for the current credentials (built once per generation).
    fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let creds = self.config.identity.current();
        let mut cached = lock(&self.server);
        if let Some((generation, config)) = cached.as_ref() {
            if *generation == creds.generation {
                return Ok(config.clone());
            }
        }
        let identity = dual_identity(&creds)?;
        let verifier = Arc::new(SpiffeCheck {
            config: self.config.clone(),
            creds: creds.clone(),
            role: PeerRole::Client,
            expect: None,
        });
        let mut config = ServerConfig::new(identity, verifier);
        config.suites = self.suites.clone();
        config.require_client_auth = true;
        config.session_cache = Arc::new(if self.config.policy.resumption {
            SessionCache::new(SESSION_CAPACITY, SESSION_LIFETIME_SECS)
        } else {
            SessionCache::new(0, 0)
        });
        let config = Arc::new(config);
        *cached = Some((creds.generation, config.clone()));
        Ok(config)
    }

    /// The client's generation-bound parts for the current credentials.
    fn client_parts(&self) -> Result<Arc<ClientParts>, TlsError> {
        let creds = self.config.identity.current();
        let mut cached = lock(&self.client);
        if let Some(parts) = cached.as_ref() {
            if parts.creds.generation == creds.generation {
                return Ok(parts.clone());
            }
        }
        let sessions = self.config.policy.resumption.then(|| {
            Arc::new(ClientSessionStore::new(
                SESSION_CAPACITY,
                SESSION_LIFETIME_SECS,
            ))
        });
        let parts = Arc::new(ClientParts {
            identity: dual_identity(&creds)?,
            creds,
            sessions,
        });
        *cached = Some(parts.clone());
        Ok(parts)
    }

    /// A client configuration for one connection: the server is checked against `options`.
    fn client_config(&self, options: &ConnectOptions) -> Result<Arc<ClientConfig>, TlsError> {
        let parts = self.client_parts()?;
        let verifier = Arc::new(SpiffeCheck {
            config: self.config.clone(),
            creds: parts.creds.clone(),
            role: PeerRole::Server,
            expect: options.expect_id.clone(),
        });
        let mut config = ClientConfig::new(verifier);
        config.suites = self.suites.clone();
        config.identity = Some(parts.identity.clone());
        config.session_store = parts.sessions.clone();
        config.session_key = format!(
            "{}|{}",
            options
                .expect_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            options.server_name.as_deref().unwrap_or("")
        );
        Ok(Arc::new(config))
    }
}

/// Locks `m`; a panic elsewhere leaves only whole values behind, so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Our TLCP identity from the credentials: the SM2 signing SVID and the encryption pair.
fn dual_identity(creds: &Credentials) -> Result<DualIdentity, TlsError> {
    let bad = |reason: String| TlsError::Config(ConfigError::BadCredentials(reason));
    let sign = creds
        .svids()
        .find(|svid| {
            svid.chain()
                .first()
                .is_some_and(|leaf| sm2_public_key(leaf).is_ok())
        })
        .ok_or_else(|| bad("TLCP needs an SVID with an SM2 key (--cert or --alt-cert)".into()))?;
    let enc = creds.encryption.as_ref().ok_or_else(|| {
        bad("TLCP needs an encryption certificate and key (--enc-cert/--enc-key)".into())
    })?;
    let enc_cert = enc
        .chain()
        .first()
        .cloned()
        .ok_or_else(|| bad("the encryption certificate chain is empty".into()))?;
    if enc.id() != sign.id() {
        return Err(bad(format!(
            "the encryption certificate names {} but the signing SVID {}",
            enc.id(),
            sign.id()
        )));
    }
    DualIdentity::new(
        sign.chain().to_vec(),
        sm2_key(sign, "signing")?,
        enc_cert,
        sm2_key(enc, "encryption")?,
    )
    .map_err(|e| bad(format!("TLCP identity: {e}")))
}

/// The SM2 private key of `svid`.
fn sm2_key(svid: &Svid, role: &str) -> Result<PrivateKey, TlsError> {
    PrivateKey::from_pkcs8_der(svid.key().secret_pkcs8_der()).map_err(|e| {
        TlsError::Config(ConfigError::BadCredentials(format!(
            "the {role} key is not an SM2 PKCS#8 key: {e}"
        )))
    })
}

// === Peer verification ===

/// tls-core's SPIFFE checks on a TLCP peer's two certificates, against one credentials
/// generation's bundles.
#[derive(Debug)]
struct SpiffeCheck {
    config: Arc<StackConfig>,
    creds: Arc<Credentials>,
    role: PeerRole,
    expect: Option<SpiffeId>,
}

impl PeerCertVerifier for SpiffeCheck {
    fn verify(
        &self,
        sign_chain: &[CertificateDer<'_>],
        enc_cert: Option<&CertificateDer<'_>>,
    ) -> Result<(), TlcpError> {
        let now = UnixTime::now();
        let algorithms = &self.config.provider.signature_verification_algorithms;
        let verifier = PeerVerifier {
            bundles: &self.creds.bundles,
            authorizer: &self.config.authorizer,
            algorithms,
        };
        let id = verifier.verify(sign_chain, self.role, now, self.expect.as_ref())?;
        if let Some(enc) = enc_cert {
            let intermediates = sign_chain.get(1..).unwrap_or_default();
            self.check_encryption(enc, &id, intermediates, now)?;
        }
        Ok(())
    }
}

impl SpiffeCheck {
    /// The encryption certificate belongs to the same workload and the same trust anchors
    /// as the signing leaf that named `id`.
    fn check_encryption(
        &self,
        enc: &CertificateDer<'_>,
        id: &SpiffeId,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), TlcpError> {
        let enc_id = check_encryption_leaf(enc)?;
        if enc_id != *id {
            return Err(PeerError::UnexpectedId {
                expected: id.to_string(),
                got: enc_id.to_string(),
            }
            .into());
        }
        sm2_public_key(enc)?;
        let roots = self
            .creds
            .bundles
            .roots(id.trust_domain())
            .ok_or_else(|| PeerError::UnknownTrustDomain(id.trust_domain().to_string()))?;
        let anchors = roots
            .iter()
            .map(webpki::anchor_from_trusted_cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PeerError::UntrustedChain(format!("unusable trust anchor: {e}")))?;
        let usage = match self.role {
            PeerRole::Client => webpki::KeyUsage::client_auth(),
            PeerRole::Server => webpki::KeyUsage::server_auth(),
        };
        let algorithms = &self.config.provider.signature_verification_algorithms;
        webpki::EndEntityCert::try_from(enc)
            .and_then(|cert| {
                cert.verify_for_usage(
                    algorithms.all,
                    &anchors,
                    intermediates,
                    now,
                    usage,
                    None,
                    None,
                )
                .map(|_| ())
            })
            .map_err(|e| TlcpError::Peer(enc_path_error(e)))
    }
}

/// Names a path-validation failure of the encryption certificate as a peer fault.
fn enc_path_error(e: webpki::Error) -> PeerError {
    use webpki::Error as W;
    match e {
        W::CertExpired { .. } => PeerError::Expired,
        W::CertNotValidYet { .. } => PeerError::NotYetValid,
        W::InvalidSignatureForPublicKey => PeerError::BadSignature,
        W::CaUsedAsEndEntity => PeerError::CaAsLeaf,
        W::RequiredEkuNotFoundContext(_) => PeerError::BadKeyUsage(
            "encryption certificate's extendedKeyUsage lacks the purpose of the peer's role",
        ),
        W::BadDer | W::BadDerTime | W::TrailingData(_) | W::MalformedExtensions => {
            PeerError::Malformed(format!("encryption certificate: {e}"))
        }
        other => PeerError::UntrustedChain(format!("encryption certificate: {other}")),
    }
}

// === Acceptor and connector ===

struct TlcpAcceptor {
    shared: Arc<Shared>,
}

impl TlsAcceptor for TlcpAcceptor {
    fn accept(&self, io: BoxedIo) -> HandshakeFuture {
        let config = self.shared.server_config();
        Box::pin(async move {
            let stream = TlcpStream::accept(config?, io)
                .await
                .map_err(handshake_error)?;
            established(stream)
        })
    }
}

struct TlcpConnector {
    shared: Arc<Shared>,
}

impl TlsConnector for TlcpConnector {
    fn connect(&self, io: BoxedIo, options: ConnectOptions) -> HandshakeFuture {
        let config = self.shared.client_config(&options);
        Box::pin(async move {
            let stream = TlcpStream::connect(config?, io)
                .await
                .map_err(handshake_error)?;
            established(stream)
        })
    }
}

/// The handshake's outcome as tls-core's [`TlsStream`].
fn established(stream: TlcpStream<BoxedIo>) -> Result<TlsStream, TlsError> {
    let peer = peer_info(stream.connection())?;
    Ok(TlsStream {
        io: Box::new(stream),
        peer,
    })
}

/// What a completed handshake established.
fn peer_info(conn: &Connection) -> Result<PeerInfo, TlsError> {
    let chain = conn
        .peer_sign_chain()
        .filter(|c| !c.is_empty())
        .ok_or(PeerError::NoCertificate)?
        .to_vec();
    let peer_id = check_leaf(&chain[0])?;
    let suite = conn
        .suite()
        .ok_or_else(|| TlsError::Handshake("no TLCP suite negotiated".into()))?;
    Ok(PeerInfo {
        stack: STACK_NAME,
        version: TlsVersion::Tlcp.name().to_owned(),
        suite: suite.name().to_owned(),
        group: match suite.key_exchange() {
            KeyExchangeKind::Ecdhe => Some(ECDHE_GROUP.to_owned()),
            KeyExchangeKind::Ecc => None,
        },
        peer_id,
        peer_chain: chain,
    })
}

/// tls-core's typed view of a failed handshake: our rejection of the peer, the peer's
/// alert, an I/O failure, or the protocol error kept as its source.
fn handshake_error(e: std::io::Error) -> TlsError {
    match tlcp_error(&e) {
        None | Some(TlcpError::UnexpectedEof) => return TlsError::Io(e),
        Some(TlcpError::Peer(reason)) => return TlsError::Peer(reason.clone()),
        Some(TlcpError::AlertReceived(alert)) => return TlsError::AlertReceived(alert.to_string()),
        Some(_) => {}
    }
    match e.into_inner() {
        Some(source) => TlsError::Stack(Arc::from(source)),
        None => TlsError::Handshake("TLCP handshake failed".into()),
    }
}
