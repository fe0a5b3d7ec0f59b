//! Points on curveSM2 (y² = x³ - 3x + b over GF(p), GB/T 32918.5) and scalar multiplication.
//!
//! Affine points carry SEC1 encoding and validation; arithmetic runs in Jacobian coordinates
//! (x = X/Z², y = Y/Z³). The formulas and loops are generic over the field arithmetic
//! ([`FieldOps`], [`Backend`]) and instantiated once per code path ([`Sm2Path`]: the
//! assembly kernels of `x86_mulx.rs`, or portable Rust); dispatch happens once per scalar
//! multiplication or inversion, never per field operation.
//! - [`mul_base`]: k·G for secret k; Booth-recoded 7-bit windows over 37 precomputed affine
//!   tables (no doublings, 36 mixed additions), each table scanned whole with masks.
//! - [`mul`]: k·P for secret k; signed 5-bit fixed windows, masked scan of 1..16·P.
//! - [`mul_double_vartime`]: a·G + b·P for public a, b (verification only): interleaved
//!   wNAF, width 10 over a static table of odd multiples of G and width 5 for P.
//!
//! Constant time means no branch and no memory index depends on a secret: table entries are
//! picked by masks behind an optimisation barrier, recoding is arithmetic. The incomplete
//! Jacobian formulas in those loops never meet their exceptional cases for scalars below n;
//! where one can (the last window of [`mul`]) a complete addition is used. Each loop says
//! why.

use std::sync::OnceLock;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::field::{FieldElement, FieldOps, Portable};
use super::scalar::{Scalar, Sm2Path};
use crate::SmError;

#[cfg(target_arch = "x86_64")]
#[path = "x86_mulx.rs"]
mod x86_mulx;

#[cfg(test)]
#[path = "arith_tests.rs"]
mod arith_tests;

/// A point in affine coordinates, or the point at infinity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AffinePoint {
    x: FieldElement,
    y: FieldElement,
    /// 1 for the point at infinity, else 0.
    infinity: u8,
}

/// A point in Jacobian coordinates; Z = 0 is the point at infinity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProjectivePoint {
    x: FieldElement,
    y: FieldElement,
    z: FieldElement,
}

impl AffinePoint {
    /// The base point G of curveSM2 (GB/T 32918.5), Montgomery-form coordinates.
    pub(crate) const GENERATOR: Self = Self {
        x: FieldElement([
            0x6132_8990_f418_029e,
            0x3e79_81ed_dca6_c050,
            0xd6a1_ed99_ac24_c3c3,
            0x9116_7a5e_e1c1_3b05,
        ]),
        y: FieldElement([
            0xc135_4e59_3c2d_0ddd,
            0xc1f5_e578_8d32_95fa,
            0x8d4c_fb06_6e2a_48f8,
            0x63cd_65d4_81d7_35bd,
        ]),
        infinity: 0,
    };

    /// The point at infinity.
    pub(crate) const IDENTITY: Self = Self {
        x: FieldElement::ZERO,
        y: FieldElement::ZERO,
        infinity: 1,
    };

    /// Parses a SEC1 point: `04 || x || y` or `02/03 || x`. Rejects other prefixes and
    /// lengths, coordinates >= p ([`SmError::InvalidPoint`]), points off the curve
    /// ([`SmError::PointNotOnCurve`]) and the infinity encoding `00`
    /// ([`SmError::PointAtInfinity`]).
    pub(crate) fn from_sec1(bytes: &[u8]) -> Result<Self, SmError> {
        let coord = |b: &[u8]| -> Result<FieldElement, SmError> {
            let arr: &[u8; 32] = b.try_into().map_err(|_| SmError::InvalidPoint)?;
            FieldElement::from_bytes(arr).ok_or(SmError::InvalidPoint)
        };
        match bytes {
            [0x00] => Err(SmError::PointAtInfinity),
            [0x04, rest @ ..] if rest.len() == 64 => {
                let p = Self {
                    x: coord(&rest[..32])?,
                    y: coord(&rest[32..])?,
                    infinity: 0,
                };
                if bool::from(p.is_on_curve()) {
                    Ok(p)
                } else {
                    Err(SmError::PointNotOnCurve)
                }
            }
            [tag @ (0x02 | 0x03), rest @ ..] if rest.len() == 32 => {
                let x = coord(rest)?;
                let y = curve_rhs(&x).sqrt().ok_or(SmError::PointNotOnCurve)?;
                let flip = y.is_odd() ^ Choice::from(tag & 1);
                let y = FieldElement::conditional_select(&y, &y.neg(), flip);
                Ok(Self { x, y, infinity: 0 })
            }
            _ => Err(SmError::InvalidPoint),
        }
    }

