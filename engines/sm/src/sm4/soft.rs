//! Portable, constant-time SM4: the key schedule every path shares, and the fallback cipher.
//!
//! The S-box is never looked up in a table: it is a boolean circuit evaluated on bit planes
//! ("bitsliced"). SM4's S-box is S(x) = A·inv(A·x + c) + c in GF(2^8) mod
//! x^8+x^7+x^6+x^5+x^4+x^2+1, with A the circulant bit matrix whose row i is 0xA7 rotated left
//! by i, and c = 0xD3. The circuit maps A·x + c into the tower field GF((2^4)^2) (GF(16) mod
//! z^4+z+1, then Y^2+Y+λ), inverts there with a handful of GF(16) products, and maps back
//! through A. The field isomorphism, λ and both linear maps are derived at compile time from
//! those definitions; the unit tests check the circuit against the standard's table.
//!
//! Lanes: plane b holds bit b of every byte being substituted. A single block packs its four
//! S-box bytes at bits 0, 8, 16, 24 of the planes; sixteen blocks at a time are transposed
//! into fully packed 64-lane planes, so one circuit evaluation serves a whole round of them.

#![deny(unsafe_code)]

use zeroize::Zeroize;

/// SM4's system parameter FK (GB/T 32907-2016, 7.3).
const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// SM4's fixed parameters CK: byte j of `CK[i]` is (4i + j)·7 mod 256 (GB/T 32907-2016, 7.3).
const CK: [u32; 32] = {
    let mut ck = [0u32; 32];
    let mut i = 0;
    while i < 32 {
        let mut w = 0u32;
        let mut j = 0;
        while j < 4 {
            w = (w << 8) | (((4 * i + j) * 7) % 256) as u32;
            j += 1;
        }
        ck[i] = w;
        i += 1;
    }
    ck
};

/// The low byte of the SM4 field polynomial x^8+x^7+x^6+x^5+x^4+x^2+1: x^8 reduces to it.
#[cfg(test)]
const FIELD_LOW: u8 = 0xf5;

/// The constant c of the S-box's two affine maps.
pub(crate) const AFFINE_C: u8 = 0xd3;

/// The S-box's affine matrix A as rows: output bit i is the parity of `A[i] & x`.
pub(crate) const AFFINE_A: [u8; 8] = {
    let mut rows = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        rows[i] = 0xa7u8.rotate_left(i as u32);
        i += 1;
    }
    rows
};

/// Multiplies in SM4's field GF(2^8) (bit-serial; for checks only).
#[cfg(test)]
pub(crate) const fn field_mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0u8;
    while b != 0 {
        if b & 1 == 1 {
            r ^= a;
        }
        b >>= 1;
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= FIELD_LOW;
        }
    }
    r
}

/// Applies a bit matrix given as rows (output bit i is the parity of `rows[i] & x`).
const fn apply_rows(rows: &[u8; 8], x: u8) -> u8 {
    let mut out = 0u8;
    let mut i = 0;
    while i < 8 {
        out |= (((rows[i] & x).count_ones() & 1) as u8) << i;
        i += 1;
    }
    out
}

// === The tower field, derived at compile time ===

/// Multiplies in GF(16) = `GF(2)[z]/(z^4+z+1)` (for deriving constants only).
const fn gf16_mul_const(a: u8, b: u8) -> u8 {
    let mut r = 0u8;
    let mut i = 0;
    while i < 4 {
        if (b >> i) & 1 == 1 {
            r ^= a << i;
        }
        i += 1;
    }
    let mut k = 6;
    while k >= 4 {
        if (r >> k) & 1 == 1 {
            r ^= 0b1_0011 << (k - 4);
        }
        k -= 1;
    }
    r
}

