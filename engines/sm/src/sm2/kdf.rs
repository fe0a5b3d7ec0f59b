//! The SM2 key derivation function (GB/T 32918.4-2016 §5.4.3): SM3 in counter mode over a shared
//! secret, used by public-key encryption and by the key exchange.
//!
//! Block i (counting from 1) is SM3(Z || ct_i) with ct_i the 32-bit big-endian counter; the output
//! is the blocks concatenated and cut to the requested length.

use zeroize::Zeroize;

use crate::sm3::{Sm3, DIGEST_LEN};
use crate::SmError;

/// The longest output the 32-bit counter allows: (2^32 - 1) blocks.
const MAX_OUTPUT_LEN: u64 = (u32::MAX as u64) * DIGEST_LEN as u64;

/// Fills `out` with KDF(Z), where Z is the concatenation of `parts`.
///
/// [`SmError::InvalidLength`] if `out` is longer than the counter can address.
pub(crate) fn kdf(parts: &[&[u8]], out: &mut [u8]) -> Result<(), SmError> {
    if out.len() as u64 > MAX_OUTPUT_LEN {
        return Err(SmError::InvalidLength);
    }
    // Z is hashed once; each block continues from a copy of that state.
    let mut base = Sm3::new();
    for part in parts {
        base.update(part);
    }
    let mut counter: u32 = 1;
    for chunk in out.chunks_mut(DIGEST_LEN) {
        let mut h = base.clone();
        h.update(&counter.to_be_bytes());
        let mut block = h.finalize();
        chunk.copy_from_slice(&block[..chunk.len()]);
        block.zeroize();
        counter = counter.wrapping_add(1);
    }
    Ok(())
}
