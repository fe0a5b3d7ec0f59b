//! Arithmetic in GF(p) for curveSM2, p = 2^256 - 2^224 - 2^96 + 2^64 - 1 (GB/T 32918.5).
//!
//! Elements are four little-endian 64-bit limbs in Montgomery form (x·2^256 mod p), always
//! fully reduced. Because p ≡ -1 (mod 2^64) the Montgomery factor is 1, and p's sparse shape
//! turns each reduction round into shifts and adds. This file holds the portable arithmetic
//! (`u128` products), encodings, square roots, and inversion by safegcd
//! (`arith_safegcd.rs`); [`FieldOps`] lets the point code run on it or on the assembly of
//! `x86_mulx.rs`. Everything is constant time unless named `_vartime`.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

#[path = "arith_safegcd.rs"]
pub(crate) mod safegcd;

/// p, little-endian limbs.
const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];

/// 2^512 mod p: multiplying by it (Montgomery) moves a value into Montgomery form.
const R2: [u64; 4] = [
    0x0000_0002_0000_0003,
    0x0000_0002_ffff_ffff,
    0x0000_0001_0000_0001,
    0x0000_0004_0000_0002,
];

/// 2^768 mod p: see [`FieldElement::invert`].
const R3: [u64; 4] = [
    0x0000_0012_0000_0016,
    0x0000_000e_ffff_fff8,
    0x0000_000a_0000_000c,
    0x0000_001b_0000_0009,
];

/// An element of GF(p), kept in Montgomery form and always fully reduced (< p).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldElement(pub(crate) [u64; 4]);

/// Field arithmetic for the point formulas: they are generic over it, so each code path is
/// one monomorphised copy of the same formulas and loops.
pub(crate) trait FieldOps {
    /// a·b.
    fn mul(a: &FieldElement, b: &FieldElement) -> FieldElement;
    /// a².
    fn square(a: &FieldElement) -> FieldElement;
    /// a + b.
    fn add(a: &FieldElement, b: &FieldElement) -> FieldElement;
    /// a - b.
    fn sub(a: &FieldElement, b: &FieldElement) -> FieldElement;
    /// 2·a.
    #[inline(always)]
    fn double(a: &FieldElement) -> FieldElement {
        Self::add(a, a)
    }
    /// a/2.
    #[inline(always)]
    fn half(a: &FieldElement) -> FieldElement {
        a.half()
    }
}

/// Portable arithmetic on `u128` products.
pub(crate) struct Portable;

impl FieldOps for Portable {
    #[inline(always)]
    fn mul(a: &FieldElement, b: &FieldElement) -> FieldElement {
        FieldElement(mont_mul(&a.0, &b.0))
    }

    #[inline(always)]
    fn square(a: &FieldElement) -> FieldElement {
        FieldElement(mont_square(&a.0))
    }

    #[inline(always)]
    fn add(a: &FieldElement, b: &FieldElement) -> FieldElement {
        a.add(b)
    }

    #[inline(always)]
    fn sub(a: &FieldElement, b: &FieldElement) -> FieldElement {
        a.sub(b)
    }
}

/// a + b + carry, returning (sum, carry-out).
#[inline(always)]
pub(crate) const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (a as u128) + (b as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// a - b - borrow (borrow is 0 or 1), returning (difference, borrow-out as 0 or 1).
#[inline(always)]
pub(crate) const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let (d, b1) = a.overflowing_sub(b);
    let (d, b2) = d.overflowing_sub(borrow);
    (d, (b1 | b2) as u64)
}

/// acc + a·b + carry, returning (low, high).
#[inline(always)]
pub(crate) const fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = (acc as u128) + (a as u128) * (b as u128) + (carry as u128);
    (t as u64, (t >> 64) as u64)
}

/// `a` if mask is all ones, `b` if it is zero.
#[inline(always)]
const fn select_limbs(mask: u64, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    [
        (a[0] & mask) | (b[0] & !mask),
        (a[1] & mask) | (b[1] & !mask),
        (a[2] & mask) | (b[2] & !mask),
        (a[3] & mask) | (b[3] & !mask),
    ]
}

