//! The many-blocks-at-once SM4 drivers every x86 path shares, generic over the vector type.
//!
//! A vector type ([`Lanes`]) holds one 32-bit state word of `BLOCKS` blocks, so four vectors
//! are the state of `BLOCKS` blocks ("a group"), loaded with a byte swap and a 4x4 word
//! transpose into the type's state domain. Drivers run `G` groups side by side so the CPU
//! overlaps their round chains, then pairs and single groups, then a partial group through a
//! stack buffer. CTR counters are built in registers: broadcast the counter words and add each
//! lane's block offset to the low word (a 128-bit carry inside a batch takes a scalar path).
//!
//! Safety: everything here is `unsafe fn` and `#[inline(always)]`, meant to be inlined into
//! the `#[target_feature]` entry points of the `x86_*` kernels, whose callers checked the CPU
//! features of the vector type used. Memory is touched only through [`Lanes`] loads and
//! stores on pointers derived from slices whose lengths are checked right before.

#![allow(unsafe_code)]

use super::{advance, CtrWidth};
use zeroize::Zeroize;

/// Most blocks one call to a group driver handles (16 lanes x 4 groups, or 8 x 8).
const MAX_BATCH: usize = 64;

/// Most blocks in one group (16 lanes of a 512-bit register).
const MAX_LANES: usize = 16;

/// A SIMD vector holding one SM4 state word of `BLOCKS` blocks.
pub(super) trait Lanes: Copy {
    /// Blocks per vector (and per group of four vectors).
    const BLOCKS: usize;

    /// A plain state word in the kernel's state domain (constant-time).
    fn enter_word(w: u32) -> u32;

    /// Every lane set to `w`.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn splat(w: u32) -> Self;

    /// `a ^ (b ^ c)`: `a` should be the operand computed last.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn xor3(a: Self, b: Self, c: Self) -> Self;

    /// `a ^ b`.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn xor(a: Self, b: Self) -> Self;

    /// One round's output word for `G` groups: `x0[g] ^ L(S(t[g]))` in the state domain.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn round<const G: usize>(x0: [Self; G], t: [Self; G]) -> [Self; G];

    /// The 32 rounds on `G` groups (keys in the kernel's key form). A kernel may replace this
    /// with a hand-scheduled loop.
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    #[inline(always)]
    unsafe fn rounds<const G: usize>(x: &mut [[Self; 4]; G], keys: &[u32; 32]) {
        rounds_generic(x, keys);
    }

    /// The low counter words of a group, in the state domain: the lane of block `i` holds
    /// `low + i` (wrapping mod 2^32).
    ///
    /// # Safety
    /// The CPU has the implementation's features.
    unsafe fn counter_low(low: u32) -> Self;

    /// Loads `BLOCKS` blocks from `src` as four transposed words in the state domain.
    ///
    /// # Safety
    /// The CPU has the features; `src` is valid for reading `16 * BLOCKS` bytes.
    unsafe fn load(src: *const u8) -> [Self; 4];

    /// Stores four transposed state-domain words (in output order) as `BLOCKS` blocks.
    ///
    /// # Safety
    /// The CPU has the features; `dst` is valid for writing `16 * BLOCKS` bytes.
    unsafe fn store(words: [Self; 4], dst: *mut u8);

    /// XORs four transposed state-domain words (in output order), as `BLOCKS` blocks, into
    /// `data`.
    ///
    /// # Safety
    /// The CPU has the features; `data` is valid for reading and writing `16 * BLOCKS` bytes.
    unsafe fn xor_into(words: [Self; 4], data: *mut u8);
}

/// The 32 rounds on `G` groups, interleaved round by round.
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
pub(super) unsafe fn rounds_generic<V: Lanes, const G: usize>(
    x: &mut [[V; 4]; G],
    keys: &[u32; 32],
) {
    let mut shared = [V::splat(0); G];
    for k in keys.chunks_exact(4) {
        quarter::<V, G, 0>(x, &mut shared, k[0]);
        quarter::<V, G, 1>(x, &mut shared, k[1]);
        quarter::<V, G, 2>(x, &mut shared, k[2]);
        quarter::<V, G, 3>(x, &mut shared, k[3]);
    }
}

