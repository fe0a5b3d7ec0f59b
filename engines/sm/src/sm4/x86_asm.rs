//! The SM4 round loops of the AES-NI paths, scheduled by hand: 32 rounds on up to eight groups
//! of eight blocks whose state-domain words (see `x86_aesni`) sit in memory. `rounds_vaes`
//! runs AESENCLAST on whole 256-bit registers; `rounds_halves` on their two 128-bit halves.
//!
//! Why assembly: a round needs six lookup tables, a mask, two shuffle controls, a round key
//! and five temporaries, which is every one of the sixteen `ymm` registers. Compiled from
//! intrinsics, LLVM spills and reloads tables and state in the middle of the round chains
//! (about 30 instructions a round instead of 26) and runs some 10% slower. Here the tables
//! stay in registers, the state words are memory operands read long after they were written,
//! and each round's work is one straight run of instructions per group.
//!
//! Register plan: ymm8..ymm13 the nibble tables of the round output parts L0, L1, L3;
//! ymm14 the 0x0f mask; ymm6 and ymm7 the rotate-by-8 and rotate-by-16 controls (the other
//! two are memory operands); ymm5 zero (AESENCLAST's key); ymm15 the round key; ymm0..ymm4
//! temporaries. Rounds 4i + J for J = 0..3 each loop over the groups; the even rounds store
//! the XOR of the two words the next round shares in a per-group slot.
//!
//! Safety: the loops are reached only through the tokens' kernels in `x86_aesni` (the CPU has
//! the features), and read and write only the state and slot arrays and the constants.

#![allow(unsafe_code)]

use core::arch::asm;
use core::arch::x86_64::{__m256i, _mm256_setzero_si256};

use super::x86_aesni::{L0_LO, L1_LO, L3_LO, MASK, PLACE0, ROUND_CONSTS};

/// Most groups one call handles.
const MAX_GROUPS: usize = 8;

/// The S-box input of an even round J: `x[J+1] ^ x[J+2] ^ x[J+3] ^ key`, keeping
/// `x[J+2] ^ x[J+3]` in the group's slot for round J + 1 (arguments: byte offsets of words
/// J+1, J+2, J+3).
#[rustfmt::skip]
macro_rules! even_input {
    ($o1:literal, $o2:literal, $o3:literal) => {
        concat!(
            "vmovdqa ymm0, ymmword ptr [{p} + ", $o2, "]\n",
            "vpxor ymm0, ymm0, ymmword ptr [{p} + ", $o3, "]\n",
            "vmovdqa ymmword ptr [{q}], ymm0\n",
            "vpxor ymm0, ymm0, ymmword ptr [{p} + ", $o1, "]\n",
            "vpxor ymm0, ymm0, ymm15\n",
        )
    };
}

/// The S-box input of an odd round J: the slot, the key and word J+3 (its byte offset).
#[rustfmt::skip]
macro_rules! odd_input {
    ($o3:literal) => {
        concat!(
            "vpxor ymm0, ymm15, ymmword ptr [{q}]\n",
            "vpxor ymm0, ymm0, ymmword ptr [{p} + ", $o3, "]\n",
        )
    };
}

/// AESENCLAST (given), the three table lookups placed by four shuffles, and the XOR into word
/// J (its byte offset). The shuffle controls are read at `32 * (PLACE0 + k)` into the
/// constants.
#[rustfmt::skip]
macro_rules! round_output {
    ($aes:expr, $o0:literal) => {
        concat!(
            $aes,
            "vpsrld ymm1, ymm0, 4\n",
            "vpand ymm0, ymm0, ymm14\n",
            "vpand ymm1, ymm1, ymm14\n",
            "vpshufb ymm2, ymm8, ymm0\n",
            "vpshufb ymm3, ymm9, ymm1\n",
            "vpxor ymm2, ymm2, ymm3\n",
            "vpshufb ymm2, ymm2, ymmword ptr [{c} + 224]\n",
            "vpshufb ymm3, ymm10, ymm0\n",
            "vpshufb ymm4, ymm11, ymm1\n",
            "vpxor ymm3, ymm3, ymm4\n",
            "vpshufb ymm4, ymm3, ymm6\n",
            "vpshufb ymm3, ymm3, ymm7\n",
            "vpxor ymm2, ymm2, ymm4\n",
            "vpxor ymm2, ymm2, ymm3\n",
            "vpshufb ymm3, ymm12, ymm0\n",
            "vpshufb ymm4, ymm13, ymm1\n",
            "vpxor ymm3, ymm3, ymm4\n",
            "vpshufb ymm3, ymm3, ymmword ptr [{c} + 320]\n",
            "vpxor ymm2, ymm2, ymm3\n",
            "vpxor ymm2, ymm2, ymmword ptr [{p} + ", $o0, "]\n",
            "vmovdqa ymmword ptr [{p} + ", $o0, "], ymm2\n",
        )
    };
}