/// (r + carry·2^256) mod p for an input below 2p.
#[inline(always)]
const fn reduce_once(r: [u64; 4], carry: u64) -> [u64; 4] {
    let (s0, b) = sbb(r[0], P[0], 0);
    let (s1, b) = sbb(r[1], P[1], b);
    let (s2, b) = sbb(r[2], P[2], b);
    let (s3, b) = sbb(r[3], P[3], b);
    let (_, b) = sbb(carry, 0, b);
    // b = 1: r < p, keep r.
    select_limbs(0u64.wrapping_sub(b), &r, &[s0, s1, s2, s3])
}

/// m·(2^192 - 2^160 - 2^32 + 1): what one Montgomery round adds above the limb it clears.
#[inline(always)]
const fn round_addend(m: u64) -> [u64; 4] {
    let (w0, b) = sbb(m, m << 32, 0);
    let (w1, b) = sbb(0, m >> 32, b);
    let (w2, b) = sbb(0, m << 32, b);
    let (w3, _) = sbb(m, m >> 32, b);
    [w0, w1, w2, w3]
}

/// Montgomery reduction of a 512-bit value: t·2^-256 mod p.
#[inline(always)]
const fn mont_reduce(t: [u64; 8]) -> [u64; 4] {
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    // Round i adds m·p·2^(64i) with m = t_i (since -p^-1 ≡ 1 mod 2^64): limb i cancels and
    // round_addend(m) lands on limbs i+1..i+4; the carry out of limb i+4 joins round i+1.
    let w = round_addend(t0);
    let (t1, c) = adc(t1, w[0], 0);
    let (t2, c) = adc(t2, w[1], c);
    let (t3, c) = adc(t3, w[2], c);
    let (t4, c0) = adc(t4, w[3], c);

    let w = round_addend(t1);
    let (t2, c) = adc(t2, w[0], 0);
    let (t3, c) = adc(t3, w[1], c);
    let (t4, c) = adc(t4, w[2], c);
    let (t5, c1) = adc(t5, w[3], c + c0);

    let w = round_addend(t2);
    let (t3, c) = adc(t3, w[0], 0);
    let (t4, c) = adc(t4, w[1], c);
    let (t5, c) = adc(t5, w[2], c);
    let (t6, c2) = adc(t6, w[3], c + c1);

    let w = round_addend(t3);
    let (t4, c) = adc(t4, w[0], 0);
    let (t5, c) = adc(t5, w[1], c);
    let (t6, c) = adc(t6, w[2], c);
    let (t7, c3) = adc(t7, w[3], c + c2);

    reduce_once([t4, t5, t6, t7], c3)
}

/// a·b·2^-256 mod p.
#[inline(always)]
pub(crate) const fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let (t0, c) = mac(0, a[0], b[0], 0);
    let (t1, c) = mac(0, a[0], b[1], c);
    let (t2, c) = mac(0, a[0], b[2], c);
    let (t3, t4) = mac(0, a[0], b[3], c);

    let (t1, c) = mac(t1, a[1], b[0], 0);
    let (t2, c) = mac(t2, a[1], b[1], c);
    let (t3, c) = mac(t3, a[1], b[2], c);
    let (t4, t5) = mac(t4, a[1], b[3], c);

    let (t2, c) = mac(t2, a[2], b[0], 0);
    let (t3, c) = mac(t3, a[2], b[1], c);
    let (t4, c) = mac(t4, a[2], b[2], c);
    let (t5, t6) = mac(t5, a[2], b[3], c);

    let (t3, c) = mac(t3, a[3], b[0], 0);
    let (t4, c) = mac(t4, a[3], b[1], c);
    let (t5, c) = mac(t5, a[3], b[2], c);
    let (t6, t7) = mac(t6, a[3], b[3], c);

    mont_reduce([t0, t1, t2, t3, t4, t5, t6, t7])
}

