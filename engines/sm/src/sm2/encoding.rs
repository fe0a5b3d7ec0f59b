//! DER and PEM for SM2 keys: SEC1 `ECPrivateKey` (RFC 5915), PKCS#8 `PrivateKeyInfo`
//! (RFC 5208/5958) and `SubjectPublicKeyInfo` (RFC 5480), with the SM2 OIDs.
//!
//! Written the way OpenSSL writes SM2 keys: algorithm id-ecPublicKey (1.2.840.10045.2.1) with
//! the named curve SM2 (1.2.156.10197.1.301); PKCS#8 v1 whose inner `ECPrivateKey` carries the
//! public key but no curve; SEC1 with both. Read strictly through the RustCrypto `der`, `sec1`,
//! `pkcs8` and `spki` crates, also accepting the algorithm OID SM2 itself (with absent, NULL or
//! SM2 parameters), the PEM label `SM2 PRIVATE KEY` OpenSSL 3 gives SEC1 keys, a leading
//! `EC PARAMETERS` / `SM2 PARAMETERS` PEM block naming SM2 (as `openssl ecparam -genkey`
//! writes), and SEC1 without parameters. A private key scalar must be exactly 32 bytes and an
//! embedded public key must match it. Every failure is [`SmError::Encoding`] (or the point /
//! scalar error the key check gives).

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::pem::LineEnding;
use der::{Decode, Document, Encode, SecretDocument};
use pkcs8::PrivateKeyInfo;
use sec1::{EcParameters, EcPrivateKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::sm2::keys::{PrivateKey, PublicKey};
use crate::SmError;

/// id-ecPublicKey (RFC 5480 §2.1.1).
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve / public key algorithm (GM/T 0006-2012).
pub const OID_SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

/// PEM label of SEC1 private keys (RFC 5915).
const LABEL_SEC1: &str = "EC PRIVATE KEY";
/// The label OpenSSL 3 gives SEC1 SM2 keys (`openssl ec`), read as [`LABEL_SEC1`].
const LABEL_SEC1_SM2: &str = "SM2 PRIVATE KEY";
/// PEM label of PKCS#8 private keys.
const LABEL_PKCS8: &str = "PRIVATE KEY";
/// PEM label of SubjectPublicKeyInfo.
const LABEL_SPKI: &str = "PUBLIC KEY";
/// Labels of the curve-parameters block `openssl ecparam -genkey` writes before the key
/// (OpenSSL 1.1, OpenSSL 3).
const PARAMS_LABELS: [&str; 2] = ["EC PARAMETERS", "SM2 PARAMETERS"];

/// Shorthand for a malformed-encoding error.
fn enc(what: &'static str) -> SmError {
    SmError::Encoding(what)
}

/// Checks an AlgorithmIdentifier names an SM2 key.
fn check_algorithm(alg: &AlgorithmIdentifierRef<'_>) -> Result<(), SmError> {
    let params_oid = |p: AnyRef<'_>| p.decode_as::<ObjectIdentifier>().ok();
    if alg.oid == ID_EC_PUBLIC_KEY {
        match alg.parameters.and_then(params_oid) {
            Some(curve) if curve == OID_SM2 => Ok(()),
            _ => Err(enc("EC key on a curve other than SM2")),
        }
    } else if alg.oid == OID_SM2 {
        match alg.parameters {
            None => Ok(()),
            Some(p) if p.is_null() || params_oid(p) == Some(OID_SM2) => Ok(()),
            Some(_) => Err(enc("unexpected SM2 algorithm parameters")),
        }
    } else {
        Err(enc("not an SM2 key"))
    }
}

/// The AlgorithmIdentifier OpenSSL writes for SM2 keys.
fn sm2_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: ID_EC_PUBLIC_KEY,
        parameters: Some(AnyRef::from(&OID_SM2)),
    }
}

