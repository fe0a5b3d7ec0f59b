//! The OpenSSL engine's SM algorithms (sm3 with HMAC, curvesm2, sm2): known answers from the
//! standards, checks of what the trait contracts promise, and the `openssl` CLI as an
//! independent peer for SM2 (it sets the signer ID from the command line, not through our
//! FFI call).
//!
//! The shared engine checks (`engines/ring/tests/common`) cover the other algorithms.

use std::path::PathBuf;
use std::process::Command;

use meshtls_engine_openssl::ENGINE;
use meshtls_tls_core::engine::{KeyExchange, Signature};
use meshtls_tls_core::{AlgorithmId, CryptoError, SigScheme};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn sm2() -> &'static dyn Signature {
    ENGINE.signature(AlgorithmId::Sm2).unwrap()
}

fn curvesm2() -> &'static dyn KeyExchange {
    ENGINE.key_exchange(AlgorithmId::CurveSm2).unwrap()
}

// === SM3 and HMAC-SM3 ===

/// GB/T 32905-2016 appendix A: "abc" and "abcd" x 16.
#[test]
fn sm3_known_answers() {
    let h = ENGINE.hash(AlgorithmId::Sm3).unwrap();
    let abc = hex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    assert_eq!(h.hash(b"abc").as_ref(), abc);
    assert_eq!(
        h.hash(&b"abcd".repeat(16)).as_ref(),
        hex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    );

    let mut ctx = h.start();
    ctx.update(b"a");
    let fork = ctx.fork();
    assert_eq!(ctx.fork_finish().as_ref(), h.hash(b"a").as_ref());
    ctx.update(b"bc");
    assert_eq!(ctx.finish().as_ref(), abc, "incremental");
    assert_eq!(fork.finish().as_ref(), h.hash(b"a").as_ref(), "fork");
}

/// Published HMAC-SM3 answers: Bouncy Castle's `HMacTest` (RFC 4231 case 1 inputs) and the
/// `hmac-sm3` crate's README example.
#[test]
fn hmac_sm3_known_answers() {
    let h = ENGINE.hash(AlgorithmId::Sm3).unwrap();
    let cases = [
        (
            vec![0x0b; 20],
            b"Hi There".as_slice(),
            "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70",
        ),
        (
            b"TestSecret".to_vec(),
            b"Hello World".as_slice(),
            "9d91da552268ddf11b9f69662773a66c6375b250336dfb9293e7e2611c36d79f",
        ),
    ];
    for (key, data, want) in cases {
        let key = h.hmac_key(&key);
        assert_eq!(key.tag_len(), 32);
        assert_eq!(key.sign_concat(data, &[], &[]).as_ref(), hex(want));
        let (a, rest) = data.split_at(2);
        let (b, c) = rest.split_at(3);
        assert_eq!(key.sign_concat(a, &[b, &[]], c).as_ref(), hex(want));
    }
}

/// HMAC-SM3 equals RFC 2104's construction over the engine's own SM3, for keys shorter
/// than, equal to and longer than the 64-byte block, and the empty key (which the engine
/// passes to OpenSSL as one zero byte).
#[test]
fn hmac_sm3_is_rfc2104_over_sm3() {
    let h = ENGINE.hash(AlgorithmId::Sm3).unwrap();
    let rfc2104 = |key: &[u8], data: &[u8]| {
        let mut k = if key.len() > 64 {
            h.hash(key).as_ref().to_vec()
        } else {
            key.to_vec()
        };
        k.resize(64, 0);
        let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
        let inner = h.hash(&[pad(0x36), data.to_vec()].concat());
        h.hash(&[pad(0x5c), inner.as_ref().to_vec()].concat())
    };
    for key_len in [0usize, 1, 32, 63, 64, 65, 200] {
        let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
        for data_len in [0usize, 1, 64, 1000] {
            let data = vec![0x5a; data_len];
            assert_eq!(
                h.hmac_key(&key).sign_concat(&data, &[], &[]).as_ref(),
                rfc2104(&key, &data).as_ref(),
                "key {key_len} data {data_len}"
            );
        }
    }
}

// === curveSM2 ===