/// λ: the first GF(16) element making Y^2 + Y + λ irreducible (no root in GF(16)).
const LAMBDA: u8 = {
    let mut lambda = 1u8;
    'search: while lambda < 16 {
        let mut y = 0u8;
        while y < 16 {
            if gf16_mul_const(y, y) ^ y ^ lambda == 0 {
                lambda += 1;
                continue 'search;
            }
            y += 1;
        }
        break;
    }
    lambda
};

/// Multiplies in the tower field: byte `(a1 << 4) | a0` is a1·Y + a0, with Y^2 = Y + λ.
const fn tower_mul(a: u8, b: u8) -> u8 {
    let (a1, a0, b1, b0) = (a >> 4, a & 15, b >> 4, b & 15);
    let high = gf16_mul_const(a1, b1);
    let c1 = gf16_mul_const(a1, b0) ^ gf16_mul_const(a0, b1) ^ high;
    let c0 = gf16_mul_const(a0, b0) ^ gf16_mul_const(high, LAMBDA);
    (c1 << 4) | c0
}

/// The image of x in the tower field: the first root of SM4's field polynomial there.
const BETA: u8 = {
    let mut beta = 2u16;
    let mut found = 0u8;
    while beta < 256 && found == 0 {
        let mut pow = [1u8; 9];
        let mut i = 1;
        while i < 9 {
            pow[i] = tower_mul(pow[i - 1], beta as u8);
            i += 1;
        }
        if pow[8] ^ pow[7] ^ pow[6] ^ pow[5] ^ pow[4] ^ pow[2] ^ pow[0] == 0 {
            found = beta as u8;
        }
        beta += 1;
    }
    found
};

/// The field isomorphism into the tower field (x^i to BETA^i), as a table.
const TO_TOWER: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        let mut pow = 1u8;
        let mut i = 0;
        while i < 8 {
            if (x >> i) & 1 == 1 {
                table[x] ^= pow;
            }
            pow = tower_mul(pow, BETA);
            i += 1;
        }
        x += 1;
    }
    table
};

/// The inverse isomorphism, as a table.
const FROM_TOWER: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        table[TO_TOWER[x] as usize] = x as u8;
        x += 1;
    }
    table
};

/// The circuit's input map: x -> A·x + c, into the tower field.
const fn map_in(x: u8) -> u8 {
    TO_TOWER[(apply_rows(&AFFINE_A, x) ^ AFFINE_C) as usize]
}

/// The circuit's output map: the tower-field inverse back to SM4's field, then A and c.
const fn map_out(y: u8) -> u8 {
    apply_rows(&AFFINE_A, FROM_TOWER[y as usize]) ^ AFFINE_C
}

/// An affine byte map as plane masks: `masks[i][j]` is all ones when input bit j feeds output
/// bit i; `masks[8][i]` is all ones when the map's constant has bit i.
type Masks = [[u64; 8]; 9];

/// The masks of the affine map `f` given as a table over all bytes.
const fn masks_of(f: &[u8; 256]) -> Masks {
    let mut m = [[0u64; 8]; 9];
    let c = f[0];
    let mut i = 0;
    while i < 8 {
        let mut j = 0;
        while j < 8 {
            if ((f[1 << j] ^ c) >> i) & 1 == 1 {
                m[i][j] = !0;
            }
            j += 1;
        }
        if (c >> i) & 1 == 1 {
            m[8][i] = !0;
        }
        i += 1;
    }
    m
}

/// [`map_in`] tabulated.
const MAP_IN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[x] = map_in(x as u8);
        x += 1;
    }
    t
};

/// [`map_out`] tabulated.
const MAP_OUT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[x] = map_out(x as u8);
        x += 1;
    }
    t
};

const IN_MASKS: Masks = masks_of(&MAP_IN);
const OUT_MASKS: Masks = masks_of(&MAP_OUT);

