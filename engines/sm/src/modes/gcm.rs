//! SM4-GCM (NIST SP 800-38D with SM4 as the block cipher; RFC 8998 for TLS 1.3): 12-byte
//! nonces, tags of 16, 15, 14, 13, 12, 8 or 4 bytes.
//!
//! Sealing is stitched by chunks: each 4 KiB of data is encrypted with the CTR keystream
//! and hashed with GHASH while it is still in L1, so the data crosses memory once. Opening
//! hashes the ciphertext and checks the tag (in constant time) before decrypting anything:
//! on a bad tag the buffer still holds the ciphertext and no plaintext is released.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::ghash::{GhashKey, GhashPath};
use crate::sm4::{CtrWidth, Sm4, Sm4Path};
use crate::SmError;

/// Nonce length in bytes (the only one supported: J0 = nonce || 0^31 || 1).
pub const NONCE_LEN: usize = 12;
/// Full tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Tag lengths SP 800-38D section 5.2.1.2 allows (with appendix C's conditions for 8 and 4).
pub const TAG_LENS: [usize; 7] = [16, 15, 14, 13, 12, 8, 4];
/// Longest plaintext: 2^39 - 256 bits (SP 800-38D section 5.2.1.1).
pub const MAX_DATA_LEN: u64 = (1 << 36) - 32;
/// Longest AAD: 2^64 - 1 bits, rounded down to bytes.
pub const MAX_AAD_LEN: u64 = (1 << 61) - 1;

/// Bytes encrypted then hashed per step while sealing: the chunk stays in L1 between the
/// two, and it is a multiple of the widest SM4 kernel batch (64 blocks, 1 KiB), below which
/// the kernels fall back to narrower, slower batches (measured: 512 B chunks seal at about
/// half the speed of 2-16 KiB ones on this CPU; 2-16 KiB are within noise).
const CHUNK: usize = 4096;

/// An SM4-GCM key: the expanded cipher key and the GHASH key powers, each on its code path.
#[derive(Clone)]
pub struct Sm4Gcm {
    cipher: Sm4,
    ghash: GhashKey,
}

impl core::fmt::Debug for Sm4Gcm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm4Gcm")
            .field("sm4", &self.cipher.path())
            .field("ghash", &self.ghash.path())
            .finish_non_exhaustive()
    }
}

impl Sm4Gcm {
    /// A key on the detected SM4 and GHASH paths.
    pub fn new(key: &[u8; 16]) -> Sm4Gcm {
        let cipher = Sm4::new(key);
        let mut h = [0u8; 16];
        cipher.encrypt_block(&mut h);
        let ghash = GhashKey::detected(&h);
        h.zeroize();
        Sm4Gcm { cipher, ghash }
    }

    /// A key on the given paths, or [`SmError::PathUnavailable`] if this CPU lacks one.
    pub fn with_paths(key: &[u8; 16], sm4: Sm4Path, ghash: GhashPath) -> Result<Sm4Gcm, SmError> {
        let cipher = Sm4::with_path(key, sm4)?;
        let mut h = [0u8; 16];
        cipher.encrypt_block(&mut h);
        let ghash = GhashKey::new(&h, ghash);
        h.zeroize();
        Ok(Sm4Gcm {
            cipher,
            ghash: ghash?,
        })
    }

    /// The SM4 code path of this key.
    pub fn sm4_path(&self) -> Sm4Path {
        self.cipher.path()
    }

    /// The GHASH code path of this key.
    pub fn ghash_path(&self) -> GhashPath {
        self.ghash.path()
    }

    /// Encrypts `data` in place and writes the tag into `tag`, whose length (one of
    /// [`TAG_LENS`]) picks the tag length.
    ///
    /// Errors, all before anything is written: [`SmError::InvalidTagLength`],
    /// [`SmError::MessageTooLong`] (data over [`MAX_DATA_LEN`] or AAD over [`MAX_AAD_LEN`]).
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), SmError> {
        check_lengths(aad.len(), data.len(), tag.len())?;
        let mut counter = first_counter(nonce);
        let mut y = 0u128;
        self.ghash.update(&mut y, aad);
        for chunk in data.chunks_mut(CHUNK) {
            self.cipher.ctr_xor(&mut counter, CtrWidth::Be32, chunk);
            self.ghash.update(&mut y, chunk);
        }
        let mut full = self.tag(nonce, y, aad.len(), data.len());
        tag.copy_from_slice(&full[..tag.len()]);
        full.zeroize();
        y.zeroize();
        Ok(())
    }

    /// Checks `tag` over `aad` and the ciphertext in `data`, then decrypts `data` in place.
    ///
    /// Errors: [`SmError::InvalidTagLength`], [`SmError::MessageTooLong`], and
    /// [`SmError::BadTag`] (tampered data, AAD, nonce or tag, or the wrong key). On any error
    /// `data` is left as it was: nothing is decrypted.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Result<(), SmError> {
        check_lengths(aad.len(), data.len(), tag.len())?;
        let mut y = 0u128;
        self.ghash.update(&mut y, aad);
        self.ghash.update(&mut y, data);
        let mut full = self.tag(nonce, y, aad.len(), data.len());
        let ok = full[..tag.len()].ct_eq(tag);
        full.zeroize();
        y.zeroize();
        if !bool::from(ok) {
            return Err(SmError::BadTag);
        }
        let mut counter = first_counter(nonce);
        self.cipher.ctr_xor(&mut counter, CtrWidth::Be32, data);
        Ok(())
    }

    /// The full tag: E(K, J0) XOR GHASH(AAD, C, lengths), with `y` the hash of AAD and C.
    fn tag(&self, nonce: &[u8; NONCE_LEN], y: u128, aad_len: usize, data_len: usize) -> [u8; 16] {
        let mut s = self.ghash.finalize(y, aad_len as u64, data_len as u64);
        let mut j0 = [0u8; 16];
        j0[..NONCE_LEN].copy_from_slice(nonce);
        j0[15] = 1;
        self.cipher.ctr_xor(&mut j0, CtrWidth::Be32, &mut s);
        s
    }
}

/// The first counter block for data: inc32(J0) = nonce || 0^30 || 2.
fn first_counter(nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
    let mut counter = [0u8; 16];
    counter[..NONCE_LEN].copy_from_slice(nonce);
    counter[15] = 2;
    counter
}

/// Checks the tag length and the data and AAD lengths against SP 800-38D's limits.
fn check_lengths(aad_len: usize, data_len: usize, tag_len: usize) -> Result<(), SmError> {
    if !TAG_LENS.contains(&tag_len) {
        return Err(SmError::InvalidTagLength);
    }
    if data_len as u64 > MAX_DATA_LEN || aad_len as u64 > MAX_AAD_LEN {
        return Err(SmError::MessageTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_are_typed_errors() {
        // Lengths too large to allocate in a test, checked directly.
        let max = MAX_DATA_LEN as usize;
        assert_eq!(check_lengths(0, max, 16), Ok(()));
        assert_eq!(check_lengths(0, max + 1, 16), Err(SmError::MessageTooLong));
        assert_eq!(check_lengths(MAX_AAD_LEN as usize, 0, 16), Ok(()));
        assert_eq!(
            check_lengths(MAX_AAD_LEN as usize + 1, 0, 16),
            Err(SmError::MessageTooLong)
        );
        assert_eq!(check_lengths(0, 0, 11), Err(SmError::InvalidTagLength));
    }
}
