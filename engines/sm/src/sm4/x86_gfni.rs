//! SM4 on GFNI + AVX-512: sixteen blocks per 512-bit register, the S-box in two instructions.
//!
//! SM4's S-box is an affine map, the inverse in GF(2^8) and another affine map (see
//! `x86_affine`); `vgf2p8affineqb` applies the first (into the AES field) and
//! `vgf2p8affineinvqb` inverts in the AES field and applies the second. L is four `vprold`
//! rotations folded together with `vpternlogd`. State words stay in plain form, so round keys
//! are the standard's.
//!
//! Not executed on the machine it was written on (no GFNI, no AVX-512 there): the tests run it
//! against the portable path on CPUs that have the features and report a skip otherwise.
//!
//! Safety: the token [`GfniAvx512`] exists only when the CPU has GFNI, AVX-512F, AVX-512BW and
//! AVX-512VL (checked in its constructor), and every kernel is reached through its methods.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

use super::x86_affine::{gf2p8_matrix, Map};
use super::x86_kernel::{self, Lanes};
use super::CtrWidth;

/// Groups of sixteen blocks run side by side (64 blocks, 1 KiB).
const GROUPS: usize = 4;

/// The matrix of the map into the AES field, for `vgf2p8affineqb`.
const PRE_MATRIX: u64 = gf2p8_matrix(Map::Pre);
/// Its constant.
const PRE_CONST: i32 = Map::Pre.eval(0) as i32;
/// The matrix of the map out of the AES-field inverse, for `vgf2p8affineinvqb`.
const POST_MATRIX: u64 = gf2p8_matrix(Map::Post);
/// Its constant.
const POST_CONST: i32 = Map::Post.eval(0) as i32;

/// `vpternlogd` truth table for `a ^ b ^ c`.
const XOR3: i32 = 0x96;

/// One SM4 word of sixteen blocks; lane 4h + e of a group belongs to block 4e + h.
#[derive(Clone, Copy)]
#[repr(transparent)]
struct Zmm(__m512i);

/// Reverses the bytes of each 32-bit word (SM4 words are big-endian).
#[inline(always)]
unsafe fn bswap32(x: __m512i) -> __m512i {
    let control = _mm512_set4_epi32(0x0c0d_0e0f, 0x0809_0a0b, 0x0405_0607, 0x0001_0203);
    _mm512_shuffle_epi8(x, control)
}

/// The in-lane 4x4 transpose of 32-bit words (its own inverse).
#[inline(always)]
unsafe fn transpose(r: [__m512i; 4]) -> [__m512i; 4] {
    let t0 = _mm512_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm512_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm512_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm512_unpackhi_epi32(r[2], r[3]);
    [
        _mm512_unpacklo_epi64(t0, t2),
        _mm512_unpackhi_epi64(t0, t2),
        _mm512_unpacklo_epi64(t1, t3),
        _mm512_unpackhi_epi64(t1, t3),
    ]
}

/// Four output words back to sixteen blocks in memory order.
#[inline(always)]
unsafe fn to_blocks(w: [Zmm; 4]) -> [__m512i; 4] {
    let r = transpose([w[0].0, w[1].0, w[2].0, w[3].0]);
    [bswap32(r[0]), bswap32(r[1]), bswap32(r[2]), bswap32(r[3])]
}

impl Lanes for Zmm {
    const BLOCKS: usize = 16;

    fn enter_word(w: u32) -> u32 {
        w
    }

    #[inline(always)]
    unsafe fn splat(w: u32) -> Self {
        Zmm(_mm512_set1_epi32(w as i32))
    }

    #[inline(always)]
    unsafe fn xor3(a: Self, b: Self, c: Self) -> Self {
        Zmm(_mm512_ternarylogic_epi32::<XOR3>(a.0, b.0, c.0))
    }

    #[inline(always)]
    unsafe fn xor(a: Self, b: Self) -> Self {
        Zmm(_mm512_xor_si512(a.0, b.0))
    }

    #[inline(always)]
    unsafe fn round<const G: usize>(x0: [Self; G], t: [Self; G]) -> [Self; G] {
        let pre = _mm512_set1_epi64(PRE_MATRIX as i64);
        let post = _mm512_set1_epi64(POST_MATRIX as i64);
        let mut out = x0;
        for (o, t) in out.iter_mut().zip(t) {
            let b = _mm512_gf2p8affine_epi64_epi8::<PRE_CONST>(t.0, pre);
            let b = _mm512_gf2p8affineinv_epi64_epi8::<POST_CONST>(b, post);
            // x0 ^ L(B) = x0 ^ B ^ rol2 B ^ rol10 B ^ rol18 B ^ rol24 B.
            let r = _mm512_ternarylogic_epi32::<XOR3>(o.0, b, _mm512_rol_epi32::<2>(b));
            let r = _mm512_ternarylogic_epi32::<XOR3>(
                r,
                _mm512_rol_epi32::<10>(b),
                _mm512_rol_epi32::<18>(b),
            );
            *o = Zmm(_mm512_xor_si512(r, _mm512_rol_epi32::<24>(b)));
        }
        out
    }

