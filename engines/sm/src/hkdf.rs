//! HKDF-SM3 (RFC 5869 with HMAC-SM3), the key schedule of the RFC 8998 TLS 1.3 suites.

use zeroize::Zeroize;

use crate::hmac::HmacSm3;
use crate::sm3::DIGEST_LEN;
use crate::SmError;

/// The most output one `expand` may produce: 255 blocks of HashLen (RFC 5869 section 2.3).
pub const MAX_OUTPUT_LEN: usize = 255 * DIGEST_LEN;

/// HKDF-Extract: PRK = HMAC-SM3(salt, IKM). An empty salt acts as 32 zero bytes, as the RFC says.
pub fn extract(salt: &[u8], ikm: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = HmacSm3::new(salt);
    mac.update(ikm);
    mac.finalize()
}

/// HKDF-Expand: fills `out` with T(1) | T(2) | ..., T(i) = HMAC-SM3(PRK, T(i-1) | info | i).
/// More than [`MAX_OUTPUT_LEN`] bytes gives [`SmError::InvalidLength`].
pub fn expand(prk: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), SmError> {
    if out.len() > MAX_OUTPUT_LEN {
        return Err(SmError::InvalidLength);
    }
    let keyed = HmacSm3::new(prk);
    let mut prev = [0u8; DIGEST_LEN];
    for (i, chunk) in out.chunks_mut(DIGEST_LEN).enumerate() {
        let mut mac = keyed.clone();
        if i > 0 {
            mac.update(&prev);
        }
        mac.update(info);
        // i < 255 because out.len() <= 255 * 32, so the counter i + 1 fits a byte.
        mac.update(&[(i + 1) as u8]);
        prev = mac.finalize();
        chunk.copy_from_slice(&prev[..chunk.len()]);
    }
    prev.zeroize();
    Ok(())
}
