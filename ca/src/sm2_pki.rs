//! SM2 keys and SM2-with-SM3 signatures for certificates, on RustCrypto's `sm2`.
//!
//! Keys are written as OpenSSL 3 and the meshtls SM engine read them: PKCS#8 v1 with algorithm
//! id-ecPublicKey and the named curve SM2 (GM/T 0006-2012), the inner `ECPrivateKey` carrying
//! the public key. Certificate signatures are SM2 with SM3 (OID 1.2.156.10197.1.501, no
//! parameters, GM/T 0015-2012) over the Z value of the default signer ID
//! `1234567812345678` (GB/T 35276-2017 section 7), DER-encoded as `SEQUENCE { r, s }`.

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Encode, Sequence};
use rustls_pki_types::PrivatePkcs8KeyDer;
use sm2::elliptic_curve::rand_core::OsRng;
use sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sm2::{PublicKey, SecretKey};
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::error::CaError;

/// id-ecPublicKey (RFC 5480 section 2.1.1).
pub(crate) const ID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve (GM/T 0006-2012).
pub(crate) const OID_SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// SM2 signature with SM3 (GM/T 0006-2012).
pub(crate) const OID_SM2_WITH_SM3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// The signer ID certificates are signed and verified with (GB/T 35276-2017 section 7).
pub(crate) const DEFAULT_ID: &str = "1234567812345678";

/// A fresh SM2 key from the operating system's random source.
pub(crate) fn generate() -> SecretKey {
    SecretKey::random(&mut OsRng)
}

/// The key as PKCS#8 v1 DER (id-ecPublicKey, curve SM2, public key inside the ECPrivateKey).
pub(crate) fn to_pkcs8(key: &SecretKey) -> Result<PrivatePkcs8KeyDer<'static>, CaError> {
    let doc = key
        .to_pkcs8_der()
        .map_err(|_| CaError::KeyGeneration(crate::KeyType::Sm2))?;
    Ok(PrivatePkcs8KeyDer::from(doc.as_bytes().to_vec()))
}

/// Reads a PKCS#8 SM2 key (id-ecPublicKey with the SM2 curve).
pub(crate) fn from_pkcs8(der: &[u8]) -> Result<SecretKey, CaError> {
    SecretKey::from_pkcs8_der(der).map_err(|_| CaError::BadKey("not a PKCS#8 SM2 private key"))
}

/// The public key as a DER `SubjectPublicKeyInfo` (id-ecPublicKey, curve SM2, uncompressed).
pub(crate) fn spki_der(key: &PublicKey) -> Result<Vec<u8>, CaError> {
    let point = sm2::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(key, false);
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(AnyRef::from(&OID_SM2)),
        },
        subject_public_key: BitStringRef::from_bytes(point.as_bytes())?,
    };
    Ok(spki.to_der()?)
}

/// The AlgorithmIdentifier of SM2-with-SM3 signatures: the OID alone, no parameters.
pub(crate) fn signature_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: OID_SM2_WITH_SM3,
        parameters: None,
    }
}

/// `SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER }` (GM/T 0009-2012 section 7.3).
#[derive(Sequence)]
struct Sm2SignatureDer<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Signs `message` (a TBSCertificate) with SM2-with-SM3 and the default ID; returns the DER
/// signature that goes in the certificate's BIT STRING.
pub(crate) fn sign(key: &SecretKey, message: &[u8]) -> Result<Vec<u8>, CaError> {
    use sm2::dsa::signature::Signer;
    let signer = sm2::dsa::SigningKey::new(DEFAULT_ID, key).map_err(|_| CaError::Signing)?;
    let sig: sm2::dsa::Signature = signer.try_sign(message).map_err(|_| CaError::Signing)?;
    let (r, s) = (sig.r_bytes(), sig.s_bytes());
    let der = Sm2SignatureDer {
        r: UintRef::new(&r)?,
        s: UintRef::new(&s)?,
    };
    Ok(der.to_der()?)
}
