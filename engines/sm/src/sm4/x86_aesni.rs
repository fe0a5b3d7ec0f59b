//! SM4 on AES-NI + AVX2: the S-box through AESENCLAST, eight blocks per 256-bit register.
//!
//! The state words are kept as P(x) (P: the linear part of the map into the AES field, byte
//! by byte; see `x86_affine`), so a round's S-box input is a plain XOR of three state words
//! and a round constant, fed straight to AESENCLAST (zero key: SubBytes after ShiftRows).
//! The round output P(L(S(...))) is then three affine byte maps of the AESENCLAST output
//! (six in-register `pshufb` nibble lookups) placed by four byte shuffles that also undo
//! ShiftRows, and XORed together. Blocks enter and leave the domain through P and P^-1
//! (nibble lookups too). With VAES, AESENCLAST runs on the whole register (`vaes-avx2`);
//! without it, on its two 128-bit halves (`aesni-avx2`). No table in memory is indexed by
//! data: every lookup is a register shuffle.
//!
//! Safety: the tokens [`AesniAvx2`] and [`VaesAvx2`] exist only when the CPU has their features
//! (checked in their constructors), and every kernel is reached through their methods.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::marker::PhantomData;

use super::x86_affine::{enter_word, nibble_tables, round_constant, unshift_rotate, Map};
use super::x86_asm;
use super::x86_kernel::{self, Lanes};
use super::CtrWidth;

/// Groups of eight blocks run side by side: enough to hide a round's latency, and 1 KiB.
const GROUPS: usize = 8;

/// Two copies of a 16-byte pattern as a 256-bit constant.
const fn ymm(half: [u8; 16]) -> __m256i {
    // SAFETY: __m256i is 32 bytes of plain data, like [u8; 32].
    unsafe { core::mem::transmute::<[u8; 32], __m256i>(mem32(half).0) }
}

/// Nibble tables of P (plain bytes into the state domain) and P^-1.
const ENTER: [__m256i; 2] = [
    ymm(nibble_tables(Map::Enter).0),
    ymm(nibble_tables(Map::Enter).1),
];
const LEAVE: [__m256i; 2] = [
    ymm(nibble_tables(Map::Leave).0),
    ymm(nibble_tables(Map::Leave).1),
];

/// A 32-byte constant in memory, for instructions that read it as an operand.
#[repr(C, align(32))]
pub(super) struct Mem32([u8; 32]);

/// Two copies of a 16-byte pattern, in memory.
const fn mem32(half: [u8; 16]) -> Mem32 {
    let mut bytes = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        bytes[i] = half[i % 16];
        i += 1;
    }
    Mem32(bytes)
}

/// Indices into [`ROUND_CONSTS`]: the nibble tables of the three parts of a round's output,
/// the low-nibble mask, and the four `pshufb` controls that undo ShiftRows and rotate words
/// left by 0, 8, 16 and 24 bits. `x86_asm` reads them at these offsets (32 bytes each).
pub(super) const L0_LO: usize = 0;
pub(super) const L1_LO: usize = 2;
pub(super) const L3_LO: usize = 4;
pub(super) const MASK: usize = 6;
pub(super) const PLACE0: usize = 7;

/// The constants of one round, in the order of the indices above.
pub(super) static ROUND_CONSTS: [Mem32; 11] = [
    mem32(nibble_tables(Map::L0).0),
    mem32(nibble_tables(Map::L0).1),
    mem32(nibble_tables(Map::L1).0),
    mem32(nibble_tables(Map::L1).1),
    mem32(nibble_tables(Map::L3).0),
    mem32(nibble_tables(Map::L3).1),
    mem32([0x0f; 16]),
    mem32(unshift_rotate(0)),
    mem32(unshift_rotate(1)),
    mem32(unshift_rotate(2)),
    mem32(unshift_rotate(3)),
];

/// A round constant as a value.
#[inline(always)]
unsafe fn round_const(i: usize) -> __m256i {
    _mm256_load_si256(ROUND_CONSTS[i].0.as_ptr().cast())
}

/// Reverses the bytes of each 32-bit word (SM4 words are big-endian).
const BSWAP32: __m256i = ymm([3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12]);

