//! The rustls stack: mutual TLS over tokio-rustls on the composed [`CryptoProvider`].
//!
//! - Certificates come from a resolver that reads [`IdentityStore::current`] at each
//!   handshake and caches the loaded key per credentials generation, so a rotation reaches
//!   the next handshake and established connections keep the state they own.
//! - Peers are checked by [`PeerVerifier`] against the bundles current at that handshake.
//!   The typed [`PeerError`] crosses rustls inside `CertificateError::Other` and is
//!   recovered by downcasting, so callers get [`TlsError::Peer`] with the exact reason.
//! - Session resumption is off on both sides: every connection re-verifies the peer against
//!   the current bundles.

use std::io;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Resumption};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, CommonState, DigitallySignedStruct,
    DistinguishedName, OtherError, ProtocolVersion, ServerConfig, SignatureScheme,
    SupportedProtocolVersion,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::{
    BoxedIo, ConnectOptions, HandshakeFuture, PeerInfo, StackConfig, TlsAcceptor, TlsConnector,
    TlsPolicy, TlsStack, TlsStream, TlsVersion,
};
use crate::error::{ConfigError, PeerError, TlsError};
use crate::identity::IdentityStore;
use crate::spiffe::{check_leaf, Authorizer, PeerRole, PeerVerifier, SpiffeId};

/// SNI sent when neither a server name nor an expected ID is given (RFC 6761 reserves
/// `.invalid`, so it never names a real host).
pub const FALLBACK_SERVER_NAME: &str = "meshtls.invalid";

/// The rustls stack.
#[derive(Debug)]
pub struct RustlsStack;

/// The one instance of the rustls stack.
pub static RUSTLS_STACK: RustlsStack = RustlsStack;

impl TlsStack for RustlsStack {
    fn name(&self) -> &'static str {
        "rustls"
    }

    fn acceptor(&self, config: &StackConfig) -> Result<Arc<dyn TlsAcceptor>, TlsError> {
        let shared = Shared::new(config)?;
        let mut server = ServerConfig::builder_with_provider(shared.provider.clone())
            .with_protocol_versions(&shared.versions)
            .map_err(|e| bad_policy(&config.policy, e))?
            .with_client_cert_verifier(Arc::new(ClientVerifier(shared.check.clone())))
            .with_cert_resolver(shared.certs.clone());
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        Ok(Arc::new(RustlsAcceptor {
            inner: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        }))
    }

    fn connector(&self, config: &StackConfig) -> Result<Arc<dyn TlsConnector>, TlsError> {
        let shared = Shared::new(config)?;
        // Build once now so that a policy rustls rejects fails here, not at first connect.
        shared.client_config(None).map_err(TlsError::Config)?;
        Ok(Arc::new(RustlsConnector { shared }))
    }
}

// === Shared state ===

/// What acceptors and connectors built from one [`StackConfig`] share.
#[derive(Debug)]
struct Shared {
    provider: Arc<CryptoProvider>,
    versions: Vec<&'static SupportedProtocolVersion>,
    policy: TlsPolicy,
    certs: Arc<CertCache>,
    check: Arc<PeerCheck>,
}

impl Shared {
    fn new(config: &StackConfig) -> Result<Shared, TlsError> {
        let provider = Arc::new(restrict_provider(&config.provider, &config.policy)?);
        let versions = protocol_versions(&config.policy)?;
        let certs = Arc::new(CertCache {
            identity: config.identity.clone(),
            provider: provider.clone(),
            cached: Mutex::new(None),
        });
        // Fail at build time if our current key cannot be used with this provider.
        certs.current().map_err(|e| {
            ConfigError::BadCredentials(format!("our SVID cannot be loaded by the provider: {e}"))
        })?;
        let check = Arc::new(PeerCheck {
            identity: config.identity.clone(),
            authorizer: config.authorizer.clone(),
            provider: provider.clone(),
        });
        Ok(Shared {
            provider,
            versions,
            policy: config.policy.clone(),
            certs,
            check,
        })
    }

