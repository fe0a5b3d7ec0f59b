//! The SM2 key exchange protocol (GB/T 32918.3-2016 §6), with its optional key confirmation.
//!
//! Each party has a static key pair (d, P), a distinguishing ID and a fresh ephemeral pair
//! (r, R = rG). With w = ceil(ceil(log2 n) / 2) - 1 = 127 and x̄ = 2^w + (x mod 2^w), a party
//! computes t = (d + x̄_own * r) mod n and the shared point U = [h * t](P_peer + [x̄_peer] R_peer)
//! (cofactor h = 1), then K = KDF(x_U || y_U || Z_A || Z_B, klen), where A is the initiator
//! and B the responder. Confirmation values: S_B = SM3(0x02 || y_U || H) from the responder and
//! S_A = SM3(0x03 || y_U || H) from the initiator, H = SM3(x_U || Z_A || Z_B || x_RA || y_RA ||
//! x_RB || y_RB).
//!
//! TLCP's ECDHE pre-master secret is this protocol with the server as initiator, the client as
//! responder, both encryption key pairs as static keys, and klen = 48 bytes.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::sm2::kdf::kdf;
use crate::sm2::keys::{random_scalar, PrivateKey, PublicKey};
use crate::sm2::point::{mul, mul_base, ProjectivePoint};
use crate::sm2::scalar::Scalar;
use crate::sm3::{Sm3, DIGEST_LEN};
use crate::SmError;

/// Which side of the exchange a party plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// User A, who sends R_A first and checks S_B (the TLCP server).
    Initiator,
    /// User B, who answers with R_B and S_B and checks S_A (the TLCP client).
    Responder,
}

/// x̄ = 2^127 + (x mod 2^127) for a point's x-coordinate (GB/T 32918.3-2016 §6.1 A4/B3).
fn x_bar(x: &[u8; 32]) -> Scalar {
    let mut bytes = [0u8; 32];
    bytes[16..].copy_from_slice(&x[16..]);
    bytes[16] |= 0x80;
    Scalar::from_bytes_reduced(&bytes)
}

/// One party's side of an SM2 key exchange, between sending its ephemeral point and receiving
/// the peer's. Holds t = d + x̄ r (wiped on drop), not d or r.
pub struct KeyExchange {
    role: Role,
    t: Scalar,
    ephemeral: PublicKey,
    z: [u8; DIGEST_LEN],
}

impl KeyExchange {
    /// Starts an exchange as `role` with the static key `static_key` and ID `id` (at most 8191
    /// bytes), drawing a fresh ephemeral key. Send
    /// [`ephemeral_public_key`](Self::ephemeral_public_key) to the peer.
    pub fn new(role: Role, static_key: &PrivateKey, id: &[u8]) -> Result<Self, SmError> {
        let mut r = random_scalar()?;
        let result = Self::with_scalar(role, static_key, id, &r);
        r.zeroize();
        result
    }

    /// Starts an exchange with a caller-chosen ephemeral scalar `r` (32 bytes, big-endian). For
    /// known-answer tests only: a reused or known r reveals the shared key.
    ///
    /// [`SmError::InvalidScalar`] unless r is in [1, n-1].
    #[doc(hidden)]
    pub fn with_ephemeral(
        role: Role,
        static_key: &PrivateKey,
        id: &[u8],
        r: &[u8; 32],
    ) -> Result<Self, SmError> {
        let r = Scalar::from_bytes(r)
            .filter(|r| !bool::from(r.is_zero()))
            .ok_or(SmError::InvalidScalar)?;
        Self::with_scalar(role, static_key, id, &r)
    }

