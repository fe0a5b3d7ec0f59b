//! rustls key-exchange groups over an engine's [`KeyExchange`].
//!
//! The server side uses [`KeyExchange::respond`], which for KEM groups (X25519MLKEM768)
//! encapsulates to the client's share rather than running a Diffie-Hellman.

use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, ProtocolVersion};

use super::crypto_error;
use super::intern::intern;
use super::rfc8998::CURVE_SM2;
use crate::algorithm::AlgorithmId;
use crate::engine::{Engine, KeyExchange, KxSecret};
use crate::registry::Selection;

/// Groups in preference order (the first gets the client's key share): post-quantum hybrid
/// first, as current rustls and BoringSSL defaults do, then X25519 and the NIST curves, and
/// RFC 8998's curveSM2 last (stacks move it first for peers that prefer SM).
const PREFERENCE: &[AlgorithmId] = &[
    AlgorithmId::X25519MlKem768,
    AlgorithmId::X25519,
    AlgorithmId::P256,
    AlgorithmId::P384,
    AlgorithmId::CurveSm2,
];

/// The TLS `NamedGroup` of a catalogue group (RFC 8446 §4.2.7; 0x11ec from
/// draft-ietf-tls-ecdhe-mlkem; 41 from RFC 8998), and whether it is TLS 1.3-only.
fn named_group(id: AlgorithmId) -> Option<(NamedGroup, bool)> {
    match id {
        // RFC 8998 defines curveSM2 for TLS 1.3 only (TLCP is not spoken through rustls).
        AlgorithmId::CurveSm2 => Some((CURVE_SM2, true)),
        AlgorithmId::X25519 => Some((NamedGroup::X25519, false)),
        AlgorithmId::P256 => Some((NamedGroup::secp256r1, false)),
        AlgorithmId::P384 => Some((NamedGroup::secp384r1, false)),
        AlgorithmId::X25519MlKem768 => Some((NamedGroup::X25519MLKEM768, true)),
        _ => None,
    }
}

/// The selected groups as rustls groups, in preference order.
pub(crate) fn groups(selection: &Selection) -> Vec<&'static dyn SupportedKxGroup> {
    PREFERENCE
        .iter()
        .filter_map(|id| selection.key_exchange(*id))
        .filter_map(|(engine, kx)| adapter(engine, kx))
        .map(|g| g as &'static dyn SupportedKxGroup)
        .collect()
}

/// An engine's group seen as a rustls group.
#[derive(Debug)]
pub(crate) struct KxAdapter {
    kx: &'static dyn KeyExchange,
    group: NamedGroup,
    tls13_only: bool,
}

fn adapter(engine: &'static Engine, kx: &'static dyn KeyExchange) -> Option<&'static KxAdapter> {
    let id = kx.id();
    let (group, tls13_only) = named_group(id)?;
    Some(intern(format!("{}/{id}", engine.name), || KxAdapter {
        kx,
        group,
        tls13_only,
    }))
}

impl SupportedKxGroup for KxAdapter {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let secret = self.kx.start().map_err(crypto_error)?;
        Ok(Box::new(Active {
            secret,
            group: self.group,
        }))
    }

    fn start_and_complete(&self, peer_pub_key: &[u8]) -> Result<CompletedKeyExchange, Error> {
        let (pub_key, secret) = self.kx.respond(peer_pub_key).map_err(crypto_error)?;
        Ok(CompletedKeyExchange {
            group: self.group,
            pub_key,
            secret: SharedSecret::from(secret.secret_bytes()),
        })
    }

    fn name(&self) -> NamedGroup {
        self.group
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        !self.tls13_only || version == ProtocolVersion::TLSv1_3
    }
}

struct Active {
    secret: Box<dyn KxSecret>,
    group: NamedGroup,
}

impl ActiveKeyExchange for Active {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
        let secret = self.secret.complete(peer_pub_key).map_err(crypto_error)?;
        Ok(SharedSecret::from(secret.secret_bytes()))
    }

    fn pub_key(&self) -> &[u8] {
        self.secret.public_key()
    }

    fn group(&self) -> NamedGroup {
        self.group
    }
}
