//! Certificates built with RustCrypto's `x509-cert`: every certificate that an SM2 key signs
//! or certifies, since rcgen knows no SM2. Any CA key can sign here (rcgen's key pairs sign
//! raw bytes too), so an SM2 CA issues every key type and any CA issues SM2 leaves.
//!
//! The profile is the one the rcgen path in `authority` writes: v3, a random 16-byte serial,
//! UTF8String names, and the extensions in rcgen's order (authority key ID, SAN - critical
//! when the subject is empty -, critical key usage, EKU, subject key ID, critical basic
//! constraints), key IDs being the first 20 bytes of SHA-256 over the SubjectPublicKeyInfo.

use der::asn1::{Any, BitString, Ia5String, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Tag};
use rustls_pki_types::CertificateDer;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;

use crate::error::CaError;
use crate::key::{KeyPair, KeyType};
use crate::sm2_pki;
use crate::validity::Validity;

/// id-at-organizationName (X.520).
const OID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// id-at-commonName (X.520).
const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// id-kp-serverAuth (RFC 5280 section 4.2.1.12).
const OID_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth (RFC 5280 section 4.2.1.12).
const OID_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// ecdsa-with-SHA256 (RFC 5758 section 3.2).
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758 section 3.2).
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// id-Ed25519 (RFC 8410 section 3).
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// sha256WithRSAEncryption (RFC 4055 section 5).
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// Key identifier length: SHA-256 truncated to SHA-1's size, as rcgen does.
const KEY_ID_LEN: usize = 20;

/// What a certificate's key may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A signing CA: `cA=true` with this pathLenConstraint, keyCertSign + cRLSign.
    Ca(Option<u8>),
    /// An X.509-SVID: digitalSignature (+ keyEncipherment for RSA keys), both TLS EKUs.
    Svid { key_encipherment: bool },
    /// A TLCP encryption certificate: keyEncipherment, dataEncipherment and keyAgreement,
    /// without digitalSignature; both TLS EKUs.
    Encryption,
}

/// The subject side of a certificate to issue.
pub(crate) struct Template<'a> {
    /// Subject name.
    pub(crate) subject: Name,
    /// Subject alternative names, in order.
    pub(crate) sans: Vec<GeneralName>,
    /// The certified public key, as DER SubjectPublicKeyInfo.
    pub(crate) spki_der: &'a [u8],
    /// Serial number (positive, big-endian).
    pub(crate) serial: &'a [u8],
    /// Validity window.
    pub(crate) validity: Validity,
    /// Key usage profile.
    pub(crate) purpose: Purpose,
}

/// The issuing side: the CA's name, key ID and signing key.
pub(crate) struct Issuer<'a> {
    /// Issuer name (the CA certificate's subject).
    pub(crate) name: &'a Name,
    /// The CA's subject key ID, written as the authority key ID.
    pub(crate) key_id: &'a [u8],
    /// The CA's private key.
    pub(crate) key: SignWith<'a>,
}

/// A CA private key to sign with.
#[derive(Clone, Copy)]
pub(crate) enum SignWith<'a> {
    /// An rcgen key pair (ECDSA, Ed25519, RSA) of this type.
    Rcgen(&'a rcgen::KeyPair, KeyType),
    /// An SM2 key: SM2-with-SM3, default ID.
    Sm2(&'a sm2::SecretKey),
}

impl<'a> SignWith<'a> {
    /// Borrows a key pair as a signer.
    pub(crate) fn from_pair(pair: &'a KeyPair, key_type: KeyType) -> SignWith<'a> {
        match pair {
            KeyPair::Rcgen(pair) => SignWith::Rcgen(pair, key_type),
            KeyPair::Sm2(key) => SignWith::Sm2(key),
        }
    }

    fn algorithm(self) -> AlgorithmIdentifierOwned {
        let oid_only = |oid| AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        };
        match self {
            SignWith::Sm2(_) => sm2_pki::signature_algorithm(),
            SignWith::Rcgen(_, kt) => match kt {
                KeyType::EcdsaP256 => oid_only(OID_ECDSA_SHA256),
                KeyType::EcdsaP384 => oid_only(OID_ECDSA_SHA384),
                KeyType::Ed25519 => oid_only(OID_ED25519),
                // RFC 4055 section 5: the parameters are NULL.
                KeyType::Rsa2048 => AlgorithmIdentifierOwned {
                    oid: OID_RSA_SHA256,
                    parameters: Some(Any::null()),
                },
                KeyType::Sm2 => sm2_pki::signature_algorithm(),
            },
        }
    }

    fn sign(self, message: &[u8]) -> Result<Vec<u8>, CaError> {
        match self {
            SignWith::Rcgen(pair, _) => Ok(rcgen::SigningKey::sign(pair, message)?),
            SignWith::Sm2(key) => sm2_pki::sign(key, message),
        }
    }
}

/// Builds and signs one certificate.
pub(crate) fn issue(
    template: &Template<'_>,
    issuer: &Issuer<'_>,
) -> Result<CertificateDer<'static>, CaError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(template.spki_der)?;
    let signature = issuer.key.algorithm();
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(template.serial)?,
        signature: signature.clone(),
        issuer: issuer.name.clone(),
        validity: template.validity.to_x509()?,
        subject: template.subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions(template, issuer)?),
    };
    let sig = issuer.key.sign(&tbs.to_der()?)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: signature,
        signature: BitString::from_bytes(&sig)?,
    };
    Ok(CertificateDer::from(cert.to_der()?))
}

