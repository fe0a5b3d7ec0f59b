//! The aws-lc engine against the shared engine checks, plus what is particular to AWS-LC:
//! RSA key generation and the X25519MLKEM768 hybrid.

#[path = "../../ring/tests/common/mod.rs"]
mod common;

use meshtls_engine_aws_lc::ENGINE;
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
    let cannot_generate = common::sign_verify_round_trips(&ENGINE);
    assert!(cannot_generate.is_empty(), "{cannot_generate:?}");
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
    assert_eq!(ENGINE.name, "aws-lc");
    assert!((ENGINE.version)().starts_with("aws-lc-rs 1.19 (AWS-LC "));
    assert_eq!(ENGINE.algorithms().len(), common::non_sm_catalogue_len());
}

#[test]
fn rsa_keys_are_generated_at_2048_bits() {
    for id in [AlgorithmId::RsaPss, AlgorithmId::RsaPkcs1] {
        let alg = ENGINE.signature(id).unwrap();
        let key = alg.load_signing_key(&alg.generate_key().unwrap()).unwrap();
        let scheme = id.schemes()[0];
        assert_eq!(key.sign(scheme, b"m").unwrap().len(), 256, "{id}");
    }
}

#[test]
fn ecdsa_signs_only_the_curve_hash() {
    let p384 = ENGINE.signature(AlgorithmId::EcdsaP384).unwrap();
    let key = p384.load_signing_key(common::p384_key()).unwrap();
    assert_eq!(key.schemes(), [SigScheme::EcdsaP384Sha384]);
    let got = key.sign(SigScheme::EcdsaP384Sha256, b"m");
    assert!(matches!(got, Err(CryptoError::Unsupported(_))), "{got:?}");
}

fn hybrid() -> &'static dyn meshtls_tls_core::engine::KeyExchange {
    ENGINE.key_exchange(AlgorithmId::X25519MlKem768).unwrap()
}

#[test]
fn hybrid_secret_is_mlkem_then_x25519() {
    let client = hybrid().start().unwrap();
    let (server_share, server_secret) = hybrid().respond(client.public_key()).unwrap();
    assert_eq!(server_secret.secret_bytes().len(), 32 + 32);

    // The X25519 halves of the shares agree on the last 32 secret bytes.
    let x25519 = ENGINE.key_exchange(AlgorithmId::X25519).unwrap();
    let probe = x25519.start().unwrap();
    let mut forged = server_share.clone();
    forged[1088..].copy_from_slice(probe.public_key());
    let client_secret = client.complete(&forged).unwrap();
    assert_eq!(
        client_secret.secret_bytes()[..32],
        server_secret.secret_bytes()[..32],
        "ML-KEM half unchanged"
    );
    assert_ne!(
        client_secret.secret_bytes()[32..],
        server_secret.secret_bytes()[32..]
    );
}

#[test]
fn hybrid_tampered_ciphertext_gives_another_secret() {
    // ML-KEM rejects implicitly (FIPS 203 §6.3): no error, but the secrets differ.
    let client = hybrid().start().unwrap();
    let (mut share, server_secret) = hybrid().respond(client.public_key()).unwrap();
    share[10] ^= 0x01;
    let client_secret = client.complete(&share).unwrap();
    assert_ne!(client_secret.secret_bytes(), server_secret.secret_bytes());
}

#[test]
fn hybrid_rejects_malformed_shares() {
    let invalid = |got: Result<_, CryptoError>, why: &str| {
        assert!(matches!(got, Err(CryptoError::InvalidPeerShare)), "{why}");
    };
    let client = hybrid().start().unwrap();
    let share = client.public_key().to_vec();
    invalid(
        hybrid().respond(&share[..1200]).map(|_| ()),
        "short client share",
    );
    invalid(
        hybrid()
            .respond(&[share.clone(), vec![0]].concat())
            .map(|_| ()),
        "long client share",
    );
    let mut low_order = share.clone();
    low_order[1184..].fill(0);
    invalid(
        hybrid().respond(&low_order).map(|_| ()),
        "X25519 low-order point",
    );
    // Coefficients of 0xfff exceed q = 3329: fails the FIPS 203 §7.2 modulus check.
    let mut bad_ek = share;
    bad_ek[..384].fill(0xff);
    invalid(
        hybrid().respond(&bad_ek).map(|_| ()),
        "ML-KEM key out of range",
    );
    invalid(
        client.complete(&[0u8; 1119]).map(|_| ()),
        "short server share",
    );
}