/// Masks of the GF(16) map a -> λ·a^2 (bits 0..3 only).
const LAMBDA_SQUARE_MASKS: [[u64; 4]; 4] = {
    let mut m = [[0u64; 4]; 4];
    let mut i = 0;
    while i < 4 {
        let mut j = 0;
        while j < 4 {
            let unit = 1u8 << j;
            let image = gf16_mul_const(gf16_mul_const(unit, unit), LAMBDA);
            if (image >> i) & 1 == 1 {
                m[i][j] = !0;
            }
            j += 1;
        }
        i += 1;
    }
    m
};

// === The bitsliced circuit ===

/// Eight bit planes: plane b holds bit b of every lane.
type Planes = [u64; 8];

/// A GF(16) element per lane: four planes.
type Nibbles = [u64; 4];

/// Output bit `i` of an affine map on planes.
macro_rules! affine_bit {
    ($m:expr, $x:expr, $i:literal) => {
        ($x[0] & $m[$i][0])
            ^ ($x[1] & $m[$i][1])
            ^ ($x[2] & $m[$i][2])
            ^ ($x[3] & $m[$i][3])
            ^ ($x[4] & $m[$i][4])
            ^ ($x[5] & $m[$i][5])
            ^ ($x[6] & $m[$i][6])
            ^ ($x[7] & $m[$i][7])
            ^ $m[8][$i]
    };
}

/// An affine byte map on every lane (the masks are public; no branch or index on data).
#[inline(always)]
fn affine(m: &Masks, x: &Planes) -> Planes {
    [
        affine_bit!(m, x, 0),
        affine_bit!(m, x, 1),
        affine_bit!(m, x, 2),
        affine_bit!(m, x, 3),
        affine_bit!(m, x, 4),
        affine_bit!(m, x, 5),
        affine_bit!(m, x, 6),
        affine_bit!(m, x, 7),
    ]
}

/// GF(16) product per lane (z^4 = z + 1).
#[inline(always)]
fn gf16_mul(a: Nibbles, b: Nibbles) -> Nibbles {
    let t0 = a[0] & b[0];
    let t1 = (a[0] & b[1]) ^ (a[1] & b[0]);
    let t2 = (a[0] & b[2]) ^ (a[1] & b[1]) ^ (a[2] & b[0]);
    let t3 = (a[0] & b[3]) ^ (a[1] & b[2]) ^ (a[2] & b[1]) ^ (a[3] & b[0]);
    let t4 = (a[1] & b[3]) ^ (a[2] & b[2]) ^ (a[3] & b[1]);
    let t5 = (a[2] & b[3]) ^ (a[3] & b[2]);
    let t6 = a[3] & b[3];
    // z^4 = z + 1, z^5 = z^2 + z, z^6 = z^3 + z^2.
    [t0 ^ t4, t1 ^ t4 ^ t5, t2 ^ t5 ^ t6, t3 ^ t6]
}

/// GF(16) square per lane (linear: (b0 + b2) + b2·z + (b1 + b3)·z^2 + b3·z^3).
#[inline(always)]
fn gf16_square(b: Nibbles) -> Nibbles {
    [b[0] ^ b[2], b[2], b[1] ^ b[3], b[3]]
}

/// GF(16) inverse per lane: b^14 = b^2·b^4·b^8 (0 maps to 0).
#[inline(always)]
fn gf16_inv(b: Nibbles) -> Nibbles {
    let b2 = gf16_square(b);
    let b4 = gf16_square(b2);
    let b8 = gf16_square(b4);
    gf16_mul(gf16_mul(b2, b4), b8)
}

/// λ·a^2 per lane.
#[inline(always)]
fn lambda_square(a: Nibbles) -> Nibbles {
    let m = &LAMBDA_SQUARE_MASKS;
    let bit = |i: usize| (a[0] & m[i][0]) ^ (a[1] & m[i][1]) ^ (a[2] & m[i][2]) ^ (a[3] & m[i][3]);
    [bit(0), bit(1), bit(2), bit(3)]
}

