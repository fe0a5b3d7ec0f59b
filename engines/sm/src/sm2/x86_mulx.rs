//! The BMI2/ADX/AVX2 code path of SM2 arithmetic: field multiplication, squaring, addition
//! and subtraction mod p in inline assembly (`mulx` with the two carry chains of
//! `adcx`/`adox`, reduction by shifts for p's sparse form), AVX2 masked table scans, and the
//! scalar-multiplication kernels built on them.
//!
//! Each kernel is a generic loop from `point.rs` instantiated with [`MulxAdx`] and compiled
//! under `#[target_feature(enable = "bmi2,adx,avx2")]`. The safe wrappers check the CPU on
//! each call (a cached flag) and return `None` when it lacks a feature; [`MulxAdx`] is used
//! nowhere else. The assembly is branch-free, has no secret-dependent memory access, and
//! reads only its operands.

#![allow(unsafe_code)]

use std::arch::asm;
use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_cmpeq_epi64, _mm256_loadu_si256,
    _mm256_or_si256, _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_storeu_si256,
};

use super::{
    mul_base_ct, mul_ct, mul_double_vartime_impl, AffineLimbs, AffinePoint, Backend, BaseTable,
    GOddTable, JacobianLimbs, ProjectivePoint, BASE_ENTRIES, VAR_ENTRIES,
};
use crate::sm2::field::{FieldElement, FieldOps};
use crate::sm2::scalar::Scalar;

/// Whether this CPU runs the kernels (cached by std after the first call).
fn available() -> bool {
    std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("adx")
        && std::arch::is_x86_feature_detected!("avx2")
}

/// Multiplier for the kernels below; only they name it, after [`available`] said yes.
struct MulxAdx;

/// Row i of a 4x4-limb product: [x0..x3] += a[off]·b with the high limb into the fresh x4.
/// `adcx` carries the low halves and `adox` the high halves; both chains end in x4.
macro_rules! row {
    ($off:literal, $x0:literal, $x1:literal, $x2:literal, $x3:literal, $x4:literal) => {
        concat!(
            "mov rdx, [{a} + ",
            $off,
            "]\n",
            "xor {lo:e}, {lo:e}\n",
            "mulx {hi}, {lo}, [{b}]\n",
            "adcx {",
            $x0,
            "}, {lo}\n",
            "adox {",
            $x1,
            "}, {hi}\n",
            "mulx {hi}, {lo}, [{b} + 8]\n",
            "adcx {",
            $x1,
            "}, {lo}\n",
            "adox {",
            $x2,
            "}, {hi}\n",
            "mulx {hi}, {lo}, [{b} + 16]\n",
            "adcx {",
            $x2,
            "}, {lo}\n",
            "adox {",
            $x3,
            "}, {hi}\n",
            "mulx {",
            $x4,
            "}, {lo}, [{b} + 24]\n",
            "adcx {",
            $x3,
            "}, {lo}\n",
            "mov {hi}, 0\n",
            "adox {",
            $x4,
            "}, {hi}\n",
            "adcx {",
            $x4,
            "}, {hi}\n",
        )
    };
}

/// One Montgomery round on the low half [m, u1, u2, u3] of the product (m = the low limb,
/// as -p^-1 ≡ 1 mod 2^64): adds m·p and drops the zeroed limb. Since p + 1 = 2^256 - 2^224 -
/// 2^96 + 2^64 that adds [m, 0, 0, m] - [m<<32, m>>32, m<<32, m>>32] to [u1, u2, u3, 0]; the
/// register of m becomes the new top limb. The sum is non-negative and below 2^256, so no
/// carry or borrow leaves the window.
macro_rules! round {
    ($m:literal, $u1:literal, $u2:literal, $u3:literal, $c32:literal) => {
        concat!(
            // hi:lo = m·2^32 ($c32 holds 2^32).
            "mov rdx, {",
            $m,
            "}\n",
            "mulx {hi}, {lo}, {",
            $c32,
            "}\n",
            "add {",
            $u1,
            "}, {",
            $m,
            "}\n",
            "adc {",
            $u2,
            "}, 0\n",
            "adc {",
            $u3,
            "}, 0\n",
            "adc {",
            $m,
            "}, 0\n",
            "sub {",
            $u1,
            "}, {lo}\n",
            "sbb {",
            $u2,
            "}, {hi}\n",
            "sbb {",
            $u3,
            "}, {lo}\n",
            "sbb {",
            $m,
            "}, {hi}\n",
        )
    };
}

