//! SM3 compression with the message expansion in AVX2 registers, two blocks at a time (one per
//! 128-bit lane), software-pipelined into the scalar rounds of the blocks before them; the
//! rounds are [`super::soft::rounds`] compiled with BMI2 (`rorx`).
//!
//! Each expansion step makes four words W_j..W_{j+3} at once: lanes 0..2 follow the recurrence
//! directly, and lane 3, which needs W_j, gets P1's linearity fix-up
//! `P1(x ^ rotl(W_j, 15)) = P1(x) ^ P1(rotl(W_j, 15))`. Expanding a pair of blocks while the
//! rounds of the previous pair run keeps both the vector and the scalar units busy.

//!
//! Every helper here is an `unsafe fn` whose one contract is that the CPU supports AVX2; they
//! are reached only from `compress_avx2`, which [`compress`] calls after detecting AVX2 and BMI2.

#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m256i, _mm256_alignr_epi8, _mm256_castsi128_si256, _mm256_inserti128_si256, _mm256_or_si256,
    _mm256_set_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_slli_epi32,
    _mm256_slli_si256, _mm256_srli_epi32, _mm256_srli_si256, _mm256_store_si256, _mm256_xor_si256,
    _mm_loadu_si128,
};

use super::soft::{self, Schedule};
use super::BLOCK_LEN;

/// Compresses whole 64-byte blocks of `blocks` into `state`; falls back to the portable code
/// if the CPU lacks AVX2 or BMI2 (callers only pick this path when it has them).
pub(super) fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: AVX2 and BMI2 support were detected on the line above.
        unsafe { compress_avx2(state, blocks) }
    } else {
        soft::compress(state, blocks);
    }
}

/// W_0..W_67 (17 groups of four) and W'_0..W'_63 (16 groups) of two blocks: in each group of
/// eight words the first four belong to the block in the low lane, the last four to the high.
#[repr(C, align(32))]
struct TwoSchedules {
    w: [[u32; 8]; 17],
    wp: [[u32; 8]; 16],
}

impl TwoSchedules {
    const ZERO: TwoSchedules = TwoSchedules {
        w: [[0; 8]; 17],
        wp: [[0; 8]; 16],
    };
}

/// One block's view of a finished [`TwoSchedules`]: `LANE` 0 is the low lane, 1 the high;
/// the round constants are read from memory (see [`Schedule::k`]).
struct Lane<'a, const LANE: usize>(&'a TwoSchedules, &'a [u32; 64]);

impl<const LANE: usize> Schedule for Lane<'_, LANE> {
    #[inline(always)]
    fn prepare(&mut self, _j: usize) {}

    #[inline(always)]
    fn k(&self, j: usize) -> u32 {
        self.1[j]
    }

    #[inline(always)]
    fn w(&self, j: usize) -> u32 {
        self.0.w[j / 4][LANE * 4 + j % 4]
    }

    #[inline(always)]
    fn wp(&self, j: usize) -> u32 {
        self.0.wp[j / 4][LANE * 4 + j % 4]
    }
}

/// Rotates each 32-bit lane left by `L` (`R` must be `32 - L`).
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
unsafe fn rotl<const L: i32, const R: i32>(x: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_slli_epi32::<L>(x), _mm256_srli_epi32::<R>(x))
}

/// P1 on each lane.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
unsafe fn p1(x: __m256i) -> __m256i {
    _mm256_xor_si256(x, _mm256_xor_si256(rotl::<15, 17>(x), rotl::<23, 9>(x)))
}

/// Stores `v` into a 32-byte-aligned group of eight words.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
unsafe fn store(dst: &mut [u32; 8], v: __m256i) {
    // SAFETY: `dst` is 32 bytes, writable, and 32-byte aligned (TwoSchedules is align(32) and
    // its rows are 32 bytes).
    unsafe { _mm256_store_si256(dst.as_mut_ptr().cast(), v) }
}

/// The message expansion of two blocks, one step (four words) at a time.
struct Expander {
    /// The last sixteen words made: groups g-4..g-1.
    v: [__m256i; 4],
}

impl Expander {
    /// Loads blocks `a` (low lane) and `b` (high lane) and stores groups 0..=3 of W and
    /// groups 0..=2 of W' into `out`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    unsafe fn start(a: &[u8; BLOCK_LEN], b: &[u8; BLOCK_LEN], out: &mut TwoSchedules) -> Self {
        let bswap = _mm256_set_epi8(
            12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11, 4,
            5, 6, 7, 0, 1, 2, 3,
        );
        let mut v = [_mm256_setzero_si256(); 4];
        for (i, (slot, dst)) in v.iter_mut().zip(out.w.iter_mut()).enumerate() {
            // SAFETY: 16 * i + 16 <= 64 for i < 4, so both 16-byte loads stay inside `a`/`b`.
            let (lo, hi) = unsafe {
                (
                    _mm_loadu_si128(a.as_ptr().add(16 * i).cast()),
                    _mm_loadu_si128(b.as_ptr().add(16 * i).cast()),
                )
            };
            let both = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi);
            *slot = _mm256_shuffle_epi8(both, bswap);
            // SAFETY: AVX2, by this function's contract.
            unsafe { store(dst, *slot) };
        }
        for (i, dst) in out.wp.iter_mut().take(3).enumerate() {
            // SAFETY: AVX2, by this function's contract.
            unsafe { store(dst, _mm256_xor_si256(v[i], v[i + 1])) };
        }
        Self { v }
    }

    /// Makes group `g` (4..=16) of W and stores it, and group `g - 1` of W', into `out`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    unsafe fn step(&mut self, g: usize, out: &mut TwoSchedules) {
        let v = self.v;
        let w16 = v[0];
        let w13 = _mm256_alignr_epi8::<12>(v[1], v[0]);
        let w9 = _mm256_alignr_epi8::<12>(v[2], v[1]);
        let w6 = _mm256_alignr_epi8::<8>(v[3], v[2]);
        let w3 = _mm256_srli_si256::<4>(v[3]);
        let x = _mm256_xor_si256(_mm256_xor_si256(w16, w9), rotl::<15, 17>(w3));
        let mut y = _mm256_xor_si256(_mm256_xor_si256(p1(x), rotl::<7, 25>(w13)), w6);
        // Lane 3 used 0 for W_j: add P1(rotl(W_j, 15)) now that lane 0 holds W_j.
        let fix = rotl::<15, 17>(_mm256_slli_si256::<12>(y));
        y = _mm256_xor_si256(y, p1(fix));
        // SAFETY: AVX2, by this function's contract.
        unsafe {
            store(&mut out.w[g], y);
            store(&mut out.wp[g - 1], _mm256_xor_si256(v[3], y));
        }
        self.v = [v[1], v[2], v[3], y];
    }
}

