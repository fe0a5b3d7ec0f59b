//! Peer verification inside BoringSSL's handshake: a per-connection custom verify callback
//! replaces BoringSSL's own path validation with tls-core's [`PeerVerifier`] and keeps its
//! typed verdict.
//!
//! The callback sees the chain exactly as the peer presented it and answers a rejection
//! with the alert that names the reason (expired, unknown CA, access denied...).

use std::sync::{Arc, OnceLock};

use btls::ssl::{SslAlert, SslRef, SslVerifyError, SslVerifyMode};
use btls::x509::X509Ref;
use meshtls_tls_core::spiffe::{PeerRole, PeerVerifier, SpiffeId};
use meshtls_tls_core::stack::StackConfig;
use meshtls_tls_core::{Credentials, PeerError};
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
        ssl.set_custom_verify_callback(mode, move |ssl| check.on_verify(ssl));
    }

    /// The verdict, if the peer's chain was examined.
    pub(super) fn verdict(&self) -> Option<&Result<SpiffeId, PeerError>> {
        self.verdict.get()
    }

    /// The authenticated peer after a completed handshake. A handshake that finished
    /// without the callback running presented no certificate.
    pub(super) fn peer_id(&self) -> Result<SpiffeId, PeerError> {
        self.verdict
            .get()
            .cloned()
            .unwrap_or(Err(PeerError::NoCertificate))
    }

    fn on_verify(&self, ssl: &mut SslRef) -> Result<(), SslVerifyError> {
        let verdict = self.verdict.get_or_init(|| {
            let chain = presented_chain(ssl, self.role == PeerRole::Client)?;
            PeerVerifier {
                bundles: &self.credentials.bundles,
                authorizer: &self.config.authorizer,
                algorithms: &self.config.provider.signature_verification_algorithms,
            }
            .verify(&chain, self.role, UnixTime::now(), self.expect.as_ref())
        });
        match verdict {
            Ok(_) => Ok(()),
            Err(reason) => Err(SslVerifyError::Invalid(alert_for(reason))),
        }
    }
}

/// The chain the peer presented, leaf first. BoringSSL leaves the leaf out of a server's
/// view of the client chain, so it is put back.
pub(super) fn presented_chain(
    ssl: &SslRef,
    we_are_server: bool,
) -> Result<Vec<CertificateDer<'static>>, PeerError> {
    let der = |c: &X509Ref| {
        c.to_der()
            .map(CertificateDer::from)
            .map_err(|e| PeerError::Malformed(e.to_string()))
    };
    let mut chain = Vec::new();
    if we_are_server {
        let leaf = ssl.peer_certificate().ok_or(PeerError::NoCertificate)?;
        chain.push(der(&leaf)?);
    }
    for cert in ssl.peer_cert_chain().into_iter().flatten() {
        chain.push(der(cert)?);
    }
    if chain.is_empty() {
        return Err(PeerError::NoCertificate);
    }
    Ok(chain)
}

/// The alert (RFC 8446 6.2) that tells the peer why it was rejected.
fn alert_for(reason: &PeerError) -> SslAlert {
    match reason {
        PeerError::NoCertificate => SslAlert::CERTIFICATE_REQUIRED,
        PeerError::UntrustedChain(_) | PeerError::UnknownTrustDomain(_) => SslAlert::UNKNOWN_CA,
        PeerError::Expired => SslAlert::CERTIFICATE_EXPIRED,
        PeerError::BadSignature => SslAlert::DECRYPT_ERROR,
        PeerError::WrongTrustDomain(_)
        | PeerError::IdNotAllowed(_)
        | PeerError::UnexpectedId { .. } => SslAlert::ACCESS_DENIED,
        _ => SslAlert::BAD_CERTIFICATE,
    }
}
