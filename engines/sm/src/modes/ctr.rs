//! SM4 in CTR mode (NIST SP 800-38A) with the whole 16-byte counter block incremented as a
//! big-endian integer modulo 2^128, as OpenSSL's `SM4-CTR` does. Encryption and decryption
//! are the same operation; any length is allowed.

use crate::sm4::{CtrWidth, Sm4};

/// XORs the keystream for initial counter block `iv` into `data` (encrypts or decrypts).
pub fn apply_keystream(key: &Sm4, iv: &[u8; 16], data: &mut [u8]) {
    let mut counter = *iv;
    key.ctr_xor(&mut counter, CtrWidth::Be128, data);
}