/// Expands blocks `a` and `b` completely into `out`.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
unsafe fn expand(a: &[u8; BLOCK_LEN], b: &[u8; BLOCK_LEN], out: &mut TwoSchedules) {
    // SAFETY: AVX2, by this function's contract.
    unsafe {
        let mut e = Expander::start(a, b, out);
        for g in 4..17 {
            e.step(g, out);
        }
    }
}

/// The low lane of a finished schedule, whose `prepare` also expands the next two blocks,
/// one step every four rounds.
struct Pipelined<'a> {
    cur: &'a TwoSchedules,
    k: &'a [u32; 64],
    next: &'a mut TwoSchedules,
    input: (&'a [u8; BLOCK_LEN], &'a [u8; BLOCK_LEN]),
    expander: Expander,
}

impl<'a> Pipelined<'a> {
    /// # Safety
    /// The CPU must support AVX2 (`prepare` runs AVX2 code).
    #[inline(always)]
    unsafe fn new(
        cur: &'a TwoSchedules,
        k: &'a [u32; 64],
        next: &'a mut TwoSchedules,
        input: (&'a [u8; BLOCK_LEN], &'a [u8; BLOCK_LEN]),
    ) -> Self {
        let expander = Expander {
            v: [_mm256_setzero_si256(); 4],
        };
        Self {
            cur,
            k,
            next,
            input,
            expander,
        }
    }
}

impl Schedule for Pipelined<'_> {
    #[inline(always)]
    fn prepare(&mut self, j: usize) {
        // One expansion step at the start of every group of four rounds.
        let (g, in_group) = (j / 4, j % 4);
        if in_group > 0 {
            return;
        }
        // SAFETY: a `Pipelined` is only built through `Pipelined::new`, whose contract is
        // that the CPU supports AVX2.
        unsafe {
            if g == 0 {
                self.expander = Expander::start(self.input.0, self.input.1, self.next);
            } else if g + 3 <= 16 {
                self.expander.step(g + 3, self.next);
            }
        }
    }

    #[inline(always)]
    fn w(&self, j: usize) -> u32 {
        Lane::<0>(self.cur, self.k).w(j)
    }

    #[inline(always)]
    fn wp(&self, j: usize) -> u32 {
        Lane::<0>(self.cur, self.k).wp(j)
    }

    #[inline(always)]
    fn k(&self, j: usize) -> u32 {
        self.k[j]
    }
}

/// The `i`-th 64-byte block of `blocks`, if whole.
#[inline(always)]
fn block(blocks: &[u8], i: usize) -> Option<&[u8; BLOCK_LEN]> {
    blocks
        .get(i * BLOCK_LEN..(i + 1) * BLOCK_LEN)
        .and_then(|b| b.try_into().ok())
}

/// # Safety
/// The CPU must support AVX2 and BMI2.
#[target_feature(enable = "avx2,bmi2")]
unsafe fn compress_avx2(state: &mut [u32; 8], blocks: &[u8]) {
    let n = blocks.len() / BLOCK_LEN;
    let (Some(first), Some(second)) = (block(blocks, 0), block(blocks, 1)) else {
        // One block (or none): the scalar schedule, no pipeline to fill.
        soft::compress_inline(state, blocks);
        return;
    };
    let mut bufs = [TwoSchedules::ZERO, TwoSchedules::ZERO];
    let (lo, hi) = bufs.split_at_mut(1);
    let (mut cur, mut next) = (&mut lo[0], &mut hi[0]);
    // SAFETY: AVX2, by this function's contract.
    unsafe { expand(first, second, cur) };
    let mut pair = (first, second);
    // Round constants from memory (not immediates): see `Schedule::k`.
    let k = core::hint::black_box(&soft::K);
    let mut i = 2;
    while i <= n {
        // While this pair's rounds run, expand the next pair: a lone last block goes in both
        // lanes, and after the last pair the current one is redone (its result unused).
        let upcoming = match (block(blocks, i), block(blocks, i + 1)) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, a),
            _ => pair,
        };
        // SAFETY: AVX2, by this function's contract.
        let mut pipelined = unsafe { Pipelined::new(cur, k, next, upcoming) };
        soft::rounds(state, &mut pipelined);
        soft::rounds(state, &mut Lane::<1>(cur, k));
        core::mem::swap(&mut cur, &mut next);
        pair = upcoming;
        if i + 1 == n {
            soft::rounds(state, &mut Lane::<0>(cur, k));
        }
        i += 2;
    }
}