    fn client_config(&self, expect: Option<SpiffeId>) -> Result<ClientConfig, ConfigError> {
        let verifier = ServerVerifier {
            check: self.check.clone(),
            expect,
        };
        let mut client = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|e| bad_policy_config(&self.policy, e))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(self.certs.clone());
        client.resumption = Resumption::disabled();
        Ok(client)
    }
}

// === Policy ===

/// The provider with only the policy's suites and groups, in the policy's order.
fn restrict_provider(
    base: &CryptoProvider,
    policy: &TlsPolicy,
) -> Result<CryptoProvider, ConfigError> {
    let mut provider = base.clone();
    if let Some(names) = &policy.suites {
        provider.cipher_suites = names
            .iter()
            .map(|name| {
                base.cipher_suites
                    .iter()
                    .find(|s| iana_suite_name(s.suite()).eq_ignore_ascii_case(name.trim()))
                    .copied()
                    .ok_or_else(|| unsupported("cipher suite", name))
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(names) = &policy.groups {
        provider.kx_groups = names
            .iter()
            .map(|name| {
                let want = canonical_group_name(name);
                base.kx_groups
                    .iter()
                    .find(|g| group_name(g.name()).eq_ignore_ascii_case(want))
                    .copied()
                    .ok_or_else(|| unsupported("key exchange group", name))
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(provider)
}

fn protocol_versions(
    policy: &TlsPolicy,
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    // TLCP is not rustls' to speak: a TLCP + TLS 1.3 listener hands TLCP hellos elsewhere.
    let versions: Vec<&'static SupportedProtocolVersion> = policy
        .versions
        .iter()
        .filter_map(|v| match v {
            TlsVersion::Tls12 => Some(&rustls::version::TLS12),
            TlsVersion::Tls13 => Some(&rustls::version::TLS13),
            TlsVersion::Tlcp => None,
        })
        .collect();
    if versions.is_empty() {
        return Err(unsupported("TLS version", "(none)"));
    }
    Ok(versions)
}

/// The IANA name of a suite; rustls names TLS 1.3 suites `TLS13_*` where IANA says `TLS_*`.
/// Suites rustls has no name for are shown by code point (`0x00C6`).
pub fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        },
        None => format!("0x{:04X}", u16::from(suite)),
    }
}

/// The name of a key-exchange group (`X25519`, `secp256r1`, `X25519MLKEM768`).
pub fn group_name(group: rustls::NamedGroup) -> String {
    match group.as_str() {
        Some(name) => name.to_owned(),
        None => format!("0x{:04X}", u16::from(group)),
    }
}

/// Accepts the NIST curve names and OpenSSL's name for P-256 as aliases.
fn canonical_group_name(name: &str) -> &str {
    let name = name.trim();
    match name.to_ascii_uppercase().as_str() {
        "P-256" | "P256" | "PRIME256V1" => "secp256r1",
        "P-384" | "P384" => "secp384r1",
        "P-521" | "P521" => "secp521r1",
        _ => name,
    }
}

fn unsupported(what: &'static str, name: &str) -> ConfigError {
    ConfigError::Unsupported {
        what,
        name: name.to_owned(),
    }
}

fn bad_policy_config(policy: &TlsPolicy, e: rustls::Error) -> ConfigError {
    ConfigError::BadPolicy {
        input: format!("{policy:?}"),
        reason: e.to_string(),
    }
}

fn bad_policy(policy: &TlsPolicy, e: rustls::Error) -> TlsError {
    TlsError::Config(bad_policy_config(policy, e))
}

// === Certificates ===

/// Serves our current SVID, loading its key once per credentials generation.
#[derive(Debug)]
struct CertCache {
    identity: Arc<IdentityStore>,
    provider: Arc<CryptoProvider>,
    cached: Mutex<Option<(u64, Arc<CertifiedKey>)>>,
}

impl CertCache {
    fn current(&self) -> Result<Arc<CertifiedKey>, rustls::Error> {
        let creds = self.identity.current();
        // A poisoned lock only means a panic between whole-value stores: the value is usable.
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((generation, key)) = cached.as_ref() {
            if *generation == creds.generation {
                return Ok(key.clone());
            }
        }
        let key = Arc::new(CertifiedKey::from_der(
            creds.svid.chain().to_vec(),
            PrivateKeyDer::Pkcs8(creds.svid.key().clone_key()),
            &self.provider,
        )?);
        *cached = Some((creds.generation, key.clone()));
        Ok(key)
    }

    fn resolve_logged(&self) -> Option<Arc<CertifiedKey>> {
        self.current()
            .inspect_err(|e| tracing::warn!(error = %e, "cannot load our SVID for a handshake"))
            .ok()
    }
}

impl ResolvesServerCert for CertCache {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.resolve_logged()
    }
}

impl ResolvesClientCert for CertCache {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.resolve_logged()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

// === Peer verification ===

/// Runs [`PeerVerifier`] with the bundles current at the handshake.
#[derive(Debug)]
struct PeerCheck {
    identity: Arc<IdentityStore>,
    authorizer: Authorizer,
    provider: Arc<CryptoProvider>,
}

impl PeerCheck {
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        role: PeerRole,
        now: UnixTime,
        expect: Option<&SpiffeId>,
    ) -> Result<(), rustls::Error> {
        let creds = self.identity.current();
        let verifier = PeerVerifier {
            bundles: &creds.bundles,
            authorizer: &self.authorizer,
            algorithms: &self.provider.signature_verification_algorithms,
        };
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone());
        chain.extend(intermediates.iter().cloned());
        verifier
            .verify(&chain, role, now, expect)
            .map(|_| ())
            .map_err(|reason| {
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    reason,
                ))))
            })
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Server side: requires a client SVID and verifies it.
#[derive(Debug)]
struct ClientVerifier(Arc<PeerCheck>);

impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0
            .verify(end_entity, intermediates, PeerRole::Client, now, None)
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.schemes()
    }
}

/// Client side: verifies the server's SVID, and its exact ID when one is expected. The
/// server name is not checked: SPIFFE authenticates by URI SAN, not by DNS name.
#[derive(Debug)]
struct ServerVerifier {
    check: Arc<PeerCheck>,
    expect: Option<SpiffeId>,
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check
            .verify(
                end_entity,
                intermediates,
                PeerRole::Server,
                now,
                self.expect.as_ref(),
            )
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.check.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.check.schemes()
    }
}

// === Acceptor and connector ===

struct RustlsAcceptor {
    inner: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor for RustlsAcceptor {
    fn accept(&self, io: BoxedIo) -> HandshakeFuture {
        let accept = self.inner.accept(io);
        Box::pin(async move {
            let stream = accept.await.map_err(map_handshake_error)?;
            let peer = peer_info(stream.get_ref().1)?;
            Ok(TlsStream {
                io: Box::new(stream),
                peer,
            })
        })
    }
}

struct RustlsConnector {
    shared: Shared,
}

impl TlsConnector for RustlsConnector {
    fn connect(&self, io: BoxedIo, options: ConnectOptions) -> HandshakeFuture {
        let prepared = server_name(&options).and_then(|name| {
            let config = self.shared.client_config(options.expect_id)?;
            Ok((name, config))
        });
        Box::pin(async move {
            let (name, config) = prepared?;
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let stream = connector
                .connect(name, io)
                .await
                .map_err(map_handshake_error)?;
            let peer = peer_info(stream.get_ref().1)?;
            Ok(TlsStream {
                io: Box::new(stream),
                peer,
            })
        })
    }
}

/// The SNI to send: the given name, else the expected peer's trust domain, else
/// [`FALLBACK_SERVER_NAME`].
fn server_name(options: &ConnectOptions) -> Result<ServerName<'static>, ConfigError> {
    if let Some(name) = &options.server_name {
        return ServerName::try_from(name.clone()).map_err(|_| unsupported("server name", name));
    }
    let from_td = options
        .expect_id
        .as_ref()
        .and_then(|id| ServerName::try_from(id.trust_domain().as_str().to_owned()).ok());
    match from_td {
        Some(name) => Ok(name),
        None => ServerName::try_from(FALLBACK_SERVER_NAME)
            .map_err(|_| unsupported("server name", FALLBACK_SERVER_NAME)),
    }
}

