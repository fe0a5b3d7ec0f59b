//! AEADs over OpenSSL's `EVP_CIPHER` interface, in place with a detached tag.
//!
//! A key holds two contexts (seal, open) with the key schedule already done; each call only
//! sets the nonce, so the record path neither allocates nor re-expands the key.

use std::sync::{Mutex, MutexGuard};

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};
use meshtls_tls_core::engine::{Aead, AeadKey, Algorithm, AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError};
use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;

use crate::backend;

/// OpenSSL 3.0 AES-GCM: AES-NI + PCLMULQDQ (aesni_gcm, AVX), and the VAES/VPCLMULQDQ
/// AVX-512 path (`aes-gcm-avx512.pl`) where the CPU has it.
const AES_GCM_FEATURES: &[CpuFeature] = &[
    CpuFeature::AesNi,
    CpuFeature::Pclmulqdq,
    CpuFeature::Avx,
    CpuFeature::Vaes,
    CpuFeature::Vpclmulqdq,
    CpuFeature::Avx512,
];

/// OpenSSL 3.0 ChaCha20 and Poly1305 have AVX2 and AVX-512 code paths (`chacha-x86_64.pl`).
const CHACHA_FEATURES: &[CpuFeature] = &[CpuFeature::Avx2, CpuFeature::Avx512];

/// An AEAD algorithm backed by one OpenSSL cipher.
#[derive(Debug)]
pub struct OpensslAead {
    id: AlgorithmId,
    cipher: fn() -> &'static CipherRef,
    features: &'static [CpuFeature],
}

/// AES-128-GCM (NIST SP 800-38D).
pub static AES_128_GCM: OpensslAead = OpensslAead {
    id: AlgorithmId::Aes128Gcm,
    cipher: Cipher::aes_128_gcm,
    features: AES_GCM_FEATURES,
};

/// AES-256-GCM (NIST SP 800-38D).
pub static AES_256_GCM: OpensslAead = OpensslAead {
    id: AlgorithmId::Aes256Gcm,
    cipher: Cipher::aes_256_gcm,
    features: AES_GCM_FEATURES,
};

/// ChaCha20-Poly1305 (RFC 8439).
pub static CHACHA20_POLY1305: OpensslAead = OpensslAead {
    id: AlgorithmId::Chacha20Poly1305,
    cipher: Cipher::chacha20_poly1305,
    features: CHACHA_FEATURES,
};

impl Algorithm for OpensslAead {
    fn id(&self) -> AlgorithmId {
        self.id
    }

    fn cpu_features(&self) -> CpuFeatures {
        CpuFeatures::available(self.features)
    }
}

impl Aead for OpensslAead {
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn AeadKey>, CryptoError> {
        if Some(key.len()) != self.id.aead_key_len() {
            return Err(CryptoError::InvalidKey);
        }
        let cipher = (self.cipher)();
        let mut seal = CipherCtx::new().map_err(backend)?;
        seal.encrypt_init(Some(cipher), Some(key), None)
            .map_err(backend)?;
        let mut open = CipherCtx::new().map_err(backend)?;
        open.decrypt_init(Some(cipher), Some(key), None)
            .map_err(backend)?;
        Ok(Box::new(OpensslAeadKey {
            seal: Mutex::new(seal),
            open: Mutex::new(open),
        }))
    }
}

/// A keyed pair of contexts. TLS uses one key per direction from one task, so the locks are
/// uncontended; they only make the contexts shareable as the trait requires.
struct OpensslAeadKey {
    seal: Mutex<CipherCtx>,
    open: Mutex<CipherCtx>,
}

/// Locks a context. A poisoned lock is still usable: every call re-initialises the nonce,
/// which resets all per-message state.
fn lock(ctx: &Mutex<CipherCtx>) -> MutexGuard<'_, CipherCtx> {
    ctx.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// OpenSSL takes lengths as `int`; longer inputs are refused rather than truncated.
fn check_len(len: usize) -> Result<(), CryptoError> {
    if i32::try_from(len).is_err() {
        return Err(CryptoError::Unsupported(
            "AEAD input longer than 2^31-1 bytes",
        ));
    }
    Ok(())
}

impl AeadKey for OpensslAeadKey {
    fn seal_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        check_len(aad.len())?;
        check_len(in_out.len())?;
        let mut ctx = lock(&self.seal);
        ctx.encrypt_init(None, None, Some(nonce)).map_err(backend)?;
        if !aad.is_empty() {
            ctx.cipher_update(aad, None).map_err(backend)?;
        }
        let len = in_out.len();
        ctx.cipher_update_inplace(in_out, len).map_err(backend)?;
        ctx.cipher_final(&mut []).map_err(backend)?;
        let mut tag = [0u8; AEAD_TAG_LEN];
        ctx.tag(&mut tag).map_err(backend)?;
        Ok(tag)
    }

    fn open_in_place(
        &self,
        nonce: &[u8; AEAD_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        check_len(aad.len())?;
        check_len(in_out.len())?;
        let mut ctx = lock(&self.open);
        let len = in_out.len();
        let mut opened = || -> Result<(), CryptoError> {
            ctx.decrypt_init(None, None, Some(nonce)).map_err(backend)?;
            ctx.set_tag(tag).map_err(backend)?;
            if !aad.is_empty() {
                ctx.cipher_update(aad, None).map_err(backend)?;
            }
            ctx.cipher_update_inplace(in_out, len).map_err(backend)?;
            ctx.cipher_final(&mut [])
                .map_err(|_| CryptoError::DecryptFailed)?;
            Ok(())
        };
        let result = opened();
        if result.is_err() {
            // OpenSSL decrypts before it checks the tag: wipe the unauthenticated plaintext.
            in_out.fill(0);
        }
        result
    }
}
