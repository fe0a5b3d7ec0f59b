//! SM2 public-key encryption (GB/T 32918.4-2016 §6 and §7) with ciphertexts in C1 || C3 || C2
//! order, as DER (GM/T 0009: SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING (32),
//! C2 OCTET STRING }, what OpenSSL writes) or raw (04 || x || y || C3 || C2).
//!
//! C1 = kG, (x2, y2) = kP, t = KDF(x2 || y2, |M|), C2 = M xor t, C3 = SM3(x2 || M || y2). An
//! all-zero t makes the encryptor draw a new k; on decryption it, a mismatched C3, or any other
//! failure after parsing all give [`SmError::DecryptionFailed`], and C3 is compared in constant
//! time. Empty messages are refused (OpenSSL refuses them too).

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::sm2::asn1::{read_octets, read_sequence, read_uint32, write_sequence, Field};
use crate::sm2::kdf::kdf;
use crate::sm2::keys::{random_scalar, PrivateKey, PublicKey};
use crate::sm2::point::{mul, mul_base, AffinePoint};
use crate::sm2::scalar::Scalar;
use crate::sm3::{Sm3, DIGEST_LEN};
use crate::SmError;

/// Length of an uncompressed C1.
const C1_LEN: usize = 65;

/// An SM2 ciphertext: the point C1, the hash C3 and the masked message C2.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext {
    c1: [u8; C1_LEN],
    c3: [u8; DIGEST_LEN],
    c2: Vec<u8>,
}

impl Ciphertext {
    /// Builds a ciphertext from its parts, validating C1 (SEC1, on the curve, not infinity).
    fn new(c1: &[u8], c3: &[u8], c2: &[u8]) -> Result<Self, SmError> {
        let point = AffinePoint::from_sec1(c1)?;
        if bool::from(point.is_identity()) {
            return Err(SmError::PointAtInfinity);
        }
        let c3: [u8; DIGEST_LEN] = c3
            .try_into()
            .map_err(|_| SmError::Encoding("C3 is not 32 bytes"))?;
        if c2.is_empty() {
            return Err(SmError::CiphertextTooShort);
        }
        Ok(Self {
            c1: point.to_uncompressed(),
            c3,
            c2: c2.to_vec(),
        })
    }

    /// Parses the DER form. [`SmError::Encoding`] for bad DER or a C3 that is not 32 bytes, a
    /// point error for a bad C1, [`SmError::CiphertextTooShort`] for an empty C2.
    pub fn from_der(der: &[u8]) -> Result<Self, SmError> {
        let (x, y, c3, c2) = read_sequence(der, "bad SM2 ciphertext DER", |reader| {
            Ok((
                read_uint32(reader)?,
                read_uint32(reader)?,
                read_octets(reader)?,
                read_octets(reader)?,
            ))
        })?;
        let (Some(x), Some(y)) = (x, y) else {
            return Err(SmError::InvalidPoint);
        };
        let mut c1 = [0u8; C1_LEN];
        c1[0] = 0x04;
        c1[1..33].copy_from_slice(&x);
        c1[33..].copy_from_slice(&y);
        Self::new(&c1, c3, c2)
    }

    /// Parses the raw form 04 || x || y || C3 || C2; [`SmError::CiphertextTooShort`] if shorter
    /// than 98 bytes.
    pub fn from_raw(raw: &[u8]) -> Result<Self, SmError> {
        if raw.len() <= C1_LEN + DIGEST_LEN {
            return Err(SmError::CiphertextTooShort);
        }
        let (c1, rest) = raw.split_at(C1_LEN);
        let (c3, c2) = rest.split_at(DIGEST_LEN);
        if c1[0] != 0x04 {
            return Err(SmError::InvalidPoint);
        }
        Self::new(c1, c3, c2)
    }

    /// The DER form.
    pub fn to_der(&self) -> Vec<u8> {
        write_sequence(&[
            Field::Uint(&self.c1[1..33]),
            Field::Uint(&self.c1[33..]),
            Field::Octets(&self.c3),
            Field::Octets(&self.c2),
        ])
    }

    /// The raw form 04 || x || y || C3 || C2.
    pub fn to_raw(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(C1_LEN + DIGEST_LEN + self.c2.len());
        out.extend_from_slice(&self.c1);
        out.extend_from_slice(&self.c3);
        out.extend_from_slice(&self.c2);
        out
    }

    /// C1 = kG, uncompressed.
    pub fn c1(&self) -> &[u8; C1_LEN] {
        &self.c1
    }