#[test]
fn curvesm2_agreement() {
    let kx = curvesm2();
    let a = kx.start().unwrap();
    assert_eq!((a.public_key().len(), a.public_key()[0]), (65, 0x04));
    let (b_share, b_secret) = kx.respond(a.public_key()).unwrap();
    assert_eq!(b_share.len(), 65);
    let a_secret = a.complete(&b_share).unwrap();
    assert_eq!(a_secret.secret_bytes(), b_secret.secret_bytes());
    assert_eq!(a_secret.secret_bytes().len(), 32, "x-coordinate only");
    let (_, other) = kx.respond(&b_share).unwrap();
    assert_ne!(other.secret_bytes(), a_secret.secret_bytes(), "fresh keys");
}

/// The secret is the x-coordinate of d·P: with the generator as the peer's share, d·G is our
/// own public point, so the secret is our share's x-coordinate.
#[test]
fn curvesm2_secret_is_the_x_coordinate() {
    let generator = hex(
        "04 32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
            BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
    );
    let a = curvesm2().start().unwrap();
    let x = a.public_key()[1..33].to_vec();
    assert_eq!(a.complete(&generator).unwrap().secret_bytes(), x);
}

#[test]
fn curvesm2_rejects_invalid_shares() {
    let p256_share = ENGINE
        .key_exchange(AlgorithmId::P256)
        .unwrap()
        .start()
        .unwrap()
        .public_key()
        .to_vec();
    let mut off_curve = vec![1u8; 65];
    off_curve[0] = 0x04;
    let mut compressed = curvesm2().start().unwrap().public_key()[..33].to_vec();
    compressed[0] = 0x02;
    let mut long = curvesm2().start().unwrap().public_key().to_vec();
    long.push(0);
    for (share, why) in [
        (off_curve, "point not on the curve"),
        (p256_share, "a P-256 point"),
        (compressed, "compressed point"),
        (long, "trailing byte"),
        (vec![0], "point at infinity"),
        (vec![], "empty share"),
    ] {
        let got = curvesm2().start().unwrap().complete(&share);
        assert!(
            matches!(got, Err(CryptoError::InvalidPeerShare)),
            "{why}: {:?}",
            got.err()
        );
    }
}

// === SM2 signatures ===

/// The GB/T 32918.2 example key's public point (d = 3945208F...C5B8).
const KAT_PUBLIC: &str = "04
    09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
    CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
/// Its signature of "message digest" with ID 1234567812345678 (k = 59276E27...BC21), DER.
const KAT_SIGNATURE: &str = "3046
    022100F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
    022100B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

#[test]
fn sm2_verifies_the_standard_example() {
    let (public, sig) = (hex(KAT_PUBLIC), hex(KAT_SIGNATURE));
    sm2()
        .verify(SigScheme::Sm2Sm3, &public, b"message digest", &sig)
        .unwrap();
    for (msg, sig, why) in [
        (b"message digesT".as_slice(), sig.clone(), "other message"),
        (b"message digest".as_slice(), flip_last(&sig), "other s"),
        (b"message digest".as_slice(), vec![0x30, 0], "empty DER"),
        (b"message digest".as_slice(), vec![], "no signature"),
    ] {
        let got = sm2().verify(SigScheme::Sm2Sm3, &public, msg, &sig);
        assert!(matches!(got, Err(CryptoError::BadSignature)), "{why}");
    }
}

fn flip_last(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    *out.last_mut().unwrap() ^= 1;
    out
}

/// PKCS#8 keys from the `openssl` CLI: an EC key on the SM2 curve and an `SM2` key.
fn cli_keys() -> Vec<Vec<u8>> {
    [
        "-algorithm EC -pkeyopt ec_paramgen_curve:SM2",
        "-algorithm SM2",
    ]
    .iter()
    .map(|args| {
        let pipeline =
            format!("openssl genpkey {args} | openssl pkcs8 -topk8 -nocrypt -outform DER");
        shell(&pipeline)
    })
    .collect()
}