/// How a kernel runs AESENCLAST on a 256-bit register, and its round loop.
pub(super) trait SubBytes: Copy {
    /// AESENCLAST with a zero round key (SubBytes after ShiftRows) on each 128-bit half.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn sub_shift(x: __m256i) -> __m256i;

    /// The hand-scheduled round loop (see `x86_asm`) on `groups` groups at `state`.
    ///
    /// # Safety
    /// The CPU has the implementation's features; `state` holds `groups` aligned groups.
    unsafe fn round_loop(state: *mut __m256i, groups: usize, keys: &[u32; 32]);
}

/// AES-NI on each half (`aes`, `avx2`).
#[derive(Clone, Copy)]
pub(super) struct Halves;

impl SubBytes for Halves {
    #[inline(always)]
    unsafe fn sub_shift(x: __m256i) -> __m256i {
        let zero = _mm_setzero_si128();
        let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), zero);
        let hi = _mm_aesenclast_si128(_mm256_extracti128_si256::<1>(x), zero);
        _mm256_set_m128i(hi, lo)
    }

    #[inline(always)]
    unsafe fn round_loop(state: *mut __m256i, groups: usize, keys: &[u32; 32]) {
        x86_asm::rounds_halves(state, groups, keys);
    }
}

/// VAES on the whole register (`vaes`, `avx2`).
#[derive(Clone, Copy)]
pub(super) struct Wide;

impl SubBytes for Wide {
    #[inline(always)]
    unsafe fn sub_shift(x: __m256i) -> __m256i {
        _mm256_aesenclast_epi128(x, _mm256_setzero_si256())
    }

    #[inline(always)]
    unsafe fn round_loop(state: *mut __m256i, groups: usize, keys: &[u32; 32]) {
        x86_asm::rounds_vaes(state, groups, keys);
    }
}

/// One SM4 word of eight blocks; lane 4h + e of a group belongs to block 2e + h.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(super) struct Ymm<S: SubBytes>(__m256i, PhantomData<S>);

impl<S: SubBytes> Ymm<S> {
    #[inline(always)]
    fn new(v: __m256i) -> Self {
        Ymm(v, PhantomData)
    }
}

/// Rotates each word left by `8 * K` bits after undoing ShiftRows: `vpshufb` with its control
/// read from memory. Written as assembly so that the control stays a memory operand (the
/// sixteen registers are needed for state and lookup tables) and so that LLVM cannot push the
/// shuffle through the XOR of the two lookups in front of it.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn place<const K: usize>(x: __m256i) -> __m256i {
    let out: __m256i;
    // SAFETY: reads the 32 bytes of a static; a register-only AVX2 instruction otherwise.
    core::arch::asm!(
        "vpshufb {out}, {x}, ymmword ptr [{ctl}]",
        out = lateout(ymm_reg) out,
        x = in(ymm_reg) x,
        ctl = in(reg) ROUND_CONSTS[PLACE0 + K].0.as_ptr(),
        options(pure, readonly, nostack, preserves_flags),
    );
    out
}

/// The low and high nibbles of each byte, as `pshufb` indices.
#[inline(always)]
unsafe fn nibbles(x: __m256i) -> (__m256i, __m256i) {
    let mask = round_const(MASK);
    let lo = _mm256_and_si256(x, mask);
    let hi = _mm256_and_si256(_mm256_srli_epi32::<4>(x), mask);
    (lo, hi)
}

/// An affine byte map given by its nibble tables, on split nibbles.
#[inline(always)]
unsafe fn lookup(t_lo: __m256i, t_hi: __m256i, (lo, hi): (__m256i, __m256i)) -> __m256i {
    _mm256_xor_si256(_mm256_shuffle_epi8(t_lo, lo), _mm256_shuffle_epi8(t_hi, hi))
}

/// A map with tables in [`ROUND_CONSTS`] at `i` and `i + 1`.
#[inline(always)]
unsafe fn round_lookup(i: usize, y: (__m256i, __m256i)) -> __m256i {
    lookup(round_const(i), round_const(i + 1), y)
}

