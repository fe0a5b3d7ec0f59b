//! GHASH with PCLMULQDQ on 128-bit registers: a group of blocks is multiplied by descending
//! key powers (Karatsuba, three carry-less multiplies each), summed unreduced, and reduced
//! once (two multiplies by 0xc2 << 56, RFC 8452's POLYVAL reduction).
//!
//! The block that carries the running hash is multiplied last, so the serial chain from one
//! group's result to the next is one product plus the reduction. Also supplies the pieces the
//! wider kernels share (reduction, register conversions) and a single product for deriving
//! the key powers.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

use super::{Key, POWERS};

/// Blocks folded per reduction.
const GROUP: usize = 8;

/// Proof that this CPU runs PCLMULQDQ and SSE4.1; only [`Token::detect`] makes one.
#[derive(Clone, Copy)]
pub(super) struct Token(());

impl Token {
    /// A token if the CPU has the features this kernel needs.
    pub(super) fn detect() -> Option<Token> {
        let ok = is_x86_feature_detected!("pclmulqdq") && is_x86_feature_detected!("sse4.1");
        ok.then_some(Token(()))
    }
}

/// Absorbs whole 16-byte blocks of `data` into `y`.
pub(super) fn update(_token: Token, key: &Key, y: &mut u128, data: &[u8]) {
    // SAFETY: a Token exists only if Token::detect saw PCLMULQDQ and SSE4.1 on this CPU.
    unsafe { update_blocks(key, y, data) }
}

/// The POLYVAL product `a * b * x^-128`.
pub(super) fn mul(_token: Token, a: u128, b: u128) -> u128 {
    // SAFETY: a Token exists only if Token::detect saw PCLMULQDQ and SSE4.1 on this CPU.
    unsafe { mul_one(a, b) }
}

/// # Safety
/// The CPU must support PCLMULQDQ and SSE4.1.
#[target_feature(enable = "pclmulqdq,sse4.1")]
unsafe fn mul_one(a: u128, b: u128) -> u128 {
    let (a, b) = (from_u128(a), from_u128(b));
    let lo = _mm_clmulepi64_si128(a, b, 0x00);
    let hi = _mm_clmulepi64_si128(a, b, 0x11);
    let mid = _mm_xor_si128(
        _mm_clmulepi64_si128(a, b, 0x01),
        _mm_clmulepi64_si128(a, b, 0x10),
    );
    let lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    let hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    to_u128(reduce(lo, hi))
}

/// Absorbs whole 16-byte blocks of `data` into `y`, [`GROUP`] per reduction.
///
/// # Safety
/// The CPU must support PCLMULQDQ and SSE4.1.
#[target_feature(enable = "pclmulqdq,sse4.1")]
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
#[target_feature(enable = "pclmulqdq,sse4.1")]
fn fold(key: &Key, acc: __m128i, blocks: &[u8], n: usize) -> __m128i {
    let first = POWERS - n;
    let mut sums = Sums::new();
    for i in (0..n).rev() {
        let mut x = load_block(&blocks[16 * i..16 * i + 16]);
        if i == 0 {
            x = _mm_xor_si128(x, acc);
        }
        sums.mul_add(x, key, first + i);
    }
    sums.reduce()
}

/// Unreduced Karatsuba sums: low and high products and the middle one (which still
/// contains the low and high parts).
#[derive(Clone, Copy)]
pub(super) struct Sums {
    pub(super) lo: __m128i,
    pub(super) mid: __m128i,
    pub(super) hi: __m128i,
}

impl Sums {
    /// Empty sums.
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse4.1")]
    pub(super) fn new() -> Sums {
        Sums {
            lo: _mm_setzero_si128(),
            mid: _mm_setzero_si128(),
            hi: _mm_setzero_si128(),
        }
    }

    /// Adds the product of `x` and key power `key.pow[at]`.
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse4.1")]
    pub(super) fn mul_add(&mut self, x: __m128i, key: &Key, at: usize) {
        let h = from_u128(key.pow[at]);
        let k = from_u128(key.kar[at]);
        self.lo = _mm_xor_si128(self.lo, _mm_clmulepi64_si128(x, h, 0x00));
        self.hi = _mm_xor_si128(self.hi, _mm_clmulepi64_si128(x, h, 0x11));
        let xx = _mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4e));
        self.mid = _mm_xor_si128(self.mid, _mm_clmulepi64_si128(xx, k, 0x00));
    }

    /// Completes the Karatsuba sum and reduces it.
    #[inline]
    #[target_feature(enable = "pclmulqdq,sse4.1")]
    pub(super) fn reduce(self) -> __m128i {
        let mid = _mm_xor_si128(self.mid, _mm_xor_si128(self.lo, self.hi));
        let lo = _mm_xor_si128(self.lo, _mm_slli_si128(mid, 8));
        let hi = _mm_xor_si128(self.hi, _mm_srli_si128(mid, 8));
        reduce(lo, hi)
    }
}

/// `(hi:lo) * x^-128` modulo the POLYVAL polynomial (the steps of `soft::reduce`).
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1")]
fn reduce(lo: __m128i, hi: __m128i) -> __m128i {
    let poly = _mm_set_epi64x(0, 0xc200_0000_0000_0000_u64 as i64);
    let t = _mm_clmulepi64_si128(lo, poly, 0x00);
    let lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
    let t = _mm_clmulepi64_si128(lo, poly, 0x00);
    let lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), t);
    _mm_xor_si128(hi, lo)
}

/// One GHASH block (exactly 16 bytes) as a POLYVAL element (its big-endian integer value).
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1")]
pub(super) fn load_block(block: &[u8]) -> __m128i {
    let block: &[u8; 16] = match block.try_into() {
        Ok(b) => b,
        Err(_) => return _mm_setzero_si128(),
    };
    let swap = _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0a0b_0c0d_0e0f);
    // SAFETY: `block` is 16 readable bytes and the load has no alignment requirement.
    _mm_shuffle_epi8(unsafe { _mm_loadu_si128(block.as_ptr().cast()) }, swap)
}

/// A u128 in a register, low 64 bits in the low lane.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1")]
pub(super) fn from_u128(v: u128) -> __m128i {
    _mm_set_epi64x((v >> 64) as i64, v as i64)
}

/// The inverse of [`from_u128`].
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1")]
pub(super) fn to_u128(v: __m128i) -> u128 {
    let lo = _mm_cvtsi128_si64(v) as u64;
    let hi = _mm_extract_epi64(v, 1) as u64;
    (u128::from(hi) << 64) | u128::from(lo)
}