fn shell(pipeline: &str) -> Vec<u8> {
    let out = Command::new("sh").args(["-c", pipeline]).output().unwrap();
    assert!(
        out.status.success(),
        "{pipeline}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn sm2_round_trips_with_generated_and_cli_keys() {
    let generated = sm2().generate_key().unwrap();
    // OpenSSL writes id-ecPublicKey (1.2.840.10045.2.1) with the SM2 curve OID.
    let ec_public_key = hex("06072a8648ce3d0201");
    let sm2_curve = hex("06082a811ccf5501822d");
    assert!(generated.windows(9).any(|w| w == ec_public_key.as_slice()));
    assert!(generated.windows(10).any(|w| w == sm2_curve.as_slice()));

    let msg = b"spiffe://example.org/ns/default/sa/web";
    for pkcs8 in std::iter::once(generated.to_vec()).chain(cli_keys()) {
        let key = sm2().load_signing_key(&pkcs8).unwrap();
        assert_eq!(key.schemes(), [SigScheme::Sm2Sm3, SigScheme::Sm2Sm3Tls13]);
        let public = key.public_key();
        assert_eq!((public.len(), public[0]), (65, 0x04));
        let sig = key.sign(SigScheme::Sm2Sm3, msg).unwrap();
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        sm2().verify(SigScheme::Sm2Sm3, &public, msg, &sig).unwrap();
        assert_ne!(key.sign(SigScheme::Sm2Sm3, msg).unwrap(), sig, "random k");
        let got = sm2().verify(SigScheme::Sm2Sm3, &public, b"other", &sig);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let got = sm2().verify(SigScheme::Sm2Sm3, &public, msg, &flip_last(&sig));
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        // The TLS 1.3 scheme hashes another signer ID into Z: neither verifies as the other.
        let tls13 = key.sign(SigScheme::Sm2Sm3Tls13, msg).unwrap();
        sm2()
            .verify(SigScheme::Sm2Sm3Tls13, &public, msg, &tls13)
            .unwrap();
        let got = sm2().verify(SigScheme::Sm2Sm3, &public, msg, &tls13);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
        let got = sm2().verify(SigScheme::Sm2Sm3Tls13, &public, msg, &sig);
        assert!(matches!(got, Err(CryptoError::BadSignature)));
    }
}

/// A scratch directory for CLI files.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("meshtls-openssl-sm-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// SPKI DER of an SM2 public point (id-ecPublicKey, curve 1.2.156.10197.1.301).
fn spki(point: &[u8]) -> Vec<u8> {
    [
        hex("3059 3013 06072a8648ce3d0201 06082a811ccf5501822d 034200"),
        point.to_vec(),
    ]
    .concat()
}

/// Our signatures verify with the CLI's `distid:1234567812345678` and not with the CLI's
/// default (empty) ID; the CLI's signatures with that ID verify here.
#[test]
fn sm2_interoperates_with_the_openssl_cli() {
    let dir = scratch("cli");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let msg = b"TLSv1.3 CertificateVerify, more or less";
    std::fs::write(path("msg"), msg).unwrap();

    let pkcs8 = sm2().generate_key().unwrap();
    std::fs::write(path("key.der"), &pkcs8).unwrap();
    let key = sm2().load_signing_key(&pkcs8).unwrap();
    std::fs::write(path("pub.der"), spki(&key.public_key())).unwrap();
    std::fs::write(path("ours.sig"), key.sign(SigScheme::Sm2Sm3, msg).unwrap()).unwrap();

    let verify = |sig: &str, id: &str| {
        Command::new("openssl")
            .args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"])
            .arg(path("pub.der"))
            .args(["-rawin", "-digest", "sm3", "-in"])
            .arg(path("msg"))
            .arg("-sigfile")
            .arg(path(sig))
            .args(id.split_whitespace())
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(verify("ours.sig", "-pkeyopt distid:1234567812345678"));
    assert!(!verify("ours.sig", ""), "the empty ID must not verify");

    shell(&format!(
        "openssl pkeyutl -sign -keyform DER -inkey {} -rawin -digest sm3 \
         -pkeyopt distid:1234567812345678 -in {} -out {}",
        path("key.der"),
        path("msg"),
        path("cli.sig")
    ));
    let cli_sig = std::fs::read(path("cli.sig")).unwrap();
    sm2()
        .verify(SigScheme::Sm2Sm3, &key.public_key(), msg, &cli_sig)
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sm2_wrong_keys_and_schemes_refused() {
    let p256 = ENGINE
        .signature(AlgorithmId::EcdsaP256)
        .unwrap()
        .generate_key()
        .unwrap();
    let got = sm2().load_signing_key(&p256);
    assert!(matches!(got, Err(CryptoError::WrongKeyType)), "{got:?}");
    let ed25519 = ENGINE
        .signature(AlgorithmId::Ed25519)
        .unwrap()
        .generate_key()
        .unwrap();
    let got = sm2().load_signing_key(&ed25519);
    assert!(matches!(got, Err(CryptoError::WrongKeyType)), "{got:?}");
    let got = sm2().load_signing_key(b"\x30\x03\x02\x01\x00");
    assert!(matches!(got, Err(CryptoError::InvalidKey)), "{got:?}");

    let pkcs8 = sm2().generate_key().unwrap();
    for id in [AlgorithmId::EcdsaP256, AlgorithmId::EcdsaP384] {
        let got = ENGINE.signature(id).unwrap().load_signing_key(&pkcs8);
        assert!(
            matches!(got, Err(CryptoError::WrongKeyType)),
            "{id}: {got:?}"
        );
    }

    let key = sm2().load_signing_key(&pkcs8).unwrap();
    let got = key.sign(SigScheme::EcdsaP256Sha256, b"m");
    assert!(matches!(got, Err(CryptoError::WrongKeyType)), "{got:?}");
    let got = sm2().verify(
        SigScheme::EcdsaP256Sha256,
        &key.public_key(),
        b"m",
        &[0; 70],
    );
    assert!(matches!(got, Err(CryptoError::WrongKeyType)), "{got:?}");
    let got = ENGINE.signature(AlgorithmId::EcdsaP256).unwrap().verify(
        SigScheme::Sm2Sm3,
        &key.public_key(),
        b"m",
        &[0; 70],
    );
    assert!(matches!(got, Err(CryptoError::WrongKeyType)), "{got:?}");

    // An SM2 signature is not an ECDSA signature of the same key, and the reverse.
    let p256_key = ENGINE
        .signature(AlgorithmId::EcdsaP256)
        .unwrap()
        .load_signing_key(&p256)
        .unwrap();
    let p256_public = p256_key.public_key();
    let p256_sig = p256_key.sign(SigScheme::EcdsaP256Sha256, b"m").unwrap();
    let got = sm2().verify(SigScheme::Sm2Sm3, &p256_public, b"m", &p256_sig);
    assert!(
        matches!(got, Err(CryptoError::InvalidKey)),
        "P-256 point: {got:?}"
    );
}

#[test]
fn sm2_malformed_public_keys_refused() {
    let mut off_curve = hex(KAT_PUBLIC);
    off_curve[64] ^= 1;
    let mut compressed = hex(KAT_PUBLIC)[..33].to_vec();
    compressed[0] = 0x02 | (hex(KAT_PUBLIC)[64] & 1);
    for (public, why) in [
        (off_curve, "off the curve"),
        (compressed, "compressed"),
        (vec![0], "infinity"),
        (vec![4, 1, 2], "short"),
    ] {
        let got = sm2().verify(
            SigScheme::Sm2Sm3,
            &public,
            b"message digest",
            &hex(KAT_SIGNATURE),
        );
        assert!(
            matches!(got, Err(CryptoError::InvalidKey)),
            "{why}: {got:?}"
        );
    }
}

#[test]
fn sm_tables() {
    for id in [AlgorithmId::Sm3, AlgorithmId::CurveSm2, AlgorithmId::Sm2] {
        let alg = ENGINE.find(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(
            alg.cpu_features().bits(),
            0,
            "{id}: portable C in OpenSSL 3.0"
        );
    }
    // SM4-GCM and SM4-CCM arrived in OpenSSL 3.2.
    assert!(ENGINE.aead(AlgorithmId::Sm4Gcm).is_none());
    assert!(ENGINE.aead(AlgorithmId::Sm4Ccm).is_none());
}
