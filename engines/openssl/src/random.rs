//! The engine's random source: OpenSSL's `RAND_bytes` (its default DRBG).

use meshtls_tls_core::engine::SecureRandom;
use meshtls_tls_core::CryptoError;

use crate::backend;

/// `RAND_bytes` takes an `int` length; larger buffers are filled in chunks of this size.
const CHUNK: usize = 1 << 30;

/// OpenSSL's CSPRNG.
#[derive(Debug)]
pub struct OpensslRandom;

/// The engine's random source.
pub static RANDOM: OpensslRandom = OpensslRandom;

impl SecureRandom for OpensslRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in buf.chunks_mut(CHUNK) {
            openssl::rand::rand_bytes(chunk).map_err(backend)?;
        }
        Ok(())
    }
}