    /// SEC1 uncompressed encoding `04 || x || y` (65 zero bytes for the point at infinity,
    /// which has no fixed-length encoding).
    pub(crate) fn to_uncompressed(self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.x_bytes());
        out[33..].copy_from_slice(&self.y_bytes());
        let keep = !self.is_identity();
        for b in out.iter_mut() {
            *b = u8::conditional_select(&0, b, keep);
        }
        out
    }

    /// SEC1 compressed encoding `02/03 || x` (33 zero bytes for the point at infinity).
    pub(crate) fn to_compressed(self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x02 | self.y.is_odd().unwrap_u8();
        out[1..].copy_from_slice(&self.x_bytes());
        let keep = !self.is_identity();
        for b in out.iter_mut() {
            *b = u8::conditional_select(&0, b, keep);
        }
        out
    }

    /// The x-coordinate, big-endian.
    pub(crate) fn x_bytes(&self) -> [u8; 32] {
        self.x.to_bytes()
    }

    /// The y-coordinate, big-endian.
    pub(crate) fn y_bytes(&self) -> [u8; 32] {
        self.y.to_bytes()
    }

    /// Whether this is the point at infinity.
    pub(crate) fn is_identity(&self) -> Choice {
        Choice::from(self.infinity)
    }

    /// Whether (x, y) satisfies the curve equation (or the point is the identity).
    fn is_on_curve(&self) -> Choice {
        self.y.square().ct_eq(&curve_rhs(&self.x)) | self.is_identity()
    }
}

/// x³ - 3x + b.
fn curve_rhs(x: &FieldElement) -> FieldElement {
    let x3 = x.square().mul(x);
    let three_x = x.double().add(x);
    x3.sub(&three_x).add(&FieldElement::B)
}

impl ConstantTimeEq for AffinePoint {
    fn ct_eq(&self, other: &Self) -> Choice {
        let (a, b) = (self.is_identity(), other.is_identity());
        let same = self.x.ct_eq(&other.x) & self.y.ct_eq(&other.y);
        (a & b) | (!a & !b & same)
    }
}

impl PartialEq for AffinePoint {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl ConditionallySelectable for AffinePoint {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: FieldElement::conditional_select(&a.x, &b.x, choice),
            y: FieldElement::conditional_select(&a.y, &b.y, choice),
            infinity: u8::conditional_select(&a.infinity, &b.infinity, choice),
        }
    }
}

impl From<AffinePoint> for ProjectivePoint {
    fn from(p: AffinePoint) -> Self {
        let q = Self {
            x: p.x,
            y: p.y,
            z: FieldElement::ONE,
        };
        Self::conditional_select(&q, &Self::IDENTITY, p.is_identity())
    }
}

impl ConditionallySelectable for ProjectivePoint {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: FieldElement::conditional_select(&a.x, &b.x, choice),
            y: FieldElement::conditional_select(&a.y, &b.y, choice),
            z: FieldElement::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl ProjectivePoint {
    /// The point at infinity.
    pub(crate) const IDENTITY: Self = Self {
        x: FieldElement::ONE,
        y: FieldElement::ONE,
        z: FieldElement::ZERO,
    };

    /// Whether this is the point at infinity.
    pub(crate) fn is_identity(&self) -> Choice {
        self.z.is_zero()
    }

    /// The affine form (one field inversion, constant time).
    pub(crate) fn to_affine(self) -> AffinePoint {
        let zinv = invert_on(Sm2Path::detect(), &self.z);
        let zinv2 = zinv.square();
        let p = AffinePoint {
            x: self.x.mul(&zinv2),
            y: self.y.mul(&zinv2.mul(&zinv)),
            infinity: 0,
        };
        AffinePoint::conditional_select(&p, &AffinePoint::IDENTITY, self.is_identity())
    }

    /// -self.
    pub(crate) fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }

    /// self + rhs for any two points (complete, constant time).
    pub(crate) fn add(&self, rhs: &Self) -> Self {
        self.add_complete::<Portable>(rhs)
    }

