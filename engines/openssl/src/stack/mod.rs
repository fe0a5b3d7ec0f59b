//! OpenSSL as a meshtls TLS stack: mutual TLS with X.509-SVIDs over tokio-openssl.
//!
//! Each handshake reads the current credentials, takes the context cached for their
//! generation ([`context`]), and installs a verify callback that runs tls-core's
//! `PeerVerifier` ([`verify`]), so OpenSSL accepts and rejects exactly the peers the rustls
//! stack does, for the same typed reasons. Hostnames are never checked: the SPIFFE ID is
//! the identity.

mod context;
mod error;
mod ffi;
mod policy;
mod verify;

use std::pin::Pin;
use std::sync::Arc;

use meshtls_tls_core::spiffe::PeerRole;
use meshtls_tls_core::stack::{
    BoxedIo, ConnectOptions, HandshakeFuture, PeerInfo, StackConfig, TlsAcceptor, TlsConnector,
    TlsStack, TlsStream, TlsVersion,
};
use meshtls_tls_core::{PeerError, TlsError};
use openssl::nid::Nid;
use openssl::ssl::{Ssl, SslRef, SslVersion};
use openssl::x509::X509Ref;
use rustls_pki_types::CertificateDer;
use tokio_openssl::SslStream;

use context::{ContextCache, Side};
use error::stack;
use verify::PeerCheck;

const NAME: &str = "openssl";

/// The OpenSSL TLS stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpensslStack;

/// The stack this engine exports.
pub static STACK: OpensslStack = OpensslStack;

impl TlsStack for OpensslStack {
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
}

impl Endpoint {
    /// Validates the policy and builds the first context now, so a bad configuration fails
    /// here rather than at the first handshake.
    fn new(config: &StackConfig, side: Side) -> Result<Arc<Endpoint>, TlsError> {
        let contexts = ContextCache::new(side, policy::resolve(&config.policy)?);
        contexts.get(&config.identity.current())?;
        Ok(Arc::new(Endpoint {
            side,
            config: Arc::new(config.clone()),
            contexts,
        }))
    }

    /// A connection on the current credentials with its peer check installed.
    fn ssl(
        &self,
        expect: Option<meshtls_tls_core::spiffe::SpiffeId>,
    ) -> Result<(Ssl, Arc<PeerCheck>), TlsError> {
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
        let prepared = self.0.ssl(None);
        Box::pin(async move {
            let (ssl, check) = prepared?;
            handshake(ssl, io, Side::Server, check).await
        })
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
        return Err(error::handshake_failed(err, &check));
    }
    let peer = peer_info(stream.ssl(), side, check.peer_id()?)?;
    Ok(TlsStream {
        io: Box::new(stream),
        peer,
    })
}

fn peer_info(
    ssl: &SslRef,
    side: Side,
    peer_id: meshtls_tls_core::spiffe::SpiffeId,
) -> Result<PeerInfo, TlsError> {
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
        group: ffi::negotiated_group(ssl).and_then(group_name),
        peer_id,
        peer_chain: peer_chain(ssl, side)?,
    })
}

/// The IANA name of a group OpenSSL reports by NID.
fn group_name(nid: Nid) -> Option<String> {
    let name = match nid.as_raw() {
        openssl_sys::NID_X25519 => "X25519",
        openssl_sys::NID_X448 => "X448",
        openssl_sys::NID_X9_62_prime256v1 => "secp256r1",
        openssl_sys::NID_secp384r1 => "secp384r1",
        openssl_sys::NID_secp521r1 => "secp521r1",
        _ => return None,
    };
    Some(name.to_owned())
}

/// The chain the peer presented, leaf first. OpenSSL leaves the leaf out of a server's view
/// of the client chain, so it is put back.
fn peer_chain(ssl: &SslRef, side: Side) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let der = |c: &X509Ref| c.to_der().map(CertificateDer::from).map_err(stack);
    let mut chain = Vec::new();
    if side == Side::Server {
        let leaf = ssl
            .peer_certificate()
            .ok_or(TlsError::Peer(PeerError::NoCertificate))?;
        chain.push(der(&leaf)?);
    }
    if let Some(rest) = ssl.peer_cert_chain() {
        for cert in rest {
            chain.push(der(cert)?);
        }
    }
    Ok(chain)
}
