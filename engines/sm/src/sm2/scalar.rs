//! Integers modulo the order n of curveSM2's base point (GB/T 32918.5), and the code-path
//! choice for SM2 arithmetic.
//!
//! Scalars are kept canonical (four little-endian limbs, < n) so scalar multiplication can
//! read their bits directly; products go through Montgomery multiplication mod n. Everything
//! is constant time except [`Scalar::invert_vartime`], which is for public values only.
//! [`Sm2Path`] lives here because this is the public arithmetic module: benches and tests
//! force it like the other units' paths.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use super::field::{adc, limbs_from_be, mac, safegcd, sbb};
use crate::dispatch::code_paths;

code_paths! {
    /// The code path for SM2 scalar multiplication and field inversion.
    pub enum Sm2Path for "sm2" {
        /// Field multiplication in assembly with BMI2 `mulx` and ADX `adcx`/`adox`; AVX2
        /// table scans.
        MulxAdx = "mulx-adx" if ["bmi2", "adx", "avx2"],
        /// Portable 64-bit limbs with `u128` products.
        Portable = "portable" if [],
    }
}

/// n, little-endian limbs.
const N: [u64; 4] = [
    0x53bb_f409_39d5_4123,
    0x7203_df6b_21c6_052b,
    0xffff_ffff_ffff_ffff,
    0xffff_fffe_ffff_ffff,
];

/// -n^-1 mod 2^64.
const N0: u64 = 0x327f_9e88_7235_0975;

/// 2^512 mod n, to leave the Montgomery domain after a Montgomery product.
const R2: [u64; 4] = [
    0x9011_92af_7c11_4f20,
    0x3464_504a_de6f_a2fa,
    0x620f_c84c_3aff_e0d4,
    0x1eb5_e412_a22b_3d3b,
];

/// An integer modulo n, the order of the SM2 base point. Always canonical (< n). Often a
/// secret: `Debug` does not print it.
#[derive(Clone, Copy, Default)]
pub struct Scalar(pub(crate) [u64; 4]);

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scalar(..)")
    }
}

/// (r + carry·2^256) mod n for an input below 2n.
#[inline(always)]
fn reduce_once(r: [u64; 4], carry: u64) -> [u64; 4] {
    let (s0, b) = sbb(r[0], N[0], 0);
    let (s1, b) = sbb(r[1], N[1], b);
    let (s2, b) = sbb(r[2], N[2], b);
    let (s3, b) = sbb(r[3], N[3], b);
    let (_, b) = sbb(carry, 0, b);
    let keep = 0u64.wrapping_sub(b);
    [
        (r[0] & keep) | (s0 & !keep),
        (r[1] & keep) | (s1 & !keep),
        (r[2] & keep) | (s2 & !keep),
        (r[3] & keep) | (s3 & !keep),
    ]
}

/// a·b·2^-256 mod n (operand-scanning Montgomery multiplication).
fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut t = [0u64; 6];
    for &ai in a {
        let mut c = 0;
        for j in 0..4 {
            (t[j], c) = mac(t[j], ai, b[j], c);
        }
        (t[4], t[5]) = adc(t[4], c, 0);
        let m = t[0].wrapping_mul(N0);
        let (_, mut c) = mac(t[0], m, N[0], 0);
        for j in 1..4 {
            (t[j - 1], c) = mac(t[j], m, N[j], c);
        }
        let (x, c2) = adc(t[4], c, 0);
        t[3] = x;
        t[4] = t[5] + c2;
    }
    reduce_once([t[0], t[1], t[2], t[3]], t[4])
}

impl Scalar {
    /// 0.
    pub const ZERO: Self = Self([0; 4]);
    /// 1.
    pub const ONE: Self = Self([1, 0, 0, 0]);

