//! The constants that let x86 field instructions compute SM4's S-box, derived at compile time.
//!
//! SM4's S-box is S(x) = A·inv(A·x + c) + c in GF(2^8) mod x^8+x^7+x^6+x^5+x^4+x^2+1 (see
//! `soft`). The AES field (mod x^8+x^4+x^3+x+1) is isomorphic to it: φ maps x to a root β of
//! SM4's polynomial in the AES field, and inv_sm4 = φ^-1 ∘ inv_aes ∘ φ. So
//! S(x) = (A·φ^-1)·inv_aes(φ·A·x + φ(c)) + c: an affine map, the AES-field inverse, and
//! another affine map. GFNI computes both directly (`vgf2p8affineqb`, `vgf2p8affineinvqb`).
//! AES-NI reaches inv_aes through AESENCLAST's SubBytes, whose own affine map is undone in the
//! post-map; the AES kernels also keep their state as P(x) (P the linear part of the pre-map)
//! so that no pre-map runs per round, and look up P(L(S(..))) in three affine parts. All of it
//! is computed here from the two field polynomials and the two standards' affine maps; the
//! unit tests check the results against the S-box table of the standard and against a plain
//! SM4 round.

use super::soft::{AFFINE_A, AFFINE_C};

/// Multiplies in the AES field GF(2^8) mod x^8+x^4+x^3+x+1.
const fn aes_mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0u8;
    while b != 0 {
        if b & 1 == 1 {
            r ^= a;
        }
        b >>= 1;
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1b;
        }
    }
    r
}

/// The inverse in the AES field (x^254; 0 maps to 0), for checks.
#[cfg(test)]
const fn aes_inv(x: u8) -> u8 {
    let mut r = 1u8;
    let mut n = 0;
    while n < 254 {
        r = aes_mul(r, x);
        n += 1;
    }
    r
}

/// Parity of `row & x`: one output bit of a bit-matrix product.
const fn dot(row: u8, x: u8) -> u8 {
    ((row & x).count_ones() & 1) as u8
}

/// Applies a matrix given as rows (output bit i is `dot(rows[i], x)`).
const fn apply(rows: &[u8; 8], x: u8) -> u8 {
    let mut out = 0u8;
    let mut i = 0;
    while i < 8 {
        out |= dot(rows[i], x) << i;
        i += 1;
    }
    out
}

/// The root β of SM4's field polynomial in the AES field that φ sends x to (the smallest).
const BETA: u8 = {
    let mut b = 2u16;
    let mut found = 0u8;
    while b < 256 && found == 0 {
        // p(β) = β^8 + β^7 + β^6 + β^5 + β^4 + β^2 + 1
        let mut pow = [1u8; 9];
        let mut i = 1;
        while i < 9 {
            pow[i] = aes_mul(pow[i - 1], b as u8);
            i += 1;
        }
        if pow[8] ^ pow[7] ^ pow[6] ^ pow[5] ^ pow[4] ^ pow[2] ^ pow[0] == 0 {
            found = b as u8;
        }
        b += 1;
    }
    found
};

/// φ: SM4's field to the AES field, as a function (x^i maps to β^i; it is linear).
const fn phi(x: u8) -> u8 {
    let mut out = 0u8;
    let mut pow = 1u8;
    let mut i = 0;
    while i < 8 {
        if (x >> i) & 1 == 1 {
            out ^= pow;
        }
        pow = aes_mul(pow, BETA);
        i += 1;
    }
    out
}

/// The inverse of a byte bijection, as a table (for deriving constants only).
const fn invert(f: [u8; 256]) -> [u8; 256] {
    let mut inv = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        inv[f[x] as usize] = x as u8;
        x += 1;
    }
    inv
}

/// φ as a table.
const PHI: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[x] = phi(x as u8);
        x += 1;
    }
    t
};

/// φ^-1 as a table (φ is a bijection).
const PHI_INV: [u8; 256] = invert(PHI);

/// φ^-1.
const fn phi_inv(y: u8) -> u8 {
    PHI_INV[y as usize]
}

/// AES SubBytes' affine map (FIPS 197, 5.1.1): b ^ rotl(b,1..4) ^ 0x63.
const fn aes_affine(b: u8) -> u8 {
    b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63
}