    /// 2·self (constant time).
    pub(crate) fn double(&self) -> Self {
        self.double_with::<Portable>()
    }

    /// Doubling for a = -3 (4M + 4S): A = 3(X - Z²)(X + Z²), B = 2Y, C = B², D = C·X,
    /// X3 = A² - 2D, Y3 = A(D - X3) - C²/2, Z3 = B·Z. Fewer additions than dbl-2001-b;
    /// maps infinity (Z = 0) to Z = 0.
    #[inline(always)]
    fn double_with<M: FieldOps>(&self) -> Self {
        let zz = M::square(&self.z);
        let t = M::mul(&M::sub(&self.x, &zz), &M::add(&self.x, &zz));
        let a = M::add(&M::double(&t), &t);
        let b = M::double(&self.y);
        let z3 = M::mul(&b, &self.z);
        let c = M::square(&b);
        let d = M::mul(&c, &self.x);
        let x3 = M::sub(&M::square(&a), &M::double(&d));
        let y3 = M::sub(&M::mul(&M::sub(&d, &x3), &a), &M::half(&M::square(&c)));
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Addition, add-1998-cmo-2 (12M + 4S). Also returns H = U2 - U1 and R = S2 - S1:
    /// the result is wrong when either input is infinity or when H = 0 (equal or opposite
    /// points; the output then has Z = 0, right only for opposite points).
    #[inline]
    fn add_parts<M: FieldOps>(&self, rhs: &Self) -> (Self, FieldElement, FieldElement) {
        let z2z2 = M::square(&rhs.z);
        let z2z2z2 = M::mul(&z2z2, &rhs.z);
        self.add_parts_cached::<M>(rhs, &z2z2, &z2z2z2)
    }

    /// [`ProjectivePoint::add_parts`] with rhs's Z² and Z³ given.
    #[inline(always)]
    fn add_parts_cached<M: FieldOps>(
        &self,
        rhs: &Self,
        z2z2: &FieldElement,
        z2z2z2: &FieldElement,
    ) -> (Self, FieldElement, FieldElement) {
        let z1z1 = M::square(&self.z);
        let u1 = M::mul(&self.x, z2z2);
        let u2 = M::mul(&rhs.x, &z1z1);
        let s1 = M::mul(&self.y, z2z2z2);
        let s2 = M::mul(&M::mul(&rhs.y, &self.z), &z1z1);
        let h = M::sub(&u2, &u1);
        let r = M::sub(&s2, &s1);
        let hh = M::square(&h);
        let hhh = M::mul(&h, &hh);
        let v = M::mul(&u1, &hh);
        let x3 = M::sub(&M::sub(&M::square(&r), &hhh), &M::double(&v));
        let y3 = M::sub(&M::mul(&r, &M::sub(&v, &x3)), &M::mul(&s1, &hhh));
        let z3 = M::mul(&M::mul(&self.z, &rhs.z), &h);
        (
            Self {
                x: x3,
                y: y3,
                z: z3,
            },
            h,
            r,
        )
    }

    /// Mixed addition with an affine (x2, y2), madd-2004-hmv (8M + 3S). Wrong when self is
    /// infinity or self = ±(x2, y2); the callers rule those out or select around them.
    #[inline(always)]
    fn add_affine_parts<M: FieldOps>(
        &self,
        x2: &FieldElement,
        y2: &FieldElement,
    ) -> (Self, FieldElement) {
        let z1z1 = M::square(&self.z);
        let h = M::sub(&M::mul(x2, &z1z1), &self.x);
        let r = M::sub(&M::mul(&M::mul(y2, &self.z), &z1z1), &self.y);
        let z3 = M::mul(&self.z, &h);
        let hh = M::square(&h);
        let hhh = M::mul(&hh, &h);
        let v = M::mul(&hh, &self.x);
        let x3 = M::sub(&M::sub(&M::square(&r), &M::double(&v)), &hhh);
        let y3 = M::sub(&M::mul(&M::sub(&v, &x3), &r), &M::mul(&hhh, &self.y));
        (
            Self {
                x: x3,
                y: y3,
                z: z3,
            },
            r,
        )
    }

    /// Complete addition in constant time: the incomplete formula, with doubling and the
    /// infinity inputs chosen by masks.
    #[inline]
    fn add_complete<M: FieldOps>(&self, rhs: &Self) -> Self {
        let (sum, h, r) = self.add_parts::<M>(rhs);
        let dbl = self.double_with::<M>();
        let same = h.is_zero() & r.is_zero();
        let mut out = Self::conditional_select(&sum, &dbl, same);
        out = Self::conditional_select(&out, rhs, self.is_identity());
        Self::conditional_select(&out, self, rhs.is_identity())
    }

    /// self + rhs with branches, for public points only.
    #[inline]
    fn add_vartime<M: FieldOps>(&self, rhs: &Self) -> Self {
        if self.z.is_zero_vartime() {
            return *rhs;
        }
        if rhs.z.is_zero_vartime() {
            return *self;
        }
        let (sum, h, r) = self.add_parts::<M>(rhs);
        if h.is_zero_vartime() {
            return if r.is_zero_vartime() {
                self.double_with::<M>()
            } else {
                Self::IDENTITY
            };
        }
        sum
    }

    /// self + rhs with branches, rhs given with its Z² and Z³ (public points only).
    #[inline]
    fn add_cached_vartime<M: FieldOps>(&self, rhs: &CachedPoint) -> Self {
        if self.z.is_zero_vartime() {
            return rhs.p;
        }
        if rhs.p.z.is_zero_vartime() {
            return *self;
        }
        let (sum, h, r) = self.add_parts_cached::<M>(&rhs.p, &rhs.zz, &rhs.zzz);
        if h.is_zero_vartime() {
            return if r.is_zero_vartime() {
                self.double_with::<M>()
            } else {
                Self::IDENTITY
            };
        }
        sum
    }

    /// self + (x2, y2) with branches, for public points only.
    #[inline]
    fn add_affine_vartime<M: FieldOps>(&self, x2: &FieldElement, y2: &FieldElement) -> Self {
        if self.z.is_zero_vartime() {
            return Self {
                x: *x2,
                y: *y2,
                z: FieldElement::ONE,
            };
        }
        let (sum, r) = self.add_affine_parts::<M>(x2, y2);
        if sum.z.is_zero_vartime() {
            // Z3 = Z1·H = 0: same x; equal points double, opposite ones cancel.
            return if r.is_zero_vartime() {
                self.double_with::<M>()
            } else {
                Self::IDENTITY
            };
        }
        sum
    }
}

// === constant-time helpers for the scalar-multiplication loops ===

/// All ones if a == b, else 0 (both below 2^63). The mask goes through an optimisation
/// barrier: once LLVM knows a value is 0 or all ones it may turn `x & mask` into a branch.
#[inline(always)]
fn eq_mask(a: u64, b: u64) -> u64 {
    barrier(0u64.wrapping_sub((a ^ b).wrapping_sub(1) >> 63))
}

/// Hides a secret mask from the optimiser (see [`eq_mask`]).
#[inline(always)]
fn barrier(mask: u64) -> u64 {
    core::hint::black_box(mask)
}

/// `bits` (<= 32) bits of k starting at bit `start`, which may be -1 (that bit reads as 0).
/// Branches and indexes only on the public position.
#[inline(always)]
fn scalar_bits(k: &Scalar, start: isize, bits: usize) -> u64 {
    let mask = (1u64 << bits) - 1;
    if start < 0 {
        return (k.0[0] << 1) & mask;
    }
    let (limb, off) = (start as usize / 64, start as usize % 64);
    if limb >= 4 {
        return 0;
    }
    let mut v = k.0[limb] >> off;
    if off + bits > 64 && limb < 3 {
        v |= k.0[limb + 1] << (64 - off);
    }
    v & mask
}

/// Booth recoding of a (w+1)-bit window (the low bit is the previous window's top bit)
/// into (|digit|, negative?-mask), digit in [-2^(w-1), 2^(w-1)]. Branch-free.
#[inline(always)]
fn booth(window: u64, w: u32) -> (u64, u64) {
    let top = (window >> w) & 1;
    let d = ((window + 1) >> 1) as i64 - (top << w) as i64;
    let neg = (d >> 63) as u64;
    let mag = ((d as u64) ^ neg).wrapping_sub(neg);
    (mag, barrier(neg))
}

/// Negates y when `neg` is all ones.
#[inline(always)]
fn cond_neg(y: &FieldElement, neg: u64) -> FieldElement {
    let n = y.neg();
    FieldElement([
        (n.0[0] & neg) | (y.0[0] & !neg),
        (n.0[1] & neg) | (y.0[1] & !neg),
        (n.0[2] & neg) | (y.0[2] & !neg),
        (n.0[3] & neg) | (y.0[3] & !neg),
    ])
}

/// Masked select between two points: `a` where mask is all ones, else `b`.
#[inline(always)]
fn select_mask(mask: u64, a: &ProjectivePoint, b: &ProjectivePoint) -> ProjectivePoint {
    let s = |x: &FieldElement, y: &FieldElement| {
        FieldElement([
            (x.0[0] & mask) | (y.0[0] & !mask),
            (x.0[1] & mask) | (y.0[1] & !mask),
            (x.0[2] & mask) | (y.0[2] & !mask),
            (x.0[3] & mask) | (y.0[3] & !mask),
        ])
    };
    ProjectivePoint {
        x: s(&a.x, &b.x),
        y: s(&a.y, &b.y),
        z: s(&a.z, &b.z),
    }
}

// === fixed-base tables ===

/// Bits per Booth window of [`mul_base`].
const BASE_W: u32 = 7;
/// Windows covering a 256-bit scalar plus the Booth carry: ceil(257 / 7).
const BASE_WINDOWS: usize = 37;
/// Affine multiples 1..=64 per window.
const BASE_ENTRIES: usize = 1 << (BASE_W - 1);

/// An affine point as x limbs then y limbs (Montgomery form).
type AffineLimbs = [u64; 8];
/// A Jacobian point as X, Y, Z limbs (Montgomery form).
type JacobianLimbs = [u64; 12];
/// Entries of the variable-base table: 1..16 ·P.
const VAR_ENTRIES: usize = 16;

/// What a code path gives the constant-time loops: a field multiplier and table scans.
/// A scan reads every entry and keeps entry `idx` (1-based; 0 yields all zeros) by masks.
pub(super) trait Backend: FieldOps {
    /// Entry `idx` of a fixed-base row.
    fn select_base(row: &[AffineLimbs; BASE_ENTRIES], idx: u64) -> AffineLimbs;
    /// Entry `idx` of a variable-base table.
    fn select_var(table: &[JacobianLimbs; VAR_ENTRIES], idx: u64) -> JacobianLimbs;
}

impl Backend for Portable {
    #[inline(always)]
    fn select_base(row: &[AffineLimbs; BASE_ENTRIES], idx: u64) -> AffineLimbs {
        scan(row, idx)
    }

