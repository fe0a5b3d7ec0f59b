//! Peer verification inside OpenSSL's handshake: a per-connection verify callback hands the
//! peer's chain to tls-core's [`PeerVerifier`] and keeps its typed verdict.
//!
//! OpenSSL's own path validation runs against an empty trust store and so always "fails";
//! the callback accepts every depth above the leaf and decides at depth 0, where OpenSSL has
//! assembled the chain from what the peer sent. Returning `false` aborts the handshake with
//! an alert; the verdict is kept so the caller reports the [`PeerError`], not OpenSSL's text.

use std::sync::{Arc, OnceLock};

use meshtls_tls_core::spiffe::{PeerRole, PeerVerifier, SpiffeId};
use meshtls_tls_core::stack::StackConfig;
use meshtls_tls_core::{Credentials, PeerError};
use openssl::ssl::{SslRef, SslVerifyMode};
use openssl::x509::{X509StoreContextRef, X509VerifyResult};
use rustls_pki_types::{CertificateDer, UnixTime};

/// One connection's verification inputs and verdict.
#[derive(Debug)]
pub(super) struct PeerCheck {
    credentials: Arc<Credentials>,
    config: Arc<StackConfig>,
    role: PeerRole,
    expect: Option<SpiffeId>,
    verdict: OnceLock<Result<SpiffeId, PeerError>>,
}

impl PeerCheck {
    /// Checks peers in `role` against the bundles of `credentials` (the snapshot the
    /// connection's context was built from) with `config`'s authorizer and algorithms.
    pub(super) fn new(
        credentials: Arc<Credentials>,
        config: Arc<StackConfig>,
        role: PeerRole,
        expect: Option<SpiffeId>,
    ) -> Arc<PeerCheck> {
        Arc::new(PeerCheck {
            credentials,
            config,
            role,
            expect,
            verdict: OnceLock::new(),
        })
    }

    /// Installs the callback on `ssl`; a server also demands a client certificate.
    pub(super) fn install(self: &Arc<Self>, ssl: &mut SslRef) {
        let mode = match self.role {
            PeerRole::Client => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            PeerRole::Server => SslVerifyMode::PEER,
        };
        let check = Arc::clone(self);
        ssl.set_verify_callback(mode, move |_preverified, ctx| check.on_verify(ctx));
    }

    /// The verdict, if the leaf was examined.
    pub(super) fn verdict(&self) -> Option<&Result<SpiffeId, PeerError>> {
        self.verdict.get()
    }

    /// The authenticated peer after a completed handshake. A handshake that finished
    /// without the leaf reaching the callback presented no certificate.
    pub(super) fn peer_id(&self) -> Result<SpiffeId, PeerError> {
        self.verdict
            .get()
            .cloned()
            .unwrap_or(Err(PeerError::NoCertificate))
    }

    fn on_verify(&self, ctx: &mut X509StoreContextRef) -> bool {
        if ctx.error_depth() > 0 {
            return true;
        }
        let verdict = self.verdict.get_or_init(|| self.verify_chain(ctx));
        if verdict.is_err() {
            ctx.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
        }
        verdict.is_ok()
    }

    fn verify_chain(&self, ctx: &X509StoreContextRef) -> Result<SpiffeId, PeerError> {
        let chain = ctx
            .chain()
            .ok_or(PeerError::NoCertificate)?
            .iter()
            .map(|cert| {
                cert.to_der()
                    .map(CertificateDer::from)
                    .map_err(|e| PeerError::Malformed(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        PeerVerifier {
            bundles: &self.credentials.bundles,
            authorizer: &self.config.authorizer,
            algorithms: &self.config.provider.signature_verification_algorithms,
        }
        .verify(&chain, self.role, UnixTime::now(), self.expect.as_ref())
    }
}