/// The extensions, in the order rcgen writes them.
fn extensions(template: &Template<'_>, issuer: &Issuer<'_>) -> Result<Vec<Extension>, CaError> {
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer.key_id)?),
        ..Default::default()
    };
    let (usages, eku, ca) = match template.purpose {
        Purpose::Ca(path_len) => (
            KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            None,
            Some(path_len),
        ),
        Purpose::Svid { key_encipherment } => {
            let mut usages = KeyUsages::DigitalSignature.into();
            if key_encipherment {
                usages |= KeyUsages::KeyEncipherment;
            }
            (usages, Some(tls_ekus()), None)
        }
        Purpose::Encryption => (
            KeyUsages::KeyEncipherment | KeyUsages::DataEncipherment | KeyUsages::KeyAgreement,
            Some(tls_ekus()),
            None,
        ),
    };
    let mut exts = vec![extension(&aki, false)?];
    if !template.sans.is_empty() {
        // RFC 5280 section 4.2.1.6: critical when the subject is empty.
        let critical = template.subject.0.is_empty();
        exts.push(extension(&SubjectAltName(template.sans.clone()), critical)?);
    }
    exts.push(extension(&KeyUsage(usages), true)?);
    if let Some(eku) = eku {
        exts.push(extension(&eku, false)?);
    }
    let ski = SubjectKeyIdentifier(OctetString::new(key_id(template.spki_der))?);
    exts.push(extension(&ski, false)?);
    let basic = BasicConstraints {
        ca: ca.is_some(),
        path_len_constraint: ca.flatten(),
    };
    exts.push(extension(&basic, true)?);
    Ok(exts)
}

fn tls_ekus() -> ExtendedKeyUsage {
    ExtendedKeyUsage(vec![OID_SERVER_AUTH, OID_CLIENT_AUTH])
}

fn extension<T: der::oid::AssociatedOid + Encode>(
    value: &T,
    critical: bool,
) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// A subject name: organization "meshtls" and, if given, a common name (as `authority` writes).
pub(crate) fn name(common_name: Option<&str>) -> Result<Name, CaError> {
    let mut rdns = vec![rdn(OID_ORGANIZATION, "meshtls")?];
    if let Some(cn) = common_name {
        rdns.push(rdn(OID_COMMON_NAME, cn)?);
    }
    Ok(RdnSequence(rdns))
}

fn rdn(oid: ObjectIdentifier, value: &str) -> Result<RelativeDistinguishedName, CaError> {
    let atv = AttributeTypeAndValue {
        oid,
        value: Any::new(Tag::Utf8String, value.as_bytes())?,
    };
    Ok(RelativeDistinguishedName(SetOfVec::try_from(vec![atv])?))
}

/// A URI SAN.
pub(crate) fn uri_san(uri: &str) -> Result<GeneralName, CaError> {
    Ok(GeneralName::UniformResourceIdentifier(Ia5String::new(uri)?))
}

/// A DNS SAN.
pub(crate) fn dns_san(name: &str) -> Result<GeneralName, CaError> {
    Ok(GeneralName::DnsName(Ia5String::new(name)?))
}

/// DER as one PEM block with `label` (LF line endings, 64 columns, as rcgen writes).
pub(crate) fn to_pem(label: &str, der: &[u8]) -> Result<String, CaError> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map_err(|e| CaError::Encoding(e.into()))
}

/// The key ID of a SubjectPublicKeyInfo: SHA-256 truncated to 20 bytes (as rcgen derives it).
pub(crate) fn key_id(spki_der: &[u8]) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki_der);
    digest.as_ref()[..KEY_ID_LEN].to_vec()
}

/// A CA certificate's subject and key ID (its subjectKeyIdentifier, or derived from its
/// public key when it has none), which certificates it issues name as their issuer.
pub(crate) fn subject_and_key_id(cert: &CertificateDer<'_>) -> Result<(Name, Vec<u8>), CaError> {
    let cert = Certificate::from_der(cert.as_ref())?;
    let tbs = cert.tbs_certificate;
    let key_id = match tbs.get::<SubjectKeyIdentifier>()? {
        Some((_, ski)) => ski.0.as_bytes().to_vec(),
        None => key_id(&tbs.subject_public_key_info.to_der()?),
    };
    Ok((tbs.subject, key_id))
}
