//! HMAC-SM3 (RFC 2104 with SM3, as GB/T 15852.2 and the TLCP/TLS PRFs use it).
//!
//! The keyed inner and outer hash states are computed once in [`HmacSm3::new`]; cloning an
//! `HmacSm3` reuses them, so a PRF can key once and MAC many times. Key material is wiped on
//! drop.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::sm3::{Sm3, BLOCK_LEN, DIGEST_LEN};
use crate::SmError;

/// Byte XORed into the key block for the inner hash (RFC 2104).
const IPAD: u8 = 0x36;
/// Byte XORed into the key block for the outer hash (RFC 2104).
const OPAD: u8 = 0x5c;

/// A streaming HMAC-SM3 computation.
#[derive(Clone, Debug)]
pub struct HmacSm3 {
    inner: Sm3,
    outer: Sm3,
}

impl HmacSm3 {
    /// Keys the MAC; a key longer than the 64-byte block is hashed first, as RFC 2104 says.
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK_LEN];
        if key.len() > BLOCK_LEN {
            let mut digest = crate::sm3::sm3(key);
            block[..DIGEST_LEN].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sm3::new();
        let mut outer = Sm3::new();
        block.iter_mut().for_each(|b| *b ^= IPAD);
        inner.update(&block);
        block.iter_mut().for_each(|b| *b ^= IPAD ^ OPAD);
        outer.update(&block);
        block.zeroize();
        Self { inner, outer }
    }

    /// Absorbs message bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The 32-byte tag.
    pub fn finalize(self) -> [u8; DIGEST_LEN] {
        let Self { inner, mut outer } = self;
        let mut inner_digest = inner.finalize();
        outer.update(&inner_digest);
        inner_digest.zeroize();
        outer.finalize()
    }

    /// Checks `tag` (all 32 bytes) in constant time; [`SmError::BadTag`] if it differs or has
    /// another length.
    pub fn verify(self, tag: &[u8]) -> Result<(), SmError> {
        let computed = self.finalize();
        if tag.len() == DIGEST_LEN && bool::from(computed.ct_eq(tag)) {
            Ok(())
        } else {
            Err(SmError::BadTag)
        }
    }
}

/// HMAC-SM3 of `data` under `key` in one call.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = HmacSm3::new(key);
    mac.update(data);
    mac.finalize()
}
