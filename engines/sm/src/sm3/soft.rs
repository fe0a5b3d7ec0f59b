//! Portable SM3 compression (GB/T 32905-2016 section 5.3): fully unrolled, with the message
//! expansion interleaved with the rounds so only a 16-word window of W is live. The rounds are
//! generic over where the words come from ([`Schedule`]), so a SIMD kernel can feed them a
//! schedule it expanded in vector registers.
//!
//! No tables indexed by data and no unsafe code. The body is `#[inline(always)]` so that an
//! x86 kernel can compile this same code under `#[target_feature(enable = "bmi2")]`, where the
//! rotates become `rorx`.

#![deny(unsafe_code)]

use super::BLOCK_LEN;

/// Round constants `rotl(T_j, j mod 32)`: T_j = 0x79cc4519 for j < 16, 0x7a879d8a after.
pub(super) const K: [u32; 64] = {
    let mut k = [0u32; 64];
    let mut j = 0;
    while j < 64 {
        let t: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
        k[j] = t.rotate_left((j % 32) as u32);
        j += 1;
    }
    k
};

/// P0 permutation (compression function).
#[inline(always)]
fn p0(x: u32) -> u32 {
    x ^ x.rotate_left(9) ^ x.rotate_left(17)
}

/// P1 permutation (message expansion).
#[inline(always)]
fn p1(x: u32) -> u32 {
    x ^ x.rotate_left(15) ^ x.rotate_left(23)
}

/// FF and GG for rounds 0..16: parity.
#[inline(always)]
fn parity(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

/// FF for rounds 16..64: majority, `(x & y) | (x & z) | (y & z)`.
#[inline(always)]
fn majority(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | ((x | y) & z)
}

/// GG for rounds 16..64: choice, `(x & y) | (!x & z)`.
#[inline(always)]
fn choose(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}

/// Where the rounds get the message words W_j and W'_j = W_j ^ W_{j+4} from. `prepare(j)` is
/// called before round j reads them; `j` is a constant once the rounds are unrolled.
pub(super) trait Schedule {
    /// Makes W_j and W'_j readable (a window schedule expands W_{j+4} here).
    fn prepare(&mut self, j: usize);
    /// W_j.
    fn w(&self, j: usize) -> u32;
    /// W'_j = W_j ^ W_{j+4}.
    fn wp(&self, j: usize) -> u32;
    /// The round constant [`K`]`[j]`. Schedules may load it from memory rather than use an
    /// immediate: the compiler then adds it to `rotl(A, 12)` before E arrives instead of after,
    /// which shortens the round's critical path at the cost of a load.
    #[inline(always)]
    fn k(&self, j: usize) -> u32 {
        K[j]
    }
}

/// The portable schedule: a 16-word window, each word expanded just before its first use.
struct Window([u32; 16]);

impl Schedule for Window {
    #[inline(always)]
    fn prepare(&mut self, j: usize) {
        let n = j + 4;
        if n >= 16 {
            let w = &mut self.0;
            let x = w[n % 16] ^ w[(n - 9) % 16] ^ w[(n - 3) % 16].rotate_left(15);
            w[n % 16] = p1(x) ^ w[(n - 13) % 16].rotate_left(7) ^ w[(n - 6) % 16];
        }
    }

    #[inline(always)]
    fn w(&self, j: usize) -> u32 {
        self.0[j % 16]
    }

    #[inline(always)]
    fn wp(&self, j: usize) -> u32 {
        self.0[j % 16] ^ self.0[(j + 4) % 16]
    }
}

/// One round, renaming instead of moving: on return `d` holds the new A and `h` the new E;
/// `b` and `f` hold the rotated C and G. The caller passes the words in rotated order next.
macro_rules! round {
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr,
     $ff:ident, $gg:ident, $s:ident, $j:expr) => {{
        let j: usize = $j;
        $s.prepare(j);
        let a12 = $a.rotate_left(12);
        let ss1 = a12.wrapping_add($s.k(j)).wrapping_add($e).rotate_left(7);
        let ss2 = ss1 ^ a12;
        $d = $d
            .wrapping_add($ff($a, $b, $c))
            .wrapping_add(ss2)
            .wrapping_add($s.wp(j));
        $h = $h
            .wrapping_add($gg($e, $f, $g))
            .wrapping_add(ss1)
            .wrapping_add($s.w(j));
        $b = $b.rotate_left(9);
        $f = $f.rotate_left(19);
        $h = p0($h);
    }};
}

/// Four rounds starting at round `$j`; afterwards the words are back in their original roles.
macro_rules! four_rounds {
    ($v:ident, $s:ident, $j:expr, $ff:ident, $gg:ident) => {{
        let [a, b, c, d, e, f, g, h] = &mut $v;
        let j: usize = $j;
        round!(*a, *b, *c, *d, *e, *f, *g, *h, $ff, $gg, $s, j);
        round!(*d, *a, *b, *c, *h, *e, *f, *g, $ff, $gg, $s, j + 1);
        round!(*c, *d, *a, *b, *g, *h, *e, *f, $ff, $gg, $s, j + 2);
        round!(*b, *c, *d, *a, *f, *g, *h, *e, $ff, $gg, $s, j + 3);
    }};
}

/// The 64 rounds and the final feed-forward of one block, reading words from `s`.
#[inline(always)]
pub(super) fn rounds<S: Schedule>(state: &mut [u32; 8], s: &mut S) {
    let mut v = *state;
    four_rounds!(v, s, 0, parity, parity);
    four_rounds!(v, s, 4, parity, parity);
    four_rounds!(v, s, 8, parity, parity);
    four_rounds!(v, s, 12, parity, parity);
    four_rounds!(v, s, 16, majority, choose);
    four_rounds!(v, s, 20, majority, choose);
    four_rounds!(v, s, 24, majority, choose);
    four_rounds!(v, s, 28, majority, choose);
    four_rounds!(v, s, 32, majority, choose);
    four_rounds!(v, s, 36, majority, choose);
    four_rounds!(v, s, 40, majority, choose);
    four_rounds!(v, s, 44, majority, choose);
    four_rounds!(v, s, 48, majority, choose);
    four_rounds!(v, s, 52, majority, choose);
    four_rounds!(v, s, 56, majority, choose);
    four_rounds!(v, s, 60, majority, choose);
    for (s, n) in state.iter_mut().zip(v) {
        *s ^= n;
    }
}

/// Compresses one 64-byte block into `state` with the window schedule.
#[inline(always)]
fn compress_block(state: &mut [u32; 8], block: &[u8; BLOCK_LEN]) {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    rounds(state, &mut Window(w));
}

/// Compresses the whole blocks of `blocks` (a trailing partial block is ignored; callers pass
/// whole blocks) into `state`, inlined so a kernel can recompile it with its features.
#[inline(always)]
pub(super) fn compress_inline(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(BLOCK_LEN) {
        if let Ok(block) = <&[u8; BLOCK_LEN]>::try_from(block) {
            compress_block(state, block);
        }
    }
}

/// Compresses whole blocks into `state` with the portable code.
pub(super) fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    compress_inline(state, blocks);
}
