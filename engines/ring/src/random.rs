//! The engine's random source: *ring*'s `SystemRandom` (the OS generator).

use meshtls_tls_core::engine::SecureRandom;
use meshtls_tls_core::CryptoError;
use ring::rand::{SecureRandom as _, SystemRandom};

pub(crate) static RANDOM: Random = Random;

/// Fills buffers from the operating system's CSPRNG through *ring*.
#[derive(Debug)]
pub(crate) struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        SystemRandom::new().fill(buf).map_err(crate::backend)
    }
}
