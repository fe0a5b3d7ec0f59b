//! The rustls stack: mutual TLS over tokio-rustls on the composed [`CryptoProvider`].
//!
//! - Certificates: every signing SVID of [`IdentityStore::current`] is loaded once per
//!   credentials generation ([`certs`]), so a rotation reaches the next handshake and
//!   established connections keep the state they own.
//! - Peers are checked by [`crate::spiffe::PeerVerifier`] against the bundles current at that
//!   handshake ([`verify`]); callers get [`TlsError::Peer`] with the exact reason.
//! - SM and standard on one listener ([`family`]): a server whose policy and credentials
//!   allow both RFC 8998's SM suites and standard ones reads the ClientHello first
//!   (tokio-rustls' `LazyConfigAcceptor`), then answers with the SM config (SM suites,
//!   `curveSM2`, our SM2 SVID, clients verified with `sm2sig_sm3`) or the standard one,
//!   following [`TlsPolicy::sm_preference`]. A client offers the families its SVIDs can
//!   authenticate; listing only SM suites in the policy makes it SM-only.
//! - Session resumption is off on both sides: every connection re-verifies the peer against
//!   the current bundles.

mod certs;
mod family;
mod verify;

use std::io;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::{Acceptor, NoServerSessionStorage};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, CommonState, OtherError, ProtocolVersion,
    ServerConfig, SupportedProtocolVersion,
};
use rustls_pki_types::ServerName;

use self::certs::{CertCache, ClientCerts, ServerCerts};
use self::family::{ClientOffer, Family, FamilyParts, Hello};
use self::verify::{ClientVerifier, PeerCheck, ServerVerifier};
use super::{
    BoxedIo, ConnectOptions, HandshakeFuture, PeerInfo, SmPreference, StackConfig, TlsAcceptor,
    TlsConnector, TlsPolicy, TlsStack, TlsStream, TlsVersion,
};
use crate::compose::rfc8998;
use crate::error::{ConfigError, PeerError, TlsError};
use crate::identity::IdentityStore;
use crate::spiffe::{check_leaf, Authorizer, SpiffeId};

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
        let configs = [Family::Standard, Family::Sm]
            .into_iter()
            .filter_map(|f| FamilyParts::of(&shared.provider, f))
            .filter(|parts| parts.family == Family::Standard || shared.speaks_tls13())
            .map(|parts| {
                let config = shared.server_config(&parts)?;
                Ok(FamilyConfig { parts, config })
            })
            .collect::<Result<Vec<_>, TlsError>>()?;
        if configs.is_empty() {
            return Err(TlsError::Config(ConfigError::BadPolicy {
                input: format!("{:?}", config.policy),
                reason: "no cipher suite, group and signature scheme of one family remain".into(),
            }));
        }
        Ok(Arc::new(RustlsAcceptor {
            configs: Arc::new(configs),
            certs: shared.certs.clone(),
            preference: config.policy.sm_preference,
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
    identity: Arc<IdentityStore>,
    authorizer: Arc<Authorizer>,
    certs: Arc<CertCache>,
}

impl Shared {
    fn new(config: &StackConfig) -> Result<Shared, TlsError> {
        let provider = Arc::new(restrict_provider(&config.provider, &config.policy)?);
        let versions = protocol_versions(&config.policy)?;
        let certs = Arc::new(CertCache::new(config.identity.clone(), provider.clone()));
        // Fail at build time if none of our current SVIDs can be used with this provider.
        certs.current().map_err(|e| {
            ConfigError::BadCredentials(format!("our SVID cannot be loaded by the provider: {e}"))
        })?;
        Ok(Shared {
            provider,
            versions,
            policy: config.policy.clone(),
            identity: config.identity.clone(),
            authorizer: Arc::new(config.authorizer.clone()),
            certs,
        })
    }

    /// Whether TLS 1.3 is allowed (RFC 8998's suites exist only there).
    fn speaks_tls13(&self) -> bool {
        self.versions.contains(&&rustls::version::TLS13)
    }

    fn peer_check(
        &self,
        provider: Arc<CryptoProvider>,
        schemes: Vec<rustls::SignatureScheme>,
    ) -> PeerCheck {
        PeerCheck {
            identity: self.identity.clone(),
            authorizer: self.authorizer.clone(),
            provider,
            schemes,
        }
    }

    /// The server config for one family: its suites and groups, its SVIDs and schemes.
    fn server_config(&self, parts: &FamilyParts) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(parts.restrict(&self.provider));
        let versions: &[&'static SupportedProtocolVersion] = match parts.family {
            Family::Standard => &self.versions,
            Family::Sm => &[&rustls::version::TLS13],
        };
        let check = self.peer_check(provider.clone(), parts.schemes.clone());
        let resolver = ServerCerts {
            cache: self.certs.clone(),
            schemes: parts.schemes.clone(),
        };
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| bad_policy(&self.policy, e))?
            .with_client_cert_verifier(Arc::new(ClientVerifier(check)))
            .with_cert_resolver(Arc::new(resolver));
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        Ok(Arc::new(server))
    }

    /// The client config for one connection: the families our current SVIDs can
    /// authenticate, in the order [`TlsPolicy::sm_preference`] asks for.
    fn client_config(&self, expect: Option<SpiffeId>) -> Result<ClientConfig, ConfigError> {
        let svids = self.certs.current().map_err(|e| {
            ConfigError::BadCredentials(format!("our SVID cannot be loaded by the provider: {e}"))
        })?;
        let offer = ClientOffer::new(
            &self.provider,
            &svids,
            self.policy.sm_preference,
            self.policy.groups.is_some(),
        );
        let provider = Arc::new(offer.provider);
        let verifier = ServerVerifier {
            check: self.peer_check(provider.clone(), offer.schemes),
            expect,
        };
        let resolver = ClientCerts {
            cache: self.certs.clone(),
            sm_first: offer.sm_first,
        };
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.versions)
            .map_err(|e| bad_policy_config(&self.policy, e))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(Arc::new(resolver));
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
/// RFC 8998's suites get their names (`TLS_SM4_GCM_SM3`); other suites rustls has no name
/// for are shown by code point (`0x0A0A`).
pub fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    if let Some(name) = rfc8998::sm_suite_name(suite) {
        return name.to_owned();
    }
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        },
        None => format!("0x{:04X}", u16::from(suite)),
    }
}

