//! rustls private-key loading and signing over the selected [`Signature`] algorithms.
//!
//! A PKCS#8 key is offered to every selected signature algorithm; each that accepts it
//! signs the schemes of its own algorithm. So an RSA key signs PSS with the engine chosen for
//! `rsa-pss` and PKCS#1 v1.5 with the engine chosen for `rsa-pkcs1`.

use std::sync::Arc;

use rustls::crypto::KeyProvider;
use rustls::pki_types::{alg_id, AlgorithmIdentifier, PrivateKeyDer, SubjectPublicKeyInfoDer};
use rustls::sign::{public_key_to_spki, Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};

use super::crypto_error;
use super::intern::intern;
use super::rfc8998::SM2SIG_SM3;
use crate::algorithm::{AlgorithmId, SigScheme};
use crate::engine::{self, Signature};
use crate::error::CryptoError;
use crate::registry::Selection;

/// The TLS name of a scheme usable in handshakes; certificate-only combinations (a P-256
/// key with SHA-384, and the reverse) have none (RFC 8446 §4.2.3 binds curve and hash).
pub(crate) fn tls_scheme(scheme: SigScheme) -> Option<SignatureScheme> {
    match scheme {
        SigScheme::EcdsaP256Sha256 => Some(SignatureScheme::ECDSA_NISTP256_SHA256),
        SigScheme::EcdsaP384Sha384 => Some(SignatureScheme::ECDSA_NISTP384_SHA384),
        SigScheme::EcdsaP256Sha384 | SigScheme::EcdsaP384Sha256 => None,
        SigScheme::Ed25519 => Some(SignatureScheme::ED25519),
        SigScheme::RsaPssSha256 => Some(SignatureScheme::RSA_PSS_SHA256),
        SigScheme::RsaPssSha384 => Some(SignatureScheme::RSA_PSS_SHA384),
        SigScheme::RsaPssSha512 => Some(SignatureScheme::RSA_PSS_SHA512),
        SigScheme::RsaPkcs1Sha256 => Some(SignatureScheme::RSA_PKCS1_SHA256),
        SigScheme::RsaPkcs1Sha384 => Some(SignatureScheme::RSA_PKCS1_SHA384),
        SigScheme::RsaPkcs1Sha512 => Some(SignatureScheme::RSA_PKCS1_SHA512),
        // TLS 1.3 signs with the RFC 8998 ID; the default-ID scheme is for certificates.
        SigScheme::Sm2Sm3Tls13 => Some(SM2SIG_SM3),
        SigScheme::Sm2Sm3 => None,
    }
}

/// `id-ecPublicKey` (1.2.840.10045.2.1) with the SM2 curve (1.2.156.10197.1.301), the
/// SubjectPublicKeyInfo algorithm of SM2 keys (GB/T 35276-2017 §7, GM/T 0006), as DER
/// contents of the AlgorithmIdentifier.
const SM2_PUBLIC_KEY: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
    0x01, 0x82, 0x2d,
]);

/// The SubjectPublicKeyInfo algorithm of a key type (RFC 5480, RFC 8410, RFC 8017, and
/// GB/T 35276 for SM2).
pub(crate) fn public_key_alg_id(id: AlgorithmId) -> Option<AlgorithmIdentifier> {
    match id {
        AlgorithmId::EcdsaP256 => Some(alg_id::ECDSA_P256),
        AlgorithmId::EcdsaP384 => Some(alg_id::ECDSA_P384),
        AlgorithmId::Ed25519 => Some(alg_id::ED25519),
        AlgorithmId::RsaPss | AlgorithmId::RsaPkcs1 => Some(alg_id::RSA_ENCRYPTION),
        AlgorithmId::Sm2 => Some(SM2_PUBLIC_KEY),
        _ => None,
    }
}

/// Loads keys with the selected signature algorithms.
#[derive(Debug)]
pub(crate) struct KeyLoader {
    algorithms: Vec<(AlgorithmId, &'static dyn Signature)>,
}

/// The interned key loader for the selection's signature engines.
pub(crate) fn key_provider(selection: &Selection) -> &'static KeyLoader {
    let chosen: Vec<_> = AlgorithmId::ALL
        .iter()
        .filter_map(|id| selection.signature(*id))
        .collect();
    let key = chosen
        .iter()
        .map(|(engine, s)| format!("{}={}", s.id(), engine.name))
        .collect::<Vec<_>>()
        .join(",");
    intern(key, || KeyLoader {
        algorithms: chosen.iter().map(|(_, s)| (s.id(), *s)).collect(),
    })
}

impl KeyProvider for KeyLoader {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, Error> {
        let PrivateKeyDer::Pkcs8(pkcs8) = &key_der else {
            return Err(Error::General(
                "meshtls engines load PKCS#8 private keys only".into(),
            ));
        };
        let mut keys = Vec::new();
        let mut failure = None;
        for (id, algorithm) in &self.algorithms {
            match algorithm.load_signing_key(pkcs8.secret_pkcs8_der()) {
                Ok(key) => keys.push((*id, Arc::<dyn engine::SigningKey>::from(key))),
                Err(CryptoError::WrongKeyType) => {}
                Err(error) => failure = Some(error),
            }
        }
        match (keys.is_empty(), failure) {
            (false, _) => Ok(Arc::new(LoadedKey { keys })),
            (true, Some(error)) => Err(crypto_error(error)),
            (true, None) => Err(Error::General(
                "no selected signature algorithm accepts this private key type".into(),
            )),
        }
    }
}

/// One private key as loaded by each selected algorithm that accepts it.
#[derive(Debug)]
struct LoadedKey {
    keys: Vec<(AlgorithmId, Arc<dyn engine::SigningKey>)>,
}

impl SigningKey for LoadedKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.keys.iter().find_map(|(_, key)| {
            key.schemes().iter().find_map(|scheme| {
                let tls = tls_scheme(*scheme).filter(|s| offered.contains(s))?;
                Some(Box::new(KeySigner {
                    key: Arc::clone(key),
                    scheme: *scheme,
                    tls,
                }) as Box<dyn Signer>)
            })
        })
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        let (id, key) = self.keys.first()?;
        Some(public_key_to_spki(
            &public_key_alg_id(*id)?,
            key.public_key(),
        ))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.keys.first().map(|(id, _)| *id) {
            Some(AlgorithmId::EcdsaP256 | AlgorithmId::EcdsaP384) => SignatureAlgorithm::ECDSA,
            Some(AlgorithmId::Ed25519) => SignatureAlgorithm::ED25519,
            Some(AlgorithmId::RsaPss | AlgorithmId::RsaPkcs1) => SignatureAlgorithm::RSA,
            _ => SignatureAlgorithm::Anonymous,
        }
    }
}

#[derive(Debug)]
struct KeySigner {
    key: Arc<dyn engine::SigningKey>,
    scheme: SigScheme,
    tls: SignatureScheme,
}

impl Signer for KeySigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.key.sign(self.scheme, message).map_err(crypto_error)
    }

    fn scheme(&self) -> SignatureScheme {
        self.tls
    }
}
