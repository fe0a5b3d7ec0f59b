//! SM3 hash (GB/T 32905-2016, GM/T 0004-2012): a streaming hasher whose compression function
//! runs on the fastest code path this CPU has, chosen once per process.
//!
//! Paths (see [`Sm3Path`]): `soft` is the portable, fully unrolled compression; x86 kernels
//! recompile or vectorise it. All paths give identical digests; the tests check each against
//! `soft`, OpenSSL and RustCrypto.

use zeroize::Zeroize;

use crate::dispatch::code_paths;
use crate::SmError;

mod soft;
#[cfg(target_arch = "x86_64")]
mod x86_avx2;
#[cfg(target_arch = "x86_64")]
mod x86_bmi2;

/// Digest size in bytes.
pub const DIGEST_LEN: usize = 32;
/// Block size in bytes.
pub const BLOCK_LEN: usize = 64;

/// The initial value IV (GB/T 32905-2016 section 4.1).
const IV: [u32; 8] = [
    0x7380_166f,
    0x4914_b2b9,
    0x1724_42d7,
    0xda8a_0600,
    0xa96f_30bc,
    0x1631_38aa,
    0xe38d_ee4d,
    0xb0fb_0e4e,
];

code_paths! {
    /// The SM3 compression code paths, fastest first. Speeds are at 16 KiB on the AMD EPYC
    /// (Zen 3 class) development machine, against OpenSSL 3.0's SM3 in the same run.
    pub enum Sm3Path for "sm3" {
        /// Message expansion in AVX2 registers for two blocks at a time, overlapped with the
        /// scalar rounds (`rorx`) of the two blocks before. Kept because it is the fastest:
        /// 1.32x OpenSSL unloaded and 1.48x under load, about 1.07x-1.15x the `bmi2` path.
        Avx2 = "avx2" if ["avx2", "bmi2"],
        /// The portable unrolled compression compiled with BMI2, so rotates are `rorx`:
        /// 1.24x-1.3x OpenSSL, about 1.1x `soft`.
        Bmi2 = "bmi2" if ["bmi2"],
        /// Portable Rust, fully unrolled: 1.1x-1.15x OpenSSL.
        Soft = "soft" if [],
    }
}

impl Sm3Path {
    /// Compresses `blocks` (whole 64-byte blocks) into `state` on this path, which the
    /// constructor checked this CPU can run.
    fn compress(self, state: &mut [u32; 8], blocks: &[u8]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Sm3Path::Avx2 => x86_avx2::compress(state, blocks),
            #[cfg(target_arch = "x86_64")]
            Sm3Path::Bmi2 => x86_bmi2::compress(state, blocks),
            #[cfg(not(target_arch = "x86_64"))]
            Sm3Path::Avx2 | Sm3Path::Bmi2 => soft::compress(state, blocks),
            Sm3Path::Soft => soft::compress(state, blocks),
        }
    }
}

/// A streaming SM3 hasher. `Clone` copies about 120 bytes, so forking a transcript hash is cheap.
/// The chaining state and buffered input are wiped on drop (they may derive from secrets,
/// as in HMAC and HKDF).
#[derive(Clone)]
pub struct Sm3 {
    state: [u32; 8],
    buf: [u8; BLOCK_LEN],
    buf_len: usize,
    /// Bytes hashed so far (SM3 lengths are modulo 2^64 bits).
    total: u64,
    path: Sm3Path,
}

impl Default for Sm3 {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Sm3 {
    fn drop(&mut self) {
        self.state.zeroize();
        self.buf.zeroize();
    }
}

impl core::fmt::Debug for Sm3 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm3")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Sm3 {
    /// A hasher on the detected (or `MESHTLS_SM_FORCE`d) path.
    pub fn new() -> Self {
        Self::on(Sm3Path::detect())
    }

    /// A hasher on `path`, or [`SmError::PathUnavailable`] if this CPU cannot run it.
    pub fn with_path(path: Sm3Path) -> Result<Self, SmError> {
        Ok(Self::on(path.require()?))
    }

    fn on(path: Sm3Path) -> Self {
        Self {
            state: IV,
            buf: [0; BLOCK_LEN],
            buf_len: 0,
            total: 0,
            path,
        }
    }

    /// The code path this hasher runs.
    pub fn path(&self) -> Sm3Path {
        self.path
    }

    /// Absorbs `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (BLOCK_LEN - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < BLOCK_LEN {
                return;
            }
            self.path.compress(&mut self.state, &self.buf);
            self.buf_len = 0;
        }
        let whole = data.len() - data.len() % BLOCK_LEN;
        let (blocks, rest) = data.split_at(whole);
        if !blocks.is_empty() {
            self.path.compress(&mut self.state, blocks);
        }
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Pads, compresses the last block(s) and returns the digest.
    pub fn finalize(mut self) -> [u8; DIGEST_LEN] {
        let bit_len = self.total.wrapping_mul(8);
        let mut tail = [0u8; 2 * BLOCK_LEN];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        tail[self.buf_len] = 0x80;
        let end = if self.buf_len < BLOCK_LEN - 8 {
            BLOCK_LEN
        } else {
            2 * BLOCK_LEN
        };
        tail[end - 8..end].copy_from_slice(&bit_len.to_be_bytes());
        self.path.compress(&mut self.state, &tail[..end]);
        tail.zeroize();
        let mut out = [0u8; DIGEST_LEN];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_be_bytes());
        }
        out
    }
}

/// SM3 of `data` in one call.
pub fn sm3(data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h = Sm3::new();
    h.update(data);
    h.finalize()
}