/// a²·2^-256 mod p (cross products computed once and doubled).
#[inline(always)]
pub(crate) const fn mont_square(a: &[u64; 4]) -> [u64; 4] {
    // Off-diagonal products a_i·a_j, i < j.
    let (t1, c) = mac(0, a[0], a[1], 0);
    let (t2, c) = mac(0, a[0], a[2], c);
    let (t3, t4) = mac(0, a[0], a[3], c);
    let (t3, c) = mac(t3, a[1], a[2], 0);
    let (t4, t5) = mac(t4, a[1], a[3], c);
    let (t5, t6) = mac(t5, a[2], a[3], 0);
    // Double them.
    let t7 = t6 >> 63;
    let t6 = (t6 << 1) | (t5 >> 63);
    let t5 = (t5 << 1) | (t4 >> 63);
    let t4 = (t4 << 1) | (t3 >> 63);
    let t3 = (t3 << 1) | (t2 >> 63);
    let t2 = (t2 << 1) | (t1 >> 63);
    let t1 = t1 << 1;
    // Add the squares a_i².
    let (t0, c) = mac(0, a[0], a[0], 0);
    let (t1, c) = adc(t1, 0, c);
    let (lo, hi) = mac(0, a[1], a[1], 0);
    let (t2, c) = adc(t2, lo, c);
    let (t3, c) = adc(t3, hi, c);
    let (lo, hi) = mac(0, a[2], a[2], 0);
    let (t4, c) = adc(t4, lo, c);
    let (t5, c) = adc(t5, hi, c);
    let (lo, hi) = mac(0, a[3], a[3], 0);
    let (t6, c) = adc(t6, lo, c);
    let (t7, _) = adc(t7, hi, c);

    mont_reduce([t0, t1, t2, t3, t4, t5, t6, t7])
}

impl FieldElement {
    /// 0.
    pub(crate) const ZERO: Self = Self([0; 4]);
    /// 1 (Montgomery form: 2^256 mod p).
    pub(crate) const ONE: Self = Self([
        0x0000_0000_0000_0001,
        0x0000_0000_ffff_ffff,
        0x0000_0000_0000_0000,
        0x0000_0001_0000_0000,
    ]);
    /// The curve coefficient b of curveSM2 (GB/T 32918.5), Montgomery form.
    pub(crate) const B: Self = Self([
        0x90d2_3063_2bc0_dd42,
        0x71cf_379a_e9b5_37ab,
        0x5279_8150_5ea5_1c3c,
        0x240f_e188_ba20_e2c8,
    ]);

