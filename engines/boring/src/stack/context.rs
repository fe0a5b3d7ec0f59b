//! BoringSSL contexts built from the current credentials, one per credentials generation.
//!
//! A context holds our SVID, the policy and the verification mode. Building one parses the
//! certificates and key, so it is done once per rotation and shared by every handshake of
//! that generation; connections keep a reference to theirs, so rotation never disturbs them.

use std::sync::{Mutex, PoisonError};

use btls::pkey::PKey;
use btls::ssl::{
    SslContext, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode,
    SslSignatureAlgorithm,
};
use btls::x509::X509;
use meshtls_tls_core::{ConfigError, Credentials, TlsError};

use super::error::stack;
use super::policy::NativePolicy;

/// The context of the latest credentials generation seen.
#[derive(Debug)]
pub(super) struct ContextCache {
    policy: NativePolicy,
    current: Mutex<Option<(u64, SslContext)>>,
}

impl ContextCache {
    /// An empty cache under `policy` (BoringSSL contexts serve both ends).
    pub(super) fn new(policy: NativePolicy) -> ContextCache {
        ContextCache {
            policy,
            current: Mutex::new(None),
        }
    }

    /// The context for `credentials`, built if their generation is new.
    pub(super) fn get(&self, credentials: &Credentials) -> Result<SslContext, TlsError> {
        // A poisoned lock only means a build panicked; the slot still holds a whole entry.
        let mut slot = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((generation, ctx)) = slot.as_ref() {
            if *generation == credentials.generation {
                return Ok(ctx.clone());
            }
        }
        let ctx = build(&self.policy, credentials)?;
        *slot = Some((credentials.generation, ctx.clone()));
        Ok(ctx)
    }
}

fn build(policy: &NativePolicy, credentials: &Credentials) -> Result<SslContext, TlsError> {
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(stack)?;
    apply_policy(&mut b, policy)?;
    set_svid(&mut b, credentials)?;
    // Every handshake authenticates afresh with the current SVID: no resumption.
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.set_options(SslOptions::NO_TICKET);
    Ok(b.build())
}

/// Handshake signatures we verify (RFC 8446 4.2.3), most preferred first. BoringSSL leaves
/// Ed25519 out by default; SVIDs may carry Ed25519 keys, so it is listed. No SHA-1.
const VERIFY_ALGORITHMS: &[SslSignatureAlgorithm] = &[
    SslSignatureAlgorithm::ECDSA_SECP256R1_SHA256,
    SslSignatureAlgorithm::ED25519,
    SslSignatureAlgorithm::RSA_PSS_RSAE_SHA256,
    SslSignatureAlgorithm::RSA_PKCS1_SHA256,
    SslSignatureAlgorithm::ECDSA_SECP384R1_SHA384,
    SslSignatureAlgorithm::RSA_PSS_RSAE_SHA384,
    SslSignatureAlgorithm::RSA_PKCS1_SHA384,
    SslSignatureAlgorithm::RSA_PSS_RSAE_SHA512,
    SslSignatureAlgorithm::RSA_PKCS1_SHA512,
];

fn apply_policy(b: &mut SslContextBuilder, policy: &NativePolicy) -> Result<(), TlsError> {
    b.set_min_proto_version(Some(policy.min)).map_err(stack)?;
    b.set_max_proto_version(Some(policy.max)).map_err(stack)?;
    // Must precede set_cipher_list to take effect.
    b.set_preserve_tls13_cipher_list(policy.tls13_allowed.is_some());
    b.set_strict_cipher_list(&policy.cipher_list)
        .map_err(stack)?;
    if let Some(groups) = &policy.groups {
        b.set_curves_list(groups).map_err(stack)?;
    }
    b.set_verify_algorithm_prefs(VERIFY_ALGORITHMS)
        .map_err(stack)?;
    Ok(())
}

fn set_svid(b: &mut SslContextBuilder, credentials: &Credentials) -> Result<(), TlsError> {
    let svid = &credentials.svid;
    let (leaf, intermediates) = svid
        .chain()
        .split_first()
        .ok_or_else(|| ConfigError::BadCredentials("empty SVID chain".into()))?;
    let leaf = X509::from_der(leaf).map_err(stack)?;
    b.set_certificate(&leaf).map_err(stack)?;
    for cert in intermediates {
        b.add_extra_chain_cert(X509::from_der(cert).map_err(stack)?)
            .map_err(stack)?;
    }
    let key = PKey::private_key_from_pkcs8(svid.key().secret_pkcs8_der()).map_err(stack)?;
    b.set_private_key(&key).map_err(stack)?;
    b.check_private_key().map_err(stack)?;
    Ok(())
}