    /// C3 = SM3(x2 || M || y2).
    pub fn c3(&self) -> &[u8; DIGEST_LEN] {
        &self.c3
    }

    /// C2 = M xor KDF(x2 || y2, |M|).
    pub fn c2(&self) -> &[u8] {
        &self.c2
    }
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ciphertext")
            .field("c2_len", &self.c2.len())
            .finish_non_exhaustive()
    }
}

/// The shared point (x2, y2) as two 32-byte coordinates, or `None` at infinity.
fn shared_coordinates(
    point: &AffinePoint,
    scalar: &Scalar,
) -> Option<Zeroizing<([u8; 32], [u8; 32])>> {
    let shared = mul(point, scalar).to_affine();
    if bool::from(shared.is_identity()) {
        return None;
    }
    Some(Zeroizing::new((shared.x_bytes(), shared.y_bytes())))
}

/// C3 = SM3(x2 || M || y2).
fn c3_hash(x2: &[u8; 32], msg: &[u8], y2: &[u8; 32]) -> [u8; DIGEST_LEN] {
    let mut h = Sm3::new();
    h.update(x2);
    h.update(msg);
    h.update(y2);
    h.finalize()
}

/// XORs KDF(x2 || y2) into `data`; `false` (data untouched) if the KDF output is all zero.
fn mask(xy: &([u8; 32], [u8; 32]), data: &mut [u8]) -> Result<bool, SmError> {
    let mut t = Zeroizing::new(vec![0u8; data.len()]);
    kdf(&[&xy.0, &xy.1], &mut t)?;
    if t.iter().fold(0u8, |acc, b| acc | b) == 0 {
        return Ok(false);
    }
    data.iter_mut().zip(t.iter()).for_each(|(d, t)| *d ^= t);
    Ok(true)
}

/// Encrypts with nonce `k`; [`SmError::KdfZero`] if this k gives an all-zero KDF output.
fn encrypt_with_k(key: &PublicKey, msg: &[u8], k: &Scalar) -> Result<Ciphertext, SmError> {
    if msg.is_empty() {
        return Err(SmError::InvalidLength);
    }
    let c1 = mul_base(k).to_affine().to_uncompressed();
    // The cofactor is 1, so S = [h]P is P itself, which is never infinity.
    let xy = shared_coordinates(key.point(), k).ok_or(SmError::PointAtInfinity)?;
    let mut c2 = msg.to_vec();
    if !mask(&xy, &mut c2)? {
        return Err(SmError::KdfZero);
    }
    let c3 = c3_hash(&xy.0, msg, &xy.1);
    Ok(Ciphertext { c1, c3, c2 })
}

impl PublicKey {
    /// Encrypts `msg` (at least one byte, else [`SmError::InvalidLength`]) to this key.
    pub fn encrypt(&self, msg: &[u8]) -> Result<Ciphertext, SmError> {
        loop {
            let mut k = random_scalar()?;
            let result = encrypt_with_k(self, msg, &k);
            k.zeroize();
            match result {
                Err(SmError::KdfZero) => continue,
                other => return other,
            }
        }
    }
}

/// Encrypts with a caller-chosen nonce `k` (32 bytes, big-endian). For known-answer tests only:
/// a reused or known k reveals the message.
///
/// [`SmError::InvalidScalar`] if k is not in [1, n-1]; [`SmError::KdfZero`] if this k must be
/// rejected.
#[doc(hidden)]
pub fn encrypt_with_nonce(
    key: &PublicKey,
    msg: &[u8],
    k: &[u8; 32],
) -> Result<Ciphertext, SmError> {
    let k = Scalar::from_bytes(k)
        .filter(|k| !bool::from(k.is_zero()))
        .ok_or(SmError::InvalidScalar)?;
    encrypt_with_k(key, msg, &k)
}

impl PrivateKey {
    /// Decrypts `ct`; [`SmError::DecryptionFailed`] if it was not made for this key or was
    /// altered. The plaintext is wiped when dropped.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Zeroizing<Vec<u8>>, SmError> {
        let point = AffinePoint::from_sec1(&ct.c1)?;
        let xy = shared_coordinates(&point, self.scalar()).ok_or(SmError::DecryptionFailed)?;
        let mut msg = Zeroizing::new(ct.c2.clone());
        if !mask(&xy, &mut msg)? {
            return Err(SmError::DecryptionFailed);
        }
        let c3 = c3_hash(&xy.0, &msg, &xy.1);
        if bool::from(c3.ct_eq(&ct.c3)) {
            Ok(msg)
        } else {
            Err(SmError::DecryptionFailed)
        }
    }
}
