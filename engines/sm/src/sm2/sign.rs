//! SM2 signatures (GB/T 32918.2-2016 §6 and §7) and their encodings.
//!
//! A signer hashes e = SM3(Z || M), where Z binds its ID and public key, picks a nonce k (see
//! the nonce module), and outputs r = (e + x1) mod n with (x1, y1) = kG, and
//! s = (1 + d)^-1 (k + r) - r mod n, using the inverse the key precomputed. Everything touching
//! d or k is constant time; verification uses variable-time double-scalar multiplication, as
//! it handles public data only. Signatures travel as DER (SEQUENCE of two INTEGERs, GM/T 0009)
//! or raw r || s (64 bytes).

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::sm2::asn1::{read_sequence, read_uint32, write_sequence, Field};
use crate::sm2::keys::{PrivateKey, PublicKey};
use crate::sm2::nonce::NonceGenerator;
use crate::sm2::point::{mul_base, mul_double_vartime};
use crate::sm2::scalar::Scalar;
use crate::sm2::z::message_digest;
use crate::SmError;

/// The distinguishing ID used when none is agreed: certificates, TLCP, and most software
/// (GM/T 0009-2012 §10).
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// An SM2 signature (r, s) with both values in [1, n-1].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    r: Scalar,
    s: Scalar,
}

impl Signature {
    /// Length of the raw form r || s.
    pub const BYTE_LEN: usize = 64;

    /// The signature with these big-endian r and s; [`SmError::MalformedSignature`] unless
    /// both are in [1, n-1].
    pub fn from_parts(r: &[u8; 32], s: &[u8; 32]) -> Result<Self, SmError> {
        let in_range = |v: &[u8; 32]| {
            Scalar::from_bytes(v)
                .filter(|x| !bool::from(x.is_zero()))
                .ok_or(SmError::MalformedSignature)
        };
        Ok(Self {
            r: in_range(r)?,
            s: in_range(s)?,
        })
    }

