//! Target `sm2_ciphertext`: SM2 ciphertext decoding in both encodings, and decryption with a
//! fixed key.

use std::sync::OnceLock;

use crate::sm2::{Ciphertext, PrivateKey};
use crate::SmError;

/// The scalar of [`sm2_fixed_key`]: any value in [1, n-2] will do; this one is easy to spot.
const SM2_FIXED_SCALAR: [u8; 32] = [
    0x3b, 0x1a, 0x5c, 0x7e, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
];

/// The SM2 key the `sm2_ciphertext` target decrypts with (seed ciphertexts are made for it).
pub fn sm2_fixed_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::from_bytes(&SM2_FIXED_SCALAR).expect("the fixed scalar is in [1, n-2]")
    })
}

/// Target `sm2_ciphertext`: the input as an SM2 ciphertext in DER and in raw form.
///
/// Where a form parses, re-encoding must give the input back byte for byte (both forms are
/// canonical: DER is read strictly, raw has fixed fields), the other form must round-trip too,
/// and decryption with [`sm2_fixed_key`] must either succeed with a message as long as C2 or
/// fail with [`SmError::DecryptionFailed`].
pub fn sm2_ciphertext(data: &[u8]) {
    if let Ok(ct) = Ciphertext::from_der(data) {
        assert_eq!(ct.to_der(), data, "DER re-encoding differs from the input");
        check_ciphertext(&ct);
    }
    if let Ok(ct) = Ciphertext::from_raw(data) {
        assert_eq!(ct.to_raw(), data, "raw re-encoding differs from the input");
        check_ciphertext(&ct);
    }
}

/// The properties of a parsed ciphertext: both encodings round-trip, decryption is typed.
fn check_ciphertext(ct: &Ciphertext) {
    assert_eq!(Ciphertext::from_der(&ct.to_der()).as_ref(), Ok(ct));
    assert_eq!(Ciphertext::from_raw(&ct.to_raw()).as_ref(), Ok(ct));
    match sm2_fixed_key().decrypt(ct) {
        Ok(msg) => assert_eq!(msg.len(), ct.c2().len()),
        Err(err) => assert_eq!(err, SmError::DecryptionFailed),
    }
}
