//! Modes of operation over the SM4 block cipher: ECB, CBC (with PKCS#7 helpers), CTR, and
//! the AEADs GCM (NIST SP 800-38D) and CCM (NIST SP 800-38C, RFC 3610), as RFC 8998 uses
//! them for TLS 1.3 and GB/T 38636 (TLCP) for its record layer.
//!
//! Every mode takes an expanded [`Sm4`](crate::sm4::Sm4) (or builds one) and works in place
//! on the caller's buffer; bad lengths, padding and tags are typed [`SmError`]s, never panics.
//! The block cipher's code path (and GHASH's, for GCM) is whatever the key was built with.

pub mod cbc;
pub mod ccm;
pub mod ctr;
pub mod ecb;
pub mod gcm;

pub use ccm::Sm4Ccm;
pub use gcm::Sm4Gcm;

use crate::SmError;

/// SM4's block size in bytes.
pub const BLOCK_LEN: usize = 16;

/// `data` as whole 16-byte blocks, or [`SmError::NotBlockAligned`].
fn as_blocks(data: &mut [u8]) -> Result<&mut [[u8; BLOCK_LEN]], SmError> {
    let (blocks, rest) = data.as_chunks_mut::<BLOCK_LEN>();
    if rest.is_empty() {
        Ok(blocks)
    } else {
        Err(SmError::NotBlockAligned)
    }
}

/// `a ^= b` for one block, as one 128-bit operation.
fn xor_block(a: &mut [u8; BLOCK_LEN], b: &[u8; BLOCK_LEN]) {
    *a = (u128::from_ne_bytes(*a) ^ u128::from_ne_bytes(*b)).to_ne_bytes();
}

/// `a ^= b`, bytewise over the shorter length.
fn xor_in(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}
