//! OpenSSL contexts built from the current credentials, one per credentials generation.
//!
//! A context holds our SVID, the policy and the verification mode. Building one parses the
//! certificates and key, so it is done once per rotation and shared by every handshake of
//! that generation; connections keep a reference to theirs, so rotation never disturbs them.

use std::sync::{Mutex, PoisonError};

use meshtls_tls_core::{ConfigError, Credentials, TlsError};
use openssl::pkey::PKey;
use openssl::ssl::{SslContext, SslContextBuilder, SslMethod, SslSessionCacheMode};
use openssl::x509::X509;

use super::error::stack;
use super::policy::NativePolicy;

/// Which end of the handshake a context serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    /// Accepts connections.
    Server,
    /// Opens connections.
    Client,
}

/// The context of the latest credentials generation seen.
#[derive(Debug)]
pub(super) struct ContextCache {
    side: Side,
    policy: NativePolicy,
    current: Mutex<Option<(u64, SslContext)>>,
}

impl ContextCache {
    /// An empty cache for `side` under `policy`.
    pub(super) fn new(side: Side, policy: NativePolicy) -> ContextCache {
        ContextCache {
            side,
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
        let ctx = build(self.side, &self.policy, credentials)?;
        *slot = Some((credentials.generation, ctx.clone()));
        Ok(ctx)
    }
}

fn build(
    side: Side,
    policy: &NativePolicy,
    credentials: &Credentials,
) -> Result<SslContext, TlsError> {
    let method = match side {
        Side::Server => SslMethod::tls_server(),
        Side::Client => SslMethod::tls_client(),
    };
    let mut b = SslContextBuilder::new(method).map_err(stack)?;
    apply_policy(&mut b, policy)?;
    set_svid(&mut b, credentials)?;
    // Every handshake authenticates afresh with the current SVID: no resumption.
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.set_num_tickets(0).map_err(stack)?;
    Ok(b.build())
}

fn apply_policy(b: &mut SslContextBuilder, policy: &NativePolicy) -> Result<(), TlsError> {
    b.set_min_proto_version(Some(policy.min)).map_err(stack)?;
    b.set_max_proto_version(Some(policy.max)).map_err(stack)?;
    if let Some(suites) = &policy.tls13_suites {
        b.set_ciphersuites(suites).map_err(stack)?;
    }
    b.set_cipher_list(&policy.tls12_ciphers).map_err(stack)?;
    if let Some(groups) = &policy.groups {
        b.set_groups_list(groups).map_err(stack)?;
    }
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
