//! The OpenSSL engine against the shared engine checks, plus what is particular to OpenSSL.

// The shared checks, written once (style rule 6).
#[path = "../../ring/tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use meshtls_engine_openssl::ENGINE;
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};

#[test]
fn tables_are_consistent() {
    common::tables_are_consistent(&ENGINE);
    assert_eq!(ENGINE.stack.map(|s| s.name()), Some("openssl"));
}

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

// === OpenSSL specifics ===

/// Record sizes around the AES block and a long record, many messages under one key: the
/// engine reuses its keyed contexts, so state must not leak between calls, even after a
/// failed open.
#[test]
fn aead_round_trips_every_length_on_one_key() {
    for aead in ENGINE.aeads {
        let id = aead.id();
        let key = aead
            .new_key(&vec![0x42; id.aead_key_len().unwrap()])
            .unwrap();
        for (i, len) in [0usize, 1, 15, 16, 17, 1000].into_iter().enumerate() {
            let nonce = [i as u8; 12];
            let msg: Vec<u8> = (0..len).map(|b| b as u8).collect();
            let mut buf = msg.clone();
            let tag = key.seal_in_place(&nonce, b"aad", &mut buf).unwrap();
            if len > 0 {
                assert_ne!(buf, msg, "{id} len {len} encrypts");
            }
            let mut bad = buf.clone();
            let mut bad_tag = tag;
            bad_tag[0] ^= 1;
            let got = key.open_in_place(&nonce, b"aad", &mut bad, &bad_tag);
            assert!(
                matches!(got, Err(CryptoError::DecryptFailed)),
                "{id} len {len}: {got:?}"
            );
            key.open_in_place(&nonce, b"aad", &mut buf, &tag).unwrap();
            assert_eq!(buf, msg, "{id} len {len} round trip after a failed open");
        }
    }
}

/// HMAC with an empty key (HKDF-Extract without salt): OpenSSL 3.0 refuses zero-length raw
/// HMAC keys, so the engine substitutes the equivalent one-zero-byte key.
#[test]
fn hmac_empty_key() {
    let cases = [
        (
            AlgorithmId::Sha256,
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
        ),
        (
            AlgorithmId::Sha384,
            "6c1f2ee938fad2e24bd91298474382ca218c75db3d83e114b3d4367776d14d35
             51289e75e8209cd4b792302840234adc",
        ),
    ];
    for (id, want) in cases {
        let key = ENGINE.hash(id).unwrap().hmac_key(&[]);
        assert_eq!(
            key.sign_concat(&[], &[], &[]).as_ref(),
            common::hex(want),
            "{id}"
        );
    }
}

#[test]
fn rsa_outside_2048_to_8192_bits_refused() {
    let small = openssl::rsa::Rsa::generate(1024).unwrap();
    let pkey = openssl::pkey::PKey::from_rsa(small).unwrap();
    let pkcs8 = pkey.private_key_to_pkcs8().unwrap();
    let got = ENGINE
        .signature(AlgorithmId::RsaPss)
        .unwrap()
        .load_signing_key(&pkcs8);
    assert!(matches!(got, Err(CryptoError::Unsupported(_))), "{got:?}");

    let public = pkey.rsa().unwrap().public_key_to_der_pkcs1().unwrap();
    let got = ENGINE.signature(AlgorithmId::RsaPkcs1).unwrap().verify(
        SigScheme::RsaPkcs1Sha256,
        &public,
        b"m",
        &[0; 128],
    );
    assert!(matches!(got, Err(CryptoError::Unsupported(_))), "{got:?}");
}

#[test]
fn malformed_public_keys_refused() {
    for (id, scheme) in [
        (AlgorithmId::EcdsaP256, SigScheme::EcdsaP256Sha256),
        (AlgorithmId::Ed25519, SigScheme::Ed25519),
        (AlgorithmId::RsaPss, SigScheme::RsaPssSha256),
    ] {
        let got = ENGINE
            .signature(id)
            .unwrap()
            .verify(scheme, &[4, 1, 2], b"m", &[0; 64]);
        assert!(matches!(got, Err(CryptoError::InvalidKey)), "{id}: {got:?}");
    }
}

#[test]
fn tables_and_version() {
    assert_eq!(ENGINE.name, "openssl");
    let version = (ENGINE.version)();
    assert!(version.starts_with("OpenSSL 3."), "{version}");
    assert!(ENGINE.stack.is_some(), "OpenSSL brings its own TLS stack");
    // OpenSSL 3.0 has no ML-KEM and no SM4-GCM/CCM (3.2+): every catalogue entry but those.
    let missing = [
        AlgorithmId::X25519MlKem768,
        AlgorithmId::Sm4Gcm,
        AlgorithmId::Sm4Ccm,
    ];
    assert!(missing.iter().all(|id| ENGINE.find(*id).is_none()));
    assert_eq!(
        ENGINE.algorithms().len(),
        AlgorithmId::ALL.len() - missing.len()
    );
    let here = meshtls_tls_core::cpu::detected();
    for alg in ENGINE.algorithms() {
        assert_eq!(alg.cpu_features().bits() & !here.bits(), 0, "{}", alg.id());
        assert!(ENGINE.find(alg.id()).is_some());
    }
}
