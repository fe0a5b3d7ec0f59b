//! The SM4 block cipher (GB/T 32907-2016): key schedule, single blocks, many blocks at once
//! and a CTR keystream, each on the fastest code path this CPU runs.
//!
//! Paths ([`Sm4Path`]) are detected once per process and can be forced with
//! `MESHTLS_SM_FORCE=sm4=<name>` or [`Sm4::with_path`]. The portable path (`soft`) is a
//! bitsliced, table-free circuit; the x86 paths compute the S-box with GFNI or AES
//! instructions on 16 or 8 blocks per register, and run up to 64 blocks side by side. No path
//! indexes a table by secret data. Modes (ECB, CBC, CTR, GCM, CCM) live in
//! [`crate::modes`]; this module is the raw cipher.
//!
//! Files: `soft` (portable path and the key schedule), `x86_affine` (field isomorphism and
//! affine constants, derived at compile time), `x86_kernel` (many-block drivers shared by the
//! x86 paths), `x86_aesni` (AES-NI/VAES + AVX2), `x86_asm` (their hand-scheduled round
//! loops), `x86_gfni` (GFNI + AVX-512).

mod soft;
#[cfg(target_arch = "x86_64")]
mod x86_aesni;
#[cfg(target_arch = "x86_64")]
mod x86_affine;
#[cfg(target_arch = "x86_64")]
mod x86_asm;
#[cfg(target_arch = "x86_64")]
mod x86_gfni;
#[cfg(target_arch = "x86_64")]
mod x86_kernel;

use zeroize::Zeroize;

use crate::dispatch::code_paths;
use crate::SmError;

code_paths! {
    /// An SM4 implementation, fastest first.
    pub enum Sm4Path for "sm4" {
        /// GFNI affine/inverse instructions on 512-bit registers, 16 blocks per register.
        GfniAvx512 = "gfni-avx512" if ["gfni", "avx512f", "avx512bw", "avx512vl"],
        /// VAES on 256-bit registers: the S-box through AESENCLAST, 8 blocks per register.
        VaesAvx2 = "vaes-avx2" if ["vaes", "aes", "avx2"],
        /// AES-NI on each 128-bit half of AVX2 registers, 8 blocks per register.
        AesniAvx2 = "aesni-avx2" if ["aes", "avx2"],
        /// Portable constant-time bitsliced circuit, no SIMD.
        Soft = "soft" if [],
    }
}

/// The kernel a key runs on; x86 variants hold a token proving the CPU features.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    Soft,
    #[cfg(target_arch = "x86_64")]
    AesniAvx2(x86_aesni::AesniAvx2),
    #[cfg(target_arch = "x86_64")]
    VaesAvx2(x86_aesni::VaesAvx2),
    #[cfg(target_arch = "x86_64")]
    GfniAvx512(x86_gfni::GfniAvx512),
}

impl Kernel {
    /// The kernel for `path`, if this CPU runs it.
    fn for_path(path: Sm4Path) -> Option<Kernel> {
        match path {
            Sm4Path::Soft => Some(Kernel::Soft),
            #[cfg(target_arch = "x86_64")]
            Sm4Path::AesniAvx2 => x86_aesni::AesniAvx2::new().map(Kernel::AesniAvx2),
            #[cfg(target_arch = "x86_64")]
            Sm4Path::VaesAvx2 => x86_aesni::VaesAvx2::new().map(Kernel::VaesAvx2),
            #[cfg(target_arch = "x86_64")]
            Sm4Path::GfniAvx512 => x86_gfni::GfniAvx512::new().map(Kernel::GfniAvx512),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }

    /// The round keys in the form this kernel takes, from rk[0..32] in use order.
    fn schedule(self, rk: &[u32; 32]) -> [u32; 32] {
        match self {
            Kernel::Soft => *rk,
            #[cfg(target_arch = "x86_64")]
            Kernel::AesniAvx2(k) => k.schedule(rk),
            #[cfg(target_arch = "x86_64")]
            Kernel::VaesAvx2(k) => k.schedule(rk),
            #[cfg(target_arch = "x86_64")]
            Kernel::GfniAvx512(k) => k.schedule(rk),
        }
    }

    fn crypt_block(self, keys: &[u32; 32], block: &mut [u8; 16]) {
        match self {
            Kernel::Soft => soft::crypt_block(keys, block),
            #[cfg(target_arch = "x86_64")]
            Kernel::AesniAvx2(k) => k.crypt_block(keys, block),
            #[cfg(target_arch = "x86_64")]
            Kernel::VaesAvx2(k) => k.crypt_block(keys, block),
            #[cfg(target_arch = "x86_64")]
            Kernel::GfniAvx512(k) => k.crypt_block(keys, block),
        }
    }

    fn crypt_blocks(self, keys: &[u32; 32], blocks: &mut [[u8; 16]]) {
        match self {
            Kernel::Soft => soft::crypt_blocks(keys, blocks),
            #[cfg(target_arch = "x86_64")]
            Kernel::AesniAvx2(k) => k.crypt_blocks(keys, blocks),
            #[cfg(target_arch = "x86_64")]
            Kernel::VaesAvx2(k) => k.crypt_blocks(keys, blocks),
            #[cfg(target_arch = "x86_64")]
            Kernel::GfniAvx512(k) => k.crypt_blocks(keys, blocks),
        }
    }

    fn ctr_xor(self, keys: &[u32; 32], counter: &mut [u8; 16], width: CtrWidth, data: &mut [u8]) {
        match self {
            Kernel::Soft => soft_ctr(keys, counter, width, data),
            #[cfg(target_arch = "x86_64")]
            Kernel::AesniAvx2(k) => k.ctr_xor(keys, counter, width, data),
            #[cfg(target_arch = "x86_64")]
            Kernel::VaesAvx2(k) => k.ctr_xor(keys, counter, width, data),
            #[cfg(target_arch = "x86_64")]
            Kernel::GfniAvx512(k) => k.ctr_xor(keys, counter, width, data),
        }
    }
}

/// How [`Sm4::ctr_xor`] increments its counter block after each block of keystream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtrWidth {
    /// The low 32 bits, big-endian, modulo 2^32 (GCM's inc32).
    Be32,
    /// The whole block as a 128-bit big-endian integer, modulo 2^128 (CTR mode, OpenSSL).
    Be128,
}