    #[inline(always)]
    fn select_var(table: &[JacobianLimbs; VAR_ENTRIES], idx: u64) -> JacobianLimbs {
        scan(table, idx)
    }
}

/// Masked scan of a whole table (see [`Backend`]).
#[inline(always)]
fn scan<const L: usize, const N: usize>(table: &[[u64; L]; N], idx: u64) -> [u64; L] {
    let mut out = [0u64; L];
    for (j, entry) in table.iter().enumerate() {
        let m = eq_mask(idx, j as u64 + 1);
        for (o, v) in out.iter_mut().zip(entry) {
            *o |= v & m;
        }
    }
    out
}

/// `table[i][j]` = (j+1)·2^(7i)·G, affine.
pub(crate) type BaseTable = [[AffineLimbs; BASE_ENTRIES]; BASE_WINDOWS];

/// The fixed-base tables, computed at first use (about a millisecond in release builds).
fn base_table() -> &'static BaseTable {
    static TABLE: OnceLock<Box<BaseTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut points = Vec::with_capacity(BASE_WINDOWS * BASE_ENTRIES);
        let mut base = ProjectivePoint::from(AffinePoint::GENERATOR);
        for _ in 0..BASE_WINDOWS {
            let mut acc = base;
            for _ in 0..BASE_ENTRIES {
                points.push(acc);
                acc = acc.add_vartime::<Portable>(&base);
            }
            // acc = 65·base; the next window's base is 128·base = 2·(64·base).
            base = points[points.len() - 1].double();
        }
        let affine = batch_to_affine(&points);
        let mut table = Box::new([[[0u64; 8]; BASE_ENTRIES]; BASE_WINDOWS]);
        for (i, p) in affine.iter().enumerate() {
            let e = &mut table[i / BASE_ENTRIES][i % BASE_ENTRIES];
            e[..4].copy_from_slice(&p.x.0);
            e[4..].copy_from_slice(&p.y.0);
        }
        table
    })
}

