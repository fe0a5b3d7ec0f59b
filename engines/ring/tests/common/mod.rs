//! Checks every pure-library engine passes, written once and run per engine.
//!
//! Known answers come from the specs: the GCM spec (McGrew & Viega) test cases 2, 4 and 16,
//! RFC 8439 §2.8.2, FIPS 180-2 "abc", RFC 4231 cases 1-2 and RFC 8032 §7.1 TEST 1.
//! The aws-lc engine's tests include this file by path.

use meshtls_tls_core::engine::{AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::{AlgorithmId, CryptoError, Engine, SigScheme};

/// PKCS#8 DER keys made by the `openssl` CLI at test time (a real, independent key
/// generator; no keys are committed). Generated once per test binary.
fn openssl_key(cell: &'static std::sync::OnceLock<Vec<u8>>, args: &str) -> &'static [u8] {
    cell.get_or_init(|| {
        let pipeline =
            format!("openssl genpkey {args} | openssl pkcs8 -topk8 -nocrypt -outform DER");
        let out = std::process::Command::new("sh")
            .args(["-c", &pipeline])
            .output()
            .expect("the openssl CLI runs (scripts/setup-system installs it)");
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{pipeline} failed"
        );
        out.stdout
    })
}

pub fn rsa_2048() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    openssl_key(&KEY, "-algorithm RSA -pkeyopt rsa_keygen_bits:2048")
}

pub fn p256_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    openssl_key(&KEY, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256")
}

pub fn p384_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    openssl_key(&KEY, "-algorithm EC -pkeyopt ec_paramgen_curve:P-384")
}

pub fn sm2_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    openssl_key(&KEY, "-algorithm EC -pkeyopt ec_paramgen_curve:SM2")
}

pub fn ed25519_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    openssl_key(&KEY, "-algorithm ED25519")
}

/// The national (SM) algorithms of the catalogue: only the SM and OpenSSL engines serve them.
pub const SM_ALGORITHMS: [AlgorithmId; 5] = [
    AlgorithmId::Sm4Gcm,
    AlgorithmId::Sm4Ccm,
    AlgorithmId::Sm3,
    AlgorithmId::CurveSm2,
    AlgorithmId::Sm2,
];