    /// Shared constructor: R = rG, t = (d + x̄ r) mod n.
    fn with_scalar(
        role: Role,
        static_key: &PrivateKey,
        id: &[u8],
        r: &Scalar,
    ) -> Result<Self, SmError> {
        let z = static_key.public_key().z(id)?;
        let ephemeral = PublicKey::from_point(mul_base(r).to_affine());
        let t = static_key
            .scalar()
            .add(&x_bar(&ephemeral.point().x_bytes()).mul(r));
        Ok(Self {
            role,
            t,
            ephemeral,
            z,
        })
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// R = rG, the ephemeral point to send to the peer.
    pub fn ephemeral_public_key(&self) -> &PublicKey {
        &self.ephemeral
    }

    /// Completes the exchange with the peer's static public key, ID and ephemeral point,
    /// deriving `key_len` bytes (at least 1, else [`SmError::InvalidLength`]).
    ///
    /// [`SmError::PointAtInfinity`] if the peer's points combine to infinity.
    pub fn finish(
        self,
        peer_static: &PublicKey,
        peer_id: &[u8],
        peer_ephemeral: &PublicKey,
        key_len: usize,
    ) -> Result<SharedKey, SmError> {
        if key_len == 0 {
            return Err(SmError::InvalidLength);
        }
        let peer_z = peer_static.z(peer_id)?;
        // P_peer + [x̄_peer] R_peer: public points, public scalar.
        let peer_x_bar = x_bar(&peer_ephemeral.point().x_bytes());
        let combined = mul(peer_ephemeral.point(), &peer_x_bar)
            .add(&ProjectivePoint::from(*peer_static.point()))
            .to_affine();
        if bool::from(combined.is_identity()) {
            return Err(SmError::PointAtInfinity);
        }
        let shared = mul(&combined, &self.t).to_affine();
        if bool::from(shared.is_identity()) {
            return Err(SmError::PointAtInfinity);
        }
        let xu = Zeroizing::new(shared.x_bytes());
        let yu = Zeroizing::new(shared.y_bytes());

        let (za, zb, ra, rb) = match self.role {
            Role::Initiator => (&self.z, &peer_z, &self.ephemeral, peer_ephemeral),
            Role::Responder => (&peer_z, &self.z, peer_ephemeral, &self.ephemeral),
        };
        let mut key = Zeroizing::new(vec![0u8; key_len]);
        kdf(&[xu.as_ref(), yu.as_ref(), za, zb], &mut key)?;

        let ra = ra.to_uncompressed();
        let rb = rb.to_uncompressed();
        let mut h = Sm3::new();
        for part in [xu.as_ref(), za, zb, &ra[1..], &rb[1..]] {
            h.update(part);
        }
        let inner = Zeroizing::new(h.finalize());
        let confirm = |prefix: u8| {
            let mut h = Sm3::new();
            h.update(&[prefix]);
            h.update(yu.as_ref());
            h.update(inner.as_ref());
            h.finalize()
        };
        let (s_b, s_a) = (confirm(0x02), confirm(0x03));
        let (own_confirmation, peer_confirmation) = match self.role {
            Role::Initiator => (s_a, s_b),
            Role::Responder => (s_b, s_a),
        };
        Ok(SharedKey {
            key,
            own_confirmation,
            peer_confirmation,
        })
    }
}

impl Drop for KeyExchange {
    fn drop(&mut self) {
        self.t.zeroize();
    }
}

impl std::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyExchange")
            .field("role", &self.role)
            .field("ephemeral", &self.ephemeral)
            .finish_non_exhaustive()
    }
}

/// The result of an SM2 key exchange: the shared key and the confirmation values.
pub struct SharedKey {
    key: Zeroizing<Vec<u8>>,
    own_confirmation: [u8; DIGEST_LEN],
    peer_confirmation: [u8; DIGEST_LEN],
}

impl SharedKey {
    /// The derived key K (wiped when this value is dropped).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Takes the key out.
    pub fn into_key(self) -> Zeroizing<Vec<u8>> {
        self.key
    }

    /// The confirmation value this party sends: S_B for the responder, S_A for the initiator.
    pub fn confirmation(&self) -> &[u8; DIGEST_LEN] {
        &self.own_confirmation
    }

    /// Checks the peer's confirmation value (S_B received by the initiator, S_A by the
    /// responder) in constant time; [`SmError::ConfirmationFailed`] if it differs.
    pub fn verify_peer_confirmation(&self, value: &[u8]) -> Result<(), SmError> {
        if value.len() == DIGEST_LEN && bool::from(self.peer_confirmation.ct_eq(value)) {
            Ok(())
        } else {
            Err(SmError::ConfirmationFailed)
        }
    }
}

impl std::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedKey")
            .field("len", &self.key.len())
            .finish_non_exhaustive()
    }
}