/// Width of the wNAF of the G scalar in [`mul_double_vartime`]: odd multiples 1, 3, ..,
/// 511 of G, affine (16 KiB, computed at first use).
const G_WNAF_W: u32 = 10;

/// `table[j]` = (2j+1)·G.
type GOddTable = [AffinePoint; 1 << (G_WNAF_W - 2)];

fn g_odd_table() -> &'static GOddTable {
    static TABLE: OnceLock<Box<GOddTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let g = ProjectivePoint::from(AffinePoint::GENERATOR);
        let g2 = g.double();
        let mut pts = vec![g];
        for i in 1..(1 << (G_WNAF_W - 2)) {
            let next = pts[i - 1].add_vartime::<Portable>(&g2);
            pts.push(next);
        }
        let affine = batch_to_affine(&pts);
        let mut t = Box::new([AffinePoint::IDENTITY; 1 << (G_WNAF_W - 2)]);
        t.copy_from_slice(&affine);
        t
    })
}

/// Affine forms of many non-identity points with one inversion (Montgomery's trick).
/// Variable time: for public points only.
fn batch_to_affine(points: &[ProjectivePoint]) -> Vec<AffinePoint> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut acc = FieldElement::ONE;
    for p in points {
        prefix.push(acc);
        acc = acc.mul(&p.z);
    }
    let mut inv = acc.invert();
    let mut out = vec![AffinePoint::IDENTITY; points.len()];
    for (i, p) in points.iter().enumerate().rev() {
        let zinv = inv.mul(&prefix[i]);
        inv = inv.mul(&p.z);
        let zinv2 = zinv.square();
        out[i] = AffinePoint {
            x: p.x.mul(&zinv2),
            y: p.y.mul(&zinv2.mul(&zinv)),
            infinity: 0,
        };
    }
    out
}

