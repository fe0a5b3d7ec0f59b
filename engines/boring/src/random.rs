//! The engine's random source: BoringSSL's `RAND_bytes`.

use meshtls_tls_core::engine::SecureRandom;
use meshtls_tls_core::CryptoError;

use crate::backend;

/// `RAND_bytes` is called through an `int`-length wrapper; larger buffers go in chunks.
const CHUNK: usize = 1 << 30;

/// BoringSSL's CSPRNG.
#[derive(Debug)]
pub struct BoringRandom;

/// The engine's random source.
pub static RANDOM: BoringRandom = BoringRandom;

impl SecureRandom for BoringRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(CHUNK) {
            btls::rand::rand_bytes(chunk).map_err(backend)?;
        }
        Ok(())
    }
}
