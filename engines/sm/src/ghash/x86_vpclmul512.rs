//! GHASH with VPCLMULQDQ on 512-bit registers (AVX-512): four blocks per instruction and
//! [`POWERS`] blocks per reduction, laid out like the 256-bit kernel (quads taken from the
//! end of a group, so the quad carrying the running hash is multiplied last). A last run of
//! fewer blocks goes through the 256-bit kernel.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

use super::x86_pclmul::{from_u128, to_u128, Sums};
use super::x86_vpclmul::{fold as fold_short, fold_lanes};
use super::{Key, POWERS};

/// Blocks folded per reduction (a multiple of four).
const GROUP: usize = POWERS;

/// Proof that this CPU runs VPCLMULQDQ with AVX-512 F/BW/VL, AVX2, PCLMULQDQ and SSE4.1;
/// only [`Token::detect`] makes one.
#[derive(Clone, Copy)]
pub(super) struct Token(());

impl Token {
    /// A token if the CPU has the features this kernel needs.
    pub(super) fn detect() -> Option<Token> {
        let ok = is_x86_feature_detected!("vpclmulqdq")
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("pclmulqdq")
            && is_x86_feature_detected!("sse4.1");
        ok.then_some(Token(()))
    }
}

/// Absorbs whole 16-byte blocks of `data` into `y`.
pub(super) fn update(_token: Token, key: &Key, y: &mut u128, data: &[u8]) {
    // SAFETY: a Token exists only if Token::detect saw every feature update_blocks enables.
    unsafe { update_blocks(key, y, data) }
}

/// Absorbs whole 16-byte blocks of `data` into `y`, [`GROUP`] per reduction.
///
/// # Safety
/// The CPU must support VPCLMULQDQ, AVX-512 F/BW/VL, AVX2, PCLMULQDQ and SSE4.1.
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq,avx512f,avx512bw,avx512vl")]
unsafe fn update_blocks(key: &Key, y: &mut u128, data: &[u8]) {
    let mut acc = from_u128(*y);
    let mut groups = data.chunks_exact(GROUP * 16);
    for group in &mut groups {
        acc = fold_group(key, acc, group);
    }
    let rest = groups.remainder();
    if rest.len() >= 16 {
        acc = fold_short(key, acc, rest, rest.len() / 16);
    }
    *y = to_u128(acc);
}

/// `(acc + X_1) H^GROUP + X_2 H^(GROUP-1) + ... + X_GROUP H`, reduced, for a whole group.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq,avx512f,avx512bw,avx512vl")]
fn fold_group(key: &Key, acc: __m128i, blocks: &[u8]) -> __m128i {
    let first = POWERS - GROUP;
    let mut lo = _mm512_setzero_si512();
    let mut hi = _mm512_setzero_si512();
    let mut mid = _mm512_setzero_si512();
    let mut i = GROUP;
    while i >= 4 {
        i -= 4;
        let mut x = load_quad(&blocks[16 * i..16 * i + 64]);
        if i == 0 {
            x = _mm512_xor_si512(x, _mm512_zextsi128_si512(acc));
        }
        let h = load_powers(&key.pow[first + i..first + i + 4]);
        let k = load_powers(&key.kar[first + i..first + i + 4]);
        lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, h, 0x00));
        hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, h, 0x11));
        let xx = _mm512_xor_si512(x, _mm512_shuffle_epi32(x, _MM_PERM_BADC));
        mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128(xx, k, 0x00));
    }
    Sums {
        lo: fold_quad(lo),
        mid: fold_quad(mid),
        hi: fold_quad(hi),
    }
    .reduce()
}

/// XOR of the four 128-bit lanes.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq,avx512f,avx512bw,avx512vl")]
fn fold_quad(v: __m512i) -> __m128i {
    fold_lanes(_mm256_xor_si256(
        _mm512_castsi512_si256(v),
        _mm512_extracti64x4_epi64(v, 1),
    ))
}

/// Four GHASH blocks (exactly 64 bytes) as POLYVAL elements, the first in lane 0.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq,avx512f,avx512bw,avx512vl")]
fn load_quad(quad: &[u8]) -> __m512i {
    let quad: &[u8; 64] = match quad.try_into() {
        Ok(q) => q,
        Err(_) => return _mm512_setzero_si512(),
    };
    let swap = _mm512_set_epi64(
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
        0x0001_0203_0405_0607,
        0x0809_0a0b_0c0d_0e0f,
    );
    // SAFETY: `quad` is 64 readable bytes and the load has no alignment requirement.
    let v = unsafe { _mm512_loadu_si512(quad.as_ptr().cast()) };
    _mm512_shuffle_epi8(v, swap)
}

/// Four consecutive key values (exactly four) in one register, the first in lane 0.
#[inline]
#[target_feature(enable = "pclmulqdq,sse4.1,avx2,vpclmulqdq,avx512f,avx512bw,avx512vl")]
fn load_powers(p: &[u128]) -> __m512i {
    let p: &[u128; 4] = match p.try_into() {
        Ok(p) => p,
        Err(_) => return _mm512_setzero_si512(),
    };
    // SAFETY: `p` is 64 readable bytes and the load has no alignment requirement; u128 is
    // stored little-endian, matching the register's lane layout.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}