/// What a completed handshake established.
fn peer_info(conn: &CommonState) -> Result<PeerInfo, TlsError> {
    let chain = conn
        .peer_certificates()
        .filter(|c| !c.is_empty())
        .ok_or(PeerError::NoCertificate)?
        .to_vec();
    let peer_id = check_leaf(&chain[0])?;
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => TlsVersion::Tls13.name().to_owned(),
        Some(ProtocolVersion::TLSv1_2) => TlsVersion::Tls12.name().to_owned(),
        Some(other) => format!("{other:?}"),
        None => return Err(TlsError::Handshake("no protocol version negotiated".into())),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| iana_suite_name(s.suite()))
        .ok_or_else(|| TlsError::Handshake("no cipher suite negotiated".into()))?;
    Ok(PeerInfo {
        stack: "rustls",
        version,
        suite,
        group: conn
            .negotiated_key_exchange_group()
            .map(|g| group_name(g.name())),
        peer_id,
        peer_chain: chain,
    })
}

/// Recovers our typed reason, or names the alert or failure.
fn map_handshake_error(e: io::Error) -> TlsError {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return TlsError::Io(e);
    };
    match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(source))) => {
            match source.downcast_ref::<PeerError>() {
                Some(reason) => TlsError::Peer(reason.clone()),
                None => TlsError::Handshake(tls.to_string()),
            }
        }
        rustls::Error::NoCertificatesPresented => TlsError::Peer(PeerError::NoCertificate),
        rustls::Error::AlertReceived(alert) => TlsError::AlertReceived(alert_name(*alert)),
        other => TlsError::Handshake(other.to_string()),
    }
}

/// The RFC 8446 name of the alert with wire code `code`, as [`alert_name`] spells it; native
/// stacks report received alerts with it so that every stack names alerts alike.
pub fn alert_code_name(code: u8) -> String {
    alert_name(AlertDescription::from(code))
}

/// The RFC 8446 name of an alert (`bad_certificate`), from rustls' `BadCertificate`.
pub fn alert_name(alert: AlertDescription) -> String {
    let Some(camel) = alert.as_str() else {
        return format!("alert_{}", u8::from(alert));
    };
    // A word starts at an upper-case letter after a lower-case one, or at the last capital
    // of an acronym (`UnknownPSKIdentity` -> `unknown_psk_identity`).
    let chars: Vec<char> = camel.chars().collect();
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && !chars[i - 1].is_ascii_uppercase();
        let acronym_end = i > 0
            && chars[i - 1].is_ascii_uppercase()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if c.is_ascii_uppercase() && (prev_lower || acronym_end) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names_are_iana() {
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(iana_suite_name(rustls::CipherSuite::from(0x00c6)), "0x00C6");
    }

    #[test]
    fn alert_and_group_names() {
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::UnknownPSKIdentity),
            "unknown_psk_identity"
        );
        assert_eq!(
            group_name(rustls::NamedGroup::X25519MLKEM768),
            "X25519MLKEM768"
        );
        assert_eq!(canonical_group_name("P-256"), "secp256r1");
    }

    #[test]
    fn sni_defaults() {
        let none = ConnectOptions::default();
        assert_eq!(server_name(&none).unwrap().to_str(), FALLBACK_SERVER_NAME);
        let expect = ConnectOptions {
            expect_id: Some(SpiffeId::parse("spiffe://example.org/web").unwrap()),
            server_name: None,
        };
        assert_eq!(server_name(&expect).unwrap().to_str(), "example.org");
        let bad = ConnectOptions {
            expect_id: None,
            server_name: Some("not a name".into()),
        };
        assert!(matches!(
            server_name(&bad),
            Err(ConfigError::Unsupported {
                what: "server name",
                ..
            })
        ));
    }
}
