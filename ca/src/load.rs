//! Loading a signing CA from its PEM files (certificate chain + PKCS#8 key), as `meshtls cert`
//! wrote them or as another tool (OpenSSL, Tongsuo) did.
//!
//! Checks that the certificate is a CA (`cA=true`) naming its trust domain in a
//! `spiffe://<trust-domain>` URI SAN, and that the key is the certificate's. The key type is
//! read from the key: SM2 is id-ecPublicKey on the SM2 curve, the others are what rcgen
//! recognizes.

use meshtls_tls_core::spiffe::{SpiffeId, SpiffeIdError, TrustDomain};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use sm2::pkcs8::PrivateKeyInfo;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::authority::{Cert, CertificateAuthority, Signer};
use crate::error::CaError;
use crate::key::{Key, KeyType};
use crate::sm2_pki::{ID_EC_PUBLIC_KEY, OID_SM2};

/// Why a CA's files could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The certificate file holds no `CERTIFICATE` block.
    #[error("no PEM CERTIFICATE block in the certificate file")]
    NoCertificate,
    /// A PEM block does not decode.
    #[error("bad PEM in the {0} file")]
    Pem(&'static str),
    /// A certificate does not parse as X.509.
    #[error("certificate #{0} in the file does not parse as X.509")]
    BadCertificate(usize),
    /// The first certificate is not a CA.
    #[error("the certificate is not a CA (basicConstraints cA is not set)")]
    NotCa,
    /// The CA certificate has no `spiffe://` URI SAN naming its trust domain.
    #[error("the CA certificate has no spiffe:// URI SAN naming a trust domain")]
    NoTrustDomain,
    /// The CA certificate's URI SAN is not a valid SPIFFE ID.
    #[error("the CA certificate's URI SAN: {0}")]
    BadTrustDomain(SpiffeIdError),
    /// The key is not one of the supported types.
    #[error(
        "the private key is not a supported PKCS#8 key (ecdsa-p256, ecdsa-p384, ed25519, rsa, sm2)"
    )]
    UnsupportedKey,
    /// The key does not belong to the certificate.
    #[error("the private key does not match the CA certificate's public key")]
    KeyMismatch,
}

impl CertificateAuthority {
    /// Loads a signing CA from PEM: `cert_pem` holds the CA's certificate followed by its
    /// issuers' up to the root (only the certificate for a root CA), `key_pem` the CA's
    /// PKCS#8 `PRIVATE KEY`. The trust domain is the certificate's `spiffe://` URI SAN.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertificateAuthority, CaError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| LoadError::Pem("certificate"))?;
        let own = chain.first().ok_or(LoadError::NoCertificate)?;
        for (i, cert) in chain.iter().enumerate() {
            parse(cert, i)?;
        }
        let cert = parse(own, 0)?;
        let trust_domain = ca_trust_domain(&cert)?;
        let pkcs8 =
            PrivatePkcs8KeyDer::from_pem_slice(key_pem).map_err(|_| LoadError::Pem("key"))?;
        let key_type = key_type_of(&pkcs8)?;
        let key = Key::from_pkcs8(key_type, pkcs8).map_err(|_| LoadError::UnsupportedKey)?;
        if !same_public_key(&key.pair.spki_der()?, &cert) {
            return Err(LoadError::KeyMismatch.into());
        }
        let signer = Signer::for_ca_cert(own, key.pair)?;
        let path = chain
            .into_iter()
            .map(Cert::from_der)
            .collect::<Result<Vec<_>, _>>()?;
        CertificateAuthority::assemble(trust_domain, key_type, signer, key.pkcs8, path)
    }
}

/// Parses one whole certificate whose subject rcgen can read back (no empty RDN).
fn parse<'a>(der: &'a CertificateDer<'_>, index: usize) -> Result<X509Certificate<'a>, LoadError> {
    match x509_parser::parse_x509_certificate(der.as_ref()) {
        Ok(([], cert)) if cert.subject().iter().all(|rdn| rdn.iter().next().is_some()) => Ok(cert),
        _ => Err(LoadError::BadCertificate(index)),
    }
}

/// The trust domain a CA certificate signs for: `cA=true` and one `spiffe://` URI SAN.
fn ca_trust_domain(cert: &X509Certificate<'_>) -> Result<TrustDomain, LoadError> {
    let is_ca = cert
        .basic_constraints()
        .map_err(|_| LoadError::BadCertificate(0))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(LoadError::NotCa);
    }
    let san = cert
        .subject_alternative_name()
        .map_err(|_| LoadError::BadCertificate(0))?
        .ok_or(LoadError::NoTrustDomain)?;
    let uri = san
        .value
        .general_names
        .iter()
        .find_map(|n| match n {
            GeneralName::URI(u) if u.starts_with("spiffe://") => Some(*u),
            _ => None,
        })
        .ok_or(LoadError::NoTrustDomain)?;
    let id = SpiffeId::parse(uri).map_err(LoadError::BadTrustDomain)?;
    Ok(id.trust_domain().clone())
}

/// The key type of a PKCS#8 key.
fn key_type_of(pkcs8: &PrivatePkcs8KeyDer<'_>) -> Result<KeyType, LoadError> {
    let info = PrivateKeyInfo::try_from(pkcs8.secret_pkcs8_der())
        .map_err(|_| LoadError::UnsupportedKey)?;
    if info.algorithm.oid == ID_EC_PUBLIC_KEY && info.algorithm.parameters_oid() == Ok(OID_SM2) {
        return Ok(KeyType::Sm2);
    }
    let pair = rcgen::KeyPair::try_from(pkcs8.secret_pkcs8_der())
        .map_err(|_| LoadError::UnsupportedKey)?;
    KeyType::ALL
        .iter()
        .copied()
        .find(|kt| kt.rcgen_algorithm() == Some(pair.algorithm()))
        .ok_or(LoadError::UnsupportedKey)
}

/// Whether `spki_der` holds the certificate's public key (algorithm and key bits).
fn same_public_key(spki_der: &[u8], cert: &X509Certificate<'_>) -> bool {
    let Ok(([], ours)) = SubjectPublicKeyInfo::from_der(spki_der) else {
        return false;
    };
    let theirs = cert.public_key();
    ours.algorithm.algorithm == theirs.algorithm.algorithm
        && ours.subject_public_key.data == theirs.subject_public_key.data
}
