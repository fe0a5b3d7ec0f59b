//! The ring engine against the shared engine checks, plus what is particular to *ring*.

mod common;

use meshtls_engine_ring::ENGINE;
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};

#[test]
fn aead_known_answers() {
    common::aead_known_answers(&ENGINE);
}

#[test]
fn aead_round_trip_and_tamper() {
    common::aead_round_trip_and_tamper(&ENGINE);
}

#[test]
fn hash_known_answers() {
    common::hash_known_answers(&ENGINE);
}

#[test]
fn hmac_known_answers() {
    common::hmac_known_answers(&ENGINE);
}

#[test]
fn kx_agreement() {
    common::kx_agreement(&ENGINE);
}

#[test]
fn kx_rejects_invalid_shares() {
    common::kx_rejects_invalid_shares(&ENGINE);
}

#[test]
fn sign_verify_round_trips() {
    // *ring* has no RSA key generation; the OpenSSL-made key covers RSA signing.
    let cannot_generate = common::sign_verify_round_trips(&ENGINE);
    assert_eq!(
        cannot_generate,
        [AlgorithmId::RsaPss, AlgorithmId::RsaPkcs1]
    );
}

#[test]
fn wrong_key_types_rejected() {
    common::wrong_key_types_rejected(&ENGINE);
}

#[test]
fn ed25519_known_answer() {
    common::ed25519_known_answer(&ENGINE);
}

#[test]
fn random_fills() {
    common::random_fills(&ENGINE);
}

#[test]
fn tables_are_consistent() {
    common::tables_are_consistent(&ENGINE);
    assert!(ENGINE.stack.is_none());
    assert_eq!(ENGINE.name, "ring");
    assert!((ENGINE.version)().starts_with("ring 0.17"));
    assert!(ENGINE.key_exchange(AlgorithmId::X25519MlKem768).is_none());
    assert_eq!(
        ENGINE.algorithms().len(),
        common::non_sm_catalogue_len() - 1
    );
}

#[test]
fn ecdsa_signs_only_the_curve_hash() {
    let p256 = ENGINE.signature(AlgorithmId::EcdsaP256).unwrap();
    let key = p256.load_signing_key(common::p256_key()).unwrap();
    assert_eq!(key.schemes(), [SigScheme::EcdsaP256Sha256]);
    let got = key.sign(SigScheme::EcdsaP256Sha384, b"m");
    assert!(matches!(got, Err(CryptoError::Unsupported(_))), "{got:?}");
}