    /// Parses the raw form r || s (64 bytes, big-endian).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SmError> {
        let bytes: &[u8; 64] = bytes.try_into().map_err(|_| SmError::MalformedSignature)?;
        let (r, s) = bytes.split_at(32);
        // Both halves are 32 bytes by construction.
        let r: &[u8; 32] = r.try_into().map_err(|_| SmError::MalformedSignature)?;
        let s: &[u8; 32] = s.try_into().map_err(|_| SmError::MalformedSignature)?;
        Self::from_parts(r, s)
    }

    /// Parses DER `SEQUENCE { r INTEGER, s INTEGER }`, strictly (minimal encodings, no
    /// trailing bytes); [`SmError::MalformedSignature`] on any defect or out-of-range value.
    pub fn from_der(der: &[u8]) -> Result<Self, SmError> {
        let (r, s) = read_sequence(der, "bad signature DER", |reader| {
            Ok((read_uint32(reader)?, read_uint32(reader)?))
        })
        .map_err(|_| SmError::MalformedSignature)?;
        match (r, s) {
            (Some(r), Some(s)) => Self::from_parts(&r, &s),
            _ => Err(SmError::MalformedSignature),
        }
    }

    /// The raw form r || s.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r.to_bytes());
        out[32..].copy_from_slice(&self.s.to_bytes());
        out
    }

    /// DER `SEQUENCE { r INTEGER, s INTEGER }` (at most 72 bytes).
    pub fn to_der(&self) -> Vec<u8> {
        write_sequence(&[
            Field::Uint(&self.r.to_bytes()),
            Field::Uint(&self.s.to_bytes()),
        ])
    }

    /// r, big-endian.
    pub fn r(&self) -> [u8; 32] {
        self.r.to_bytes()
    }

    /// s, big-endian.
    pub fn s(&self) -> [u8; 32] {
        self.s.to_bytes()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(")?;
        for b in self.to_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// The signature of digest `e` with nonce `k`, or `None` if k must be rejected (r = 0,
/// r + k = n, or s = 0; GB/T 32918.2-2016 §6.1 A5 and A6).
fn sign_with_k(key: &PrivateKey, e: &[u8; 32], k: &Scalar) -> Option<Signature> {
    let x1 = mul_base(k).to_affine().x_bytes();
    let r = Scalar::from_bytes_reduced(e).add(&Scalar::from_bytes_reduced(&x1));
    if bool::from(r.is_zero() | r.add(k).is_zero()) {
        return None;
    }
    let s = key.one_plus_d_inv().mul(&k.add(&r)).sub(&r);
    if bool::from(s.is_zero()) {
        return None;
    }
    Some(Signature { r, s })
}

impl PrivateKey {
    /// Signs `msg` with the [`DEFAULT_ID`].
    pub fn sign(&self, msg: &[u8]) -> Result<Signature, SmError> {
        self.sign_with_id(DEFAULT_ID, msg)
    }

    /// Signs `msg` as the holder of distinguishing ID `id` (at most 8191 bytes).
    pub fn sign_with_id(&self, id: &[u8], msg: &[u8]) -> Result<Signature, SmError> {
        let z = self.public_key().z(id)?;
        self.sign_prehashed(&message_digest(&z, msg))
    }

    /// Signs a precomputed e = SM3(Z || M). The nonce is RFC 6979 over HMAC-SM3, hedged with 32
    /// fresh random bytes ([`SmError::Random`] if the OS cannot supply them).
    pub fn sign_prehashed(&self, e: &[u8; 32]) -> Result<Signature, SmError> {
        let mut extra = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(extra.as_mut()).map_err(|_| SmError::Random)?;
        let mut nonces = NonceGenerator::new(self.scalar(), e, &extra);
        loop {
            let mut k = nonces.next_nonce();
            let sig = sign_with_k(self, e, &k);
            zeroize::Zeroize::zeroize(&mut k);
            if let Some(sig) = sig {
                return Ok(sig);
            }
        }
    }
}

/// Signs with a caller-chosen nonce `k` (32 bytes, big-endian). For known-answer tests only: a
/// reused or predictable k reveals the private key.
///
/// [`SmError::InvalidScalar`] if k is not in [1, n-1] or the standard rejects it.
#[doc(hidden)]
pub fn sign_with_nonce(
    key: &PrivateKey,
    id: &[u8],
    msg: &[u8],
    k: &[u8; 32],
) -> Result<Signature, SmError> {
    let z = key.public_key().z(id)?;
    let e = message_digest(&z, msg);
    let k = Scalar::from_bytes(k)
        .filter(|k| !bool::from(k.is_zero()))
        .ok_or(SmError::InvalidScalar)?;
    sign_with_k(key, &e, &k).ok_or(SmError::InvalidScalar)
}

impl PublicKey {
    /// Verifies `sig` over `msg` with the [`DEFAULT_ID`].
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), SmError> {
        self.verify_with_id(DEFAULT_ID, msg, sig)
    }

    /// Verifies `sig` over `msg` for the signer with distinguishing ID `id`;
    /// [`SmError::BadSignature`] if it does not verify.
    pub fn verify_with_id(&self, id: &[u8], msg: &[u8], sig: &Signature) -> Result<(), SmError> {
        let z = self.z(id)?;
        self.verify_prehashed(&message_digest(&z, msg), sig)
    }

    /// Verifies `sig` over a precomputed e = SM3(Z || M) (GB/T 32918.2-2016 §7.1).
    pub fn verify_prehashed(&self, e: &[u8; 32], sig: &Signature) -> Result<(), SmError> {
        // B5: t = r + s mod n must not be 0.
        let t = sig.r.add(&sig.s);
        if bool::from(t.is_zero()) {
            return Err(SmError::BadSignature);
        }
        // B6: (x1, y1) = sG + tP.
        let point = mul_double_vartime(&sig.s, &t, self.point()).to_affine();
        if bool::from(point.is_identity()) {
            return Err(SmError::BadSignature);
        }
        // B7: R = (e + x1) mod n must equal r.
        let expected =
            Scalar::from_bytes_reduced(e).add(&Scalar::from_bytes_reduced(&point.x_bytes()));
        if bool::from(expected.ct_eq(&sig.r)) {
            Ok(())
        } else {
            Err(SmError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use sm2_rustcrypto::dsa::signature::hazmat::RandomizedPrehashSigner;
    use sm2_rustcrypto::dsa::SigningKey;

    use super::*;

    /// A "random" source that hands out fixed bytes, to give RustCrypto our hedge value.
    struct FixedBytes([u8; 32]);

    impl rand::RngCore for FixedBytes {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.copy_from_slice(&self.0[..dest.len()]);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand::CryptoRng for FixedBytes {}

    /// Our hedged nonce is exactly RFC 6979 with §3.6 additional data, as RustCrypto's
    /// randomized SM2 signer implements it independently: same d, e and hedge give the same
    /// signature.
    #[test]
    fn hedged_nonce_is_rfc6979_with_additional_data() {
        for _ in 0..20 {
            let key = PrivateKey::generate().unwrap();
            let e: [u8; 32] = rand::random();
            let extra: [u8; 32] = rand::random();
            let mut nonces = NonceGenerator::new(key.scalar(), &e, &extra);
            let ours = sign_with_k(&key, &e, &nonces.next_nonce()).unwrap();
            let theirs = SigningKey::from_slice("1234567812345678", &key.to_bytes()[..])
                .unwrap()
                .sign_prehash_with_rng(&mut FixedBytes(extra), &e)
                .unwrap();
            assert_eq!(ours.to_bytes()[..], theirs.to_bytes()[..]);
        }
    }
}