/// Key from a decoded `ECPrivateKey`: 32-byte scalar, SM2 parameters if any, and a public key
/// (if any) that matches.
fn key_from_ec_private_key(ec: &EcPrivateKey<'_>) -> Result<PrivateKey, SmError> {
    if let Some(params) = ec.parameters {
        if params.named_curve() != Some(OID_SM2) {
            return Err(enc("EC key on a curve other than SM2"));
        }
    }
    if ec.private_key.len() != 32 {
        return Err(enc("private key is not 32 bytes"));
    }
    let key = PrivateKey::from_bytes(ec.private_key)?;
    if let Some(point) = ec.public_key {
        let embedded = PublicKey::from_sec1_bytes(point)?;
        if &embedded != key.public_key() {
            return Err(enc("embedded public key does not match the private key"));
        }
    }
    Ok(key)
}

/// Drops a leading `EC PARAMETERS` / `SM2 PARAMETERS` PEM block after checking it names SM2.
fn skip_ec_parameters(pem: &str) -> Result<&str, SmError> {
    let trimmed = pem.trim_start();
    for label in PARAMS_LABELS {
        let Some(rest) = trimmed
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_prefix(label))
            .and_then(|r| r.strip_prefix("-----"))
        else {
            continue;
        };
        let end_marker = format!("-----END {label}-----");
        let end = rest
            .find(&end_marker)
            .ok_or(enc("unterminated EC PARAMETERS block"))?
            + end_marker.len()
            + (trimmed.len() - rest.len());
        let (_, der) =
            pem_rfc7468::decode_vec(&trimmed.as_bytes()[..end]).map_err(|_| enc("bad PEM"))?;
        let oid = ObjectIdentifier::from_der(&der).map_err(|_| enc("bad EC PARAMETERS"))?;
        if oid != OID_SM2 {
            return Err(enc("EC key on a curve other than SM2"));
        }
        return Ok(trimmed[end..].trim_start());
    }
    Ok(pem)
}

/// Whether a PEM label marks a SEC1 private key.
fn is_sec1_label(label: &str) -> bool {
    label == LABEL_SEC1 || label == LABEL_SEC1_SM2
}

/// Decodes one PEM block of a private key, wiping the decoded bytes afterwards.
fn decode_secret_pem(pem: &str) -> Result<(String, SecretDocument), SmError> {
    let pem = skip_ec_parameters(pem)?;
    let (label, doc) = SecretDocument::from_pem(pem).map_err(|_| enc("bad PEM"))?;
    Ok((label.to_owned(), doc))
}

