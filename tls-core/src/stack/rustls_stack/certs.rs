//! Our certificates for rustls: every signing SVID of the current credentials, loaded once per
//! credentials generation, and the resolvers that pick one per handshake by the signature
//! schemes the peer accepts (an SM2 SVID for `sm2sig_sm3`, an ECDSA one for ECDSA schemes).
//!
//! Reading [`IdentityStore::current`] at each handshake is what makes rotation reach the next
//! handshake; established connections keep the keys they own.

use std::sync::{Arc, Mutex};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use rustls_pki_types::PrivateKeyDer;

use crate::compose::rfc8998;
use crate::identity::IdentityStore;

/// The loaded SVIDs of one credentials generation, default first.
#[derive(Debug)]
pub(super) struct LoadedSvids {
    keys: Vec<Arc<CertifiedKey>>,
}

impl LoadedSvids {
    /// The first SVID whose key signs one of `schemes`.
    pub(super) fn signing(&self, schemes: &[SignatureScheme]) -> Option<&Arc<CertifiedKey>> {
        self.keys
            .iter()
            .find(|k| k.key.choose_scheme(schemes).is_some())
    }
}

/// Loads the current SVIDs, once per credentials generation.
#[derive(Debug)]
pub(super) struct CertCache {
    identity: Arc<IdentityStore>,
    provider: Arc<CryptoProvider>,
    cached: Mutex<Option<(u64, Arc<LoadedSvids>)>>,
}

impl CertCache {
    /// A cache over `identity`'s credentials, loading keys with `provider`.
    pub(super) fn new(identity: Arc<IdentityStore>, provider: Arc<CryptoProvider>) -> CertCache {
        CertCache {
            identity,
            provider,
            cached: Mutex::new(None),
        }
    }

    /// The SVIDs of the current credentials that `provider` can load. SVIDs it cannot load
    /// (an SM2 one with no SM2 engine selected) are left out with a warning; it is an error
    /// only when none loads.
    pub(super) fn current(&self) -> Result<Arc<LoadedSvids>, rustls::Error> {
        let creds = self.identity.current();
        // A poisoned lock only means a panic between whole-value stores: the value is usable.
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((generation, svids)) = cached.as_ref() {
            if *generation == creds.generation {
                return Ok(svids.clone());
            }
        }
        let mut keys = Vec::new();
        let mut first_error = None;
        for svid in creds.svids() {
            let loaded = CertifiedKey::from_der(
                svid.chain().to_vec(),
                PrivateKeyDer::Pkcs8(svid.key().clone_key()),
                &self.provider,
            );
            match loaded {
                Ok(key) => keys.push(Arc::new(key)),
                Err(error) => {
                    tracing::warn!(id = %svid.id(), %error, "SVID unusable with this provider");
                    first_error.get_or_insert(error);
                }
            }
        }
        if keys.is_empty() {
            return Err(first_error
                .unwrap_or_else(|| rustls::Error::General("credentials hold no SVID".into())));
        }
        let svids = Arc::new(LoadedSvids { keys });
        *cached = Some((creds.generation, svids.clone()));
        Ok(svids)
    }

    /// [`Self::current`] for a resolver: failures are logged and end in "no certificate".
    fn current_logged(&self) -> Option<Arc<LoadedSvids>> {
        self.current()
            .inspect_err(|e| tracing::warn!(error = %e, "cannot load our SVIDs for a handshake"))
            .ok()
    }
}

/// Server side: the SVID for one family's config: one that signs a scheme both the client
/// and the family allow, else any of the family's (rustls then names what the client lacks,
/// such as a common suite or scheme).
#[derive(Debug)]
pub(super) struct ServerCerts {
    /// The loaded SVIDs.
    pub(super) cache: Arc<CertCache>,
    /// The handshake signature schemes of the family this config serves.
    pub(super) schemes: Vec<SignatureScheme>,
}

impl ResolvesServerCert for ServerCerts {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offered: Vec<SignatureScheme> = client_hello
            .signature_schemes()
            .iter()
            .copied()
            .filter(|s| self.schemes.contains(s))
            .collect();
        let svids = self.cache.current_logged()?;
        svids
            .signing(&offered)
            .or_else(|| svids.signing(&self.schemes))
            .cloned()
    }
}

/// Client side: the SVID whose key signs a scheme the server's CertificateRequest lists.
///
/// The request does not say which suite the server chose, so when it accepts both
/// `sm2sig_sm3` and standard schemes, the family we offered first wins.
#[derive(Debug)]
pub(super) struct ClientCerts {
    /// The loaded SVIDs.
    pub(super) cache: Arc<CertCache>,
    /// Whether SM was offered first.
    pub(super) sm_first: bool,
}

impl ResolvesClientCert for ClientCerts {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let svids = self.cache.current_logged()?;
        let (sm, standard): (Vec<SignatureScheme>, Vec<SignatureScheme>) =
            sigschemes.iter().partition(|s| rfc8998::is_sm_scheme(**s));
        let (first, second) = if self.sm_first {
            (sm, standard)
        } else {
            (standard, sm)
        };
        svids
            .signing(&first)
            .or_else(|| svids.signing(&second))
            .cloned()
    }

    fn has_certs(&self) -> bool {
        true
    }
}
