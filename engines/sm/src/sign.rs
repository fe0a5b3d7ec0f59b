//! SM2 signatures with SM3 (`SigScheme::Sm2Sm3`): Z-value hashing with the default signer ID
//! 1234567812345678 (GB/T 35276, as certificates and TLCP use it), DER-encoded (r, s).

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
        if scheme != SigScheme::Sm2Sm3 {
            return Err(CryptoError::WrongKeyType);
        }
        let key = PublicKey::from_sec1_bytes(public_key).map_err(|_| CryptoError::InvalidKey)?;
        let signature = sm2::Signature::from_der(signature).map_err(crate::crypto_error)?;
        key.verify(message, &signature).map_err(crate::crypto_error)
    }
}

/// A loaded SM2 private key ((1 + d)^-1 precomputed for signing).
#[derive(Debug)]
struct Key(PrivateKey);

impl SigningKey for Key {
    fn schemes(&self) -> &[SigScheme] {
        &[SigScheme::Sm2Sm3]
    }

    fn sign(&self, scheme: SigScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if scheme != SigScheme::Sm2Sm3 {
            return Err(CryptoError::WrongKeyType);
        }
        let signature = self.0.sign(message).map_err(crate::crypto_error)?;
        Ok(signature.to_der())
    }

    fn public_key(&self) -> Vec<u8> {
        self.0.public_key().to_uncompressed().to_vec()
    }
}
