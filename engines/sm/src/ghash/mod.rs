//! GHASH (NIST SP 800-38D section 6.4), the universal hash inside GCM, on the fastest code
//! path this CPU has: VPCLMULQDQ on zmm (AVX-512) or ymm (AVX2) registers, PCLMULQDQ on xmm,
//! or a portable constant-time fallback.
//!
//! Every path works in the POLYVAL domain of RFC 8452 (appendix A): a GHASH block read as a
//! big-endian integer is a POLYVAL element, and GHASH with key `H` equals POLYVAL with key
//! `mulX_POLYVAL(H)`. There a product needs no bit-reflection shift and reduces with two
//! multiplications by one constant, which suits carry-less multiply instructions.
//!
//! The kernels aggregate: one reduction per group of blocks, using precomputed powers of the
//! key (32 of them, with their Karatsuba halves). Non-goals: GMAC or GCM framing
//! (see [`crate::modes::gcm`]). The key and the data are secret: no path branches on them
//! or indexes a table by them.

use zeroize::Zeroize;

use crate::dispatch::code_paths;
use crate::SmError;

mod soft;
#[cfg(target_arch = "x86_64")]
mod x86_pclmul;
#[cfg(target_arch = "x86_64")]
mod x86_vpclmul;
#[cfg(target_arch = "x86_64")]
mod x86_vpclmul512;

/// GHASH block size in bytes.
pub const BLOCK_LEN: usize = 16;

/// How many key powers are precomputed: the widest kernels fold this many blocks per
/// reduction, which keeps the serial chain (reduce, then multiply by `H^POWERS`) short
/// against the independent work of a group.
const POWERS: usize = 32;

code_paths! {
    /// The GHASH code paths, fastest first.
    pub enum GhashPath for "ghash" {
        /// VPCLMULQDQ on 512-bit registers (AVX-512), 32 blocks per reduction.
        VpclmulAvx512 = "vpclmul-avx512" if ["vpclmulqdq", "avx512f", "avx512bw", "avx512vl", "avx2", "pclmulqdq", "sse4.1"],
        /// VPCLMULQDQ on 256-bit registers (AVX2), 32 blocks per reduction.
        VpclmulAvx2 = "vpclmul-avx2" if ["vpclmulqdq", "avx2", "pclmulqdq", "sse4.1"],
        /// PCLMULQDQ on 128-bit registers, 8 blocks per reduction.
        Pclmul = "pclmul" if ["pclmulqdq", "sse4.1"],
        /// Portable constant-time Rust: carry-less products from masked integer multiplies.
        Soft = "soft" if [],
    }
}

/// The key in the POLYVAL domain, with its powers laid out for the kernels.
///
/// `pow[i]` is `H^(POWERS - i)` (descending, so a run of `n` blocks multiplies by the `n`
/// last entries in order) and `kar[i]` holds the XOR of the two 64-bit halves of `pow[i]` in
/// both halves (the middle operand of a Karatsuba product).
#[derive(Clone)]
struct Key {
    pow: [u128; POWERS],
    kar: [u128; POWERS],
}

impl Zeroize for Key {
    fn zeroize(&mut self) {
        self.pow.zeroize();
        self.kar.zeroize();
    }
}

impl Key {
    /// Derives the POLYVAL key and its powers from the GHASH key `h` (= E(K, 0^128) in GCM),
    /// multiplying on `backend`; built in place on the heap so no copy is left on the stack.
    fn boxed(h: &[u8; 16], backend: Backend) -> Box<Key> {
        let mut key = Box::new(Key {
            pow: [0; POWERS],
            kar: [0; POWERS],
        });
        let mut h1 = soft::mul_x(u128::from_be_bytes(*h));
        let mut p = h1;
        for slot in key.pow.iter_mut().rev() {
            *slot = p;
            p = backend.mul(p, h1);
        }
        p.zeroize();
        h1.zeroize();
        let Key { pow, kar } = &mut *key;
        for (k, p) in kar.iter_mut().zip(pow.iter()) {
            let x = (*p as u64) ^ ((*p >> 64) as u64);
            *k = (u128::from(x) << 64) | u128::from(x);
        }
        key
    }
}

/// A code path this CPU was checked to run, with the proof token the kernel asks for.
#[derive(Clone, Copy)]
enum Backend {
    #[cfg(target_arch = "x86_64")]
    VpclmulAvx512(x86_vpclmul512::Token),
    #[cfg(target_arch = "x86_64")]
    VpclmulAvx2(x86_vpclmul::Token),
    #[cfg(target_arch = "x86_64")]
    Pclmul(x86_pclmul::Token),
    Soft,
}

impl Backend {
    /// The backend for `path`, or `PathUnavailable` if this CPU cannot run it.
    fn new(path: GhashPath) -> Result<Backend, SmError> {
        let unavailable = SmError::PathUnavailable(path.name());
        match path {
            #[cfg(target_arch = "x86_64")]
            GhashPath::VpclmulAvx512 => x86_vpclmul512::Token::detect()
                .map(Backend::VpclmulAvx512)
                .ok_or(unavailable),
            #[cfg(target_arch = "x86_64")]
            GhashPath::VpclmulAvx2 => x86_vpclmul::Token::detect()
                .map(Backend::VpclmulAvx2)
                .ok_or(unavailable),
            #[cfg(target_arch = "x86_64")]
            GhashPath::Pclmul => x86_pclmul::Token::detect()
                .map(Backend::Pclmul)
                .ok_or(unavailable),
            GhashPath::Soft => Ok(Backend::Soft),
            #[cfg(not(target_arch = "x86_64"))]
            _ => Err(unavailable),
        }
    }