    /// Parses a big-endian integer; `None` unless it is below p.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let limbs = limbs_from_be(bytes);
        // Canonical iff limbs - p borrows.
        let (_, b) = sbb(limbs[0], P[0], 0);
        let (_, b) = sbb(limbs[1], P[1], b);
        let (_, b) = sbb(limbs[2], P[2], b);
        let (_, b) = sbb(limbs[3], P[3], b);
        (b == 1).then(|| Self(mont_mul(&limbs, &R2)))
    }

    /// Big-endian encoding of the canonical value.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let c = mont_reduce([self.0[0], self.0[1], self.0[2], self.0[3], 0, 0, 0, 0]);
        let mut out = [0u8; 32];
        for (i, limb) in c.iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// self + rhs.
    #[inline(always)]
    pub(crate) fn add(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        let (r0, c) = adc(a[0], b[0], 0);
        let (r1, c) = adc(a[1], b[1], c);
        let (r2, c) = adc(a[2], b[2], c);
        let (r3, c) = adc(a[3], b[3], c);
        Self(reduce_once([r0, r1, r2, r3], c))
    }

    /// self - rhs.
    #[inline(always)]
    pub(crate) fn sub(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        let (r0, br) = sbb(a[0], b[0], 0);
        let (r1, br) = sbb(a[1], b[1], br);
        let (r2, br) = sbb(a[2], b[2], br);
        let (r3, br) = sbb(a[3], b[3], br);
        // On borrow add p back (masked).
        let m = 0u64.wrapping_sub(br);
        let (r0, c) = adc(r0, P[0] & m, 0);
        let (r1, c) = adc(r1, P[1] & m, c);
        let (r2, c) = adc(r2, P[2] & m, c);
        let (r3, _) = adc(r3, P[3] & m, c);
        Self([r0, r1, r2, r3])
    }

    /// 2·self.
    #[inline(always)]
    pub(crate) fn double(&self) -> Self {
        self.add(self)
    }

    /// self/2: adds p when odd (a 257-bit sum), then shifts right.
    #[inline(always)]
    pub(crate) fn half(&self) -> Self {
        let a = &self.0;
        let m = 0u64.wrapping_sub(a[0] & 1);
        let (r0, c) = adc(a[0], P[0] & m, 0);
        let (r1, c) = adc(a[1], P[1] & m, c);
        let (r2, c) = adc(a[2], P[2] & m, c);
        let (r3, c) = adc(a[3], P[3] & m, c);
        Self([
            r0 >> 1 | r1 << 63,
            r1 >> 1 | r2 << 63,
            r2 >> 1 | r3 << 63,
            r3 >> 1 | c << 63,
        ])
    }

    /// -self.
    #[inline(always)]
    pub(crate) fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// self · rhs.
    #[inline(always)]
    pub(crate) fn mul(&self, rhs: &Self) -> Self {
        Self(mont_mul(&self.0, &rhs.0))
    }

    /// self².
    #[inline(always)]
    pub(crate) fn square(&self) -> Self {
        Self(mont_square(&self.0))
    }

    /// Whether self is 0.
    pub(crate) fn is_zero(&self) -> Choice {
        self.ct_eq(&Self::ZERO)
    }

    /// Whether self is 0, with a plain comparison: for public values only.
    #[inline(always)]
    pub(crate) fn is_zero_vartime(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Whether the canonical value is odd (the SEC1 compressed-point parity bit).
    pub(crate) fn is_odd(&self) -> Choice {
        Choice::from(self.to_bytes()[31] & 1)
    }

    /// self^-1 (0 maps to 0), constant time: safegcd on the Montgomery value aR gives
    /// a^-1·R^-1, and a Montgomery product with R^3 turns that into a^-1·R.
    #[inline(always)]
    pub(crate) fn invert(&self) -> Self {
        Self(mont_mul(&safegcd::invert(&self.0, &safegcd::P), &R3))
    }

    /// A square root if one exists: self^((p+1)/4), valid since p ≡ 3 (mod 4).
    pub(crate) fn sqrt(&self) -> Option<Self> {
        // (p + 1)/4 = 1^31 0 1^128 0^31 1 0^62 (bits high to low, 254 bits): build
        // x^(2^k - 1) for the runs, then square-and-multiply along the pattern.
        let x1 = *self;
        let x2 = x1.square().mul(&x1);
        let x3 = x2.square().mul(&x1);
        let x6 = x3.square_n(3).mul(&x3);
        let x12 = x6.square_n(6).mul(&x6);
        let x15 = x12.square_n(3).mul(&x3);
        let x30 = x15.square_n(15).mul(&x15);
        let x31 = x30.square().mul(&x1);
        let x32 = x31.square().mul(&x1);
        let mut t = x31.square();
        for _ in 0..4 {
            t = t.square_n(32).mul(&x32);
        }
        let r = t.square_n(32).mul(&x1).square_n(62);
        bool::from(r.square().ct_eq(self)).then_some(r)
    }

    /// self^(2^k): k successive squarings.
    fn square_n(&self, k: u32) -> Self {
        let mut r = *self;
        for _ in 0..k {
            r = r.square();
        }
        r
    }
}

/// Four little-endian limbs from 32 big-endian bytes.
pub(crate) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[24 - 8 * i..32 - 8 * i]);
        *limb = u64::from_be_bytes(w);
    }
    limbs
}

impl ConstantTimeEq for FieldElement {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl ConditionallySelectable for FieldElement {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let m = 0u64.wrapping_sub(u64::from(choice.unwrap_u8()));
        Self(select_limbs(m, &b.0, &a.0))
    }
}