/// P on every byte of a vector.
#[inline(always)]
unsafe fn enter(x: __m256i) -> __m256i {
    lookup(ENTER[0], ENTER[1], nibbles(x))
}

/// P^-1 on every byte of a vector.
#[inline(always)]
unsafe fn leave(x: __m256i) -> __m256i {
    lookup(LEAVE[0], LEAVE[1], nibbles(x))
}

/// The in-lane 4x4 transpose of 32-bit words (its own inverse).
#[inline(always)]
unsafe fn transpose(r: [__m256i; 4]) -> [__m256i; 4] {
    let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    [
        _mm256_unpacklo_epi64(t0, t2),
        _mm256_unpackhi_epi64(t0, t2),
        _mm256_unpacklo_epi64(t1, t3),
        _mm256_unpackhi_epi64(t1, t3),
    ]
}

/// Four state-domain output words back to eight blocks in memory order.
#[inline(always)]
unsafe fn to_blocks<S: SubBytes>(w: [Ymm<S>; 4]) -> [__m256i; 4] {
    let r = transpose([leave(w[0].0), leave(w[1].0), leave(w[2].0), leave(w[3].0)]);
    [
        _mm256_shuffle_epi8(r[0], BSWAP32),
        _mm256_shuffle_epi8(r[1], BSWAP32),
        _mm256_shuffle_epi8(r[2], BSWAP32),
        _mm256_shuffle_epi8(r[3], BSWAP32),
    ]
}

impl<S: SubBytes> Lanes for Ymm<S> {
    const BLOCKS: usize = 8;

    fn enter_word(w: u32) -> u32 {
        enter_word(w)
    }

    #[inline(always)]
    unsafe fn splat(w: u32) -> Self {
        Self::new(_mm256_set1_epi32(w as i32))
    }

    #[inline(always)]
    unsafe fn xor3(a: Self, b: Self, c: Self) -> Self {
        Self::new(_mm256_xor_si256(a.0, _mm256_xor_si256(b.0, c.0)))
    }

    #[inline(always)]
    unsafe fn xor(a: Self, b: Self) -> Self {
        Self::new(_mm256_xor_si256(a.0, b.0))
    }

    #[inline(always)]
    unsafe fn round<const G: usize>(x0: [Self; G], t: [Self; G]) -> [Self; G] {
        let mut out = x0;
        for (o, t) in out.iter_mut().zip(t) {
            let y = nibbles(S::sub_shift(t.0));
            let part0 = place::<0>(round_lookup(L0_LO, y));
            let l1 = round_lookup(L1_LO, y);
            let part1 = place::<1>(l1);
            let part2 = place::<2>(l1);
            let part3 = place::<3>(round_lookup(L3_LO, y));
            let sum = _mm256_xor_si256(
                _mm256_xor_si256(part0, part1),
                _mm256_xor_si256(part2, part3),
            );
            *o = Self::new(_mm256_xor_si256(o.0, sum));
        }
        out
    }

    #[inline(always)]
    unsafe fn rounds<const G: usize>(x: &mut [[Self; 4]; G], keys: &[u32; 32]) {
        if G <= 2 && !cfg!(debug_assertions) {
            // One or two groups are bound by a round's latency: keep the state in registers.
            // (Unoptimized builds take the assembly loop instead: intrinsics compiled without
            // optimization are some fifty times slower.)
            x86_kernel::rounds_generic(x, keys);
        } else {
            // SAFETY: Ymm is a transparent __m256i, so `x` is G groups of four aligned words;
            // the caller checked the features of S.
            S::round_loop(x.as_mut_ptr().cast(), G, keys);
        }
    }