/// Round `4i + J` on every group: word J takes the round output. Rounds J and J + 1 (J even)
/// share the XOR of the two words neither of them writes.
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
unsafe fn quarter<V: Lanes, const G: usize, const J: usize>(
    x: &mut [[V; 4]; G],
    shared: &mut [V; G],
    key: u32,
) {
    let key = V::splat(key);
    let mut x0 = [key; G];
    let mut t = [key; G];
    for (g, s) in x.iter().enumerate() {
        if J.is_multiple_of(2) {
            shared[g] = V::xor(s[(J + 2) % 4], s[(J + 3) % 4]);
            t[g] = V::xor3(shared[g], s[(J + 1) % 4], key);
        } else {
            t[g] = V::xor3(s[(J + 3) % 4], shared[g], key);
        }
        x0[g] = s[J];
    }
    let out = V::round(x0, t);
    for (s, o) in x.iter_mut().zip(out) {
        s[J] = o;
    }
}

/// The state after 32 rounds in output word order (SM4's final reversal R).
#[inline(always)]
fn reversed<V: Lanes>(s: [V; 4]) -> [V; 4] {
    [s[3], s[2], s[1], s[0]]
}

/// Runs `G` groups of blocks at `ptr` in place.
///
/// # Safety
/// The CPU has `V`'s features; `ptr` is valid for `16 * BLOCKS * G` bytes.
#[inline(always)]
unsafe fn groups_in_place<V: Lanes, const G: usize>(keys: &[u32; 32], ptr: *mut u8) {
    let mut x = [[V::splat(0); 4]; G];
    for (g, s) in x.iter_mut().enumerate() {
        *s = V::load(ptr.add(16 * V::BLOCKS * g));
    }
    V::rounds(&mut x, keys);
    for (g, s) in x.iter().enumerate() {
        V::store(reversed(*s), ptr.add(16 * V::BLOCKS * g));
    }
}

/// Encrypts or decrypts (by the order of `keys`, in the kernel's key form) every block: `G` groups at a time, then pairs
/// and single groups, then a last partial group through a stack buffer.
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
pub(super) unsafe fn crypt_blocks<V: Lanes, const G: usize>(
    keys: &[u32; 32],
    blocks: &mut [[u8; 16]],
) {
    let mut wide = blocks.chunks_exact_mut(V::BLOCKS * G);
    for chunk in &mut wide {
        // SAFETY: the chunk holds exactly BLOCKS * G blocks.
        groups_in_place::<V, G>(keys, chunk.as_mut_ptr().cast());
    }
    let mut pairs = wide.into_remainder().chunks_exact_mut(V::BLOCKS * 2);
    for chunk in &mut pairs {
        // SAFETY: the chunk holds exactly BLOCKS * 2 blocks.
        groups_in_place::<V, 2>(keys, chunk.as_mut_ptr().cast());
    }
    for chunk in pairs.into_remainder().chunks_mut(V::BLOCKS) {
        if chunk.len() == V::BLOCKS {
            // SAFETY: the chunk holds exactly BLOCKS blocks.
            groups_in_place::<V, 1>(keys, chunk.as_mut_ptr().cast());
        } else {
            partial_group::<V>(keys, chunk);
        }
    }
}

/// Runs fewer than `BLOCKS` blocks through one group. The spare lanes carry copies of the
/// first block, so the buffer ends up holding nothing but copies of the caller's input and
/// output (encrypting zeros there would leave E(0) on the stack).
///
/// # Safety
/// The CPU has `V`'s features; `chunk` is not empty and holds at most `BLOCKS` blocks.
#[inline(always)]
unsafe fn partial_group<V: Lanes>(keys: &[u32; 32], chunk: &mut [[u8; 16]]) {
    let mut buf = [chunk[0]; MAX_LANES];
    buf[..chunk.len()].copy_from_slice(chunk);
    // SAFETY: buf holds MAX_LANES >= BLOCKS blocks.
    groups_in_place::<V, 1>(keys, buf.as_mut_ptr().cast());
    chunk.copy_from_slice(&buf[..chunk.len()]);
}

/// Encrypts or decrypts one block (the other lanes of the group carry copies of it).
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
pub(super) unsafe fn crypt_block<V: Lanes>(keys: &[u32; 32], block: &mut [u8; 16]) {
    partial_group::<V>(keys, core::slice::from_mut(block));
}