/// The inverse of [`aes_affine`] as a table.
const AES_AFFINE_INV: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[x] = aes_affine(x as u8);
        x += 1;
    }
    invert(t)
};

/// The inverse of [`aes_affine`].
const fn aes_affine_inv(y: u8) -> u8 {
    AES_AFFINE_INV[y as usize]
}

/// The byte maps the kernels need (const fns cannot take function pointers).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Map {
    /// [`pre`]: SM4 byte to AES-field inverse input (GFNI).
    Pre,
    /// [`post`]: AES-field inverse output to SM4 S-box output (GFNI).
    Post,
    /// [`p_lin`]: plain word bytes into the AES kernels' state domain.
    Enter,
    /// The inverse of [`p_lin`]: state domain back to plain bytes.
    Leave,
    /// [`l_part`] with `d = 0`: an AESENCLAST output byte's share of `P(L(S))` at its own
    /// position.
    L0,
    /// [`l_part`] with `d = 1`, also used for `d = 2` (one and two bytes up).
    L1,
    /// [`l_part`] with `d = 3` (three bytes up).
    L3,
}

impl Map {
    /// Applies the map.
    pub(crate) const fn eval(self, x: u8) -> u8 {
        match self {
            Map::Pre => pre(x),
            Map::Post => post(x),
            Map::Enter => p_lin(x),
            Map::Leave => p_lin_inv(x),
            Map::L0 => l_part(0, x),
            Map::L1 => l_part(1, x),
            Map::L3 => l_part(3, x),
        }
    }
}

/// The map in front of the AES-field inverse: x -> φ(A·x + c).
const fn pre(x: u8) -> u8 {
    phi(apply(&AFFINE_A, x) ^ AFFINE_C)
}

/// The map behind the AES-field inverse: y -> A·φ^-1(y) + c.
const fn post(y: u8) -> u8 {
    apply(&AFFINE_A, phi_inv(y)) ^ AFFINE_C
}

/// The map behind AESENCLAST (zero round key): undoes AES's affine map, then [`post`].
const fn post_aes(y: u8) -> u8 {
    post(aes_affine_inv(y))
}

/// P, the linear part of [`pre`]. The AES kernels keep every state word as P(x), byte by
/// byte: XORs commute with P, so the S-box input P(x1 ^ x2 ^ x3 ^ rk) + pre(0) is a plain
/// XOR of state words and a round constant, and no pre-map runs per round.
pub(crate) const fn p_lin(x: u8) -> u8 {
    pre(x) ^ pre(0)
}

/// The inverse of [`p_lin`] as a table.
const P_LIN_INV: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        t[x] = p_lin(x as u8);
        x += 1;
    }
    invert(t)
};

/// The inverse of [`p_lin`].
const fn p_lin_inv(y: u8) -> u8 {
    P_LIN_INV[y as usize]
}

/// The images of the eight unit bytes under [`p_lin`] (its matrix columns).
const P_COLUMNS: [u8; 8] = {
    let mut c = [0u8; 8];
    let mut j = 0;
    while j < 8 {
        c[j] = p_lin(1 << j);
        j += 1;
    }
    c
};

/// The round's output in the state domain, P(L(B)) with B = S-box output, split by source
/// byte. Byte k of rol2(B) is (B_k << 2) ^ (B_{k-1} >> 6), so byte k of
/// L(B) = B ^ rol2 B ^ rol10 B ^ rol18 B ^ rol24 B is the XOR over d of N_d(B_{k-d}) with
/// N_0 = I + SHL2, N_1 = N_2 = SHL2 + SHR6, N_3 = I + SHR6 (indices mod 4). Applied to an
/// AESENCLAST output byte y (B = post_aes(y)) and followed by P, each part is one affine byte
/// map: two nibble lookups, then a byte rotation puts it in place.
const fn l_part(d: u8, y: u8) -> u8 {
    let b = post_aes(y);
    let n = match d {
        0 => b ^ (b << 2),
        3 => b ^ (b >> 6),
        _ => (b << 2) ^ (b >> 6),
    };
    p_lin(n)
}

