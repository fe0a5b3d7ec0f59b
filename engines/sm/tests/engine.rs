//! The SM engine through tls-core's traits: what TLS and the CA will call. The primitives'
//! own vectors and differential tests are in the other files of this folder.

#[path = "../../ring/tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use common::hex;
use meshtls_engine_sm::ENGINE;
use meshtls_tls_core::engine::{AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};

#[test]
fn tables_are_consistent() {
    common::tables_are_consistent(&ENGINE);
    assert_eq!(ENGINE.stack.map(|s| s.name()), Some("tlcp"));
    let ids: Vec<AlgorithmId> = ENGINE.algorithms().iter().map(|a| a.id()).collect();
    assert_eq!(
        ids,
        [
            AlgorithmId::Sm4Gcm,
            AlgorithmId::Sm4Ccm,
            AlgorithmId::Sm3,
            AlgorithmId::CurveSm2,
            AlgorithmId::Sm2
        ]
    );
    for alg in ENGINE.algorithms() {
        assert!(
            alg.code_path().is_some(),
            "{} names its code path",
            alg.id()
        );
    }
}

#[test]
fn random_fills() {
    common::random_fills(&ENGINE);
}

#[test]
fn aead_known_answers_rfc8998() {
    // RFC 8998 Appendix A.1 (GCM) and A.2 (CCM): the same key, IV, AAD and plaintext.
    let key = hex("0123456789ABCDEFFEDCBA9876543210");
    let nonce: [u8; AEAD_NONCE_LEN] = hex("00001234567800000000ABCD").try_into().unwrap();
    let aad = hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let pt = hex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                  EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let cases = [
        (
            AlgorithmId::Sm4Gcm,
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC",
        ),
        (
            AlgorithmId::Sm4Ccm,
            "48AF93501FA62ADBCD414CCE6034D895DDA1BF8F132F042098661572E7483094
             FD12E518CE062C98ACEE28D95DF4416BED31A2F04476C18BB40C84A74B97DC5B",
            "16842D4FA186F56AB33256971FA110F4",
        ),
    ];
    for (id, want_ct, want_tag) in cases {
        let key = ENGINE.aead(id).unwrap().new_key(&key).unwrap();
        let mut buf = pt.clone();
        let tag = key.seal_in_place(&nonce, &aad, &mut buf).unwrap();
        assert_eq!(buf, hex(want_ct), "{id} ciphertext");
        assert_eq!(tag.to_vec(), hex(want_tag), "{id} tag");
        key.open_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, pt, "{id} decrypts");
    }
}

#[test]
fn aead_tamper_and_bad_keys_rejected() {
    for aead in ENGINE.aeads {
        let id = aead.id();
        let key = aead.new_key(&[9u8; 16]).unwrap();
        let nonce = [7u8; AEAD_NONCE_LEN];
        let msg = b"attack at dawn, bring snacks";
        let mut ct = msg.to_vec();
        let tag = key.seal_in_place(&nonce, b"hdr", &mut ct).unwrap();
        let mut flipped = ct.clone();
        flipped[3] ^= 1;
        let got = key.open_in_place(&nonce, b"hdr", &mut flipped, &tag);
        assert!(matches!(got, Err(CryptoError::DecryptFailed)), "{id}");
        assert!(
            flipped.iter().all(|b| *b == 0),
            "{id}: no plaintext released"
        );
        let mut bad_tag: [u8; AEAD_TAG_LEN] = tag;
        bad_tag[0] ^= 0x80;
        let got = key.open_in_place(&nonce, b"hdr", &mut ct.clone(), &bad_tag);
        assert!(matches!(got, Err(CryptoError::DecryptFailed)), "{id}");
        let got = key.open_in_place(&nonce, b"hdR", &mut ct.clone(), &tag);
        assert!(matches!(got, Err(CryptoError::DecryptFailed)), "{id}");
        let other = aead.new_key(&[8u8; 16]).unwrap();
        let got = other.open_in_place(&nonce, b"hdr", &mut ct.clone(), &tag);
        assert!(matches!(got, Err(CryptoError::DecryptFailed)), "{id}");
        for bad_len in [0, 15, 17, 32] {
            let got = aead.new_key(&vec![1u8; bad_len]);
            assert!(matches!(got, Err(CryptoError::InvalidKey)), "{id} key len");
        }
    }
}