// === scalar multiplication: dispatch ===

/// k·G in constant time.
pub(crate) fn mul_base(k: &Scalar) -> ProjectivePoint {
    mul_base_on(Sm2Path::detect(), k)
}

/// k·P in constant time (in k; P is treated as public).
pub(crate) fn mul(p: &AffinePoint, k: &Scalar) -> ProjectivePoint {
    mul_on(Sm2Path::detect(), p, k)
}

/// a·G + b·P in variable time: for public scalars (signature verification) only.
pub(crate) fn mul_double_vartime(a: &Scalar, b: &Scalar, p: &AffinePoint) -> ProjectivePoint {
    mul_double_vartime_on(Sm2Path::detect(), a, b, p)
}

/// [`mul_base`] on a given path (the portable one if the CPU cannot run it).
pub(crate) fn mul_base_on(path: Sm2Path, k: &Scalar) -> ProjectivePoint {
    let table = base_table();
    #[cfg(target_arch = "x86_64")]
    if path == Sm2Path::MulxAdx {
        if let Some(r) = x86_mulx::mul_base(k, table) {
            return r;
        }
    }
    let _ = path;
    mul_base_ct::<Portable>(k, table)
}

/// [`mul`] on a given path (the portable one if the CPU cannot run it).
pub(crate) fn mul_on(path: Sm2Path, p: &AffinePoint, k: &Scalar) -> ProjectivePoint {
    #[cfg(target_arch = "x86_64")]
    if path == Sm2Path::MulxAdx {
        if let Some(r) = x86_mulx::mul(p, k) {
            return r;
        }
    }
    let _ = path;
    mul_ct::<Portable>(p, k)
}

/// [`mul_double_vartime`] on a given path (the portable one if the CPU cannot run it).
pub(crate) fn mul_double_vartime_on(
    path: Sm2Path,
    a: &Scalar,
    b: &Scalar,
    p: &AffinePoint,
) -> ProjectivePoint {
    let g = g_odd_table();
    #[cfg(target_arch = "x86_64")]
    if path == Sm2Path::MulxAdx {
        if let Some(r) = x86_mulx::mul_double_vartime(a, b, p, g) {
            return r;
        }
    }
    let _ = path;
    mul_double_vartime_impl::<Portable>(a, b, p, g)
}

/// z^-1 (0 for 0) on a given path, constant time.
pub(crate) fn invert_on(path: Sm2Path, z: &FieldElement) -> FieldElement {
    #[cfg(target_arch = "x86_64")]
    if path == Sm2Path::MulxAdx {
        if let Some(r) = x86_mulx::invert(z) {
            return r;
        }
    }
    let _ = path;
    z.invert()
}

