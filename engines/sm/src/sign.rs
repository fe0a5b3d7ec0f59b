//! SM2 signatures with SM3, DER-encoded (r, s), Z-value hashing with the signer ID of the
//! scheme: `SigScheme::Sm2Sm3` uses the default ID 1234567812345678 (GB/T 35276, as
//! certificates and TLCP use it), `SigScheme::Sm2Sm3Tls13` the ID "TLSv1.3+GM+Cipher+Suite"
//! of TLS 1.3 CertificateVerify (RFC 8998 `sm2sig_sm3`).

use meshtls_tls_core::cpu::CpuFeatures;
use meshtls_tls_core::engine::{Algorithm, Signature, SigningKey};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};
use zeroize::Zeroizing;

use crate::sm2::scalar::Sm2Path;
use crate::sm2::{self, PrivateKey, PublicKey};

pub(crate) static SM2: SignatureAlg = SignatureAlg;

/// SM2 key type.
#[derive(Debug)]
pub(crate) struct SignatureAlg;

impl Algorithm for SignatureAlg {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::Sm2
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::paths::features(Sm2Path::detect().cpu_features())
    }

    fn code_path(&self) -> Option<String> {
        Some(format!(
            "sm2={},sm3={}",
            Sm2Path::detect().name(),
            crate::sm3::Sm3Path::detect().name()
        ))
    }
}

impl Signature for SignatureAlg {
    fn load_signing_key(&self, pkcs8_der: &[u8]) -> Result<Box<dyn SigningKey>, CryptoError> {
        let key = PrivateKey::from_pkcs8_der(pkcs8_der).map_err(|_| CryptoError::WrongKeyType)?;
        Ok(Box::new(Key(key)))
    }

    fn generate_key(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = PrivateKey::generate().map_err(crate::crypto_error)?;
        key.to_pkcs8_der().map_err(crate::crypto_error)
    }

    fn verify(
        &self,
        scheme: SigScheme,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let id = signer_id(scheme)?;
        let key = PublicKey::from_sec1_bytes(public_key).map_err(|_| CryptoError::InvalidKey)?;
        let signature = sm2::Signature::from_der(signature).map_err(crate::crypto_error)?;
        key.verify_with_id(id, message, &signature)
            .map_err(crate::crypto_error)
    }
}

/// The signer ID of an SM2 scheme; a scheme of another key type is refused.
fn signer_id(scheme: SigScheme) -> Result<&'static [u8], CryptoError> {
    scheme.sm2_id().ok_or(CryptoError::WrongKeyType)
}

/// A loaded SM2 private key ((1 + d)^-1 precomputed for signing).
#[derive(Debug)]
struct Key(PrivateKey);

impl SigningKey for Key {
    fn schemes(&self) -> &[SigScheme] {
        AlgorithmId::Sm2.schemes()
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = signer_id(scheme)?;
        let signature = self
            .0
            .sign_with_id(id, message)
            .map_err(crate::crypto_error)?;
        Ok(signature.to_der())
    }

    fn public_key(&self) -> Vec<u8> {
        self.0.public_key().to_uncompressed().to_vec()
    }
}
