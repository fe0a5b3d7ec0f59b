//! AEADs over BoringSSL's `EVP_AEAD` interface, in place with a detached tag.
//!
//! `EVP_AEAD_CTX` holds the expanded key and is stateless per call (the nonce is an
//! argument), so one context serves seal and open from any thread without locks or
//! allocation on the record path.

use btls::aead::{AeadCtx, Algorithm as EvpAead};
use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Aead, AeadKey, Algorithm, AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError};

use crate::backend;

/// BoringSSL AES-GCM: AES-NI + PCLMULQDQ with AVX (`aesni-gcm-x86_64`), and since 2024 the
/// VAES/VPCLMULQDQ kernels in AVX2 (`aes-gcm-avx2-x86_64`) and AVX-512 (`aes-gcm-avx512`).
const AES_GCM_FEATURES: &[CpuFeature] = &[
    CpuFeature::AesNi,
    CpuFeature::Pclmulqdq,
    CpuFeature::Avx,
    CpuFeature::Vaes,
    CpuFeature::Vpclmulqdq,
    CpuFeature::Avx2,
    CpuFeature::Avx512,
];

/// BoringSSL ChaCha20 and Poly1305 have AVX2 code paths (`chacha-x86_64`, `chacha20_poly1305_x86_64`).
const CHACHA_FEATURES: &[CpuFeature] = &[CpuFeature::Avx2];

/// An AEAD algorithm backed by one BoringSSL `EVP_AEAD`.
#[derive(Debug)]
pub struct BoringAead {
    id: AlgorithmId,
    aead: fn() -> EvpAead,
    features: &'static [CpuFeature],
}

/// AES-128-GCM (NIST SP 800-38D).
pub static AES_128_GCM: BoringAead = BoringAead {
    id: AlgorithmId::Aes128Gcm,
    aead: EvpAead::aes_128_gcm,
    features: AES_GCM_FEATURES,
};

/// AES-256-GCM (NIST SP 800-38D).
pub static AES_256_GCM: BoringAead = BoringAead {
    id: AlgorithmId::Aes256Gcm,
    aead: EvpAead::aes_256_gcm,
    features: AES_GCM_FEATURES,
};

/// ChaCha20-Poly1305 (RFC 8439).
pub static CHACHA20_POLY1305: BoringAead = BoringAead {
    id: AlgorithmId::Chacha20Poly1305,
    aead: EvpAead::chacha20_poly1305,
    features: CHACHA_FEATURES,
};

impl Algorithm for BoringAead {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl Aead for BoringAead {
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        if Some(key.len()) != self.id.aead_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        let ctx = AeadCtx::new(&(self.aead)(), key, AEAD_TAG_LEN).map_err(backend)?;
        Ok(Box::new(BoringAeadKey { ctx }))
    }
}

/// A keyed `EVP_AEAD_CTX`.
struct BoringAeadKey {
    ctx: AeadCtx,
}

impl AeadKey for BoringAeadKey {
    fn seal_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        let mut tag = [0u8; AEAD_TAG_LEN];
        let written = self
            .ctx
            .seal_in_place(nonce, in_out, &mut tag, aad)
            .map_err(backend)?
            .len();
        if written != AEAD_TAG_LEN {
            return Err(CryptoError::Unsupported(
                "AEAD produced a tag of another length",
            ));
        }
        Ok(tag)
    }

    fn open_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        if self.ctx.open_in_place(nonce, in_out, tag, aad).is_err() {
            // Never leave unauthenticated plaintext behind, whatever the library did.
            in_out.fill(0);
            return Err(CryptoError::DecryptFailed);
        }
        Ok(())
    }
}
