//! BoringSSL as a meshtls TLS stack: mutual TLS with X.509-SVIDs over tokio-btls.
//!
//! Each handshake reads the current credentials, takes the context cached for their
//! generation ([`context`]), and installs a custom verify callback that runs tls-core's
//! `PeerVerifier` ([`verify`]), so BoringSSL accepts and rejects exactly the peers the rustls
//! stack does, for the same typed reasons. Hostnames are never checked: the SPIFFE ID is
//! the identity.

mod context;
mod error;
mod policy;
mod verify;

use std::pin::Pin;
use std::sync::Arc;

use btls::ssl::{Ssl, SslRef, SslVersion};
use meshtls_tls_core::spiffe::PeerRole;
use meshtls_tls_core::spiffe::SpiffeId;
use meshtls_tls_core::stack::{
    BoxedIo, ConnectOptions, HandshakeFuture, PeerInfo, StackConfig, TlsAcceptor, TlsConnector,
    TlsStack, TlsStream, TlsVersion,
};
use meshtls_tls_core::TlsError;
use rustls_pki_types::CertificateDer;
use tokio_btls::SslStream;

use context::ContextCache;
use error::stack;
use verify::{presented_chain, PeerCheck};

const NAME: &str = "boring";

/// The BoringSSL TLS stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct BoringStack;

/// The stack this engine exports.
pub static STACK: BoringStack = BoringStack;

/// Which end of the handshake an endpoint runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

impl TlsStack for BoringStack {
    fn name(&self) -> &'static str {
        NAME
    }

    fn acceptor(&self, config: &StackConfig) -> Result<Arc<dyn TlsAcceptor>, TlsError> {
        Ok(Arc::new(Acceptor(Endpoint::new(config, Side::Server)?)))
    }

    fn connector(&self, config: &StackConfig) -> Result<Arc<dyn TlsConnector>, TlsError> {
        Ok(Arc::new(Connector(Endpoint::new(config, Side::Client)?)))
    }
}

/// What an acceptor or connector shares across its handshakes.
#[derive(Debug)]
struct Endpoint {
    side: Side,
    config: Arc<StackConfig>,
    contexts: ContextCache,
    /// TLS 1.3 suites the policy allows, checked after the handshake (see [`policy`]).
    tls13_allowed: Option<Vec<&'static str>>,
}

impl Endpoint {
    /// Validates the policy and builds the first context now, so a bad configuration fails
    /// here rather than at the first handshake.
    fn new(config: &StackConfig, side: Side) -> Result<Arc<Endpoint>, TlsError> {
        let policy = policy::resolve(&config.policy)?;
        let tls13_allowed = policy.tls13_allowed.clone();
        let contexts = ContextCache::new(policy);
        contexts.get(&config.identity.current())?;
        Ok(Arc::new(Endpoint {
            side,
            config: Arc::new(config.clone()),
            contexts,
            tls13_allowed,
        }))
    }

    /// A connection on the current credentials with its peer check installed.
    fn ssl(&self, expect: Option<SpiffeId>) -> Result<(Ssl, Arc<PeerCheck>), TlsError> {
        let credentials = self.config.identity.current();
        let ctx = self.contexts.get(&credentials)?;
        let mut ssl = Ssl::new(&ctx).map_err(stack)?;
        let role = match self.side {
            Side::Server => PeerRole::Client,
            Side::Client => PeerRole::Server,
        };
        let check = PeerCheck::new(credentials, Arc::clone(&self.config), role, expect);
        check.install(&mut ssl);
        Ok((ssl, check))
    }
}

struct Acceptor(Arc<Endpoint>);

impl TlsAcceptor for Acceptor {
    fn accept(&self, io: BoxedIo) -> HandshakeFuture {
        let endpoint = Arc::clone(&self.0);
        Box::pin(async move {
            let (ssl, check) = endpoint.ssl(None)?;
            let stream = handshake(ssl, io, Side::Server, check).await?;
            check_tls13_suite(&stream.peer, endpoint.tls13_allowed.as_deref())?;
            Ok(stream)
        })
    }
}

/// A BoringSSL server cannot limit TLS 1.3 suites, so one outside the policy ends the
/// connection here.
fn check_tls13_suite(peer: &PeerInfo, allowed: Option<&[&str]>) -> Result<(), TlsError> {
    match allowed {
        Some(allowed)
            if peer.version == TlsVersion::Tls13.name()
                && !allowed.contains(&peer.suite.as_str()) =>
        {
            Err(TlsError::Handshake(format!(
                "client chose TLS 1.3 suite {} outside the policy",
                peer.suite
            )))
        }
        _ => Ok(()),
    }
}

struct Connector(Arc<Endpoint>);

impl TlsConnector for Connector {
    fn connect(&self, io: BoxedIo, options: ConnectOptions) -> HandshakeFuture {
        let prepared = self.0.ssl(options.expect_id).and_then(|(mut ssl, check)| {
            if let Some(name) = &options.server_name {
                ssl.set_hostname(name).map_err(stack)?;
            }
            Ok((ssl, check))
        });
        Box::pin(async move {
            let (ssl, check) = prepared?;
            handshake(ssl, io, Side::Client, check).await
        })
    }
}

async fn handshake(
    ssl: Ssl,
    io: BoxedIo,
    side: Side,
    check: Arc<PeerCheck>,
) -> Result<TlsStream, TlsError> {
    let mut stream = SslStream::new(ssl, io).map_err(stack)?;
    let done = match side {
        Side::Server => Pin::new(&mut stream).accept().await,
        Side::Client => Pin::new(&mut stream).connect().await,
    };
    if let Err(err) = done {
        let leaf = stream
            .ssl()
            .peer_certificate()
            .and_then(|c| c.to_der().ok())
            .map(CertificateDer::from);
        return Err(error::handshake_failed(err, &check, leaf));
    }
    let peer = peer_info(stream.ssl(), side, check.peer_id()?)?;
    Ok(TlsStream {
        io: Box::new(stream),
        peer,
    })
}

fn peer_info(ssl: &SslRef, side: Side, peer_id: SpiffeId) -> Result<PeerInfo, TlsError> {
    let version = match ssl.version2() {
        Some(SslVersion::TLS1_3) => TlsVersion::Tls13.name().to_owned(),
        Some(SslVersion::TLS1_2) => TlsVersion::Tls12.name().to_owned(),
        _ => ssl.version_str().to_owned(),
    };
    let suite = ssl
        .current_cipher()
        .map(|c| c.standard_name().unwrap_or(c.name()).to_owned())
        .ok_or_else(|| TlsError::Handshake("no cipher negotiated".into()))?;
    Ok(PeerInfo {
        stack: NAME,
        version,
        suite,
        group: ssl.curve().and_then(group_name),
        peer_id,
        peer_chain: presented_chain(ssl, side == Side::Server)?,
    })
}

/// The IANA name of a TLS `NamedGroup` (RFC 8446 4.2.7, draft-kwiatkowski-tls-ecdhe-mlkem).
fn group_name(id: u16) -> Option<String> {
    let name = match id {
        23 => "secp256r1",
        24 => "secp384r1",
        25 => "secp521r1",
        29 => "X25519",
        0x11ec => "X25519MLKEM768",
        _ => return None,
    };
    Some(name.to_owned())
}
