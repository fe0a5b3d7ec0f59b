//! The engine's random source: the operating system's CSPRNG through `getrandom`.

use meshtls_tls_core::engine::SecureRandom;
use meshtls_tls_core::CryptoError;

pub(crate) static RANDOM: Random = Random;

/// Fills buffers from the OS generator (`getrandom(2)` on Linux).
#[derive(Debug)]
pub(crate) struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::getrandom(buf).map_err(|e| CryptoError::Backend(std::sync::Arc::new(e)))
    }
}