/// Montgomery reduction of the 512-bit [t0..t7] into t4..t7: four rounds turn the low half
/// into U <= p in t0..t3, then U + [t4..t7] (< 2p) loses p unless that borrows. The named
/// register (a spent operand pointer) holds 2^32.
macro_rules! reduce {
    ($c32:literal) => {
        concat!(
            "mov {",
            $c32,
            "}, 0x100000000\n",
            round!("t0", "t1", "t2", "t3", $c32),
            round!("t1", "t2", "t3", "t0", $c32),
            round!("t2", "t3", "t0", "t1", $c32),
            round!("t3", "t0", "t1", "t2", $c32),
            "add {t0}, {t4}\n",
            "adc {t1}, {t5}\n",
            "adc {t2}, {t6}\n",
            "adc {t3}, {t7}\n",
            "mov {lo}, 0\n",
            "adc {lo}, 0\n",
            "mov {t4}, {t0}\n",
            "mov {t5}, {t1}\n",
            "mov {t6}, {t2}\n",
            "mov {t7}, {t3}\n",
            "mov {hi}, 0xffffffff00000000\n",
            "mov rdx, 0xfffffffeffffffff\n",
            "sub {t4}, -1\n",
            "sbb {t5}, {hi}\n",
            "sbb {t6}, -1\n",
            "sbb {t7}, rdx\n",
            "sbb {lo}, 0\n",
            "cmovc {t4}, {t0}\n",
            "cmovc {t5}, {t1}\n",
            "cmovc {t6}, {t2}\n",
            "cmovc {t7}, {t3}\n",
        )
    };
}