/// An SM4 key, expanded for one code path. Round keys are wiped on drop.
#[derive(Clone)]
pub struct Sm4 {
    /// Encryption round keys, in the kernel's form.
    enc: [u32; 32],
    /// Decryption round keys (the encryption keys reversed), in the kernel's form.
    dec: [u32; 32],
    path: Sm4Path,
    kernel: Kernel,
}

impl core::fmt::Debug for Sm4 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sm4")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for Sm4 {
    fn drop(&mut self) {
        self.enc.zeroize();
        self.dec.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Sm4 {}

impl Sm4 {
    /// Expands `key` for the detected path ([`Sm4Path::detect`]).
    pub fn new(key: &[u8; 16]) -> Sm4 {
        let path = Sm4Path::detect();
        match Kernel::for_path(path) {
            Some(kernel) => Sm4::expand(key, path, kernel),
            None => Sm4::expand(key, Sm4Path::Soft, Kernel::Soft),
        }
    }

    /// Expands `key` for `path`; fails with [`SmError::PathUnavailable`] if this CPU lacks it.
    pub fn with_path(key: &[u8; 16], path: Sm4Path) -> Result<Sm4, SmError> {
        let kernel =
            Kernel::for_path(path.require()?).ok_or(SmError::PathUnavailable(path.name()))?;
        Ok(Sm4::expand(key, path, kernel))
    }

    fn expand(key: &[u8; 16], path: Sm4Path, kernel: Kernel) -> Sm4 {
        let mut rk = soft::expand_key(key);
        let enc = kernel.schedule(&rk);
        rk.reverse();
        let dec = kernel.schedule(&rk);
        rk.zeroize();
        Sm4 {
            enc,
            dec,
            path,
            kernel,
        }
    }

    /// The code path this key runs on.
    pub fn path(&self) -> Sm4Path {
        self.path
    }

    /// Encrypts one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        self.kernel.crypt_block(&self.enc, block);
    }

    /// Decrypts one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; 16]) {
        self.kernel.crypt_block(&self.dec, block);
    }

    /// Encrypts independent blocks in place (ECB; SIMD paths do many at once).
    pub fn encrypt_blocks(&self, blocks: &mut [[u8; 16]]) {
        self.kernel.crypt_blocks(&self.enc, blocks);
    }

    /// Decrypts independent blocks in place (ECB, and CBC decryption before its XOR).
    pub fn decrypt_blocks(&self, blocks: &mut [[u8; 16]]) {
        self.kernel.crypt_blocks(&self.dec, blocks);
    }

    /// XORs the keystream E(counter), E(counter + 1), ... into `data` (any length), and
    /// leaves `counter` past the last block used (a partial last block counts as used).
    pub fn ctr_xor(&self, counter: &mut [u8; 16], width: CtrWidth, data: &mut [u8]) {
        self.kernel.ctr_xor(&self.enc, counter, width, data);
    }
}

/// Adds `blocks` to the counter block per `width`.
#[inline(always)]
fn advance(counter: &mut [u8; 16], width: CtrWidth, blocks: usize) {
    match width {
        CtrWidth::Be128 => {
            let n = u128::from_be_bytes(*counter).wrapping_add(blocks as u128);
            *counter = n.to_be_bytes();
        }
        CtrWidth::Be32 => {
            let low = u32::from_be_bytes([counter[12], counter[13], counter[14], counter[15]]);
            counter[12..].copy_from_slice(&low.wrapping_add(blocks as u32).to_be_bytes());
        }
    }
}

/// CTR on the portable path: counter blocks are encrypted in batches and XORed in.
fn soft_ctr(keys: &[u32; 32], counter: &mut [u8; 16], width: CtrWidth, data: &mut [u8]) {
    const BATCH: usize = 16;
    let mut stream = [[0u8; 16]; BATCH];
    for chunk in data.chunks_mut(16 * BATCH) {
        let blocks = chunk.len().div_ceil(16);
        for block in &mut stream[..blocks] {
            *block = *counter;
            advance(counter, width, 1);
        }
        soft::crypt_blocks(keys, &mut stream[..blocks]);
        for (byte, ks) in chunk.iter_mut().zip(stream.iter().flatten()) {
            *byte ^= ks;
        }
    }
    stream.as_flattened_mut().zeroize();
}

#[cfg(test)]
pub(crate) mod tests_support {
    //! Reference data for unit tests of the S-box implementations.

    /// The SM4 S-box table from the standard (tests/data/sm4_sbox.txt), for checks only.
    pub(crate) fn sbox_table() -> [u8; 256] {
        let text = include_str!("../../tests/data/sm4_sbox.txt");
        let mut table = [0u8; 256];
        let bytes = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace())
            .map(|h| u8::from_str_radix(h, 16).expect("hex byte"));
        let mut n = 0;
        for (slot, b) in table.iter_mut().zip(bytes) {
            *slot = b;
            n += 1;
        }
        assert_eq!(n, 256, "sm4_sbox.txt holds 256 bytes");
        table
    }
}
