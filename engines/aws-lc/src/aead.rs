//! AEADs: AES-GCM and ChaCha20-Poly1305 over aws-lc-rs' `LessSafeKey` (TLS supplies the nonces).

use aws_lc_rs::aead::{self as lib, Aad, LessSafeKey, Nonce, UnboundKey};
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Aead, AeadKey, Algorithm, AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError};

/// AWS-LC runs AES-GCM as the AVX-512 VAES+VPCLMULQDQ code when `crypto_gcm_avx512_enabled`,
/// else aesni-gcm (AES-NI+PCLMULQDQ+AVX), else AES-NI with CLMUL GHASH
/// (`crypto/fipsmodule/modes/gcm.c`).
const AES_GCM_CPU: &[&[CpuFeature]] = &[
    &[
        CpuFeature::AesNi,
        CpuFeature::Pclmulqdq,
        CpuFeature::Vaes,
        CpuFeature::Vpclmulqdq,
        CpuFeature::Avx512,
    ],
    &[CpuFeature::AesNi, CpuFeature::Pclmulqdq, CpuFeature::Avx],
    &[CpuFeature::AesNi, CpuFeature::Pclmulqdq],
];

/// chacha20_poly1305_x86_64 takes its `_avx2` routines given AVX2+BMI2; this AWS-LC has no
/// AVX-512 ChaCha (`crypto/cipher_extra/asm/chacha20_poly1305_x86_64.pl`).
const CHACHA_CPU: &[&[CpuFeature]] = &[&[CpuFeature::Avx2, CpuFeature::Bmi2]];

pub(crate) static AES_128_GCM: AeadAlg = AeadAlg {
    id: AlgorithmId::Aes128Gcm,
    alg: &lib::AES_128_GCM,
    cpu: AES_GCM_CPU,
};

pub(crate) static AES_256_GCM: AeadAlg = AeadAlg {
    id: AlgorithmId::Aes256Gcm,
    alg: &lib::AES_256_GCM,
    cpu: AES_GCM_CPU,
};

pub(crate) static CHACHA20_POLY1305: AeadAlg = AeadAlg {
    id: AlgorithmId::Chacha20Poly1305,
    alg: &lib::CHACHA20_POLY1305,
    cpu: CHACHA_CPU,
};

/// One aws-lc-rs AEAD algorithm.
#[derive(Debug)]
pub(crate) struct AeadAlg {
    id: AlgorithmId,
    alg: &'static lib::Algorithm,
    cpu: &'static [&'static [CpuFeature]],
}

impl Algorithm for AeadAlg {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::cpu_path(self.cpu)
    }
}

impl Aead for AeadAlg {
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        let key = UnboundKey::new(self.alg, key).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Box::new(Key(LessSafeKey::new(key))))
    }
}

/// An expanded key; nonces come from the caller (TLS derives one per record).
struct Key(LessSafeKey);

impl AeadKey for Key {
    fn seal_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), in_out)
            .map_err(crate::backend)?;
        <[u8; AEAD_TAG_LEN]>::try_from(tag.as_ref())
            .map_err(|_| CryptoError::Unsupported("AEAD tag length other than 16"))
    }

    fn open_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        let nonce = Nonce::assume_unique_for_key(*nonce);
        let opened = self
            .0
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, in_out)
            .is_ok();
        if opened {
            Ok(())
        } else {
            // The trait promises no plaintext on failure; aws-lc-rs leaves the buffer unspecified.
            in_out.fill(0);
            Err(CryptoError::DecryptFailed)
        }
    }
}