impl Default for FieldElement {
    fn default() -> Self {
        Self::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::bn::{BigNum, BigNumContext};
    use rand::{Rng, RngCore, SeedableRng};

    fn p_bn() -> BigNum {
        BigNum::from_hex_str("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF")
            .unwrap()
    }

    fn to_bn(f: &FieldElement) -> BigNum {
        BigNum::from_slice(&f.to_bytes()).unwrap()
    }

    fn from_bn(b: &BigNum) -> FieldElement {
        let v = b.to_vec_padded(32).unwrap();
        FieldElement::from_bytes(&v.try_into().unwrap()).unwrap()
    }

    /// Random values plus the edges: 0, 1, 2, p-1, p-2, 2^255, 2^256-1 mod p.
    fn samples(count: usize) -> Vec<BigNum> {
        let mut ctx = BigNumContext::new().unwrap();
        let p = p_bn();
        let mut out = Vec::new();
        for v in ["0", "1", "2"] {
            out.push(BigNum::from_dec_str(v).unwrap());
        }
        for d in [1u32, 2] {
            let mut x = p_bn();
            x.sub_word(d).unwrap();
            out.push(x);
        }
        let mut top = BigNum::new().unwrap();
        top.set_bit(255).unwrap();
        out.push(top);
        let all = BigNum::from_slice(&[0xff; 32]).unwrap();
        let mut r = BigNum::new().unwrap();
        r.nnmod(&all, &p, &mut ctx).unwrap();
        out.push(r);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for i in 0..count {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            if i % 8 == 0 {
                // Values near p exercise the carries.
                b[..4].copy_from_slice(&[0xff, 0xff, 0xff, 0xfe]);
                b[4..20].fill(0xff);
                b[20..24].fill(rng.gen());
            }
            let x = BigNum::from_slice(&b).unwrap();
            let mut r = BigNum::new().unwrap();
            r.nnmod(&x, &p, &mut ctx).unwrap();
            out.push(r);
        }
        out
    }

    #[test]
    fn ops_match_bignum() {
        let mut ctx = BigNumContext::new().unwrap();
        let p = p_bn();
        let xs = samples(300);
        for (i, a) in xs.iter().enumerate() {
            let b = &xs[(i * 7 + 3) % xs.len()];
            let (fa, fb) = (from_bn(a), from_bn(b));
            assert_eq!(to_bn(&fa), *a);
            let mut want = BigNum::new().unwrap();
            want.mod_add(a, b, &p, &mut ctx).unwrap();
            assert_eq!(to_bn(&fa.add(&fb)), want);
            want.mod_sub(a, b, &p, &mut ctx).unwrap();
            assert_eq!(to_bn(&fa.sub(&fb)), want);
            want.mod_mul(a, b, &p, &mut ctx).unwrap();
            assert_eq!(to_bn(&fa.mul(&fb)), want);
            want.mod_sqr(a, &p, &mut ctx).unwrap();
            assert_eq!(to_bn(&fa.square()), want);
            let zero = BigNum::new().unwrap();
            want.mod_sub(&zero, a, &p, &mut ctx).unwrap();
            assert_eq!(to_bn(&fa.neg()), want);
            if i % 10 == 0 {
                if a.num_bits() == 0 {
                    assert!(bool::from(fa.invert().is_zero()));
                } else {
                    want.mod_inverse(a, &p, &mut ctx).unwrap();
                    assert_eq!(to_bn(&fa.invert()), want);
                }
                let sq = fa.square();
                let r = sq.sqrt().expect("a square has a root");
                assert!(bool::from(r.square().ct_eq(&sq)));
            }
        }
    }

    #[test]
    fn rejects_non_canonical() {
        let p = p_bn().to_vec();
        assert!(FieldElement::from_bytes(&p.clone().try_into().unwrap()).is_none());
        assert!(FieldElement::from_bytes(&[0xff; 32]).is_none());
        let mut pm1 = p_bn();
        pm1.sub_word(1).unwrap();
        assert!(FieldElement::from_bytes(&pm1.to_vec().try_into().unwrap()).is_some());
    }

    #[test]
    fn non_residue_has_no_root() {
        // -1 is a non-residue since p ≡ 3 (mod 4).
        assert!(FieldElement::ONE.neg().sqrt().is_none());
    }
}
