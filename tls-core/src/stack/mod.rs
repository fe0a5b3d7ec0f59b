//! One API over every TLS stack: a [`TlsStack`] makes acceptors and connectors from a
//! [`StackConfig`], and each handshake yields a [`TlsStream`] with its [`PeerInfo`].
//!
//! The rustls stack lives here ([`rustls_stack`]); native stacks (OpenSSL, BoringSSL) live in
//! their engines and reach tls-core only through this trait. Every stack reads the current
//! credentials from the [`IdentityStore`] at each handshake, so rotation never restarts a
//! listener, and verifies peers with [`crate::spiffe::PeerVerifier`], so every stack rejects
//! the same peers for the same typed reasons.

pub mod rustls_stack;
pub mod sniff;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::TlsError;
use crate::identity::IdentityStore;
use crate::spiffe::{Authorizer, SpiffeId};

/// Any byte stream a stack can run over (TCP, Unix socket, in-memory duplex).
pub trait AsyncIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncIo for T {}

/// A boxed byte stream.
pub type BoxedIo = Box<dyn AsyncIo>;

/// A boxed handshake future.
pub type HandshakeFuture = Pin<Box<dyn Future<Output = Result<TlsStream, TlsError>> + Send>>;

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLCP (GB/T 38636-2020, wire version 0x0101), the Chinese dual-certificate protocol;
    /// spoken only by the `tlcp` stack.
    Tlcp,
    /// TLS 1.2 (RFC 5246), ECDHE + AEAD suites only.
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    /// The name stacks report (`TLSv1.3`).
    pub const fn name(self) -> &'static str {
        match self {
            TlsVersion::Tlcp => "TLCP",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    /// Whether this is a TLS version proper (the ones rustls, OpenSSL and BoringSSL speak).
    pub const fn is_tls(self) -> bool {
        !matches!(self, TlsVersion::Tlcp)
    }

    /// Parses `1.2`, `1.3`, `tls1.3`, `TLSv1.3`, `tlcp`.
    pub fn parse(s: &str) -> Option<TlsVersion> {
        let s = s.trim().to_ascii_lowercase();
        if s == "tlcp" {
            return Some(TlsVersion::Tlcp);
        }
        let s = s.trim_start_matches("tlsv").trim_start_matches("tls");
        match s {
            "1.2" | "12" => Some(TlsVersion::Tls12),
            "1.3" | "13" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

/// Protocol policy shared by every stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPolicy {
    /// Allowed versions. Default: TLS 1.3 only.
    pub versions: Vec<TlsVersion>,
    /// Allowed cipher suites by IANA name (`TLS_AES_128_GCM_SHA256`,
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`, RFC 8998's `TLS_SM4_GCM_SM3`), in
    /// preference order; `None`: the stack's secure defaults. TLS 1.2 suites are always
    /// ECDHE + AEAD. Listing only SM suites makes a rustls peer SM-only.
    pub suites: Option<Vec<String>>,
    /// Allowed key-exchange groups by name (`X25519`, `secp256r1`, `secp384r1`,
    /// `X25519MLKEM768`, `curveSM2`), in preference order; `None`: the stack's defaults.
    pub groups: Option<Vec<String>>,
    /// Which family wins when both sides could speak the SM suites of RFC 8998
    /// (`TLS_SM4_GCM_SM3`, `TLS_SM4_CCM_SM3`) and the standard ones. Default:
    /// [`SmPreference::FollowClient`].
    pub sm_preference: SmPreference,
    /// Resume sessions where the stack supports it: the `tlcp` stack by session ID, with
    /// sessions bound to the credentials generation (a rotation ends them). Default: off, so
    /// that every connection verifies its peer against the bundles current at its handshake;
    /// the rustls, OpenSSL and BoringSSL stacks always run full handshakes.
    pub resumption: bool,
}

impl Default for TlsPolicy {
    fn default() -> Self {
        TlsPolicy {
            versions: vec![TlsVersion::Tls13],
            suites: None,
            groups: None,
            sm_preference: SmPreference::default(),
            resumption: false,
        }
    }
}

/// The choice between the SM family (RFC 8998 suites, `curveSM2`, `sm2sig_sm3` and an SM2
/// SVID) and the standard family (every other suite, group and scheme) on one listener.
///
/// A family is possible for a handshake when the policy allows some of its suites and our
/// credentials hold an SVID whose key signs with it; a server offers both when both are
/// possible and picks per ClientHello. To insist on SM alone, list only SM suites in
/// [`TlsPolicy::suites`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SmPreference {
    /// Server: the family of the first suite in the client's list that we could serve.
    /// Client: offer the standard suites first.
    #[default]
    FollowClient,
    /// Prefer SM whenever the peer offers it. Client: offer the SM suites (and `curveSM2`'s
    /// key share) first.
    PreferSm,
    /// Prefer the standard family whenever the peer offers it; SM only for SM-only peers.
    PreferStandard,
}

impl SmPreference {
    /// The name used on the command line (`follow-client`, `prefer-sm`, `prefer-standard`).
    pub const fn name(self) -> &'static str {
        match self {
            SmPreference::FollowClient => "follow-client",
            SmPreference::PreferSm => "prefer-sm",
            SmPreference::PreferStandard => "prefer-standard",
        }
    }

    /// Parses [`SmPreference::name`] (case-insensitive; `sm` and `standard` are accepted too).
    pub fn parse(s: &str) -> Option<SmPreference> {
        match s.trim().to_ascii_lowercase().as_str() {
            "follow-client" | "client" => Some(SmPreference::FollowClient),
            "prefer-sm" | "sm" => Some(SmPreference::PreferSm),
            "prefer-standard" | "standard" => Some(SmPreference::PreferStandard),
            _ => None,
        }
    }
}

/// Everything a stack needs to build acceptors and connectors.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// Our SVID and the trust bundles, read at each handshake.
    pub identity: Arc<IdentityStore>,
    /// Which peers we accept (servers check clients; clients check servers too).
    pub authorizer: Authorizer,
    /// Versions, suites and groups.
    pub policy: TlsPolicy,
    /// The composed crypto provider: rustls runs on it; every stack verifies peer chains with
    /// its signature-verification algorithms.
    pub provider: Arc<rustls::crypto::CryptoProvider>,
}

/// What the handshake established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PeerInfo {
    /// The stack that ran the handshake (`rustls`, `openssl`, `boring`).
    pub stack: &'static str,
    /// Negotiated version (`TLSv1.3`).
    pub version: String,
    /// Negotiated suite, IANA name (`TLS_AES_128_GCM_SHA256`).
    pub suite: String,
    /// Negotiated key-exchange group (`X25519`), when the stack reports it.
    pub group: Option<String>,
    /// The peer's SPIFFE ID.
    pub peer_id: SpiffeId,
    /// The peer's chain as presented, leaf first (DER).
    #[serde(skip)]
    pub peer_chain: Vec<CertificateDer<'static>>,
}

/// An established TLS connection: plaintext I/O plus what was negotiated.
pub struct TlsStream {
    /// Read and write application data here.
    pub io: BoxedIo,
    /// The negotiated parameters and the authenticated peer.
    pub peer: PeerInfo,
}

impl Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer", &self.peer)
            .finish()
    }
}

/// Options for one outgoing connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// The SPIFFE ID the server must present (on top of the authorizer).
    pub expect_id: Option<SpiffeId>,
    /// The SNI to send; default: none for native stacks, the expected trust domain for rustls.
    pub server_name: Option<String>,
}

/// Server side: runs mutual-TLS handshakes on accepted streams.
pub trait TlsAcceptor: Send + Sync {
    /// Runs the server handshake on `io`, requiring and verifying a client SVID.
    fn accept(&self, io: BoxedIo) -> HandshakeFuture;
}

/// Client side: runs mutual-TLS handshakes on connected streams.
pub trait TlsConnector: Send + Sync {
    /// Runs the client handshake on `io`, presenting our SVID and verifying the server's.
    fn connect(&self, io: BoxedIo, options: ConnectOptions) -> HandshakeFuture;
}

/// A TLS implementation.
pub trait TlsStack: Send + Sync + Debug {
    /// Short name (`rustls`, `openssl`, `boring`).
    fn name(&self) -> &'static str;
    /// Builds a server-side acceptor.
    fn acceptor(&self, config: &StackConfig) -> Result<Arc<dyn TlsAcceptor>, TlsError>;
    /// Builds a client-side connector.
    fn connector(&self, config: &StackConfig) -> Result<Arc<dyn TlsConnector>, TlsError>;
}
