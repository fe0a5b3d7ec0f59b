//! GHASH with VPCLMULQDQ on 256-bit registers (AVX2): two blocks per instruction and
//! [`GROUP`] blocks per reduction. Each lane multiplies its block by the matching descending
//! key power (Karatsuba, three carry-less multiplies); the lanes are summed unreduced, folded
//! to one 128-bit value and reduced with the PCLMULQDQ kernel's code.
//!
//! Pairs are taken from the end of a group, so the pair carrying the running hash is
//! multiplied last and the serial chain between groups stays one product plus a reduction.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

use super::x86_pclmul::{from_u128, load_block, to_u128, Sums};
use super::{Key, POWERS};

/// Blocks folded per reduction.
const GROUP: usize = POWERS;

/// Proof that this CPU runs VPCLMULQDQ, AVX2, PCLMULQDQ and SSE4.1; only [`Token::detect`]
/// makes one.
#[derive(Clone, Copy)]
pub(super) struct Token(());

impl Token {
    /// A token if the CPU has the features this kernel needs.
    pub(super) fn detect() -> Option<Token> {
        let ok = is_x86_feature_detected!("vpclmulqdq")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("pclmulqdq")
            && is_x86_feature_detected!("sse4.1");
        ok.then_some(Token(()))
    }
}

/// Absorbs whole 16-byte blocks of `data` into `y`.
pub(super) fn update(_token: Token, key: &Key, y: &mut u128, data: &[u8]) {
    // SAFETY: a Token exists only if Token::detect saw VPCLMULQDQ, AVX2, PCLMULQDQ and SSE4.1.
    unsafe { update_blocks(key, y, data) }
}

/// Absorbs whole 16-byte blocks of `data` into `y`, [`GROUP`] per reduction.
///
/// # Safety
/// The CPU must support VPCLMULQDQ, AVX2, PCLMULQDQ and SSE4.1.
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq")]
unsafe fn update_blocks(key: &Key, y: &mut u128, data: &[u8]) {
    let mut acc = from_u128(*y);
    let mut groups = data.chunks_exact(GROUP * 16);
    for group in &mut groups {
        acc = fold(key, acc, group, GROUP);
    }
    let rest = groups.remainder();
    if rest.len() >= 16 {
        acc = fold(key, acc, rest, rest.len() / 16);
    }
    *y = to_u128(acc);
}

/// `(acc + X_1) H^n + X_2 H^(n-1) + ... + X_n H`, reduced, for the first `n` (1..=POWERS)
/// blocks of `blocks`.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq")]
pub(super) fn fold(key: &Key, acc: __m128i, blocks: &[u8], n: usize) -> __m128i {
    let first = POWERS - n;
    let mut lo = _mm256_setzero_si256();
    let mut hi = _mm256_setzero_si256();
    let mut mid = _mm256_setzero_si256();
    let mut i = n;
    while i >= 2 {
        i -= 2;
        let mut x = load_pair(&blocks[16 * i..16 * i + 32]);
        if i == 0 {
            x = _mm256_xor_si256(x, _mm256_zextsi128_si256(acc));
        }
        let h = load_powers(&key.pow[first + i..first + i + 2]);
        let k = load_powers(&key.kar[first + i..first + i + 2]);
        lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(x, h, 0x00));
        hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(x, h, 0x11));
        let xx = _mm256_xor_si256(x, _mm256_shuffle_epi32(x, 0x4e));
        mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(xx, k, 0x00));
    }
    let mut sums = Sums {
        lo: fold_lanes(lo),
        mid: fold_lanes(mid),
        hi: fold_lanes(hi),
    };
    if i == 1 {
        // An odd count: the first block, with the running hash, in a 128-bit register.
        let x = _mm_xor_si128(load_block(&blocks[..16]), acc);
        sums.mul_add(x, key, first);
    }
    sums.reduce()
}

/// XOR of the two 128-bit lanes.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq")]
pub(super) fn fold_lanes(v: __m256i) -> __m128i {
    _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))
}

/// Two GHASH blocks (exactly 32 bytes) as POLYVAL elements, the first in the low lane.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq")]
fn load_pair(pair: &[u8]) -> __m256i {
    let pair: &[u8; 32] = match pair.try_into() {
        Ok(p) => p,
        Err(_) => return _mm256_setzero_si256(),
    };
    let swap = _mm256_set_epi64x(
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
    );
    // SAFETY: `pair` is 32 readable bytes and the load has no alignment requirement.
    _mm256_shuffle_epi8(unsafe { _mm256_loadu_si256(pair.as_ptr().cast()) }, swap)
}

/// Two consecutive key values (exactly two) in one register, the first in the low lane.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq")]
fn load_powers(p: &[u128]) -> __m256i {
    let p: &[u128; 2] = match p.try_into() {
        Ok(p) => p,
        Err(_) => return _mm256_setzero_si256(),
    };
    // SAFETY: `p` is 32 readable bytes and the load has no alignment requirement; u128 is
    // stored little-endian, matching the register's lane layout.
    unsafe { _mm256_loadu_si256(p.as_ptr().cast()) }
}
