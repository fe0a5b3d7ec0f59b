//! Signing nonces k: RFC 6979 deterministic derivation over HMAC-SM3, hedged with fresh
//! randomness as its §3.6 "additional data" allows.
//!
//! Why hedged: an SM2 signature leaks d if k repeats or is biased, and each pure scheme has a
//! failure mode. Purely random k is only as good as the RNG, and a weak or repeating one gives
//! the key away. Purely deterministic k (plain RFC 6979) survives a bad RNG, but a fault that
//! disturbs one of two signings of the same message yields two signatures with the same k and
//! different s, which again leaks d. Mixing 32 fresh random bytes into the HMAC key material
//! keeps both properties: with a good RNG each signature gets an unpredictable k (defeating
//! fault and side-channel attacks that need repeated nonces), and with a broken RNG k still
//! depends on d and the message as in RFC 6979, so it never repeats across messages.
//!
//! The derivation is RFC 6979 §3.2 with qlen = hlen = 256: x = d, h1 = e = SM3(Z || M) reduced
//! mod n, k' = the random bytes appended after bits2octets(h1) in steps d and f, candidates
//! outside [1, n-1] rejected in step h.

use std::sync::OnceLock;

use zeroize::Zeroize;

use crate::hmac::HmacSm3;
use crate::sm2::scalar::Scalar;

/// HMAC-SM3 under `key` (an already keyed state, cloned) over the concatenation of `parts`.
fn hmac(key: &HmacSm3, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = key.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
}

/// HMAC-SM3 keyed with step c's all-zero K, keyed once per process.
fn zero_key() -> &'static HmacSm3 {
    static ZERO_KEY: OnceLock<HmacSm3> = OnceLock::new();
    ZERO_KEY.get_or_init(|| HmacSm3::new(&[0u8; 32]))
}

/// HMAC-SM3 keyed with `k`, which is then wiped.
fn keyed(mut k: [u8; 32]) -> HmacSm3 {
    let mac = HmacSm3::new(&k);
    k.zeroize();
    mac
}

/// The RFC 6979 HMAC_DRBG state: K (kept as the keyed HMAC state, which wipes itself on drop)
/// and V (wiped on drop).
pub(crate) struct NonceGenerator {
    key: HmacSm3,
    v: [u8; 32],
    /// Whether a candidate was already handed out (step h's update comes before the next one).
    used: bool,
}

impl NonceGenerator {
    /// Seeds the generator from the private key `d`, the digest `e` and the hedge `extra`.
    pub(crate) fn new(d: &Scalar, e: &[u8; 32], extra: &[u8; 32]) -> Self {
        let mut x = d.to_bytes();
        let mut h1 = Scalar::from_bytes_reduced(e).to_bytes();
        // Steps b to g; each K is used twice, so it is keyed once.
        let mut v = [1u8; 32];
        let key = keyed(hmac(zero_key(), &[&v, &[0x00], &x, &h1, extra]));
        v = hmac(&key, &[&v]);
        let key = keyed(hmac(&key, &[&v, &[0x01], &x, &h1, extra]));
        v = hmac(&key, &[&v]);
        x.zeroize();
        h1.zeroize();
        Self {
            key,
            v,
            used: false,
        }
    }

    /// The next candidate k in [1, n-1] (step h, looping past out-of-range values). Call again if
    /// the signer rejects k.
    pub(crate) fn next_nonce(&mut self) -> Scalar {
        loop {
            if self.used {
                self.key = keyed(hmac(&self.key, &[&self.v, &[0x00]]));
                self.v = hmac(&self.key, &[&self.v]);
            }
            self.used = true;
            self.v = hmac(&self.key, &[&self.v]);
            if let Some(k) = Scalar::from_bytes(&self.v) {
                if !bool::from(k.is_zero()) {
                    return k;
                }
            }
        }
    }
}

impl Drop for NonceGenerator {
    fn drop(&mut self) {
        self.v.zeroize();
    }
}