    #[inline(always)]
    unsafe fn counter_low(low: u32) -> Self {
        let offsets = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        Zmm(_mm512_add_epi32(_mm512_set1_epi32(low as i32), offsets))
    }

    #[inline(always)]
    unsafe fn load(src: *const u8) -> [Self; 4] {
        let mut r = [_mm512_setzero_si512(); 4];
        for (i, v) in r.iter_mut().enumerate() {
            // SAFETY: the caller gives 256 readable bytes at src; this reads 64i..64i+64.
            *v = bswap32(_mm512_loadu_si512(src.add(64 * i).cast()));
        }
        let x = transpose(r);
        [Zmm(x[0]), Zmm(x[1]), Zmm(x[2]), Zmm(x[3])]
    }

    #[inline(always)]
    unsafe fn store(words: [Self; 4], dst: *mut u8) {
        for (i, r) in to_blocks(words).into_iter().enumerate() {
            // SAFETY: the caller gives 256 writable bytes at dst; this writes 64i..64i+64.
            _mm512_storeu_si512(dst.add(64 * i).cast(), r);
        }
    }

    #[inline(always)]
    unsafe fn xor_into(words: [Self; 4], data: *mut u8) {
        for (i, r) in to_blocks(words).into_iter().enumerate() {
            // SAFETY: the caller gives 256 readable and writable bytes at data.
            let p = data.add(64 * i);
            _mm512_storeu_si512(p.cast(), _mm512_xor_si512(_mm512_loadu_si512(p.cast()), r));
        }
    }
}

/// Proof that the CPU has GFNI, AVX-512F, AVX-512BW and AVX-512VL (`gfni-avx512`).
#[derive(Clone, Copy, Debug)]
pub(super) struct GfniAvx512(());

impl GfniAvx512 {
    /// The token, if this CPU has the features.
    pub(super) fn new() -> Option<Self> {
        (is_x86_feature_detected!("gfni")
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl"))
        .then_some(GfniAvx512(()))
    }

    /// The round keys these kernels take: the standard's, unchanged.
    pub(super) fn schedule(self, rk: &[u32; 32]) -> [u32; 32] {
        *rk
    }

    /// One block (CBC encryption and other chained single blocks).
    pub(super) fn crypt_block(self, keys: &[u32; 32], block: &mut [u8; 16]) {
        // SAFETY: this token exists only if the CPU has the features (GfniAvx512::new).
        unsafe { gfni_block(keys, block) }
    }

    /// Many independent blocks.
    pub(super) fn crypt_blocks(self, keys: &[u32; 32], blocks: &mut [[u8; 16]]) {
        // SAFETY: this token exists only if the CPU has the features (GfniAvx512::new).
        unsafe { gfni_blocks(keys, blocks) }
    }

    /// CTR keystream XOR.
    pub(super) fn ctr_xor(
        self,
        keys: &[u32; 32],
        counter: &mut [u8; 16],
        width: CtrWidth,
        data: &mut [u8],
    ) {
        // SAFETY: this token exists only if the CPU has the features (GfniAvx512::new).
        unsafe { gfni_ctr(keys, counter, width, data) }
    }
}

#[target_feature(enable = "gfni,avx512f,avx512bw,avx512vl")]
unsafe fn gfni_block(keys: &[u32; 32], block: &mut [u8; 16]) {
    x86_kernel::crypt_block::<Zmm>(keys, block);
}

#[target_feature(enable = "gfni,avx512f,avx512bw,avx512vl")]
unsafe fn gfni_blocks(keys: &[u32; 32], blocks: &mut [[u8; 16]]) {
    x86_kernel::crypt_blocks::<Zmm, GROUPS>(keys, blocks);
}

#[target_feature(enable = "gfni,avx512f,avx512bw,avx512vl")]
unsafe fn gfni_ctr(keys: &[u32; 32], counter: &mut [u8; 16], width: CtrWidth, data: &mut [u8]) {
    x86_kernel::ctr_xor::<Zmm, GROUPS>(keys, counter, width, data);
}