// === scalar multiplication: the loops, inlined into each path ===

/// Fixed-base k·G, constant time.
///
/// Booth digits d_i of k (|d_i| <= 64) select ±|d_i|·2^(7i)·G from table i by a full masked
/// scan; the accumulator sums them with mixed additions. Before window i it holds
/// A = sum_{j<i} d_j·2^(7j), |A| <= 2^(7i-1), and the new term is ±|d_i|·2^(7i) with
/// |d_i| >= 1, so A = ±d_i·2^(7i) mod n would need |A| + |d_i|·2^(7i) >= n: impossible
/// below the last window, and in the last one (d_36 <= 16) it would force k >= n or k = 0.
/// The remaining cases (accumulator at infinity, digit 0) are chosen by masks.
#[inline(always)]
fn mul_base_ct<M: Backend>(k: &Scalar, table: &BaseTable) -> ProjectivePoint {
    let lookup = |i: usize| {
        let window = scalar_bits(k, (BASE_W as isize) * (i as isize) - 1, BASE_W as usize + 1);
        let (mag, neg) = booth(window, BASE_W);
        let e = M::select_base(&table[i], mag);
        let x = FieldElement([e[0], e[1], e[2], e[3]]);
        let y = cond_neg(&FieldElement([e[4], e[5], e[6], e[7]]), neg);
        (x, y, eq_mask(mag, 0))
    };
    // Window 0 starts the accumulator (garbage while acc_inf is set).
    let (x, y, mut acc_inf) = lookup(0);
    let mut acc = ProjectivePoint {
        x,
        y,
        z: FieldElement::ONE,
    };
    for i in 1..BASE_WINDOWS {
        let (x, y, zero) = lookup(i);
        let (sum, _) = acc.add_affine_parts::<M>(&x, &y);
        let fresh = ProjectivePoint {
            x,
            y,
            z: FieldElement::ONE,
        };
        let next = select_mask(acc_inf, &fresh, &sum);
        acc = select_mask(zero, &acc, &next);
        acc_inf &= zero;
    }
    select_mask(acc_inf, &ProjectivePoint::IDENTITY, &acc)
}

/// Bits per signed window of [`mul`].
const VAR_W: u32 = 5;
/// Windows covering 256 bits plus the Booth carry: ceil(257 / 5).
const VAR_WINDOWS: usize = 52;

/// Variable-base k·P, constant time in k.
///
/// Table of 1..16 ·P (Jacobian); Booth digits from the top; five doublings and one masked
/// table scan per window. Before adding digit d_i the accumulator is 32·A·P with
/// 0 <= 32·A <= k/2^(5i) + 32; for i >= 1 that is far below n - 16, so 32·A = ±d_i mod n
/// means A = 0, the infinity case chosen by mask. Only the last window can wrap (e.g.
/// k = n - 6 gives -3P + (-3P)), so it uses the complete addition.
#[inline(always)]
fn mul_ct<M: Backend>(p: &AffinePoint, k: &Scalar) -> ProjectivePoint {
    let p_proj = ProjectivePoint::from(*p);
    // For P = infinity every table entry has Z = 0 and the result is infinity.
    let mut table = [p_proj; VAR_ENTRIES];
    table[1] = p_proj.double_with::<M>();
    for j in 2..VAR_ENTRIES {
        table[j] = if j % 2 == 1 {
            table[j / 2].double_with::<M>()
        } else {
            table[j - 1].add_parts::<M>(&p_proj).0
        };
    }
    let mut limbs = [[0u64; 12]; VAR_ENTRIES];
    for (l, t) in limbs.iter_mut().zip(&table) {
        l[..4].copy_from_slice(&t.x.0);
        l[4..8].copy_from_slice(&t.y.0);
        l[8..].copy_from_slice(&t.z.0);
    }
    let lookup = |mag: u64, neg: u64| {
        let e = M::select_var(&limbs, mag);
        ProjectivePoint {
            x: FieldElement([e[0], e[1], e[2], e[3]]),
            y: cond_neg(&FieldElement([e[4], e[5], e[6], e[7]]), neg),
            z: FieldElement([e[8], e[9], e[10], e[11]]),
        }
    };
    let top = VAR_WINDOWS - 1;
    let window = scalar_bits(k, (VAR_W as isize) * (top as isize) - 1, VAR_W as usize + 1);
    let (mag, neg) = booth(window, VAR_W);
    let mut acc = lookup(mag, neg);
    let mut acc_inf = eq_mask(mag, 0);
    for i in (1..top).rev() {
        for _ in 0..VAR_W {
            acc = acc.double_with::<M>();
        }
        let window = scalar_bits(k, (VAR_W as isize) * (i as isize) - 1, VAR_W as usize + 1);
        let (mag, neg) = booth(window, VAR_W);
        let sel = lookup(mag, neg);
        let (sum, _, _) = acc.add_parts::<M>(&sel);
        let zero = eq_mask(mag, 0);
        let next = select_mask(acc_inf, &sel, &sum);
        acc = select_mask(zero, &acc, &next);
        acc_inf &= zero;
    }
    for _ in 0..VAR_W {
        acc = acc.double_with::<M>();
    }
    let (mag, neg) = booth(scalar_bits(k, -1, VAR_W as usize + 1), VAR_W);
    let sel = lookup(mag, neg);
    // A zero digit selects Z = 0, which the complete addition treats as infinity.
    let acc = select_mask(acc_inf, &ProjectivePoint::IDENTITY, &acc);
    acc.add_complete::<M>(&sel)
}

