//! AEADs: AES-GCM and ChaCha20-Poly1305 over *ring*'s `LessSafeKey` (TLS supplies the nonces).

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Aead, AeadKey, Algorithm, AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError};
use ring::aead::{self as lib, Aad, LessSafeKey, Nonce, Tag, UnboundKey};

/// *ring* 0.17.14 `aes_gcm::DynKey::new` picks aes-gcm-avx2 (VAES+VPCLMULQDQ+AVX2), then
/// AES-NI with CLMUL+AVX, then AES-NI with CLMUL (`src/aead/aes_gcm.rs`).
const AES_GCM_CPU: &[&[CpuFeature]] = &[
    &[
        CpuFeature::AesNi,
        CpuFeature::Pclmulqdq,
        CpuFeature::Avx,
        CpuFeature::Vaes,
        CpuFeature::Vpclmulqdq,
        CpuFeature::Avx2,
    ],
    &[CpuFeature::AesNi, CpuFeature::Pclmulqdq, CpuFeature::Avx],
    &[CpuFeature::AesNi, CpuFeature::Pclmulqdq],
];

/// The integrated chacha20_poly1305 asm takes AVX2+BMI2 when present
/// (`src/aead/chacha20_poly1305/integrated.rs`, `OptionalCpuFeatures`).
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

/// One *ring* AEAD algorithm.
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
            .open_in_place_separate_tag(nonce, Aad::from(aad), Tag::from(*tag), in_out, 0..)
            .is_ok();
        if opened {
            Ok(())
        } else {
            // The trait promises no plaintext on failure; *ring* leaves the buffer unspecified.
            in_out.fill(0);
            Err(CryptoError::DecryptFailed)
        }
    }
}
