//! SM4 in ECB mode: each 16-byte block on its own. For interoperability and tests only; it
//! leaks equal blocks, so no protocol here uses it.

use super::as_blocks;
use crate::sm4::Sm4;
use crate::SmError;

/// Encrypts `data` in place; its length must be a multiple of 16
/// ([`SmError::NotBlockAligned`] otherwise, with `data` untouched).
pub fn encrypt(key: &Sm4, data: &mut [u8]) -> Result<(), SmError> {
    key.encrypt_blocks(as_blocks(data)?);
    Ok(())
}

/// Decrypts `data` in place; its length must be a multiple of 16
/// ([`SmError::NotBlockAligned`] otherwise, with `data` untouched).
pub fn decrypt(key: &Sm4, data: &mut [u8]) -> Result<(), SmError> {
    key.decrypt_blocks(as_blocks(data)?);
    Ok(())
}
