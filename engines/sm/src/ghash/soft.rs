//! Portable constant-time GHASH arithmetic in the POLYVAL domain: no table lookups and no
//! branches on the key or the data.
//!
//! A 64x64-bit carry-less product comes from ordinary integer multiplications of masked
//! operands: each operand is split into five parts whose set bits are five positions apart,
//! so every column of a partial product counts at most 13 one-bits, fits in four bits and
//! cannot carry into the next column of its class; masking keeps each column's low bit, its
//! parity, which is the carry-less sum. A 128-bit product is three of those (Karatsuba),
//! then a Montgomery-style reduction by x^128 (RFC 8452) done with shifts.

#![deny(unsafe_code)]

use super::{Key, POWERS};

/// The low 128 bits of the POLYVAL polynomial x^128 + x^127 + x^126 + x^121 + 1.
const POLY_LOW: u128 = (0xc2 << 120) | 1;

/// Bit masks selecting positions congruent to 0..4 modulo 5.
const M64: [u64; 5] = spaced_masks_64();
/// The same classes over 128 bits, for the product.
const M128: [u128; 5] = spaced_masks_128();

const fn spaced_masks_64() -> [u64; 5] {
    let mut m = [0u64; 5];
    let mut bit = 0;
    while bit < 64 {
        m[bit % 5] |= 1 << bit;
        bit += 1;
    }
    m
}

const fn spaced_masks_128() -> [u128; 5] {
    let mut m = [0u128; 5];
    let mut bit = 0;
    while bit < 128 {
        m[bit % 5] |= 1 << bit;
        bit += 1;
    }
    m
}

/// The carry-less product of `x` and `y`.
fn clmul64(x: u64, y: u64) -> u128 {
    let xs = M64.map(|m| u128::from(x & m));
    let ys = M64.map(|m| u128::from(y & m));
    let mut z = 0u128;
    for (c, mask) in M128.iter().enumerate() {
        // Sum the partial products whose bit classes add up to class c (mod 5).
        let mut zc = 0u128;
        for (a, xa) in xs.iter().enumerate() {
            zc ^= xa.wrapping_mul(ys[(c + 5 - a) % 5]);
        }
        z |= zc & mask;
    }
    z
}

/// POLYVAL's product: `a * b * x^-128` modulo its polynomial (RFC 8452 section 3).
pub(super) fn mul(a: u128, b: u128) -> u128 {
    let (a0, a1) = (a as u64, (a >> 64) as u64);
    let (b0, b1) = (b as u64, (b >> 64) as u64);
    let lo = clmul64(a0, b0);
    let hi = clmul64(a1, b1);
    let mid = clmul64(a0 ^ a1, b0 ^ b1) ^ lo ^ hi;
    reduce(lo ^ (mid << 64), hi ^ (mid >> 64))
}

/// Reduces the 256-bit product `hi:lo` to `(hi:lo) * x^-128` modulo the POLYVAL polynomial.
///
/// Each step adds `w * P` for the lowest 64-bit word `w`, which clears that word because
/// `P = 1 mod x^64`; the rest of `w * P` is `w * x^128` plus `w` times x^127 + x^126 +
/// x^121, i.e. `w` shifted by 63, 62 and 57 into the next two words.
pub(super) fn reduce(lo: u128, hi: u128) -> u128 {
    let x0 = lo as u64;
    let x1 = (lo >> 64) as u64;
    let t = fold(x0);
    let w1 = x1 ^ (t as u64);
    let w2 = (hi as u64) ^ ((t >> 64) as u64) ^ x0;
    let t = fold(w1);
    let w2 = w2 ^ (t as u64);
    let w3 = ((hi >> 64) as u64) ^ ((t >> 64) as u64) ^ w1;
    (u128::from(w3) << 64) | u128::from(w2)
}

/// `w * (x^63 + x^62 + x^57)`, the carry-less product by 0xc200000000000000.
fn fold(w: u64) -> u128 {
    let w = u128::from(w);
    (w << 63) ^ (w << 62) ^ (w << 57)
}

/// `h * x` modulo the POLYVAL polynomial: turns a GHASH key into its POLYVAL key.
pub(super) fn mul_x(h: u128) -> u128 {
    let carry = 0u128.wrapping_sub(h >> 127);
    (h << 1) ^ (carry & POLY_LOW)
}

/// Absorbs whole blocks of `data` into `y` (Horner's rule, one block at a time).
pub(super) fn update(key: &Key, y: &mut u128, data: &[u8]) {
    let h = key.pow[POWERS - 1];
    for block in data.chunks_exact(16) {
        let mut b = [0u8; 16];
        b.copy_from_slice(block);
        *y = mul(*y ^ u128::from_be_bytes(b), h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit carry-less product, the obvious reference.
    fn clmul64_ref(x: u64, y: u64) -> u128 {
        (0..64)
            .filter(|i| (y >> i) & 1 == 1)
            .fold(0u128, |z, i| z ^ (u128::from(x) << i))
    }

    #[test]
    fn clmul64_matches_reference() {
        let mut s = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for (x, y) in [(u64::MAX, u64::MAX), (0, u64::MAX), (1, 1 << 63)] {
            assert_eq!(clmul64(x, y), clmul64_ref(x, y));
        }
        for _ in 0..2000 {
            let (x, y) = (next(), next());
            assert_eq!(clmul64(x, y), clmul64_ref(x, y));
        }
    }

    #[test]
    fn rfc8452_polyval_vector() {
        // RFC 8452 appendix A: POLYVAL(H, X1, X2) with little-endian byte strings.
        let h = u128::from_le_bytes(hex16("25629347589242761d31f826ba4b757b"));
        let x1 = u128::from_le_bytes(hex16("4f4f95668c83dfb6401762bb2d01a262"));
        let x2 = u128::from_le_bytes(hex16("d1a24ddd2721d006bbe45f20d3c9f362"));
        let s = mul(mul(x1, h) ^ x2, h);
        assert_eq!(s.to_le_bytes(), hex16("f7a3b47b846119fae5b7866cf5e5b77e"));
    }

    fn hex16(s: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        out
    }
}
