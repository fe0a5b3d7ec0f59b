//! SM2 key pairs: a private scalar d in [1, n-2] and its validated public point P = dG.
//!
//! d stops at n-2 because signing divides by 1 + d (GB/T 32918.1-2016 §6.1); the inverse is
//! computed once here, in constant time, and kept beside d. Secret scalars are wiped on drop.
//! Public keys read and write SEC1 points, uncompressed (04 || x || y) and compressed
//! (02/03 || x); DER and PEM live in the encoding module.

use std::fmt;
use std::sync::OnceLock;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::sm2::point::{mul_base, AffinePoint};
use crate::sm2::scalar::Scalar;
use crate::sm2::z::z_value;
use crate::sm2::DEFAULT_ID;
use crate::SmError;

/// Length of a private key and of each point coordinate, in bytes.
pub const KEY_LEN: usize = 32;

/// An SM2 private key: the scalar d, its public key, and (1 + d)^-1 mod n for signing.
#[derive(Clone)]
pub struct PrivateKey {
    d: Scalar,
    one_plus_d_inv: Scalar,
    public: PublicKey,
}

impl PrivateKey {
    /// A fresh key from the operating system's random source (rejection sampling, so d is
    /// uniform in [1, n-2]).
    pub fn generate() -> Result<Self, SmError> {
        loop {
            let d = random_scalar()?;
            match Self::from_scalar(d) {
                Ok(key) => return Ok(key),
                // d = n - 1: draw again.
                Err(SmError::InvalidScalar) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The key whose scalar is the 32 big-endian bytes `bytes`.
    ///
    /// [`SmError::InvalidKeyLength`] unless exactly 32 bytes; [`SmError::InvalidScalar`] if the
    /// value is 0 or at least n - 1.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SmError> {
        let array: &[u8; KEY_LEN] = bytes.try_into().map_err(|_| SmError::InvalidKeyLength)?;
        Self::from_scalar(Scalar::from_bytes(array).ok_or(SmError::InvalidScalar)?)
    }

    /// The key with scalar `d`; [`SmError::InvalidScalar`] unless d is in [1, n-2].
    fn from_scalar(d: Scalar) -> Result<Self, SmError> {
        let one_plus_d = d.add(&Scalar::ONE);
        if bool::from(d.is_zero() | one_plus_d.is_zero()) {
            return Err(SmError::InvalidScalar);
        }
        let one_plus_d_inv = one_plus_d.invert();
        let public = PublicKey::from_point(mul_base(&d).to_affine());
        Ok(Self {
            d,
            one_plus_d_inv,
            public,
        })
    }

    /// The scalar d as 32 big-endian bytes, wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.d.to_bytes())
    }

    /// The matching public key dG.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The secret scalar d.
    pub(crate) fn scalar(&self) -> &Scalar {
        &self.d
    }

    /// (1 + d)^-1 mod n.
    pub(crate) fn one_plus_d_inv(&self) -> &Scalar {
        &self.one_plus_d_inv
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        self.d.zeroize();
        self.one_plus_d_inv.zeroize();
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A uniformly random scalar in [1, n-1] from the operating system's random source, by
/// rejection sampling.
pub(crate) fn random_scalar() -> Result<Scalar, SmError> {
    loop {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::getrandom(bytes.as_mut()).map_err(|_| SmError::Random)?;
        if let Some(k) = Scalar::from_bytes(&bytes) {
            if !bool::from(k.is_zero()) {
                return Ok(k);
            }
        }
    }
}

/// An SM2 public key: a point on curveSM2 that is not the point at infinity.
#[derive(Clone)]
pub struct PublicKey {
    point: AffinePoint,
    /// Z for [`DEFAULT_ID`], computed on first use.
    default_z: OnceLock<[u8; 32]>,
}

impl PublicKey {
    /// Parses a SEC1 point, uncompressed (65 bytes) or compressed (33 bytes), checking that it is
    /// on the curve.
    ///
    /// [`SmError::InvalidPoint`], [`SmError::PointNotOnCurve`] or [`SmError::PointAtInfinity`].
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, SmError> {
        let point = AffinePoint::from_sec1(bytes)?;
        if bool::from(point.is_identity()) {
            return Err(SmError::PointAtInfinity);
        }
        Ok(Self::from_point(point))
    }

    /// Parses only the uncompressed form 04 || x || y (65 bytes), as TLS key shares (RFC 8998)
    /// and TLCP carry it; errors as [`from_sec1_bytes`](Self::from_sec1_bytes).
    pub fn from_uncompressed(bytes: &[u8]) -> Result<Self, SmError> {
        match bytes.first() {
            Some(0x04) if bytes.len() == 65 => Self::from_sec1_bytes(bytes),
            _ => Err(SmError::InvalidPoint),
        }
    }

    /// The uncompressed SEC1 encoding 04 || x || y.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        self.point.to_uncompressed()
    }

    /// The compressed SEC1 encoding (02 or 03, by the parity of y) || x.
    pub fn to_compressed(&self) -> [u8; 33] {
        self.point.to_compressed()
    }

    /// Wraps a point the caller has already validated (computed from a key, or parsed).
    pub(crate) fn from_point(point: AffinePoint) -> Self {
        Self {
            point,
            default_z: OnceLock::new(),
        }
    }

    /// The point.
    pub(crate) fn point(&self) -> &AffinePoint {
        &self.point
    }

    /// Z for `id`, cached when `id` is [`DEFAULT_ID`].
    pub(crate) fn z(&self, id: &[u8]) -> Result<[u8; 32], SmError> {
        if id == DEFAULT_ID {
            if let Some(z) = self.default_z.get() {
                return Ok(*z);
            }
            let z = z_value(id, self)?;
            return Ok(*self.default_z.get_or_init(|| z));
        }
        z_value(id, self)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.to_uncompressed().ct_eq(&other.to_uncompressed()))
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        for b in self.to_compressed() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}