    #[inline(always)]
    unsafe fn counter_low(low: u32) -> Self {
        let plain = _mm256_add_epi32(
            _mm256_set1_epi32(low as i32),
            _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7),
        );
        Self::new(enter(plain))
    }

    #[inline(always)]
    unsafe fn load(src: *const u8) -> [Self; 4] {
        let mut r = [_mm256_setzero_si256(); 4];
        for (i, v) in r.iter_mut().enumerate() {
            // SAFETY: the caller gives 128 readable bytes at src; this reads 32i..32i+32.
            *v = _mm256_shuffle_epi8(_mm256_loadu_si256(src.add(32 * i).cast()), BSWAP32);
        }
        let x = transpose(r);
        [
            Self::new(enter(x[0])),
            Self::new(enter(x[1])),
            Self::new(enter(x[2])),
            Self::new(enter(x[3])),
        ]
    }

    #[inline(always)]
    unsafe fn store(words: [Self; 4], dst: *mut u8) {
        for (i, r) in to_blocks(words).into_iter().enumerate() {
            // SAFETY: the caller gives 128 writable bytes at dst; this writes 32i..32i+32.
            _mm256_storeu_si256(dst.add(32 * i).cast(), r);
        }
    }

    #[inline(always)]
    unsafe fn xor_into(words: [Self; 4], data: *mut u8) {
        for (i, r) in to_blocks(words).into_iter().enumerate() {
            // SAFETY: the caller gives 128 readable and writable bytes at data.
            let p = data.add(32 * i).cast::<__m256i>();
            _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), r));
        }
    }
}

/// Round keys in the state domain of these kernels (constant-time).
fn schedule(rk: &[u32; 32]) -> [u32; 32] {
    let mut keys = [0u32; 32];
    for (k, r) in keys.iter_mut().zip(rk) {
        *k = round_constant(*r);
    }
    keys
}

/// Declares a token type proving CPU features, with safe methods calling its kernels.
macro_rules! token {
    ($(#[$meta:meta])* $name:ident, $sub:ty, $features:literal, [$($feat:tt),+]) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        pub(super) struct $name(());

        impl $name {
            /// The token, if this CPU has the features.
            pub(super) fn new() -> Option<Self> {
                (true $(&& is_x86_feature_detected!($feat))+).then_some($name(()))
            }

            /// The round keys these kernels take, from the standard's rk[0..32] (in the
            /// order they are to be used).
            pub(super) fn schedule(self, rk: &[u32; 32]) -> [u32; 32] {
                schedule(rk)
            }

            /// One block (CBC encryption and other chained single blocks).
            pub(super) fn crypt_block(self, keys: &[u32; 32], block: &mut [u8; 16]) {
                #[target_feature(enable = $features)]
                unsafe fn run(keys: &[u32; 32], block: &mut [u8; 16]) {
                    x86_kernel::crypt_block::<Ymm<$sub>>(keys, block);
                }
                // SAFETY: the token exists only if the CPU has the features (`new`).
                unsafe { run(keys, block) }
            }

            /// Many independent blocks.
            pub(super) fn crypt_blocks(self, keys: &[u32; 32], blocks: &mut [[u8; 16]]) {
                #[target_feature(enable = $features)]
                unsafe fn run(keys: &[u32; 32], blocks: &mut [[u8; 16]]) {
                    x86_kernel::crypt_blocks::<Ymm<$sub>, GROUPS>(keys, blocks);
                }
                // SAFETY: the token exists only if the CPU has the features (`new`).
                unsafe { run(keys, blocks) }
            }

            /// CTR keystream XOR.
            pub(super) fn ctr_xor(
                self,
                keys: &[u32; 32],
                counter: &mut [u8; 16],
                width: CtrWidth,
                data: &mut [u8],
            ) {
                #[target_feature(enable = $features)]
                unsafe fn run(
                    keys: &[u32; 32],
                    counter: &mut [u8; 16],
                    width: CtrWidth,
                    data: &mut [u8],
                ) {
                    x86_kernel::ctr_xor::<Ymm<$sub>, GROUPS>(keys, counter, width, data);
                }
                // SAFETY: the token exists only if the CPU has the features (`new`).
                unsafe { run(keys, counter, width, data) }
            }
        }
    };
}

token!(
    /// Proof that the CPU has AES-NI and AVX2 (`aesni-avx2`).
    AesniAvx2,
    Halves,
    "aes,avx2",
    ["aes", "avx2"]
);

token!(
    /// Proof that the CPU has VAES, AES-NI and AVX2 (`vaes-avx2`).
    VaesAvx2,
    Wide,
    "vaes,aes,avx2",
    ["vaes", "aes", "avx2"]
);