    /// Parses a big-endian integer; `None` unless it is below n.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let limbs = limbs_from_be(bytes);
        let (_, b) = sbb(limbs[0], N[0], 0);
        let (_, b) = sbb(limbs[1], N[1], b);
        let (_, b) = sbb(limbs[2], N[2], b);
        let (_, b) = sbb(limbs[3], N[3], b);
        (b == 1).then_some(Self(limbs))
    }

    /// Parses a big-endian integer and reduces it mod n (any 256-bit value is below 2n).
    pub fn from_bytes_reduced(bytes: &[u8; 32]) -> Self {
        Self(reduce_once(limbs_from_be(bytes), 0))
    }

    /// Big-endian encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// self + rhs mod n.
    pub fn add(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        let (r0, c) = adc(a[0], b[0], 0);
        let (r1, c) = adc(a[1], b[1], c);
        let (r2, c) = adc(a[2], b[2], c);
        let (r3, c) = adc(a[3], b[3], c);
        Self(reduce_once([r0, r1, r2, r3], c))
    }

    /// self - rhs mod n.
    pub fn sub(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        let (r0, br) = sbb(a[0], b[0], 0);
        let (r1, br) = sbb(a[1], b[1], br);
        let (r2, br) = sbb(a[2], b[2], br);
        let (r3, br) = sbb(a[3], b[3], br);
        let m = 0u64.wrapping_sub(br);
        let (r0, c) = adc(r0, N[0] & m, 0);
        let (r1, c) = adc(r1, N[1] & m, c);
        let (r2, c) = adc(r2, N[2] & m, c);
        let (r3, _) = adc(r3, N[3] & m, c);
        Self([r0, r1, r2, r3])
    }

    /// -self mod n.
    pub fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// self · rhs mod n.
    pub fn mul(&self, rhs: &Self) -> Self {
        Self(mont_mul(&mont_mul(&self.0, &rhs.0), &R2))
    }

    /// self^-1 mod n (0 maps to 0), constant time (safegcd).
    pub fn invert(&self) -> Self {
        Self(safegcd::invert(&self.0, &safegcd::N))
    }

    /// self^-1 mod n for public values (signature verification); same result as
    /// [`Scalar::invert`].
    pub fn invert_vartime(&self) -> Self {
        self.invert()
    }

    /// Whether self is 0.
    pub fn is_zero(&self) -> Choice {
        self.ct_eq(&Self::ZERO)
    }

    /// Bit `i` (0 = least significant); bits at and above 256 read as 0.
    #[inline(always)]
    pub(crate) fn bit(&self, i: usize) -> u64 {
        if i >= 256 {
            0
        } else {
            (self.0[i / 64] >> (i % 64)) & 1
        }
    }
}

impl ConstantTimeEq for Scalar {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Scalar {}

impl ConditionallySelectable for Scalar {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::bn::{BigNum, BigNumContext};
    use rand::{RngCore, SeedableRng};

    const N_HEX: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123";

    fn to_bn(s: &Scalar) -> BigNum {
        BigNum::from_slice(&s.to_bytes()).unwrap()
    }

    fn from_bn(b: &BigNum) -> Scalar {
        Scalar::from_bytes(&b.to_vec_padded(32).unwrap().try_into().unwrap()).unwrap()
    }

    #[test]
    fn ops_match_bignum() {
        let mut ctx = BigNumContext::new().unwrap();
        let n = BigNum::from_hex_str(N_HEX).unwrap();
        let mut xs: Vec<BigNum> = ["0", "1", "2"]
            .iter()
            .map(|v| BigNum::from_dec_str(v).unwrap())
            .collect();
        for d in [1u32, 2] {
            let mut x = BigNum::from_hex_str(N_HEX).unwrap();
            x.sub_word(d).unwrap();
            xs.push(x);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for _ in 0..300 {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            let s = Scalar::from_bytes_reduced(&b);
            let mut want = BigNum::new().unwrap();
            want.nnmod(&BigNum::from_slice(&b).unwrap(), &n, &mut ctx)
                .unwrap();
            assert_eq!(to_bn(&s), want);
            xs.push(want);
        }
        let red = Scalar::from_bytes_reduced(&[0xff; 32]);
        let mut want = BigNum::new().unwrap();
        want.nnmod(&BigNum::from_slice(&[0xff; 32]).unwrap(), &n, &mut ctx)
            .unwrap();
        assert_eq!(to_bn(&red), want);
        xs.push(want);

        for (i, a) in xs.iter().enumerate() {
            let b = &xs[(i * 5 + 1) % xs.len()];
            let (sa, sb) = (from_bn(a), from_bn(b));
            let mut want = BigNum::new().unwrap();
            want.mod_add(a, b, &n, &mut ctx).unwrap();
            assert_eq!(to_bn(&sa.add(&sb)), want);
            want.mod_sub(a, b, &n, &mut ctx).unwrap();
            assert_eq!(to_bn(&sa.sub(&sb)), want);
            want.mod_mul(a, b, &n, &mut ctx).unwrap();
            assert_eq!(to_bn(&sa.mul(&sb)), want);
            want.mod_sub(&BigNum::new().unwrap(), a, &n, &mut ctx)
                .unwrap();
            assert_eq!(to_bn(&sa.neg()), want);
            if i % 8 == 0 {
                if a.num_bits() == 0 {
                    assert!(bool::from(sa.invert().is_zero()));
                } else {
                    want.mod_inverse(a, &n, &mut ctx).unwrap();
                    assert_eq!(to_bn(&sa.invert()), want);
                    assert_eq!(sa.invert_vartime(), sa.invert());
                }
            }
        }
    }

    #[test]
    fn from_bytes_is_canonical_only() {
        let n = BigNum::from_hex_str(N_HEX).unwrap().to_vec();
        assert!(Scalar::from_bytes(&n.clone().try_into().unwrap()).is_none());
        assert!(Scalar::from_bytes(&[0xff; 32]).is_none());
        let mut nm1 = BigNum::from_hex_str(N_HEX).unwrap();
        nm1.sub_word(1).unwrap();
        let s = Scalar::from_bytes(&nm1.to_vec().try_into().unwrap()).unwrap();
        assert_eq!(s.add(&Scalar::ONE), Scalar::ZERO);
        assert_eq!(
            Scalar::from_bytes_reduced(&n.try_into().unwrap()),
            Scalar::ZERO
        );
    }
}