#[test]
fn sm3_and_hmac_known_answers() {
    let sm3 = ENGINE.hash(AlgorithmId::Sm3).unwrap();
    let want = hex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    assert_eq!(sm3.hash(b"abc").as_ref(), want);
    let mut ctx = sm3.start();
    ctx.update(b"a");
    let fork = ctx.fork();
    assert_eq!(ctx.fork_finish().as_ref(), sm3.hash(b"a").as_ref());
    ctx.update(b"bc");
    assert_eq!(ctx.finish().as_ref(), want);
    assert_eq!(fork.finish().as_ref(), sm3.hash(b"a").as_ref());
    // RFC 4231's inputs, with the answers of `openssl dgst -sm3 -hmac`.
    let cases = [
        (
            vec![0x0b; 20],
            b"Hi There".as_slice(),
            "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".as_slice(),
            "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
        ),
    ];
    for (key, data, want) in cases {
        let mac = sm3.hmac_key(&key);
        assert_eq!(mac.tag_len(), 32);
        assert_eq!(mac.sign_concat(data, &[], &[]).as_ref(), hex(want));
        let (a, rest) = data.split_at(2);
        let (b, c) = rest.split_at(3);
        assert_eq!(mac.sign_concat(a, &[b, &[]], c).as_ref(), hex(want));
    }
}

#[test]
fn curvesm2_agreement_and_invalid_shares() {
    let kx = ENGINE.key_exchange(AlgorithmId::CurveSm2).unwrap();
    let client = kx.start().unwrap();
    assert_eq!((client.public_key().len(), client.public_key()[0]), (65, 4));
    let (server_share, server_secret) = kx.respond(client.public_key()).unwrap();
    let client_secret = client.complete(&server_share).unwrap();
    assert_eq!(client_secret.secret_bytes(), server_secret.secret_bytes());
    assert_eq!(client_secret.secret_bytes().len(), 32);

    let good = kx.start().unwrap().public_key().to_vec();
    let mut off_curve = good.clone();
    off_curve[64] ^= 1;
    let mut compressed = good[..33].to_vec();
    compressed[0] = 0x02 | (good[64] & 1);
    let mut x_too_big = vec![0x04];
    x_too_big.extend([0xff; 64]);
    for (share, why) in [
        (off_curve, "off the curve"),
        (compressed, "compressed (TLS 1.3 shares are uncompressed)"),
        (x_too_big, "coordinates >= p"),
        (vec![0], "point at infinity"),
        (vec![], "empty"),
        (good[..64].to_vec(), "short"),
    ] {
        let got = kx.start().unwrap().complete(&share);
        assert!(
            matches!(got, Err(CryptoError::InvalidPeerShare)),
            "{why}: {:?}",
            got.err()
        );
    }
}

#[test]
fn sm2_sign_verify_with_own_and_openssl_keys() {
    let alg = ENGINE.signature(AlgorithmId::Sm2).unwrap();
    let msg = b"spiffe://example.org/ns/default/sa/web";
    for pkcs8 in [
        alg.generate_key().unwrap().to_vec(),
        common::sm2_key().to_vec(),
    ] {
        let key = alg.load_signing_key(&pkcs8).unwrap();
        assert_eq!(key.schemes(), [SigScheme::Sm2Sm3, SigScheme::Sm2Sm3Tls13]);
        let public = key.public_key();
        assert_eq!((public.len(), public[0]), (65, 4));
        let sig = key.sign(SigScheme::Sm2Sm3, msg).unwrap();
        alg.verify(SigScheme::Sm2Sm3, &public, msg, &sig).unwrap();
        // The TLS 1.3 scheme hashes another signer ID into Z: neither verifies as the other.
        let tls13 = key.sign(SigScheme::Sm2Sm3Tls13, msg).unwrap();
        alg.verify(SigScheme::Sm2Sm3Tls13, &public, msg, &tls13)
            .unwrap();
        let got = alg.verify(SigScheme::Sm2Sm3, &public, msg, &tls13);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let got = alg.verify(SigScheme::Sm2Sm3Tls13, &public, msg, &sig);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let got = alg.verify(SigScheme::Sm2Sm3, &public, b"spiffe://example.org/x", &sig);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let got = alg.verify(SigScheme::Sm2Sm3, &public, msg, &bad);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let got = key.sign(SigScheme::EcdsaP256Sha256, msg);
        assert!(matches!(got, Err(CryptoError::WrongKeyType)));
    }
}

#[test]
fn foreign_and_garbage_keys_rejected() {
    let alg = ENGINE.signature(AlgorithmId::Sm2).unwrap();
    for key in [
        common::p256_key(),
        common::ed25519_key(),
        common::rsa_2048(),
    ] {
        let got = alg.load_signing_key(key);
        assert!(matches!(got, Err(CryptoError::WrongKeyType)));
    }
    let got = alg.load_signing_key(b"\x30\x03\x02\x01\x00");
    assert!(got.is_err());
}
