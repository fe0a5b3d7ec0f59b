//! Raw rustls peers that present whatever chain a test hands them and check nothing of the
//! other side: the misbehaving half of negative tests, so that only the meshtls stack under
//! test decides (and names the reason).

use std::io;
use std::sync::Arc;

use meshtls_ca::IssuedSvid;
use meshtls_tls_core::stack::{ConnectOptions, PeerInfo, TlsAcceptor, TlsConnector, TlsVersion};
use meshtls_tls_core::TlsError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::pair::PAIR_TIMEOUT;

/// Accepts any server certificate but still checks the handshake signature, so the
/// handshake itself is sound.
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

fn versions(version: TlsVersion) -> &'static [&'static rustls::SupportedProtocolVersion] {
    match version {
        TlsVersion::Tlcp | TlsVersion::Tls12 => TLS12_ONLY,
        TlsVersion::Tls13 => TLS13_ONLY,
    }
}

fn chain_and_key(svid: &IssuedSvid) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        svid.chain_der.clone(),
        PrivateKeyDer::Pkcs8(svid.key_der.clone_key()),
    )
}

/// A client that presents `cert` (or no certificate) and accepts any server.
pub fn client(
    provider: Arc<CryptoProvider>,
    version: TlsVersion,
    cert: Option<&IssuedSvid>,
) -> tokio_rustls::TlsConnector {
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions(version))
        .expect("provider supports the version")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)));
    let config = match cert {
        Some(svid) => {
            let (chain, key) = chain_and_key(svid);
            builder
                .with_client_auth_cert(chain, key)
                .expect("raw client certificate loads")
        }
        None => builder.with_no_client_auth(),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A server that presents `cert` and asks for no client certificate.
pub fn server(
    provider: Arc<CryptoProvider>,
    version: TlsVersion,
    cert: &IssuedSvid,
) -> tokio_rustls::TlsAcceptor {
    let (chain, key) = chain_and_key(cert);
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(version))
        .expect("provider supports the version")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("raw server certificate loads");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Connects the raw `client` to the meshtls `acceptor`; returns the acceptor's verdict.
pub async fn server_verdict(
    acceptor: Arc<dyn TlsAcceptor>,
    client: tokio_rustls::TlsConnector,
) -> Result<PeerInfo, TlsError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(Box::new(tcp)).await?;
        // Reached only if the stack wrongly accepted: finish politely so the test sees it.
        let mut byte = [0u8; 1];
        let _ = tls.io.read(&mut byte).await;
        Ok(tls.peer)
    });
    let raw = async move {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("meshtls.invalid").expect("static name");
        // In TLS 1.3 the client finishes before the server has judged its certificate; the
        // server's verdict arrives as an alert (or close) on the first read.
        let mut tls = client.connect(name, tcp).await?;
        tls.write_all(b"x").await?;
        let mut byte = [0u8; 1];
        let _ = tls.read(&mut byte).await;
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(PAIR_TIMEOUT, raw).await;
    match tokio::time::timeout(PAIR_TIMEOUT, server).await {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(join)) => Err(TlsError::Io(io::Error::other(join))),
        Err(_) => Err(timed_out()),
    }
}

/// Connects the meshtls `connector` to the raw `server`; returns the connector's verdict.
pub async fn client_verdict(
    connector: Arc<dyn TlsConnector>,
    server: tokio_rustls::TlsAcceptor,
    options: ConnectOptions,
) -> Result<PeerInfo, TlsError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let raw = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = server.accept(tcp).await?;
        let mut byte = [0u8; 1];
        let _ = tls.read(&mut byte).await;
        io::Result::Ok(())
    });
    let verdict = tokio::time::timeout(PAIR_TIMEOUT, async move {
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = connector.connect(Box::new(tcp), options).await?;
        tls.io.shutdown().await?;
        Ok(tls.peer)
    })
    .await
    .unwrap_or_else(|_| Err(timed_out()));
    raw.abort();
    verdict
}

fn timed_out() -> TlsError {
    TlsError::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        "negative test timed out",
    ))
}