/// What the AES kernels XOR into the S-box input for a round key: P(rk) + pre(0) per byte
/// (constant-time: P is applied as a bit-matrix product by multiplications of 0/1 bytes).
pub(crate) fn round_constant(rk: u32) -> u32 {
    enter_word(rk) ^ u32::from_ne_bytes([PRE_ZERO; 4])
}

/// The constant of [`pre`].
const PRE_ZERO: u8 = pre(0);

/// P on each byte of a word (constant-time).
pub(crate) fn enter_word(w: u32) -> u32 {
    let mut out = 0u32;
    for (j, column) in P_COLUMNS.iter().enumerate() {
        // Bit j of every byte, at the bottom of its byte: multiplying by P's column j (a byte)
        // cannot carry into the next byte.
        out ^= ((w >> j) & 0x0101_0101) * u32::from(*column);
    }
    out
}

/// Nibble tables for an affine map f, for `pshufb`: `lo[n] = f(n)`, `hi[n] = f(n << 4) + f(0)`,
/// so `f(x) = lo[x & 15] ^ hi[x >> 4]`.
pub(crate) const fn nibble_tables(f: Map) -> ([u8; 16], [u8; 16]) {
    let mut lo = [0u8; 16];
    let mut hi = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        lo[n] = f.eval(n as u8);
        hi[n] = f.eval((n as u8) << 4) ^ f.eval(0);
        n += 1;
    }
    (lo, hi)
}

/// A linear map f as a GF2P8AFFINE matrix: byte 7-i of the qword is the row of output bit i.
pub(crate) const fn gf2p8_matrix(f: Map) -> u64 {
    let c = f.eval(0);
    let mut m = 0u64;
    let mut i = 0;
    while i < 8 {
        let mut row = 0u8;
        let mut j = 0;
        while j < 8 {
            row |= (((f.eval(1 << j) ^ c) >> i) & 1) << j;
            j += 1;
        }
        m |= (row as u64) << (8 * (7 - i));
        i += 1;
    }
    m
}

/// ShiftRows as a byte permutation: AES output byte `4c + r` comes from input byte
/// `4((c + r) mod 4) + r`.
const fn shift_rows(i: usize) -> usize {
    let (c, r) = (i / 4, i % 4);
    4 * ((c + r) % 4) + r
}

/// A `pshufb` control that undoes ShiftRows and then rotates each little-endian 32-bit word
/// left by `8 * k` bits, in one shuffle.
pub(crate) const fn unshift_rotate(k: usize) -> [u8; 16] {
    let mut ctl = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        // After unshifting, byte p holds S(input p); the rotation reads byte `want` of it.
        let want = 4 * (i / 4) + (i % 4 + 4 - k) % 4;
        // S(input `want`) sits at the AES output byte o with shift_rows(o) == want.
        let mut o = 0;
        while shift_rows(o) != want {
            o += 1;
        }
        ctl[i] = o as u8;
        i += 1;
    }
    ctl
}

#[cfg(test)]
mod tests {
    use super::super::soft::field_mul as sm4_mul;
    use super::*;

    #[test]
    fn beta_is_a_root_and_phi_is_a_field_isomorphism() {
        assert_ne!(BETA, 0);
        for a in 0..=255u8 {
            for b in [0u8, 1, 2, 3, 0x53, 0xca, 0xff, a] {
                assert_eq!(phi(sm4_mul(a, b)), aes_mul(phi(a), phi(b)));
            }
            assert_eq!(phi_inv(phi(a)), a);
        }
    }

    #[test]
    fn decomposition_gives_the_sm4_sbox() {
        let table = crate::sm4::tests_support::sbox_table();
        for x in 0..=255u8 {
            assert_eq!(post(aes_inv(pre(x))), table[usize::from(x)], "x={x:#04x}");
            let sub_bytes = aes_affine(aes_inv(pre(x)));
            assert_eq!(post_aes(sub_bytes), table[usize::from(x)], "x={x:#04x}");
        }
    }