    /// One POLYVAL product `a * b * x^-128`.
    fn mul(self, a: u128, b: u128) -> u128 {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::VpclmulAvx512(_) | Backend::VpclmulAvx2(_) | Backend::Pclmul(_) => {
                match x86_pclmul::Token::detect() {
                    Some(t) => x86_pclmul::mul(t, a, b),
                    None => soft::mul(a, b),
                }
            }
            Backend::Soft => soft::mul(a, b),
        }
    }

    /// Absorbs whole 16-byte blocks of `data` into the accumulator `y`.
    fn update(self, key: &Key, y: &mut u128, data: &[u8]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::VpclmulAvx512(t) => x86_vpclmul512::update(t, key, y, data),
            #[cfg(target_arch = "x86_64")]
            Backend::VpclmulAvx2(t) => x86_vpclmul::update(t, key, y, data),
            #[cfg(target_arch = "x86_64")]
            Backend::Pclmul(t) => x86_pclmul::update(t, key, y, data),
            Backend::Soft => soft::update(key, y, data),
        }
    }
}

/// A GHASH key on a chosen code path: the powers of `H`, computed once and shared by every
/// message under that key (GCM keeps one and runs an accumulator per message).
#[derive(Clone)]
pub(crate) struct GhashKey {
    /// Boxed: 1 KiB of powers would otherwise bloat every GCM key held by value.
    key: Box<Key>,
    path: GhashPath,
    backend: Backend,
}

impl GhashKey {
    /// The key for GHASH key `h` on `path`, or [`SmError::PathUnavailable`].
    pub(crate) fn new(h: &[u8; 16], path: GhashPath) -> Result<GhashKey, SmError> {
        let backend = Backend::new(path)?;
        Ok(GhashKey {
            key: Key::boxed(h, backend),
            path,
            backend,
        })
    }

    /// The key for `h` on the path chosen by [`GhashPath::detect`].
    pub(crate) fn detected(h: &[u8; 16]) -> GhashKey {
        // `detect` returns only paths this CPU runs; soft is the fallback that always runs.
        GhashKey::new(h, GhashPath::detect()).unwrap_or_else(|_| {
            let backend = Backend::Soft;
            GhashKey {
                key: Key::boxed(h, backend),
                path: GhashPath::Soft,
                backend,
            }
        })
    }

    /// The code path of this key.
    pub(crate) fn path(&self) -> GhashPath {
        self.path
    }

    /// Absorbs `data` into the accumulator `y`, zero-padding a partial last block.
    pub(crate) fn update(&self, y: &mut u128, data: &[u8]) {
        let whole = data.len() - data.len() % BLOCK_LEN;
        let (blocks, tail) = data.split_at(whole);
        if !blocks.is_empty() {
            self.backend.update(&self.key, y, blocks);
        }
        if !tail.is_empty() {
            let mut last = [0u8; BLOCK_LEN];
            last[..tail.len()].copy_from_slice(tail);
            self.backend.update(&self.key, y, &last);
            last.zeroize();
        }
    }

    /// Absorbs the GCM length block (bit lengths of the AAD and the ciphertext as 64-bit
    /// big-endian counts, wrapping as those fields do) and returns the hash.
    pub(crate) fn finalize(&self, mut y: u128, aad_len_bytes: u64, ct_len_bytes: u64) -> [u8; 16] {
        let mut block = [0u8; BLOCK_LEN];
        block[..8].copy_from_slice(&aad_len_bytes.wrapping_mul(8).to_be_bytes());
        block[8..].copy_from_slice(&ct_len_bytes.wrapping_mul(8).to_be_bytes());
        self.backend.update(&self.key, &mut y, &block);
        let out = y.to_be_bytes();
        y.zeroize();
        out
    }
}

impl Drop for GhashKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// A GHASH computation: absorb data with [`Ghash::update`], then
/// [`Ghash::finalize_lengths`].
#[derive(Clone)]
pub struct Ghash {
    key: GhashKey,
    y: u128,
}

impl Ghash {
    /// A GHASH with key `h` on the path chosen by [`GhashPath::detect`].
    pub fn new(h: &[u8; 16]) -> Ghash {
        Ghash {
            key: GhashKey::detected(h),
            y: 0,
        }
    }

    /// A GHASH with key `h` on `path`, or [`SmError::PathUnavailable`] if this CPU lacks it.
    pub fn with_path(h: &[u8; 16], path: GhashPath) -> Result<Ghash, SmError> {
        Ok(Ghash {
            key: GhashKey::new(h, path)?,
            y: 0,
        })
    }

    /// The code path this instance runs.
    pub fn path(&self) -> GhashPath {
        self.key.path()
    }

    /// Absorbs `data`; a partial last block of each call is zero-padded (as GCM pads the
    /// AAD and the ciphertext separately).
    pub fn update(&mut self, data: &[u8]) {
        self.key.update(&mut self.y, data);
    }

    /// Absorbs the GCM length block (bit lengths of the AAD and the ciphertext, each a
    /// 64-bit big-endian count, wrapping as the 64-bit fields do) and returns the hash.
    pub fn finalize_lengths(self, aad_len_bytes: u64, ct_len_bytes: u64) -> [u8; 16] {
        self.key.finalize(self.y, aad_len_bytes, ct_len_bytes)
    }
}

impl Drop for Ghash {
    fn drop(&mut self) {
        self.y.zeroize();
    }
}

impl core::fmt::Debug for Ghash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ghash")
            .field("path", &self.key.path())
            .finish_non_exhaustive()
    }
}
