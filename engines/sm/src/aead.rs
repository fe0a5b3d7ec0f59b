//! AEADs for TLS: SM4-GCM and SM4-CCM (RFC 8998) with 12-byte nonces and 16-byte tags.

use meshtls_tls_core::cpu::CpuFeatures;
use meshtls_tls_core::engine::{Aead, AeadKey, Algorithm, AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError};

use crate::ghash::GhashPath;
use crate::modes::ccm::Sm4Ccm;
use crate::modes::gcm::Sm4Gcm;
use crate::paths;
use crate::sm4::Sm4Path;

pub(crate) static SM4_GCM: AeadAlg = AeadAlg {
    id: AlgorithmId::Sm4Gcm,
};

pub(crate) static SM4_CCM: AeadAlg = AeadAlg {
    id: AlgorithmId::Sm4Ccm,
};

/// One SM4 AEAD mode.
#[derive(Debug)]
pub(crate) struct AeadAlg {
    id: AlgorithmId,
}

impl Algorithm for AeadAlg {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        let sm4 = paths::features(Sm4Path::detect().cpu_features());
        match self.id {
            AlgorithmId::Sm4Gcm => sm4.union(paths::features(GhashPath::detect().cpu_features())),
            _ => sm4,
        }
    }

    fn code_path(&self) -> Option<String> {
        let sm4 = Sm4Path::detect().name();
        Some(match self.id {
            AlgorithmId::Sm4Gcm => format!("sm4={sm4},ghash={}", GhashPath::detect().name()),
            _ => format!("sm4={sm4}"),
        })
    }
}

impl Aead for AeadAlg {
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        let key: &[u8; 16] = key.try_into().map_err(|_| CryptoError::InvalidKey)?;
        Ok(match self.id {
            AlgorithmId::Sm4Gcm => Box::new(Key::Gcm(Sm4Gcm::new(key))),
            _ => Box::new(Key::Ccm(Sm4Ccm::new(key))),
        })
    }
}

/// An expanded key; nonces come from the caller (TLS derives one per record).
enum Key {
    Gcm(Sm4Gcm),
    Ccm(Sm4Ccm),
}

impl AeadKey for Key {
    fn seal_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let mut tag = [0u8; AEAD_TAG_LEN];
        match self {
            Key::Gcm(k) => k.seal_in_place(nonce, aad, in_out, &mut tag),
            Key::Ccm(k) => k.seal_in_place(nonce, aad, in_out, &mut tag),
        }
        .map_err(crate::crypto_error)?;
        Ok(tag)
    }

    fn open_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        let opened = match self {
            Key::Gcm(k) => k.open_in_place(nonce, aad, in_out, tag),
            Key::Ccm(k) => k.open_in_place(nonce, aad, in_out, tag),
        };
        if opened.is_err() {
            // Same contract as every engine: a failed open leaves zeros, not ciphertext.
            in_out.fill(0);
        }
        opened.map_err(crate::crypto_error)
    }
}
