//! One typed error for every SM primitive: callers (and metrics) can tell bad input apart
//! from a failed check, and nothing here panics on input.

/// What went wrong in an SM2, SM3 or SM4 operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmError {
    /// A key of the wrong length was given.
    #[error("invalid key length")]
    InvalidKeyLength,
    /// A nonce or IV of a length the mode does not allow.
    #[error("invalid nonce or IV length")]
    InvalidNonceLength,
    /// A tag length the mode does not allow.
    #[error("invalid tag length")]
    InvalidTagLength,
    /// Input that must be a whole number of 16-byte blocks was not.
    #[error("input is not a multiple of the block size")]
    NotBlockAligned,
    /// The message is longer than the mode allows (GCM: 2^36 - 32 bytes; CCM: by its L).
    #[error("message too long for this mode")]
    MessageTooLong,
    /// Authentication failed: tampered ciphertext, AAD, tag, nonce or the wrong key.
    #[error("authentication failed: bad tag")]
    BadTag,
    /// PKCS#7 padding was malformed after CBC decryption.
    #[error("bad padding")]
    BadPadding,
    /// A ciphertext shorter than its fixed parts.
    #[error("ciphertext too short")]
    CiphertextTooShort,
    /// A point encoding that is not SEC1 (wrong length or prefix) or has coordinates >= p.
    #[error("invalid point encoding")]
    InvalidPoint,
    /// A point that is not on curveSM2.
    #[error("point is not on the curve")]
    PointNotOnCurve,
    /// The point at infinity where a real point is required.
    #[error("point at infinity")]
    PointAtInfinity,
    /// A private scalar of zero or >= n - 1 (SM2 needs 1 + d invertible).
    #[error("invalid private key scalar")]
    InvalidScalar,
    /// A signature with r or s out of [1, n-1], or malformed DER.
    #[error("malformed signature")]
    MalformedSignature,
    /// A well-formed signature that does not verify.
    #[error("bad signature")]
    BadSignature,
    /// SM2 decryption: C3 did not match (wrong key or tampered ciphertext).
    #[error("decryption failed")]
    DecryptionFailed,
    /// The SM2 KDF output was all zero (the standard says retry or fail).
    #[error("key derivation gave all zeros")]
    KdfZero,
    /// SM2 key exchange: the peer's confirmation value did not match.
    #[error("key confirmation failed")]
    ConfirmationFailed,
    /// A DER, PEM or PKCS#8 structure was malformed or of another key type.
    #[error("malformed encoding: {0}")]
    Encoding(&'static str),
    /// The requested output length is not allowed (HKDF: more than 255 blocks).
    #[error("invalid output length")]
    InvalidLength,
    /// A code path was forced that this CPU cannot run.
    #[error("code path {0} is not available on this CPU")]
    PathUnavailable(&'static str),
    /// The operating system's random source failed.
    #[error("random source failed")]
    Random,
}