impl PrivateKey {
    /// Parses a SEC1 `ECPrivateKey` (what `openssl ec -outform DER` writes).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, SmError> {
        let ec = EcPrivateKey::from_der(der).map_err(|_| enc("bad ECPrivateKey DER"))?;
        key_from_ec_private_key(&ec)
    }

    /// Parses a PKCS#8 `PrivateKeyInfo` (v1 or v2) holding an SM2 key (what
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2` writes, DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SmError> {
        let info = PrivateKeyInfo::from_der(der).map_err(|_| enc("bad PKCS#8 DER"))?;
        check_algorithm(&info.algorithm)?;
        let key = Self::from_sec1_der(info.private_key)?;
        if let Some(point) = info.public_key {
            if &PublicKey::from_sec1_bytes(point)? != key.public_key() {
                return Err(enc("embedded public key does not match the private key"));
            }
        }
        Ok(key)
    }

    /// Parses PEM labelled `EC PRIVATE KEY` or, as OpenSSL 3 writes it, `SM2 PRIVATE KEY`
    /// (SEC1, optionally after an `EC PARAMETERS` or `SM2 PARAMETERS` block).
    pub fn from_sec1_pem(pem: &str) -> Result<Self, SmError> {
        match decode_secret_pem(pem)? {
            (label, doc) if is_sec1_label(&label) => Self::from_sec1_der(doc.as_bytes()),
            _ => Err(enc("PEM label is not EC PRIVATE KEY")),
        }
    }

    /// Parses PEM labelled `PRIVATE KEY` (PKCS#8, optionally after a parameters block).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, SmError> {
        match decode_secret_pem(pem)? {
            (label, doc) if label == LABEL_PKCS8 => Self::from_pkcs8_der(doc.as_bytes()),
            _ => Err(enc("PEM label is not PRIVATE KEY")),
        }
    }

    /// Parses either PEM form, chosen by its label.
    pub fn from_pem(pem: &str) -> Result<Self, SmError> {
        match decode_secret_pem(pem)? {
            (label, doc) if is_sec1_label(&label) => Self::from_sec1_der(doc.as_bytes()),
            (label, doc) if label == LABEL_PKCS8 => Self::from_pkcs8_der(doc.as_bytes()),
            _ => Err(enc("PEM label is not a private key")),
        }
    }

    /// The `ECPrivateKey` structure, with or without the curve OID.
    fn ec_private_key_document(&self, with_curve: bool) -> Result<SecretDocument, SmError> {
        let d = self.to_bytes();
        let point = self.public_key().to_uncompressed();
        let ec = EcPrivateKey {
            private_key: d.as_ref(),
            parameters: with_curve.then_some(EcParameters::NamedCurve(OID_SM2)),
            public_key: Some(&point),
        };
        SecretDocument::try_from(&ec).map_err(|_| enc("cannot encode ECPrivateKey"))
    }

    /// SEC1 `ECPrivateKey` DER with the SM2 curve OID and the public key.
    pub fn to_sec1_der(&self) -> Result<Zeroizing<Vec<u8>>, SmError> {
        Ok(self.ec_private_key_document(true)?.to_bytes())
    }

    /// PKCS#8 v1 DER (id-ecPublicKey, curve SM2), as OpenSSL writes it.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, SmError> {
        let inner = self.ec_private_key_document(false)?;
        let info = PrivateKeyInfo::new(sm2_algorithm(), inner.as_bytes());
        let doc = SecretDocument::try_from(&info).map_err(|_| enc("cannot encode PKCS#8"))?;
        Ok(doc.to_bytes())
    }

    /// [`to_sec1_der`](Self::to_sec1_der) as PEM (`EC PRIVATE KEY`, LF line endings).
    pub fn to_sec1_pem(&self) -> Result<Zeroizing<String>, SmError> {
        self.ec_private_key_document(true)?
            .to_pem(LABEL_SEC1, LineEnding::LF)
            .map_err(|_| enc("cannot encode PEM"))
    }

    /// [`to_pkcs8_der`](Self::to_pkcs8_der) as PEM (`PRIVATE KEY`, LF line endings).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, SmError> {
        let der = self.to_pkcs8_der()?;
        pem_rfc7468::encode_string(LABEL_PKCS8, LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|_| enc("cannot encode PEM"))
    }
}

impl PublicKey {
    /// Parses a `SubjectPublicKeyInfo` holding an SM2 point (compressed or not).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SmError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| enc("bad SPKI DER"))?;
        check_algorithm(&spki.algorithm)?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or(enc("public key BIT STRING has unused bits"))?;
        Self::from_sec1_bytes(point)
    }

    /// Parses PEM labelled `PUBLIC KEY`.
    pub fn from_spki_pem(pem: &str) -> Result<Self, SmError> {
        let (label, doc) = Document::from_pem(pem).map_err(|_| enc("bad PEM"))?;
        if label != LABEL_SPKI {
            return Err(enc("PEM label is not PUBLIC KEY"));
        }
        Self::from_spki_der(doc.as_bytes())
    }

    /// `SubjectPublicKeyInfo` DER (id-ecPublicKey, curve SM2, uncompressed point).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, SmError> {
        let point = self.to_uncompressed();
        let spki = SubjectPublicKeyInfoRef {
            algorithm: sm2_algorithm(),
            subject_public_key: BitStringRef::from_bytes(&point)
                .map_err(|_| enc("cannot encode SPKI"))?,
        };
        spki.to_der().map_err(|_| enc("cannot encode SPKI"))
    }

    /// [`to_spki_der`](Self::to_spki_der) as PEM (`PUBLIC KEY`, LF line endings).
    pub fn to_spki_pem(&self) -> Result<String, SmError> {
        let der = self.to_spki_der()?;
        pem_rfc7468::encode_string(LABEL_SPKI, LineEnding::LF, &der)
            .map_err(|_| enc("cannot encode PEM"))
    }
}