/// The SM4 S-box on every lane.
#[inline(always)]
fn sbox_planes(x: &Planes) -> Planes {
    let t = affine(&IN_MASKS, x);
    let a0 = [t[0], t[1], t[2], t[3]];
    let a1 = [t[4], t[5], t[6], t[7]];
    // (a1·Y + a0)^-1 = (a1·Y + a0 + a1) / (λ·a1^2 + a1·a0 + a0^2).
    let l = lambda_square(a1);
    let p = gf16_mul(a1, a0);
    let s = gf16_square(a0);
    let d = gf16_inv([
        l[0] ^ p[0] ^ s[0],
        l[1] ^ p[1] ^ s[1],
        l[2] ^ p[2] ^ s[2],
        l[3] ^ p[3] ^ s[3],
    ]);
    let r1 = gf16_mul(a1, d);
    let r0 = gf16_mul(
        [a0[0] ^ a1[0], a0[1] ^ a1[1], a0[2] ^ a1[2], a0[3] ^ a1[3]],
        d,
    );
    affine(
        &OUT_MASKS,
        &[r0[0], r0[1], r0[2], r0[3], r1[0], r1[1], r1[2], r1[3]],
    )
}

/// Lane mask: bit 0 of every byte.
const LANES: u64 = 0x0101_0101_0101_0101;

/// The S-box on each byte of one word (τ in the standard): lanes at bits 0, 8, 16, 24.
#[inline(always)]
fn tau(x: u32) -> u32 {
    let x = u64::from(x);
    let planes = [
        x & LANES,
        (x >> 1) & LANES,
        (x >> 2) & LANES,
        (x >> 3) & LANES,
        (x >> 4) & LANES,
        (x >> 5) & LANES,
        (x >> 6) & LANES,
        (x >> 7) & LANES,
    ];
    let o = sbox_planes(&planes);
    let y = (o[0] & LANES)
        | ((o[1] & LANES) << 1)
        | ((o[2] & LANES) << 2)
        | ((o[3] & LANES) << 3)
        | ((o[4] & LANES) << 4)
        | ((o[5] & LANES) << 5)
        | ((o[6] & LANES) << 6)
        | ((o[7] & LANES) << 7);
    y as u32
}

/// Swaps the bits of `a` selected by `mask << shift` with the bits of `b` selected by `mask`.
#[inline(always)]
fn swap_move(a: &mut u64, b: &mut u64, mask: u64, shift: u32) {
    let t = ((*a >> shift) ^ *b) & mask;
    *b ^= t;
    *a ^= t << shift;
}

/// Transposes each word as an 8x8 bit matrix (byte i, bit j) <-> (byte j, bit i).
#[inline(always)]
fn transpose_bits(x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00aa_00aa_00aa_00aa;
    let x = x ^ t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_cccc_0000_cccc;
    let x = x ^ t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_f0f0_f0f0;
    x ^ t ^ (t << 28)
}

/// Transposes eight words as an 8x8 byte matrix (word i, byte b) <-> (word b, byte i).
#[inline(always)]
fn transpose_bytes(w: &mut [u64; 8]) {
    let [w0, w1, w2, w3, w4, w5, w6, w7] = w;
    swap_move(w0, w4, 0x0000_0000_ffff_ffff, 32);
    swap_move(w1, w5, 0x0000_0000_ffff_ffff, 32);
    swap_move(w2, w6, 0x0000_0000_ffff_ffff, 32);
    swap_move(w3, w7, 0x0000_0000_ffff_ffff, 32);
    swap_move(w0, w2, 0x0000_ffff_0000_ffff, 16);
    swap_move(w1, w3, 0x0000_ffff_0000_ffff, 16);
    swap_move(w4, w6, 0x0000_ffff_0000_ffff, 16);
    swap_move(w5, w7, 0x0000_ffff_0000_ffff, 16);
    swap_move(w0, w1, 0x00ff_00ff_00ff_00ff, 8);
    swap_move(w2, w3, 0x00ff_00ff_00ff_00ff, 8);
    swap_move(w4, w5, 0x00ff_00ff_00ff_00ff, 8);
    swap_move(w6, w7, 0x00ff_00ff_00ff_00ff, 8);
}