/// a·b·2^-256 mod p: the full product, then [`reduce!`].
#[inline(always)]
fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` and `b` and touches only registers and flags;
    // mulx/adcx/adox need BMI2/ADX, which every caller (the kernels below) has checked.
    unsafe {
        asm!(
            "mov rdx, [{a}]",
            "mulx {t1}, {t0}, [{b}]",
            "mulx {t2}, {lo}, [{b} + 8]",
            "add {t1}, {lo}",
            "mulx {t3}, {lo}, [{b} + 16]",
            "adc {t2}, {lo}",
            "mulx {t4}, {lo}, [{b} + 24]",
            "adc {t3}, {lo}",
            "adc {t4}, 0",
            row!(8, "t1", "t2", "t3", "t4", "t5"),
            row!(16, "t2", "t3", "t4", "t5", "t6"),
            row!(24, "t3", "t4", "t5", "t6", "t7"),
            reduce!("b"),
            a = in(reg) a.as_ptr(),
            b = inout(reg) b.as_ptr() => _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            t2 = out(reg) _,
            t3 = out(reg) _,
            t4 = out(reg) r0,
            t5 = out(reg) r1,
            t6 = out(reg) r2,
            t7 = out(reg) r3,
            lo = out(reg) _,
            hi = out(reg) _,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    [r0, r1, r2, r3]
}

/// a²·2^-256 mod p: cross products once, doubled on the `adcx` chain while the squares join
/// on the `adox` chain, then [`reduce!`].
#[inline(always)]
fn mont_square(a: &[u64; 4]) -> [u64; 4] {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` and touches only registers and flags; mulx/adcx/adox
    // need BMI2/ADX, which every caller (the kernels below) has checked.
    unsafe {
        asm!(
            // a0·(a1, a2, a3)
            "mov rdx, [{a}]",
            "mulx {t2}, {t1}, [{a} + 8]",
            "mulx {t3}, {lo}, [{a} + 16]",
            "add {t2}, {lo}",
            "mulx {t4}, {lo}, [{a} + 24]",
            "adc {t3}, {lo}",
            "adc {t4}, 0",
            // a1·(a2, a3)
            "mov rdx, [{a} + 8]",
            "xor {t5:e}, {t5:e}",
            "mulx {hi}, {lo}, [{a} + 16]",
            "adcx {t3}, {lo}",
            "adox {t4}, {hi}",
            "mulx {hi}, {lo}, [{a} + 24]",
            "adcx {t4}, {lo}",
            "adox {t5}, {hi}",
            "mov {t6}, 0",
            "adcx {t5}, {t6}",
            // a2·a3
            "mov rdx, [{a} + 16]",
            "mulx {t6}, {lo}, [{a} + 24]",
            "add {t5}, {lo}",
            "adc {t6}, 0",
            // 2·cross + squares
            "mov rdx, [{a}]",
            "mulx {hi}, {t0}, rdx",
            "xor {t7:e}, {t7:e}",
            "adcx {t1}, {t1}",
            "adox {t1}, {hi}",
            "mov rdx, [{a} + 8]",
            "mulx {hi}, {lo}, rdx",
            "adcx {t2}, {t2}",
            "adox {t2}, {lo}",
            "adcx {t3}, {t3}",
            "adox {t3}, {hi}",
            "mov rdx, [{a} + 16]",
            "mulx {hi}, {lo}, rdx",
            "adcx {t4}, {t4}",
            "adox {t4}, {lo}",
            "adcx {t5}, {t5}",
            "adox {t5}, {hi}",
            "mov rdx, [{a} + 24]",
            "mulx {hi}, {lo}, rdx",
            "adcx {t6}, {t6}",
            "adox {t6}, {lo}",
            "adcx {t7}, {t7}",
            "adox {t7}, {hi}",
            reduce!("a"),
            a = inout(reg) a.as_ptr() => _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            t2 = out(reg) _,
            t3 = out(reg) _,
            t4 = out(reg) r0,
            t5 = out(reg) r1,
            t6 = out(reg) r2,
            t7 = out(reg) r3,
            lo = out(reg) _,
            hi = out(reg) _,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    [r0, r1, r2, r3]
}

/// a + b mod p.
#[inline(always)]
fn add_mod(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` and `b`; plain integer instructions on registers.
    unsafe {
        asm!(
            "mov {r0}, [{a}]",
            "mov {r1}, [{a} + 8]",
            "mov {r2}, [{a} + 16]",
            "mov {r3}, [{a} + 24]",
            "add {r0}, [{b}]",
            "adc {r1}, [{b} + 8]",
            "adc {r2}, [{b} + 16]",
            "adc {r3}, [{b} + 24]",
            "mov {c}, 0",
            "adc {c}, 0",
            "mov {s0}, {r0}",
            "mov {s1}, {r1}",
            "mov {s2}, {r2}",
            "mov {s3}, {r3}",
            "mov {k1}, 0xffffffff00000000",
            "mov {k3}, 0xfffffffeffffffff",
            "sub {s0}, -1",
            "sbb {s1}, {k1}",
            "sbb {s2}, -1",
            "sbb {s3}, {k3}",
            "sbb {c}, 0",
            "cmovc {s0}, {r0}",
            "cmovc {s1}, {r1}",
            "cmovc {s2}, {r2}",
            "cmovc {s3}, {r3}",
            a = in(reg) a.as_ptr(),
            b = in(reg) b.as_ptr(),
            r0 = out(reg) _,
            r1 = out(reg) _,
            r2 = out(reg) _,
            r3 = out(reg) _,
            s0 = out(reg) r0,
            s1 = out(reg) r1,
            s2 = out(reg) r2,
            s3 = out(reg) r3,
            c = out(reg) _,
            k1 = out(reg) _,
            k3 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    [r0, r1, r2, r3]
}

/// a - b mod p.
#[inline(always)]
fn sub_mod(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let (r0, r1, r2, r3): (u64, u64, u64, u64);
    // SAFETY: reads the 32 bytes of `a` and `b`; plain integer instructions on registers.
    unsafe {
        asm!(
            "mov {r0}, [{a}]",
            "mov {r1}, [{a} + 8]",
            "mov {r2}, [{a} + 16]",
            "mov {r3}, [{a} + 24]",
            "sub {r0}, [{b}]",
            "sbb {r1}, [{b} + 8]",
            "sbb {r2}, [{b} + 16]",
            "sbb {r3}, [{b} + 24]",
            // m = all ones on borrow: then add p back.
            "sbb {m}, {m}",
            "mov {k1}, 0xffffffff00000000",
            "and {k1}, {m}",
            "mov {k3}, 0xfffffffeffffffff",
            "and {k3}, {m}",
            "add {r0}, {m}",
            "adc {r1}, {k1}",
            "adc {r2}, {m}",
            "adc {r3}, {k3}",
            a = in(reg) a.as_ptr(),
            b = in(reg) b.as_ptr(),
            r0 = out(reg) r0,
            r1 = out(reg) r1,
            r2 = out(reg) r2,
            r3 = out(reg) r3,
            m = out(reg) _,
            k1 = out(reg) _,
            k3 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    [r0, r1, r2, r3]
}

impl FieldOps for MulxAdx {
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
        FieldElement(add_mod(&a.0, &b.0))
    }

    #[inline(always)]
    fn sub(a: &FieldElement, b: &FieldElement) -> FieldElement {
        FieldElement(sub_mod(&a.0, &b.0))
    }
}

impl Backend for MulxAdx {
    #[inline(always)]
    fn select_base(row: &[AffineLimbs; BASE_ENTRIES], idx: u64) -> AffineLimbs {
        // SAFETY: MulxAdx runs only inside the kernels, after `available()` confirmed AVX2.
        unsafe { scan_avx2(row, idx) }
    }

    #[inline(always)]
    fn select_var(table: &[JacobianLimbs; VAR_ENTRIES], idx: u64) -> JacobianLimbs {
        // SAFETY: MulxAdx runs only inside the kernels, after `available()` confirmed AVX2.
        unsafe { scan_avx2(table, idx) }
    }
}

/// Masked scan of a whole table with 256-bit vectors: entry `idx` (1-based, 0 gives zeros).
/// `L` is a multiple of 4, at most 12.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn scan_avx2<const L: usize, const N: usize>(table: &[[u64; L]; N], idx: u64) -> [u64; L] {
    let want = _mm256_set1_epi64x(idx as i64);
    let one = _mm256_set1_epi64x(1);
    let mut cur = one;
    let mut acc = [_mm256_setzero_si256(); 3];
    for entry in table {
        let m = _mm256_cmpeq_epi64(cur, want);
        for (v, a) in acc.iter_mut().enumerate().take(L / 4) {
            // SAFETY: v < L/4, so the 32 bytes at 4·v limbs lie inside `entry`.
            let e = unsafe { _mm256_loadu_si256(entry.as_ptr().add(4 * v).cast::<__m256i>()) };
            *a = _mm256_or_si256(*a, _mm256_and_si256(e, m));
        }
        cur = _mm256_add_epi64(cur, one);
    }
    let mut out = [0u64; L];
    for (v, a) in acc.iter().enumerate().take(L / 4) {
        // SAFETY: as above, the 32 bytes at 4·v limbs lie inside `out`.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(4 * v).cast::<__m256i>(), *a) };
    }
    out
}

/// Constant-time k·G.
pub(super) fn mul_base(k: &Scalar, table: &BaseTable) -> Option<ProjectivePoint> {
    if !available() {
        return None;
    }
    // SAFETY: `available()` just confirmed BMI2, ADX and AVX2, the kernel's requirements.
    Some(unsafe { mul_base_kernel(k, table) })
}

/// Constant-time k·P.
pub(super) fn mul(p: &AffinePoint, k: &Scalar) -> Option<ProjectivePoint> {
    if !available() {
        return None;
    }
    // SAFETY: `available()` just confirmed BMI2, ADX and AVX2, the kernel's requirements.
    Some(unsafe { mul_kernel(p, k) })
}

/// Variable-time a·G + b·P.
pub(super) fn mul_double_vartime(
    a: &Scalar,
    b: &Scalar,
    p: &AffinePoint,
    g: &GOddTable,
) -> Option<ProjectivePoint> {
    if !available() {
        return None;
    }
    // SAFETY: `available()` just confirmed BMI2, ADX and AVX2, the kernel's requirements.
    Some(unsafe { mul_double_vartime_kernel(a, b, p, g) })
}

/// Constant-time field inversion.
pub(super) fn invert(z: &FieldElement) -> Option<FieldElement> {
    if !available() {
        return None;
    }
    // SAFETY: `available()` just confirmed BMI2, ADX and AVX2, the kernel's requirements.
    Some(unsafe { invert_kernel(z) })
}

#[target_feature(enable = "bmi2,adx,avx2")]
unsafe fn mul_base_kernel(k: &Scalar, table: &BaseTable) -> ProjectivePoint {
    mul_base_ct::<MulxAdx>(k, table)
}

#[target_feature(enable = "bmi2,adx,avx2")]
unsafe fn mul_kernel(p: &AffinePoint, k: &Scalar) -> ProjectivePoint {
    mul_ct::<MulxAdx>(p, k)
}

#[target_feature(enable = "bmi2,adx,avx2")]
unsafe fn mul_double_vartime_kernel(
    a: &Scalar,
    b: &Scalar,
    p: &AffinePoint,
    g: &GOddTable,
) -> ProjectivePoint {
    mul_double_vartime_impl::<MulxAdx>(a, b, p, g)
}

#[target_feature(enable = "bmi2,adx,avx2")]
unsafe fn invert_kernel(z: &FieldElement) -> FieldElement {
    z.invert()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sm2::field::Portable;
    use rand::{RngCore, SeedableRng};

    /// Canonical field elements: edges (0, 1, p-1, p-2, values with all-ones limbs) and
    /// random ones.
    fn elements() -> Vec<FieldElement> {
        let p_minus = |d: u64| FieldElement::ZERO.sub(&FieldElement([d, 0, 0, 0]));
        let mut v = vec![
            FieldElement::ZERO,
            FieldElement([1, 0, 0, 0]),
            p_minus(1),
            p_minus(2),
            FieldElement([u64::MAX, u64::MAX, u64::MAX, 0]),
            FieldElement([0, 0, 0, 1 << 63]),
            FieldElement([u64::MAX, 0, u64::MAX, 0]),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..3000 {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            b[0] &= 0xfe;
            v.push(FieldElement(crate::sm2::field::limbs_from_be(&b)));
        }
        v
    }

    #[test]
    fn assembly_matches_portable() {
        if !available() {
            println!("skipped: CPU lacks BMI2/ADX/AVX2");
            return;
        }
        let xs = elements();
        for (i, a) in xs.iter().enumerate() {
            let b = &xs[(i * 13 + 7) % xs.len()];
            for (x, y) in [(a, b), (a, a), (b, a)] {
                assert_eq!(MulxAdx::mul(x, y).0, Portable::mul(x, y).0);
                assert_eq!(MulxAdx::add(x, y).0, Portable::add(x, y).0);
                assert_eq!(MulxAdx::sub(x, y).0, Portable::sub(x, y).0);
            }
            assert_eq!(MulxAdx::square(a).0, Portable::square(a).0);
        }
    }

    #[test]
    fn table_scans_match_portable() {
        if !available() {
            println!("skipped: CPU lacks BMI2/ADX/AVX2");
            return;
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let mut base = [[0u64; 8]; BASE_ENTRIES];
        let mut var = [[0u64; 12]; VAR_ENTRIES];
        base.iter_mut().flatten().for_each(|x| *x = rng.next_u64());
        var.iter_mut().flatten().for_each(|x| *x = rng.next_u64());
        for idx in 0..=BASE_ENTRIES as u64 {
            assert_eq!(
                MulxAdx::select_base(&base, idx),
                Portable::select_base(&base, idx)
            );
        }
        for idx in 0..=VAR_ENTRIES as u64 {
            assert_eq!(
                MulxAdx::select_var(&var, idx),
                Portable::select_var(&var, idx)
            );
        }
    }
}