/// The name of a key-exchange group (`X25519`, `secp256r1`, `X25519MLKEM768`, `curveSM2`).
pub fn group_name(group: rustls::NamedGroup) -> String {
    if let Some(name) = rfc8998::sm_group_name(group) {
        return name.to_owned();
    }
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
        "SM2" | "CURVE-SM2" => "curveSM2",
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

// === Acceptor and connector ===

/// One family's server config.
struct FamilyConfig {
    parts: FamilyParts,
    config: Arc<ServerConfig>,
}

/// Reads the ClientHello, picks a family's config, and completes the handshake with it.
struct RustlsAcceptor {
    configs: Arc<Vec<FamilyConfig>>,
    certs: Arc<CertCache>,
    preference: SmPreference,
}

impl TlsAcceptor for RustlsAcceptor {
    fn accept(&self, io: BoxedIo) -> HandshakeFuture {
        let configs = self.configs.clone();
        let certs = self.certs.clone();
        let preference = self.preference;
        Box::pin(async move {
            let start = tokio_rustls::LazyConfigAcceptor::new(Acceptor::default(), io)
                .await
                .map_err(map_handshake_error)?;
            let config = {
                let hello = start.client_hello();
                let hello = Hello {
                    suites: hello.cipher_suites(),
                    groups: hello.named_groups(),
                    schemes: hello.signature_schemes(),
                };
                pick_config(&configs, hello, &certs, preference)?
            };
            let stream = start
                .into_stream(config)
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

/// The config answering `hello`: the only one, or the family [`family::choose`] picks.
fn pick_config(
    configs: &[FamilyConfig],
    hello: Hello<'_>,
    certs: &CertCache,
    preference: SmPreference,
) -> Result<Arc<ServerConfig>, TlsError> {
    if let [only] = configs {
        return Ok(only.config.clone());
    }
    let svids = certs.current().map_err(|e| {
        ConfigError::BadCredentials(format!("our SVID cannot be loaded by the provider: {e}"))
    })?;
    let parts: Vec<FamilyParts> = configs.iter().map(|c| c.parts.clone()).collect();
    let family = family::choose(hello, &parts, &svids, preference);
    configs
        .iter()
        .find(|c| Some(c.parts.family) == family)
        .or(configs.first())
        .map(|c| c.config.clone())
        .ok_or_else(|| TlsError::Handshake("no server configuration".into()))
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
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::from(0x00c6)),
            "TLS_SM4_GCM_SM3"
        );
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::from(0x00c7)),
            "TLS_SM4_CCM_SM3"
        );
        assert_eq!(iana_suite_name(rustls::CipherSuite::from(0x0a0a)), "0x0A0A");
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
        assert_eq!(group_name(rustls::NamedGroup::from(41)), "curveSM2");
        assert_eq!(canonical_group_name("SM2"), "curveSM2");
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