/// A Jacobian point with its Z² and Z³, for repeated additions of the same point.
#[derive(Clone, Copy)]
struct CachedPoint {
    p: ProjectivePoint,
    zz: FieldElement,
    zzz: FieldElement,
}

/// Width-w NAF of k: digits odd or zero, |digit| < 2^(w-1), at most one nonzero in any w
/// consecutive positions. Variable time.
fn wnaf(k: &Scalar, w: u32) -> [i32; 257] {
    let mut naf = [0i32; 257];
    let mut carry = 0u64;
    let mut bit = 0usize;
    while bit < 256 {
        if k.bit(bit) == carry {
            bit += 1;
            continue;
        }
        let now = (w as usize).min(256 - bit);
        let mut word = scalar_bits(k, bit as isize, now) as i64 + carry as i64;
        carry = ((word >> (w - 1)) & 1) as u64;
        word -= (carry as i64) << w;
        naf[bit] = word as i32;
        bit += now;
    }
    naf[256] = carry as i32;
    naf
}

/// Interleaved wNAF a·G + b·P (G: width 8 from the static odd table; P: width 5).
#[inline(always)]
fn mul_double_vartime_impl<M: FieldOps>(
    a: &Scalar,
    b: &Scalar,
    p: &AffinePoint,
    g_table: &GOddTable,
) -> ProjectivePoint {
    let naf_a = wnaf(a, G_WNAF_W);
    let naf_b = wnaf(b, VAR_W);
    let p_proj = ProjectivePoint::from(*p);
    // Odd multiples P, 3P, .., 15P: no two are equal or opposite as P has prime order n
    // (for P = infinity they all have Z = 0).
    let p2 = p_proj.double_with::<M>();
    let mut p_odd = [CachedPoint {
        p: p_proj,
        zz: FieldElement::ONE,
        zzz: FieldElement::ONE,
    }; 8];
    for j in 1..8 {
        let q = p_odd[j - 1].p.add_parts::<M>(&p2).0;
        let zz = M::square(&q.z);
        p_odd[j] = CachedPoint {
            p: q,
            zz,
            zzz: M::mul(&zz, &q.z),
        };
    }
    let mut acc = ProjectivePoint::IDENTITY;
    let top = (0..257)
        .rev()
        .find(|&i| naf_a[i] != 0 || naf_b[i] != 0)
        .unwrap_or(0);
    for i in (0..=top).rev() {
        if !acc.z.is_zero_vartime() {
            acc = acc.double_with::<M>();
        }
        let da = naf_a[i];
        if da != 0 {
            let e = &g_table[(da.unsigned_abs() >> 1) as usize];
            let y = if da < 0 { e.y.neg() } else { e.y };
            acc = acc.add_affine_vartime::<M>(&e.x, &y);
        }
        let db = naf_b[i];
        if db != 0 {
            let mut q = p_odd[(db.unsigned_abs() >> 1) as usize];
            if db < 0 {
                q.p = q.p.neg();
            }
            acc = acc.add_cached_vartime::<M>(&q);
        }
    }
    acc
}
