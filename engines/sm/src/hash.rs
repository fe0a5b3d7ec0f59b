//! SM3 and HMAC-SM3 for tls-core (HKDF-SM3 and the TLCP PRF are built over the HMAC).

use meshtls_tls_core::cpu::CpuFeatures;
use meshtls_tls_core::engine::{Algorithm, Digest, Hash, HashContext, HmacKey};
use meshtls_tls_core::AlgorithmId;

use crate::hmac::HmacSm3;
use crate::sm3::{Sm3, Sm3Path, DIGEST_LEN};

pub(crate) static SM3: HashAlg = HashAlg;

/// SM3 (GB/T 32905-2016).
#[derive(Debug)]
pub(crate) struct HashAlg;

impl Algorithm for HashAlg {
    fn id(&self) -> AlgorithmId {
        AlgorithmId::Sm3
    }

    fn cpu_features(&self) -> CpuFeatures {
        crate::paths::features(Sm3Path::detect().cpu_features())
    }

    fn code_path(&self) -> Option<String> {
        Some(format!("sm3={}", Sm3Path::detect().name()))
    }
}

impl Hash for HashAlg {
    fn start(&self) -> Box<dyn HashContext> {
        Box::new(Context(Sm3::new()))
    }

    fn hmac_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(Key(HmacSm3::new(key)))
    }
}

/// An incremental hash; `Sm3` is a small `Clone` state, which gives `fork`.
struct Context(Sm3);

impl HashContext for Context {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn fork_finish(&self) -> Digest {
        Digest::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(Context(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> Digest {
        Digest::new(&self.0.finalize())
    }
}

/// An HMAC key: the keyed inner and outer states, cloned per message.
struct Key(HmacSm3);

impl HmacKey for Key {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Digest {
        let mut mac = self.0.clone();
        mac.update(first);
        for part in middle {
            mac.update(part);
        }
        mac.update(last);
        Digest::new(&mac.finalize())
    }

    fn tag_len(&self) -> usize {
        DIGEST_LEN
    }
}