/// One round over every group: set the key, walk the groups (128 bytes of state and one
/// 32-byte slot each).
#[rustfmt::skip]
macro_rules! round_over_groups {
    ($aes:expr, $key:literal, $label:literal, $input:expr, $o0:literal) => {
        concat!(
            "vpbroadcastd ymm15, dword ptr [{k} + ", $key, "]\n",
            "mov {p}, {st}\n",
            "mov {q}, {sl}\n",
            "mov {n}, {g}\n",
            $label, ":\n",
            $input,
            round_output!($aes, $o0),
            "add {p}, 128\n",
            "add {q}, 32\n",
            "dec {n}\n",
            "jnz ", $label, "b\n",
        )
    };
}

/// Defines a round loop: 32 rounds on `groups` groups at `state` (four 32-byte words per
/// group, 32-byte aligned), with round keys from `x86_aesni`'s state domain.
macro_rules! round_loop {
    ($(#[$meta:meta])* $name:ident, $features:literal, $aes:expr) => {
        $(#[$meta])*
        ///
        /// # Safety
        /// The CPU has the features; `state` is valid and 32-byte aligned for `128 * groups`
        /// bytes.
        #[inline]
        #[target_feature(enable = $features)]
        pub(super) unsafe fn $name(state: *mut __m256i, groups: usize, keys: &[u32; 32]) {
            let mut slots = [_mm256_setzero_si256(); MAX_GROUPS];
            let groups = groups.clamp(1, MAX_GROUPS);
            // SAFETY: the caller checked the CPU features and the state array; the slots are
            // a local array of MAX_GROUPS >= groups entries; the constants are a static of
            // eleven 32-byte entries; the keys are 32 words. The block clobbers only the listed
            // registers.
            asm!(
                "vmovdqa ymm8, ymmword ptr [{c}]",
                "vmovdqa ymm9, ymmword ptr [{c} + 32]",
                "vmovdqa ymm10, ymmword ptr [{c} + 64]",
                "vmovdqa ymm11, ymmword ptr [{c} + 96]",
                "vmovdqa ymm12, ymmword ptr [{c} + 128]",
                "vmovdqa ymm13, ymmword ptr [{c} + 160]",
                "vmovdqa ymm14, ymmword ptr [{c} + 192]",
                "vmovdqa ymm6, ymmword ptr [{c} + 256]",
                "vmovdqa ymm7, ymmword ptr [{c} + 288]",
                "vpxor ymm5, ymm5, ymm5",
                "mov {i}, 8",
                "2:",
                round_over_groups!($aes, 0, 3, even_input!(32, 64, 96), 0),
                round_over_groups!($aes, 4, 4, odd_input!(0), 32),
                round_over_groups!($aes, 8, 5, even_input!(96, 0, 32), 64),
                round_over_groups!($aes, 12, 6, odd_input!(64), 96),
                "add {k}, 16",
                "dec {i}",
                "jnz 2b",
                st = in(reg) state,
                sl = in(reg) slots.as_mut_ptr(),
                g = in(reg) groups,
                c = in(reg) ROUND_CONSTS.as_ptr(),
                k = inout(reg) keys.as_ptr() => _,
                i = out(reg) _,
                n = out(reg) _,
                p = out(reg) _,
                q = out(reg) _,
                out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _,
                out("ymm12") _, out("ymm13") _, out("ymm14") _, out("ymm15") _,
                options(nostack),
            );
        }
    };
}

// The offsets in `round_output!` and `round_loop!` must match these indices.
const _: () = assert!(L0_LO == 0 && L1_LO == 2 && L3_LO == 4 && MASK == 6 && PLACE0 == 7);

round_loop!(
    /// The round loop with VAES: AESENCLAST on the whole register.
    rounds_vaes,
    "vaes,aes,avx2",
    "vaesenclast ymm0, ymm0, ymm5\n"
);

round_loop!(
    /// The round loop with AES-NI only: AESENCLAST on each 128-bit half (ymm1 is free here).
    rounds_halves,
    "aes,avx2",
    concat!(
        "vextracti128 xmm1, ymm0, 1\n",
        "vaesenclast xmm0, xmm0, xmm5\n",
        "vaesenclast xmm1, xmm1, xmm5\n",
        "vinserti128 ymm0, ymm0, xmm1, 1\n",
    )
);
