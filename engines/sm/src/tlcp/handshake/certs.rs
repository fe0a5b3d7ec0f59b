//! The certificate facts the handshake itself needs: the SM2 public key in a certificate, and
//! the split of a TLCP Certificate message into signing chain and encryption certificate.
//!
//! Everything else about certificates (trust, validity, SPIFFE IDs, key usage) belongs to
//! the [`PeerCertVerifier`](super::super::config::PeerCertVerifier). Parsing here is a strict
//! DER walk (RFC 5280 section 4.1) down to `subjectPublicKeyInfo`, without judging the rest.

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader};
use rustls_pki_types::CertificateDer;

use super::super::error::TlcpError;
use crate::sm2::PublicKey;

/// DER tag of the explicit `[0] version` field of a `TBSCertificate`.
const TAG_VERSION: u8 = 0xA0;

/// The SM2 public key of `cert`.
pub(crate) fn sm2_public_key(cert: &CertificateDer<'_>) -> Result<PublicKey, TlcpError> {
    let spki = spki_of(cert.as_ref())
        .map_err(|_| TlcpError::BadCertificate("malformed certificate DER".into()))?;
    PublicKey::from_spki_der(spki)
        .map_err(|e| TlcpError::BadCertificate(format!("certificate key is not SM2: {e}")))
}

/// The `subjectPublicKeyInfo` TLV of a certificate.
fn spki_of(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let spki = reader.sequence(|cert| {
        let spki = cert.sequence(|tbs| {
            if tbs.peek_byte() == Some(TAG_VERSION) {
                AnyRef::decode(tbs)?;
            }
            // serialNumber, signature, issuer, validity, subject.
            for _ in 0..5 {
                AnyRef::decode(tbs)?;
            }
            let spki = tbs.tlv_bytes()?;
            skip_rest(tbs)?;
            Ok(spki)
        })?;
        skip_rest(cert)?;
        Ok(spki)
    })?;
    reader.finish(spki)
}

/// Reads and drops the remaining TLVs of a SEQUENCE body.
fn skip_rest<'a, R: Reader<'a>>(reader: &mut R) -> der::Result<()> {
    while !reader.is_finished() {
        AnyRef::decode(reader)?;
    }
    Ok(())
}

/// A peer's certificates as TLCP sends them, split by role.
#[derive(Debug, Clone)]
pub(crate) struct PeerCerts {
    /// The signing leaf, then the CA chain.
    pub(crate) sign_chain: Vec<CertificateDer<'static>>,
    /// The encryption certificate.
    pub(crate) enc_cert: CertificateDer<'static>,
    /// The signing leaf's key.
    pub(crate) sign_key: PublicKey,
    /// The encryption certificate's key.
    pub(crate) enc_key: PublicKey,
}

impl PeerCerts {
    /// Splits a Certificate message's list (signing leaf, encryption certificate, CA chain;
    /// GB/T 38636-2020 section 6.4.5.3) and reads both keys. `None` for fewer than two
    /// certificates.
    pub(crate) fn split(mut list: Vec<CertificateDer<'static>>) -> Result<Option<Self>, TlcpError> {
        if list.len() < 2 {
            return Ok(None);
        }
        let enc_cert = list.remove(1);
        let sign_key = sm2_public_key(&list[0])?;
        let enc_key = sm2_public_key(&enc_cert)?;
        Ok(Some(Self {
            sign_chain: list,
            enc_cert,
            sign_key,
            enc_key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_bad_certificate() {
        for bad in [&b""[..], b"\x30\x03\x02\x01\x01", b"\x30\x80", &[0x30; 64]] {
            let err = sm2_public_key(&CertificateDer::from(bad.to_vec())).unwrap_err();
            assert!(matches!(err, TlcpError::BadCertificate(_)), "{err:?}");
        }
    }
}