/// Bytes (eight per word) to 64-lane planes, and back: both steps are involutions, so the
/// same function converts either way when the step order is reversed.
#[inline(always)]
fn to_planes(mut w: [u64; 8]) -> Planes {
    for x in w.iter_mut() {
        *x = transpose_bits(*x);
    }
    transpose_bytes(&mut w);
    w
}

/// The inverse of [`to_planes`].
#[inline(always)]
fn from_planes(mut p: Planes) -> [u64; 8] {
    transpose_bytes(&mut p);
    for x in p.iter_mut() {
        *x = transpose_bits(*x);
    }
    p
}

/// The S-box on each byte of sixteen words at once.
#[inline(always)]
fn tau16(t: &[u32; 16]) -> [u32; 16] {
    let mut w = [0u64; 8];
    for (x, pair) in w.iter_mut().zip(t.chunks_exact(2)) {
        *x = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
    }
    let s = from_planes(sbox_planes(&to_planes(w)));
    let mut out = [0u32; 16];
    for (pair, x) in out.chunks_exact_mut(2).zip(s) {
        pair[0] = x as u32;
        pair[1] = (x >> 32) as u32;
    }
    out
}

// === The cipher ===

/// The round function's linear map L.
#[inline(always)]
fn l_round(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

/// The key schedule's linear map L'.
#[inline(always)]
fn l_key(b: u32) -> u32 {
    b ^ b.rotate_left(13) ^ b.rotate_left(23)
}

/// Expands a key into the 32 encryption round keys rk[0..32] (constant-time).
pub(crate) fn expand_key(key: &[u8; 16]) -> [u32; 32] {
    let mut k = [0u32; 4];
    for (i, (w, chunk)) in k.iter_mut().zip(key.chunks_exact(4)).enumerate() {
        *w = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ FK[i];
    }
    let mut rk = [0u32; 32];
    for (i, r) in rk.iter_mut().enumerate() {
        let next = k[0] ^ l_key(tau(k[1] ^ k[2] ^ k[3] ^ CK[i]));
        *r = next;
        k = [k[1], k[2], k[3], next];
    }
    k.zeroize();
    rk
}

/// Loads a block as four big-endian words.
#[inline(always)]
fn load(block: &[u8; 16]) -> [u32; 4] {
    let w = |i: usize| u32::from_be_bytes([block[i], block[i + 1], block[i + 2], block[i + 3]]);
    [w(0), w(4), w(8), w(12)]
}

/// Stores the final state in SM4's reversed word order.
#[inline(always)]
fn store(x: &[u32; 4], block: &mut [u8; 16]) {
    for (chunk, w) in block.chunks_exact_mut(4).zip(x.iter().rev()) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
}

/// Runs the 32 rounds with `rk` in order (encryption keys encrypt; reversed keys decrypt).
pub(crate) fn crypt_block(rk: &[u32; 32], block: &mut [u8; 16]) {
    let mut x = load(block);
    for &k in rk {
        let t = x[0] ^ l_round(tau(x[1] ^ x[2] ^ x[3] ^ k));
        x = [x[1], x[2], x[3], t];
    }
    store(&x, block);
    x.zeroize();
}

/// Runs the 32 rounds on sixteen blocks, one S-box circuit evaluation per round.
fn crypt16(rk: &[u32; 32], blocks: &mut [[u8; 16]]) {
    let mut x = [[0u32; 4]; 16];
    for (s, b) in x.iter_mut().zip(blocks.iter()) {
        *s = load(b);
    }
    let mut t = [0u32; 16];
    for &k in rk {
        for (ti, s) in t.iter_mut().zip(x.iter()) {
            *ti = s[1] ^ s[2] ^ s[3] ^ k;
        }
        let b = tau16(&t);
        for (s, bi) in x.iter_mut().zip(b) {
            *s = [s[1], s[2], s[3], s[0] ^ l_round(bi)];
        }
    }
    for (s, b) in x.iter().zip(blocks.iter_mut()) {
        store(s, b);
    }
    x.as_flattened_mut().zeroize();
    t.zeroize();
}

/// Runs the 32 rounds on every block: sixteen at a time, then one by one.
pub(crate) fn crypt_blocks(rk: &[u32; 32], blocks: &mut [[u8; 16]]) {
    let mut sixteens = blocks.chunks_exact_mut(16);
    for chunk in &mut sixteens {
        crypt16(rk, chunk);
    }
    let rest = sixteens.into_remainder();
    if rest.len() > 2 {
        // The wide circuit costs about as much as three single blocks.
        let mut buf = [[0u8; 16]; 16];
        buf[..rest.len()].copy_from_slice(rest);
        crypt16(rk, &mut buf);
        rest.copy_from_slice(&buf[..rest.len()]);
        buf.as_flattened_mut().zeroize();
    } else {
        for block in rest {
            crypt_block(rk, block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard's example key; its round keys are given in GB/T 32907-2016, appendix A.
    const KEY: [u8; 16] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ];

    #[test]
    fn round_keys_match_the_standard() {
        let rk = expand_key(&KEY);
        assert_eq!(rk[0], 0xf121_86f9);
        assert_eq!(rk[31], 0x9124_a012);
    }

    #[test]
    fn ck_matches_the_standard() {
        assert_eq!(CK[0], 0x0007_0e15);
        assert_eq!(CK[31], 0x646b_7279);
    }

    #[test]
    fn tower_constants_are_sound() {
        assert!((1..16).contains(&LAMBDA));
        for y in 0..16u8 {
            assert_ne!(gf16_mul_const(y, y) ^ y ^ LAMBDA, 0, "Y^2+Y+λ has root {y}");
        }
        assert_ne!(BETA, 0);
        for a in 0..=255u8 {
            assert_eq!(FROM_TOWER[usize::from(TO_TOWER[usize::from(a)])], a);
            for b in [1u8, 2, 0x35, 0xd3, a] {
                let product = TO_TOWER[usize::from(field_mul(a, b))];
                assert_eq!(
                    product,
                    tower_mul(TO_TOWER[usize::from(a)], TO_TOWER[usize::from(b)])
                );
            }
        }
    }

    #[test]
    fn circuit_matches_the_sbox_table() {
        let table = crate::sm4::tests_support::sbox_table();
        for x in 0..=255u8 {
            assert_eq!(
                tau(u32::from(x)) as u8,
                table[usize::from(x)],
                "S({x:#04x})"
            );
        }
        // All four lanes of a word, and all sixty-four of the wide circuit.
        let mut words = [0u32; 16];
        for (i, w) in words.iter_mut().enumerate() {
            *w = u32::from_le_bytes(core::array::from_fn(|k| (4 * i + k) as u8 * 3 + 1));
        }
        let wide = tau16(&words);
        for (w, s) in words.iter().zip(wide) {
            let want = u32::from_le_bytes(w.to_le_bytes().map(|b| table[usize::from(b)]));
            assert_eq!(tau(*w), want);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn plane_transposes_invert_each_other() {
        let mut w = [0u64; 8];
        for (i, x) in w.iter_mut().enumerate() {
            *x = 0x0123_4567_89ab_cdefu64.rotate_left(7 * i as u32) ^ (i as u64 * 0x1111);
        }
        let p = to_planes(w);
        // Plane b, bit 8i + j is bit b of byte j of word i.
        for (b, plane) in p.iter().enumerate() {
            for (i, word) in w.iter().enumerate() {
                for j in 0..8 {
                    let want = (word >> (8 * j + b)) & 1;
                    assert_eq!((plane >> (8 * i + j)) & 1, want, "b={b} i={i} j={j}");
                }
            }
        }
        assert_eq!(from_planes(p), w);
    }
}
