//! SM4 in CBC mode (NIST SP 800-38A), plus PKCS#7 padding (RFC 5652 section 6.3).
//!
//! Encryption is inherently serial. Decryption is parallel: a run of ciphertext blocks is
//! copied aside, decrypted at once with [`Sm4::decrypt_blocks`] (which the SIMD paths do
//! many blocks at a time), then XORed with the preceding ciphertext blocks.
//!
//! Padding is checked in constant time, but a padding error is still an observable result:
//! protocols that MAC the plaintext (TLCP's CBC suites) must run [`decrypt`] and do their own
//! constant-time padding and MAC check instead of calling [`decrypt_padded`].

use subtle::{ConstantTimeEq, ConstantTimeLess};
use zeroize::Zeroize;

use super::{as_blocks, xor_block, BLOCK_LEN};
use crate::sm4::Sm4;
use crate::SmError;

/// Blocks decrypted per call of [`Sm4::decrypt_blocks`] (4 KiB, copied aside on the stack).
const RUN: usize = 256;

/// Encrypts `data` in place with initial vector `iv`; the length must be a multiple of 16
/// ([`SmError::NotBlockAligned`] otherwise, with `data` untouched).
pub fn encrypt(key: &Sm4, iv: &[u8; 16], data: &mut [u8]) -> Result<(), SmError> {
    let mut prev = *iv;
    for block in as_blocks(data)? {
        xor_block(block, &prev);
        key.encrypt_block(block);
        prev = *block;
    }
    Ok(())
}

/// Decrypts `data` in place with initial vector `iv`; the length must be a multiple of 16
/// ([`SmError::NotBlockAligned`] otherwise, with `data` untouched).
pub fn decrypt(key: &Sm4, iv: &[u8; 16], data: &mut [u8]) -> Result<(), SmError> {
    let mut prev = *iv;
    let mut saved = [[0u8; BLOCK_LEN]; RUN];
    for run in as_blocks(data)?.chunks_mut(RUN) {
        let saved = &mut saved[..run.len()];
        saved.copy_from_slice(run);
        key.decrypt_blocks(run);
        if let (Some((first, rest)), Some(last)) = (run.split_first_mut(), saved.last()) {
            xor_block(first, &prev);
            for (block, c) in rest.iter_mut().zip(saved.iter()) {
                xor_block(block, c);
            }
            prev = *last;
        }
    }
    Ok(())
}

/// Appends PKCS#7 padding (1 to 16 bytes) to the plaintext in `data`, then encrypts it all
/// in place.
pub fn encrypt_padded(key: &Sm4, iv: &[u8; 16], data: &mut Vec<u8>) {
    let pad = BLOCK_LEN - data.len() % BLOCK_LEN;
    data.resize(data.len() + pad, pad as u8);
    // The padded length is a whole number of blocks, so this cannot fail.
    let _ = encrypt(key, iv, data);
}

/// Decrypts `data` in place and returns the plaintext without its PKCS#7 padding.
///
/// Errors: [`SmError::NotBlockAligned`] or [`SmError::CiphertextTooShort`] (empty) before
/// decrypting; [`SmError::BadPadding`] after, with `data` wiped.
pub fn decrypt_padded<'a>(
    key: &Sm4,
    iv: &[u8; 16],
    data: &'a mut [u8],
) -> Result<&'a mut [u8], SmError> {
    if data.is_empty() {
        return Err(SmError::CiphertextTooShort);
    }
    decrypt(key, iv, data)?;
    match padding_len(data) {
        Some(pad) => {
            let keep = data.len() - pad;
            Ok(&mut data[..keep])
        }
        None => {
            data.zeroize();
            Err(SmError::BadPadding)
        }
    }
}

/// The PKCS#7 padding length of `data` (at least one block), checked in constant time:
/// the last byte `n` must be 1..=16 and the last `n` bytes must all equal `n`.
fn padding_len(data: &[u8]) -> Option<usize> {
    let last = data.len().checked_sub(BLOCK_LEN)?;
    let tail = &data[last..];
    let n = tail[BLOCK_LEN - 1];
    let mut ok = !n.ct_eq(&0) & n.ct_lt(&(BLOCK_LEN as u8 + 1));
    for (i, b) in tail.iter().enumerate() {
        // Byte i is padding when i >= 16 - n, i.e. 15 - i < n.
        let in_pad = ((BLOCK_LEN - 1 - i) as u8).ct_lt(&n);
        ok &= !in_pad | b.ct_eq(&n);
    }
    bool::from(ok).then_some(usize::from(n))
}