/// The counter words of `G` groups built in registers: `counter + i` for block `i`, with no
/// carry out of the low word (the caller checked).
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
unsafe fn counters_in_registers<V: Lanes, const G: usize>(counter: &[u8; 16]) -> [[V; 4]; G] {
    let w = |i: usize| {
        u32::from_be_bytes([
            counter[4 * i],
            counter[4 * i + 1],
            counter[4 * i + 2],
            counter[4 * i + 3],
        ])
    };
    let high = [
        V::splat(V::enter_word(w(0))),
        V::splat(V::enter_word(w(1))),
        V::splat(V::enter_word(w(2))),
    ];
    let mut x = [[V::splat(0); 4]; G];
    for (g, s) in x.iter_mut().enumerate() {
        let low = w(3).wrapping_add((g * V::BLOCKS) as u32);
        *s = [high[0], high[1], high[2], V::counter_low(low)];
    }
    x
}

/// The counter words of `G` groups through memory, for a batch where a 128-bit carry leaves
/// the low word.
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
unsafe fn counters_in_memory<V: Lanes, const G: usize>(
    counter: &[u8; 16],
    width: CtrWidth,
) -> [[V; 4]; G] {
    let mut buf = [[0u8; 16]; MAX_BATCH];
    let mut c = *counter;
    for block in &mut buf[..V::BLOCKS * G] {
        *block = c;
        advance(&mut c, width, 1);
    }
    let mut x = [[V::splat(0); 4]; G];
    for (g, s) in x.iter_mut().enumerate() {
        // SAFETY: buf holds MAX_BATCH >= BLOCKS * G blocks.
        *s = V::load(buf.as_ptr().add(V::BLOCKS * g).cast());
    }
    x
}

/// XORs the keystream of `G` groups starting at `counter` into `data`, which holds
/// `16 * BLOCKS * G` bytes, and advances `counter` past them.
///
/// # Safety
/// The CPU has `V`'s features; `data` is valid for `16 * BLOCKS * G` bytes.
#[inline(always)]
unsafe fn ctr_groups<V: Lanes, const G: usize>(
    keys: &[u32; 32],
    counter: &mut [u8; 16],
    width: CtrWidth,
    data: *mut u8,
) {
    let n = V::BLOCKS * G;
    let low = u32::from_be_bytes([counter[12], counter[13], counter[14], counter[15]]);
    let carry_free =
        width == CtrWidth::Be32 || u64::from(low) + (n as u64 - 1) <= u64::from(u32::MAX);
    let mut x = if carry_free {
        counters_in_registers::<V, G>(counter)
    } else {
        counters_in_memory::<V, G>(counter, width)
    };
    V::rounds(&mut x, keys);
    for (g, s) in x.iter().enumerate() {
        V::xor_into(reversed(*s), data.add(16 * V::BLOCKS * g));
    }
    advance(counter, width, n);
}

/// CTR: XORs E(counter), E(counter + 1), ... into `data` and advances `counter` past every
/// block used. Batches of `G` groups, then pairs and single groups, then a partial group
/// whose keystream goes through a stack buffer.
///
/// # Safety
/// The CPU has `V`'s features.
#[inline(always)]
pub(super) unsafe fn ctr_xor<V: Lanes, const G: usize>(
    keys: &[u32; 32],
    counter: &mut [u8; 16],
    width: CtrWidth,
    data: &mut [u8],
) {
    let mut wide = data.chunks_exact_mut(16 * V::BLOCKS * G);
    for chunk in &mut wide {
        // SAFETY: the chunk holds exactly 16 * BLOCKS * G bytes.
        ctr_groups::<V, G>(keys, counter, width, chunk.as_mut_ptr());
    }
    let mut pairs = wide.into_remainder().chunks_exact_mut(16 * V::BLOCKS * 2);
    for chunk in &mut pairs {
        // SAFETY: the chunk holds exactly 16 * BLOCKS * 2 bytes.
        ctr_groups::<V, 2>(keys, counter, width, chunk.as_mut_ptr());
    }
    for chunk in pairs.into_remainder().chunks_mut(16 * V::BLOCKS) {
        if chunk.len() == 16 * V::BLOCKS {
            // SAFETY: the chunk holds exactly 16 * BLOCKS bytes.
            ctr_groups::<V, 1>(keys, counter, width, chunk.as_mut_ptr());
        } else {
            let mut buf = [0u8; 16 * MAX_LANES];
            buf[..chunk.len()].copy_from_slice(chunk);
            let mut ctr = *counter;
            // SAFETY: buf holds 16 * MAX_LANES >= 16 * BLOCKS bytes.
            ctr_groups::<V, 1>(keys, &mut ctr, width, buf.as_mut_ptr());
            chunk.copy_from_slice(&buf[..chunk.len()]);
            buf[..16 * V::BLOCKS].zeroize();
            advance(counter, width, chunk.len().div_ceil(16));
        }
    }
}
