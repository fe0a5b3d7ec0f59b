//! SM2 (GB/T 32918) on the recommended curve: key pairs and their SEC1 / PKCS#8 / SPKI
//! encodings, signatures with the distinguishing ID, public-key encryption, the key exchange
//! protocol, and plain ECDH for TLS 1.3.
//!
//! Arithmetic (field, scalar, point) is crate-internal apart from [`scalar`]; every operation
//! on a secret scalar is constant time. Nothing here does I/O; randomness comes from the
//! operating system through `getrandom`.

pub(crate) mod field;
pub(crate) mod point;
pub mod scalar;

mod asn1;
mod ecdh;
mod encoding;
mod encrypt;
mod kdf;
mod kex;
mod keys;
mod nonce;
mod sign;
mod z;

pub use ecdh::{diffie_hellman, EphemeralSecret, SharedSecret};
pub use encoding::{ID_EC_PUBLIC_KEY, OID_SM2};
pub use encrypt::{encrypt_with_nonce, Ciphertext};
pub use kex::{KeyExchange, Role, SharedKey};
pub use keys::{PrivateKey, PublicKey, KEY_LEN};
pub use sign::{sign_with_nonce, Signature, DEFAULT_ID};
pub use z::{z_value, MAX_ID_LEN};
