//! Signature verification (certificate chains and handshake signatures) over the selected
//! [`Signature`] algorithms, as webpki `SignatureVerificationAlgorithm`s.
//!
//! SM2 has two verifiers with different signer IDs: certificate signatures
//! ([`SigScheme::Sm2Sm3`], ID 1234567812345678) go in `all`, which webpki searches for chain
//! signatures; TLS 1.3 CertificateVerify ([`SigScheme::Sm2Sm3Tls13`], ID
//! "TLSv1.3+GM+Cipher+Suite") is only in `mapping` under `sm2sig_sm3`. webpki takes the
//! first entry of `all` whose algorithm identifiers match a certificate, and both SM2
//! verifiers share them, so the TLS one must stay out of `all`.

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm,
};
use rustls::SignatureScheme;

use super::intern::intern;
use super::rfc8998::SM2SIG_SM3;
use super::sign::public_key_alg_id;
use crate::algorithm::{AlgorithmId, SigScheme};
use crate::engine::{Engine, Signature};
use crate::registry::Selection;

/// TLS schemes in preference order, each with the schemes that may verify it. TLS 1.2 does
/// not bind the ECDSA curve to the hash (RFC 8422 §5.1.1), so either curve verifies.
const MAPPING: &[(SignatureScheme, &[SigScheme])] = &[
    (
        SignatureScheme::ECDSA_NISTP384_SHA384,
        &[SigScheme::EcdsaP384Sha384, SigScheme::EcdsaP256Sha384],
    ),
    (
        SignatureScheme::ECDSA_NISTP256_SHA256,
        &[SigScheme::EcdsaP256Sha256, SigScheme::EcdsaP384Sha256],
    ),
    (SignatureScheme::ED25519, &[SigScheme::Ed25519]),
    (SignatureScheme::RSA_PSS_SHA512, &[SigScheme::RsaPssSha512]),
    (SignatureScheme::RSA_PSS_SHA384, &[SigScheme::RsaPssSha384]),
    (SignatureScheme::RSA_PSS_SHA256, &[SigScheme::RsaPssSha256]),
    (
        SignatureScheme::RSA_PKCS1_SHA512,
        &[SigScheme::RsaPkcs1Sha512],
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA384,
        &[SigScheme::RsaPkcs1Sha384],
    ),
    (
        SignatureScheme::RSA_PKCS1_SHA256,
        &[SigScheme::RsaPkcs1Sha256],
    ),
    // Last, so that standard peers see the schemes they know first.
    (SM2SIG_SM3, &[SigScheme::Sm2Sm3Tls13]),
];

/// `SM2-with-SM3` (1.2.156.10197.1.501, no parameters, as OpenSSL and Tongsuo write it), the
/// X.509 signatureAlgorithm of SM2 certificates (GB/T 35276-2017 §7), as DER contents.
const SM2_SM3: AlgorithmIdentifier =
    AlgorithmIdentifier::from_slice(&[0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75]);

/// The X.509 signatureAlgorithm of a scheme (RFC 5758 §3.2, RFC 8410, RFC 4055, GB/T 35276).
/// RSA-PSS uses the rsaEncryption key type ("legacy key", as most CAs issue). Both SM2
/// schemes name SM2-with-SM3; only [`SigScheme::Sm2Sm3`] verifies certificates.
fn signature_alg_id(scheme: SigScheme) -> AlgorithmIdentifier {
    match scheme {
        SigScheme::EcdsaP256Sha256 | SigScheme::EcdsaP384Sha256 => alg_id::ECDSA_SHA256,
        SigScheme::EcdsaP256Sha384 | SigScheme::EcdsaP384Sha384 => alg_id::ECDSA_SHA384,
        SigScheme::Ed25519 => alg_id::ED25519,
        SigScheme::RsaPssSha256 => alg_id::RSA_PSS_SHA256,
        SigScheme::RsaPssSha384 => alg_id::RSA_PSS_SHA384,
        SigScheme::RsaPssSha512 => alg_id::RSA_PSS_SHA512,
        SigScheme::RsaPkcs1Sha256 => alg_id::RSA_PKCS1_SHA256,
        SigScheme::RsaPkcs1Sha384 => alg_id::RSA_PKCS1_SHA384,
        SigScheme::RsaPkcs1Sha512 => alg_id::RSA_PKCS1_SHA512,
        SigScheme::Sm2Sm3 | SigScheme::Sm2Sm3Tls13 => SM2_SM3,
    }
}

/// Whether webpki may use `scheme` for certificate signatures (see the module docs).
fn verifies_certificates(scheme: SigScheme) -> bool {
    scheme != SigScheme::Sm2Sm3Tls13
}

/// One scheme verified by one engine.
#[derive(Debug)]
struct Verifier {
    signature: &'static dyn Signature,
    scheme: SigScheme,
    public_key_alg_id: AlgorithmIdentifier,
    signature_alg_id: AlgorithmIdentifier,
}

fn verifier(
    engine: &'static Engine,
    signature: &'static dyn Signature,
    scheme: SigScheme,
) -> Option<&'static dyn SignatureVerificationAlgorithm> {
    let public_key_alg_id = public_key_alg_id(scheme.algorithm())?;
    let signature_alg_id = signature_alg_id(scheme);
    Some(intern(format!("{}/{scheme:?}", engine.name), || Verifier {
        signature,
        scheme,
        public_key_alg_id,
        signature_alg_id,
    }))
}

impl SignatureVerificationAlgorithm for Verifier {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.signature
            .verify(self.scheme, public_key, message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.public_key_alg_id
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

type Verifiers = Vec<&'static dyn SignatureVerificationAlgorithm>;
type Mapping = Vec<(
    SignatureScheme,
    &'static [&'static dyn SignatureVerificationAlgorithm],
)>;

/// The selected engines' verifiers for every scheme of every selected signature algorithm.
pub(crate) fn algorithms(selection: &Selection) -> WebPkiSupportedAlgorithms {
    let mut all = Vec::new();
    let mut key = Vec::new();
    for id in AlgorithmId::ALL.iter().copied() {
        if let Some((engine, signature)) = selection.signature(id) {
            key.push(format!("{id}={}", engine.name));
            all.extend(
                id.schemes()
                    .iter()
                    .filter_map(|s| verifier(engine, signature, *s).map(|v| (*s, v))),
            );
        }
    }
    let key = key.join(",");
    let mapping: &'static Mapping = intern(key.clone(), || {
        MAPPING
            .iter()
            .filter_map(|(tls, schemes)| {
                let list: Verifiers = schemes
                    .iter()
                    .filter_map(|s| all.iter().find(|(scheme, _)| scheme == s).map(|(_, v)| *v))
                    .collect();
                if list.is_empty() {
                    return None;
                }
                let list: &'static Verifiers = intern(format!("{key}/{tls:?}"), || list);
                Some((*tls, list.as_slice()))
            })
            .collect()
    });
    let all: &'static Verifiers = intern(key, || {
        all.iter()
            .filter(|(scheme, _)| verifies_certificates(*scheme))
            .map(|(_, v)| *v)
            .collect()
    });
    WebPkiSupportedAlgorithms {
        all: all.as_slice(),
        mapping: mapping.as_slice(),
    }
}
