//! Plain elliptic-curve Diffie-Hellman on curveSM2, as TLS 1.3 uses it for the curveSM2 group
//! (RFC 8998 §2.2): key shares are uncompressed points and the shared secret is the
//! x-coordinate of d * P_peer. Peer points are validated when parsed into a [`PublicKey`]
//! (on the curve, not infinity), and an infinite result is refused.

use zeroize::{Zeroize, Zeroizing};

use crate::sm2::keys::{random_scalar, PrivateKey, PublicKey};
use crate::sm2::point::{mul, mul_base};
use crate::sm2::scalar::Scalar;
use crate::SmError;

/// The x-coordinate of d * P_peer (wiped on drop).
fn shared_x(d: &Scalar, peer: &PublicKey) -> Result<SharedSecret, SmError> {
    let point = mul(peer.point(), d).to_affine();
    if bool::from(point.is_identity()) {
        return Err(SmError::PointAtInfinity);
    }
    Ok(SharedSecret(Zeroizing::new(point.x_bytes())))
}

/// ECDH between a long-term key and a peer's public key: the 32-byte x-coordinate of d * P.
pub fn diffie_hellman(key: &PrivateKey, peer: &PublicKey) -> Result<SharedSecret, SmError> {
    shared_x(key.scalar(), peer)
}

/// A single-use ECDH secret for a TLS key share, wiped on drop.
pub struct EphemeralSecret {
    d: Scalar,
    public: PublicKey,
}

impl EphemeralSecret {
    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Result<Self, SmError> {
        let d = random_scalar()?;
        let public = PublicKey::from_point(mul_base(&d).to_affine());
        Ok(Self { d, public })
    }

    /// The public share dG.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key share as RFC 8998 sends it: the uncompressed point (65 bytes).
    pub fn public_key_bytes(&self) -> [u8; 65] {
        self.public.to_uncompressed()
    }

    /// The shared secret with `peer` (for a TLS key share, parse it with
    /// [`PublicKey::from_uncompressed`]); consumes the secret.
    pub fn diffie_hellman(self, peer: &PublicKey) -> Result<SharedSecret, SmError> {
        shared_x(&self.d, peer)
    }
}

impl Drop for EphemeralSecret {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

impl std::fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralSecret")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// An ECDH shared secret: the x-coordinate of the shared point, 32 bytes, wiped on drop.
pub struct SharedSecret(Zeroizing<[u8; 32]>);

impl SharedSecret {
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}
