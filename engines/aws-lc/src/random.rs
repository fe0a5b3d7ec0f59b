//! The engine's random source: AWS-LC's CTR-DRBG, seeded from the OS.

use aws_lc_rs::rand;
use meshtls_tls_core::engine::SecureRandom;
use meshtls_tls_core::CryptoError;

pub(crate) static RANDOM: Random = Random;

/// Fills buffers from AWS-LC's DRBG (`RAND_bytes`).
#[derive(Debug)]
pub(crate) struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        rand::fill(buf).map_err(crate::backend)
    }
}