/// How many catalogue entries are not SM algorithms (what a full non-SM engine serves).
pub fn non_sm_catalogue_len() -> usize {
    AlgorithmId::ALL
        .iter()
        .filter(|a| !SM_ALGORITHMS.contains(a))
        .count()
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn nonce(bytes: &[u8]) -> [u8; AEAD_NONCE_LEN] {
    bytes.try_into().unwrap()
}

fn tag(bytes: &[u8]) -> [u8; AEAD_TAG_LEN] {
    bytes.try_into().unwrap()
}

fn assert_err<T>(got: Result<T, CryptoError>, want: fn(&CryptoError) -> bool, what: &str) {
    match got {
        Ok(_) => panic!("{what}: succeeded, expected an error"),
        Err(e) => assert!(want(&e), "{what}: unexpected error {e:?}"),
    }
}

const GCM_P: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                     1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const GCM_A: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const GCM_IV: &str = "cafebabefacedbaddecaf888";
const SUNSCREEN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you \
only one tip for the future, sunscreen would be it.";

/// (algorithm, key, nonce, aad, plaintext, ciphertext || tag)
type AeadVector = (AlgorithmId, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

fn aead_vectors() -> Vec<AeadVector> {
    vec![
        // GCM spec test case 2.
        (
            AlgorithmId::Aes128Gcm,
            vec![0; 16],
            vec![0; 12],
            vec![],
            vec![0; 16],
            hex("0388dace60b6a392f328c2b971b2fe78 ab6e47d42cec13bdf53a67b21257bddf"),
        ),
        // GCM spec test case 4.
        (
            AlgorithmId::Aes128Gcm,
            hex("feffe9928665731c6d6a8f9467308308"),
            hex(GCM_IV),
            hex(GCM_A),
            hex(GCM_P),
            hex(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091
                 5bc94fbc3221a5db94fae95ae7121a47",
            ),
        ),
        // GCM spec test case 16.
        (
            AlgorithmId::Aes256Gcm,
            hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
            hex(GCM_IV),
            hex(GCM_A),
            hex(GCM_P),
            hex(
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662
                 76fc6ece0f4e1768cddf8853bb2d551b",
            ),
        ),
        // RFC 8439 §2.8.2.
        (
            AlgorithmId::Chacha20Poly1305,
            (0x80..=0x9f).collect(),
            hex("070000004041424344454647"),
            hex("50515253c0c1c2c3c4c5c6c7"),
            SUNSCREEN.to_vec(),
            hex(
                "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
                 3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
                 92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
                 3ff4def08e4b7a9de576d26586cec64b6116
                 1ae10b594f09e26a7e902ecbd0600691",
            ),
        ),
    ]
}

pub fn aead_known_answers(e: &Engine) {
    for (id, key, n, aad, pt, expected) in aead_vectors() {
        let key = e.aead(id).unwrap().new_key(&key).unwrap();
        let mut buf = pt.clone();
        let t = key.seal_in_place(&nonce(&n), &aad, &mut buf).unwrap();
        let (ct, want_tag) = expected.split_at(pt.len());
        assert_eq!(buf, ct, "{id} ciphertext");
        assert_eq!(t.as_slice(), want_tag, "{id} tag");
        key.open_in_place(&nonce(&n), &aad, &mut buf, &tag(want_tag))
            .unwrap();
        assert_eq!(buf, pt, "{id} decrypts");
    }
}

pub fn aead_round_trip_and_tamper(e: &Engine) {
    assert_eq!(e.aeads.len(), 3);
    for aead in e.aeads {
        let id = aead.id();
        let len = id.aead_key_len().unwrap();
        let mut key = vec![0u8; len];
        e.random.fill(&mut key).unwrap();
        let key = aead.new_key(&key).unwrap();
        let (n, aad, msg) = (
            [7u8; 12],
            b"header".as_slice(),
            b"attack at dawn, bring snacks",
        );
        let mut ct = msg.to_vec();
        let t = key.seal_in_place(&n, aad, &mut ct).unwrap();
        assert_ne!(ct.as_slice(), msg.as_slice(), "{id} encrypts");

        let mut buf = ct.clone();
        key.open_in_place(&n, aad, &mut buf, &t).unwrap();
        assert_eq!(buf, msg, "{id} round trip");

        let mut buf = ct.clone();
        buf[3] ^= 0x01;
        let got = key.open_in_place(&n, aad, &mut buf, &t);
        assert_err(
            got,
            |e| matches!(e, CryptoError::DecryptFailed),
            "flipped ciphertext",
        );
        assert!(
            buf.iter().all(|b| *b == 0),
            "{id}: no plaintext left after a failed open"
        );

        let mut bad_tag = t;
        bad_tag[15] ^= 0x80;
        let got = key.open_in_place(&n, aad, &mut ct.clone(), &bad_tag);
        assert_err(
            got,
            |e| matches!(e, CryptoError::DecryptFailed),
            "flipped tag",
        );

        let got = key.open_in_place(&n, b"heades", &mut ct.clone(), &t);
        assert_err(
            got,
            |e| matches!(e, CryptoError::DecryptFailed),
            "changed aad",
        );

        let got = key.open_in_place(&[8u8; 12], aad, &mut ct.clone(), &t);
        assert_err(
            got,
            |e| matches!(e, CryptoError::DecryptFailed),
            "other nonce",
        );

        for bad_len in [0, len - 1, len + 1] {
            let got = aead.new_key(&vec![1u8; bad_len]);
            assert_err(
                got,
                |e| matches!(e, CryptoError::InvalidKey),
                "wrong key length",
            );
        }
    }
}

pub fn hash_known_answers(e: &Engine) {
    let vectors = [
        (
            AlgorithmId::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            AlgorithmId::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed
             8086072ba1e7cc2358baeca134c825a7",
        ),
    ];
    for (id, want) in vectors {
        let h = e.hash(id).unwrap();
        assert_eq!(h.hash(b"abc").as_ref(), hex(want), "{id}(abc)");

        let mut ctx = h.start();
        ctx.update(b"a");
        let fork = ctx.fork();
        assert_eq!(
            ctx.fork_finish().as_ref(),
            h.hash(b"a").as_ref(),
            "{id} fork_finish"
        );
        ctx.update(b"bc");
        assert_eq!(ctx.finish().as_ref(), hex(want), "{id} incremental");
        assert_eq!(
            fork.finish().as_ref(),
            h.hash(b"a").as_ref(),
            "{id} fork is independent"
        );
    }
}

pub fn hmac_known_answers(e: &Engine) {
    // RFC 4231 test cases 1 and 2.
    let vectors = [
        (
            AlgorithmId::Sha256,
            vec![0x0b; 20],
            b"Hi There".as_slice(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            AlgorithmId::Sha384,
            vec![0x0b; 20],
            b"Hi There".as_slice(),
            "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c
             faea9ea9076ede7f4af152e8b2fa9cb6",
        ),
        (
            AlgorithmId::Sha256,
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".as_slice(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            AlgorithmId::Sha384,
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".as_slice(),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e
             8e2240ca5e69e2c78b3239ecfab21649",
        ),
    ];
    for (id, key, data, want) in vectors {
        let key = e.hash(id).unwrap().hmac_key(&key);
        assert_eq!(key.tag_len(), id.hash_len().unwrap());
        assert_eq!(
            key.sign_concat(data, &[], &[]).as_ref(),
            hex(want),
            "HMAC-{id}"
        );
        let (a, rest) = data.split_at(2);
        let (b, c) = rest.split_at(3);
        assert_eq!(
            key.sign_concat(a, &[b, &[]], c).as_ref(),
            hex(want),
            "HMAC-{id} in parts"
        );
    }
}

/// Share lengths in TLS wire encoding.
pub fn share_len(id: AlgorithmId) -> (usize, usize) {
    match id {
        AlgorithmId::X25519 => (32, 32),
        AlgorithmId::P256 | AlgorithmId::CurveSm2 => (65, 65),
        AlgorithmId::P384 => (97, 97),
        AlgorithmId::X25519MlKem768 => (1184 + 32, 1088 + 32),
        other => panic!("{other} is not a key exchange"),
    }
}

pub fn kx_agreement(e: &Engine) {
    for kx in e.key_exchanges {
        let id = kx.id();
        let (client_len, server_len) = share_len(id);
        let client = kx.start().unwrap();
        assert_eq!(client.public_key().len(), client_len, "{id} client share");
        if id != AlgorithmId::X25519 && id != AlgorithmId::X25519MlKem768 {
            assert_eq!(client.public_key()[0], 0x04, "{id}: uncompressed point");
        }
        let (server_share, server_secret) = kx.respond(client.public_key()).unwrap();
        assert_eq!(server_share.len(), server_len, "{id} server share");
        let client_secret = client.complete(&server_share).unwrap();
        assert_eq!(
            client_secret.secret_bytes(),
            server_secret.secret_bytes(),
            "{id} agree"
        );
        assert!(client_secret.secret_bytes().iter().any(|b| *b != 0));

        if id != AlgorithmId::X25519MlKem768 {
            // Plain Diffie-Hellman: both sides may start independently.
            let a = kx.start().unwrap();
            let b = kx.start().unwrap();
            let b_pub = b.public_key().to_vec();
            let ab = a.public_key().to_vec();
            let sa = a.complete(&b_pub).unwrap();
            let sb = b.complete(&ab).unwrap();
            assert_eq!(sa.secret_bytes(), sb.secret_bytes(), "{id} DH agree");
            assert_ne!(
                sa.secret_bytes(),
                client_secret.secret_bytes(),
                "{id} fresh keys"
            );
        }
    }
}

pub fn kx_rejects_invalid_shares(e: &Engine) {
    let invalid = |id: AlgorithmId, share: Vec<u8>, why: &str| {
        let kx = e.key_exchange(id).unwrap();
        let got = kx.start().unwrap().complete(&share);
        assert_err(got, |e| matches!(e, CryptoError::InvalidPeerShare), why);
    };
    // RFC 7748 §6.1: an all-zero output must be rejected; the zero point gives one.
    invalid(AlgorithmId::X25519, vec![0; 32], "x25519 low-order point");
    invalid(AlgorithmId::X25519, vec![9; 31], "x25519 short share");
    invalid(AlgorithmId::X25519, vec![], "x25519 empty share");
    let ec_groups = [AlgorithmId::P256, AlgorithmId::P384, AlgorithmId::CurveSm2];
    for id in ec_groups
        .into_iter()
        .filter(|id| e.key_exchange(*id).is_some())
    {
        let (len, _) = share_len(id);
        let mut off_curve = vec![1u8; len];
        off_curve[0] = 0x04;
        invalid(id, off_curve, "point not on the curve");
        let mut compressed = e
            .key_exchange(id)
            .unwrap()
            .start()
            .unwrap()
            .public_key()
            .to_vec();
        compressed.truncate(1 + (len - 1) / 2);
        compressed[0] = 0x02;
        invalid(id, compressed, "compressed point");
        invalid(id, vec![0], "point at infinity");
        invalid(id, vec![], "empty share");
    }
}

/// Signs and verifies with every scheme `key` offers; the others must be `Unsupported`.
fn sign_all(e: &Engine, id: AlgorithmId, pkcs8: &[u8]) {
    let alg = e.signature(id).unwrap();
    let key = alg.load_signing_key(pkcs8).unwrap();
    let public = key.public_key();
    match id {
        AlgorithmId::EcdsaP256 | AlgorithmId::Sm2 => assert_eq!((public.len(), public[0]), (65, 4)),
        AlgorithmId::EcdsaP384 => assert_eq!((public.len(), public[0]), (97, 4)),
        AlgorithmId::Ed25519 => assert_eq!(public.len(), 32),
        _ => assert_eq!(public[0], 0x30, "RSAPublicKey is a DER SEQUENCE"),
    }
    assert!(!key.schemes().is_empty());
    let msg = b"spiffe://example.org/ns/default/sa/web";
    for &scheme in id.schemes() {
        if !key.schemes().contains(&scheme) {
            let got = key.sign(scheme, msg);
            assert_err(
                got,
                |e| matches!(e, CryptoError::Unsupported(_)),
                "unoffered scheme",
            );
            continue;
        }
        let sig = key.sign(scheme, msg).unwrap();
        alg.verify(scheme, &public, msg, &sig).unwrap();
        let got = alg.verify(
            scheme,
            &public,
            b"spiffe://example.org/ns/default/sa/wEb",
            &sig,
        );
        assert_err(
            got,
            |e| matches!(e, CryptoError::BadSignature),
            "modified message",
        );
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        let got = alg.verify(scheme, &public, msg, &bad);
        assert_err(
            got,
            |e| matches!(e, CryptoError::BadSignature),
            "modified signature",
        );
        // Another scheme of the same key type does not accept this signature.
        if let Some(&other) = id.schemes().iter().find(|s| **s != scheme) {
            let got = alg.verify(other, &public, msg, &sig);
            assert_err(
                got,
                |e| matches!(e, CryptoError::BadSignature),
                "other scheme",
            );
        }
    }
}

/// Round trips with a freshly generated key of each type and with OpenSSL-made keys.
/// Returns the algorithms whose `generate_key` was `Unsupported`.
pub fn sign_verify_round_trips(e: &Engine) -> Vec<AlgorithmId> {
    let mut cannot_generate = Vec::new();
    for alg in e.signatures {
        let id = alg.id();
        match alg.generate_key() {
            Ok(pkcs8) => sign_all(e, id, &pkcs8),
            Err(CryptoError::Unsupported(_)) => cannot_generate.push(id),
            Err(other) => panic!("{id} generate_key: {other:?}"),
        }
        let openssl_key = match id {
            AlgorithmId::EcdsaP256 => p256_key(),
            AlgorithmId::EcdsaP384 => p384_key(),
            AlgorithmId::Ed25519 => ed25519_key(),
            AlgorithmId::Sm2 => sm2_key(),
            _ => rsa_2048(),
        };
        sign_all(e, id, openssl_key);
    }
    cannot_generate
}

pub fn wrong_key_types_rejected(e: &Engine) {
    let cases = [
        (AlgorithmId::EcdsaP256, ed25519_key()),
        (AlgorithmId::EcdsaP256, p384_key()),
        (AlgorithmId::EcdsaP384, p256_key()),
        (AlgorithmId::EcdsaP384, rsa_2048()),
        (AlgorithmId::Ed25519, p256_key()),
        (AlgorithmId::Ed25519, rsa_2048()),
        (AlgorithmId::RsaPss, p256_key()),
        (AlgorithmId::RsaPkcs1, ed25519_key()),
    ];
    for (id, key) in cases {
        let got = e.signature(id).unwrap().load_signing_key(key);
        assert_err(got, |e| matches!(e, CryptoError::WrongKeyType), id.name());
    }
    for alg in e.signatures {
        let got = alg.load_signing_key(b"\x30\x03\x02\x01\x00");
        assert_err(got, |e| matches!(e, CryptoError::InvalidKey), "garbage key");
    }
    // A scheme of another key type is refused by key and verifier alike.
    let key = e.signature(AlgorithmId::Ed25519).unwrap();
    let signer = key.load_signing_key(ed25519_key()).unwrap();
    let got = signer.sign(SigScheme::EcdsaP256Sha256, b"m");
    assert_err(
        got,
        |e| matches!(e, CryptoError::WrongKeyType),
        "foreign scheme sign",
    );
    let got = key.verify(
        SigScheme::RsaPssSha256,
        &signer.public_key(),
        b"m",
        &[0; 64],
    );
    assert_err(
        got,
        |e| matches!(e, CryptoError::WrongKeyType),
        "foreign scheme verify",
    );
}

pub fn ed25519_known_answer(e: &Engine) {
    // RFC 8032 §7.1 TEST 1, wrapped as a PKCS#8 v1 key (RFC 8410).
    let pkcs8 = hex("302e020100300506032b657004220420
                     9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155
                   5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    let alg = e.signature(AlgorithmId::Ed25519).unwrap();
    let key = alg.load_signing_key(&pkcs8).unwrap();
    assert_eq!(key.public_key(), public);
    assert_eq!(key.sign(SigScheme::Ed25519, b"").unwrap(), sig);
    alg.verify(SigScheme::Ed25519, &public, b"", &sig).unwrap();
}

pub fn random_fills(e: &Engine) {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    e.random.fill(&mut a).unwrap();
    e.random.fill(&mut b).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
}

/// Reported CPU features are ones this machine has, and every listed algorithm is found.
pub fn tables_are_consistent(e: &Engine) {
    let here = meshtls_tls_core::cpu::detected();
    for alg in e.algorithms() {
        let used = alg.cpu_features();
        assert_eq!(
            used.bits() & !here.bits(),
            0,
            "{} claims absent features",
            alg.id()
        );
        assert!(e.find(alg.id()).is_some());
    }
    assert!(!(e.version)().is_empty());
}