    #[test]
    fn state_domain_round_matches_the_sm4_round() {
        let table = crate::sm4::tests_support::sbox_table();
        let l = |b: u32| {
            b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
        };
        let mut w = 0x0123_4567u32;
        for _ in 0..2000 {
            w = w.wrapping_mul(0x9e37_79b9).wrapping_add(0x7f4a_7c15);
            let (t, rk) = (w, w.rotate_left(13) ^ 0xa5a5_5a5a);
            // Plain: B = S(t ^ rk) byte by byte, then P(L(B)).
            let b = u32::from_le_bytes((t ^ rk).to_le_bytes().map(|x| table[usize::from(x)]));
            let want = enter_word(l(b));
            // Kernel: AES input is P(t) + round_constant(rk); y = SubBytes of it.
            let input = enter_word(t) ^ round_constant(rk);
            let y = input.to_le_bytes().map(|u| aes_affine(aes_inv(u)));
            let mut got = [0u8; 4];
            for k in 0..4 {
                got[k] = Map::L0.eval(y[k])
                    ^ Map::L1.eval(y[(k + 3) % 4])
                    ^ Map::L1.eval(y[(k + 2) % 4])
                    ^ Map::L3.eval(y[(k + 1) % 4]);
            }
            assert_eq!(u32::from_le_bytes(got), want);
            let back = u32::from_le_bytes(enter_word(t).to_le_bytes().map(|x| Map::Leave.eval(x)));
            assert_eq!(back, t);
        }
    }

    /// `vgf2p8affineqb` as the SDM describes it: bit i of each result byte is the parity of
    /// (byte 7 - i of the matrix qword) AND the source byte, XOR bit i of the immediate.
    fn gf2p8affine(x: u8, matrix: u64, imm: u8) -> u8 {
        let mut y = 0u8;
        for i in 0..8 {
            let row = (matrix >> (8 * (7 - i))) as u8;
            y |= (((row & x).count_ones() & 1) as u8) << i;
        }
        y ^ imm
    }

    #[test]
    fn gfni_instruction_pair_gives_the_sbox() {
        let table = crate::sm4::tests_support::sbox_table();
        let (pre_m, pre_c) = (gf2p8_matrix(Map::Pre), Map::Pre.eval(0));
        let (post_m, post_c) = (gf2p8_matrix(Map::Post), Map::Post.eval(0));
        for x in 0..=255u8 {
            let into_aes = gf2p8affine(x, pre_m, pre_c);
            // vgf2p8affineinvqb: the same affine step on the AES-field inverse of the source.
            let out = gf2p8affine(aes_inv(into_aes), post_m, post_c);
            assert_eq!(out, table[usize::from(x)], "x={x:#04x}");
        }
    }

    #[test]
    fn nibble_tables_and_matrices_reproduce_the_maps() {
        for f in [
            Map::Pre,
            Map::Post,
            Map::Enter,
            Map::Leave,
            Map::L0,
            Map::L1,
            Map::L3,
        ] {
            let (lo, hi) = nibble_tables(f);
            let m = gf2p8_matrix(f);
            for x in 0..=255u8 {
                assert_eq!(lo[usize::from(x & 15)] ^ hi[usize::from(x >> 4)], f.eval(x));
                // The GF2P8AFFINEQB rule: bit i = parity(byte 7-i of m & x) ^ bit i of f(0).
                let mut y = f.eval(0);
                for i in 0..8 {
                    y ^= dot((m >> (8 * (7 - i))) as u8, x) << i;
                }
                assert_eq!(y, f.eval(x), "{f:?}");
            }
        }
    }

    #[test]
    fn unshift_rotate_controls() {
        // k = 0 is exactly ShiftRows^-1.
        let ctl = unshift_rotate(0);
        for (i, &c) in ctl.iter().enumerate() {
            assert_eq!(shift_rows(usize::from(c)), i);
        }
        // Rotating the unshifted words by 8k: check on a state of distinct bytes.
        let state: [u8; 16] = core::array::from_fn(|i| i as u8);
        let shifted: [u8; 16] = core::array::from_fn(|o| state[shift_rows(o)]);
        for k in 0..4 {
            let ctl = unshift_rotate(k);
            let got: [u8; 16] = core::array::from_fn(|i| shifted[usize::from(ctl[i])]);
            for w in 0..4 {
                let word = u32::from_le_bytes([
                    state[4 * w],
                    state[4 * w + 1],
                    state[4 * w + 2],
                    state[4 * w + 3],
                ]);
                let want = word.rotate_left(8 * k as u32).to_le_bytes();
                assert_eq!(got[4 * w..4 * w + 4], want, "k={k} w={w}");
            }
        }
    }
}
