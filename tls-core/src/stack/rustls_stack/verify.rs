//! Peer verification for rustls: [`PeerVerifier`] against the bundles current at each
//! handshake, and handshake signatures limited to the schemes we advertised.
//!
//! The typed [`PeerError`](crate::PeerError) crosses rustls inside
//! `CertificateError::Other` and is recovered by downcasting in the stack's error mapping.
//! Advertised schemes follow the family in use: a config serving the SM family asks for and
//! accepts only `sm2sig_sm3`, a standard one never does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, PeerMisbehaved,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::identity::IdentityStore;
use crate::spiffe::{Authorizer, PeerRole, PeerVerifier, SpiffeId};

/// Runs [`PeerVerifier`] with the bundles current at the handshake.
#[derive(Debug)]
pub(super) struct PeerCheck {
    /// Our credentials (for the bundles).
    pub(super) identity: Arc<IdentityStore>,
    /// Which peers are allowed.
    pub(super) authorizer: Arc<Authorizer>,
    /// Verification algorithms.
    pub(super) provider: Arc<CryptoProvider>,
    /// The handshake signature schemes we advertise and accept.
    pub(super) schemes: Vec<SignatureScheme>,
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

    fn advertised(&self, dss: &DigitallySignedStruct) -> Result<(), rustls::Error> {
        if self.schemes.contains(&dss.scheme) {
            Ok(())
        } else {
            Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into())
        }
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.advertised(dss)?;
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
        self.advertised(dss)?;
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

/// Server side: requires a client SVID and verifies it.
#[derive(Debug)]
pub(super) struct ClientVerifier(pub(super) PeerCheck);

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
        self.0.schemes.clone()
    }
}

/// Client side: verifies the server's SVID, and its exact ID when one is expected. The
/// server name is not checked: SPIFFE authenticates by URI SAN, not by DNS name.
#[derive(Debug)]
pub(super) struct ServerVerifier {
    /// The checks.
    pub(super) check: PeerCheck,
    /// The ID the server must present.
    pub(super) expect: Option<SpiffeId>,
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
        self.check.schemes.clone()
    }
}
