//! TLCP wire layer: the PRF against OpenSSL 3's TLS1-PRF (CLI) and HMAC-SM3 (library), record
//! protection against independent SM4-CBC/HMAC and SM4-GCM implementations (RustCrypto
//! `sm4` + OpenSSL HMAC, RustCrypto `aes-gcm` over `sm4`), round trips of every handshake
//! message, joiner splits, tampering, replay, overflow, and thousands of random mutations of
//! every decoder (typed errors, never a panic).

use std::process::Command;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use meshtls_engine_sm::modes::gcm::Sm4Gcm;
use meshtls_engine_sm::tlcp::alert::{Alert, AlertDescription};
use meshtls_engine_sm::tlcp::cipher::RecordCipher;
use meshtls_engine_sm::tlcp::error::{DecodeErrorKind, TlcpError};
use meshtls_engine_sm::tlcp::message::*;
use meshtls_engine_sm::tlcp::prf::{self, DirectionKeys, Sender};
use meshtls_engine_sm::tlcp::record::*;
use meshtls_engine_sm::tlcp::suite::{BulkCipher, CipherSuite, KeyExchangeKind, ALL_SUITES};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use rand::distributions::uniform::SampleRange;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rustls_pki_types::CertificateDer;
use sm4_rustcrypto::cipher::{BlockDecrypt, BlockEncrypt};

fn rng() -> StdRng {
    StdRng::seed_from_u64(0x71c9_2020)
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn random_len(rng: &mut StdRng, len: impl SampleRange<usize>) -> Vec<u8> {
    let n = rng.gen_range(len);
    random_bytes(rng, n)
}

fn random_array<const N: usize>(rng: &mut StdRng) -> [u8; N] {
    let mut a = [0u8; N];
    rng.fill_bytes(&mut a);
    a
}

// === PRF ===

/// OpenSSL 3's HMAC-SM3.
fn openssl_hmac_sm3(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let pkey = PKey::hmac(key).expect("HMAC key");
    let mut signer = Signer::new(MessageDigest::sm3(), &pkey).expect("HMAC-SM3 signer");
    for part in parts {
        signer.update(part).expect("update");
    }
    signer.sign_to_vec().expect("sign")
}

/// RFC 5246 P_hash written out over OpenSSL's HMAC-SM3.
fn reference_prf(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut a = openssl_hmac_sm3(secret, &[label, seed]);
    while out.len() < len {
        out.extend(openssl_hmac_sm3(secret, &[&a, label, seed]));
        a = openssl_hmac_sm3(secret, &[&a]);
    }
    out.truncate(len);
    out
}

/// The system `openssl kdf ... TLS1-PRF` with SM3 (OpenSSL 3.0's own P_hash).
fn openssl_cli_prf(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut label_seed = label.to_vec();
    label_seed.extend_from_slice(seed);
    let out = Command::new("openssl")
        .args(["kdf", "-keylen", &len.to_string(), "-kdfopt", "digest:SM3"])
        .arg(format!("-kdfopt=hexsecret:{}", hex::encode(secret)))
        .arg(format!("-kdfopt=hexseed:{}", hex::encode(&label_seed)))
        .arg("TLS1-PRF")
        .output()
        .expect("run openssl kdf");
    assert!(
        out.status.success(),
        "openssl kdf: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    hex::decode(text.trim().replace(':', "")).expect("hex output")
}

#[test]
fn prf_matches_openssl_tls1_prf_cli() {
    let mut rng = rng();
    // Secret lengths around the HMAC block (64) include the hashed-key path.
    for (i, secret_len) in [0usize, 1, 32, 48, 63, 64, 65, 100].into_iter().enumerate() {
        let secret = random_bytes(&mut rng, secret_len.max(1));
        let seed = random_bytes(&mut rng, 64);
        let len = [12, 32, 40, 48, 128, 200, 31, 33][i];
        let mut ours = vec![0u8; len];
        prf::prf(&secret, b"key expansion", &seed, &mut ours);
        assert_eq!(
            ours,
            openssl_cli_prf(&secret, b"key expansion", &seed, len),
            "case {i}"
        );
    }
}

#[test]
fn prf_matches_reference_on_random_inputs() {
    let mut rng = rng();
    for _ in 0..200 {
        let secret = random_len(&mut rng, 1..150);
        let label = random_len(&mut rng, 0..20);
        let seed = random_len(&mut rng, 0..100);
        let len = rng.gen_range(1..300);
        let mut ours = vec![0u8; len];
        prf::prf(&secret, &label, &seed, &mut ours);
        assert_eq!(ours, reference_prf(&secret, &label, &seed, len));
    }
}

#[test]
fn key_schedule_follows_the_prf() {
    let mut rng = rng();
    let pms = random_bytes(&mut rng, 48);
    let cr: [u8; 32] = random_array(&mut rng);
    let sr: [u8; 32] = random_array(&mut rng);
    let master = prf::master_secret(&pms, &cr, &sr);
    let expected = openssl_cli_prf(&pms, b"master secret", &[cr, sr].concat(), 48);
    assert_eq!(master.as_ref(), expected.as_slice());

    for suite in ALL_SUITES {
        let kb = prf::key_block(suite, &master, &cr, &sr);
        let stream = reference_prf(master.as_ref(), b"key expansion", &[sr, cr].concat(), 128);
        let (m, k, v) = (suite.mac_key_len(), 16, suite.fixed_iv_len());
        let mut at = 0;
        let mut next = |n: usize| {
            at += n;
            stream[at - n..at].to_vec()
        };
        assert_eq!(*kb.client_write.mac_key, next(m));
        assert_eq!(*kb.server_write.mac_key, next(m));
        assert_eq!(kb.client_write.enc_key.to_vec(), next(k));
        assert_eq!(kb.server_write.enc_key.to_vec(), next(k));
        assert_eq!(*kb.client_write.iv, next(v));
        assert_eq!(*kb.server_write.iv, next(v));
        assert_eq!(at, suite.key_block_len());
    }

    let hash: [u8; 32] = random_array(&mut rng);
    let client = prf::verify_data(&master, Sender::Client, &hash);
    let server = prf::verify_data(&master, Sender::Server, &hash);
    assert_eq!(
        client.to_vec(),
        reference_prf(master.as_ref(), b"client finished", &hash, 12)
    );
    assert_eq!(
        server.to_vec(),
        reference_prf(master.as_ref(), b"server finished", &hash, 12)
    );
}

// === Messages ===

fn random_extensions(rng: &mut StdRng) -> Option<Vec<Extension>> {
    rng.gen_bool(0.5).then(|| {
        (0..rng.gen_range(0..4u16))
            .map(|i| Extension {
                typ: i * 7 + 1,
                data: random_len(rng, 0..20),
            })
            .collect()
    })
}

/// One random instance of every message, framed.
fn sample_flight(rng: &mut StdRng) -> Vec<Vec<u8>> {
    let point = {
        let mut p = random_bytes(rng, 65);
        p[0] = 4;
        p
    };
    let suite = ALL_SUITES[rng.gen_range(0..4)];
    let mut compression = random_len(rng, 0..3);
    compression.push(0);
    vec![
        HelloRequest.encode().unwrap(),
        ClientHello {
            version: TLCP_VERSION,
            random: random_array(rng),
            session_id: random_len(rng, 0..=32),
            cipher_suites: (0..rng.gen_range(1..6)).map(|_| rng.gen()).collect(),
            compression_methods: compression,
            extensions: random_extensions(rng),
        }
        .encode()
        .unwrap(),
        ServerHello {
            version: TLCP_VERSION,
            random: random_array(rng),
            session_id: random_len(rng, 0..=32),
            cipher_suite: suite,
            extensions: random_extensions(rng),
        }
        .encode()
        .unwrap(),
        Certificate {
            certs: (0..rng.gen_range(0..4))
                .map(|_| CertificateDer::from(random_len(rng, 1..600)))
                .collect(),
        }
        .encode()
        .unwrap(),
        ServerKeyExchange::Ecc {
            signature: random_bytes(rng, 72),
        }
        .encode()
        .unwrap(),
        ServerKeyExchange::Ecdhe {
            params: EcdheParams {
                point: point.clone(),
            },
            signature: random_bytes(rng, 71),
        }
        .encode()
        .unwrap(),
        CertificateRequest {
            certificate_types: vec![CERT_TYPE_ECDSA_SIGN, 1],
            authorities: (0..rng.gen_range(0..3))
                .map(|_| random_len(rng, 1..90))
                .collect(),
        }
        .encode()
        .unwrap(),
        ServerHelloDone.encode().unwrap(),
        ClientKeyExchange::Ecc {
            encrypted_pms: random_bytes(rng, 155),
        }
        .encode()
        .unwrap(),
        ClientKeyExchange::Ecdhe {
            params: EcdheParams {
                point: point.clone(),
            },
            encoding: EcdheKeyExchangeEncoding::Bare,
        }
        .encode()
        .unwrap(),
        ClientKeyExchange::Ecdhe {
            params: EcdheParams { point },
            encoding: EcdheKeyExchangeEncoding::Vector,
        }
        .encode()
        .unwrap(),
        CertificateVerify {
            signature: random_bytes(rng, 70),
        }
        .encode()
        .unwrap(),
        Finished {
            verify_data: random_array(rng),
        }
        .encode()
        .unwrap(),
    ]
}

/// Decodes a frame by its type (both key-exchange kinds where it matters) and re-encodes
/// it; `Ok(None)` for a type without a decoder.
fn decode_and_reencode(frame: &HandshakeFrame) -> Result<Option<Vec<Vec<u8>>>, TlcpError> {
    let body = frame.body();
    let encodings = match frame.typ() {
        HandshakeType::HelloRequest => vec![HelloRequest::decode(body)?.encode()?],
        HandshakeType::ClientHello => vec![ClientHello::decode(body)?.encode()?],
        HandshakeType::ServerHello => vec![ServerHello::decode(body)?.encode()?],
        HandshakeType::Certificate => vec![Certificate::decode(body)?.encode()?],
        HandshakeType::CertificateRequest => vec![CertificateRequest::decode(body)?.encode()?],
        HandshakeType::ServerHelloDone => vec![ServerHelloDone::decode(body)?.encode()?],
        HandshakeType::CertificateVerify => vec![CertificateVerify::decode(body)?.encode()?],
        HandshakeType::Finished => vec![Finished::decode(body)?.encode()?],
        HandshakeType::ServerKeyExchange => {
            let ecc = ServerKeyExchange::decode(body, KeyExchangeKind::Ecc);
            let ecdhe = ServerKeyExchange::decode(body, KeyExchangeKind::Ecdhe);
            match (ecc, ecdhe) {
                (Err(e), Err(_)) => return Err(e),
                (ecc, ecdhe) => {
                    let ok = ecc.into_iter().chain(ecdhe);
                    ok.map(|m| m.encode()).collect::<Result<_, _>>()?
                }
            }
        }
        HandshakeType::ClientKeyExchange => {
            let ecc = ClientKeyExchange::decode(body, KeyExchangeKind::Ecc);
            let ecdhe = ClientKeyExchange::decode(body, KeyExchangeKind::Ecdhe);
            match (ecc, ecdhe) {
                (Err(e), Err(_)) => return Err(e),
                (ecc, ecdhe) => {
                    let ok = ecc.into_iter().chain(ecdhe);
                    ok.map(|m| m.encode()).collect::<Result<_, _>>()?
                }
            }
        }
        HandshakeType::Unknown(_) => return Ok(None),
    };
    Ok(Some(encodings))
}

#[test]
fn every_message_round_trips_through_random_record_splits() {
    let mut rng = rng();
    for _ in 0..200 {
        let flight = sample_flight(&mut rng);
        let wire: Vec<u8> = flight.concat();
        let mut joiner = HandshakeJoiner::new();
        let mut frames = Vec::new();
        let mut at = 0;
        while at < wire.len() {
            let n = rng.gen_range(1..=(wire.len() - at).min(400));
            joiner.push(&wire[at..at + n]).unwrap();
            at += n;
            while let Some(f) = joiner.next_message().unwrap() {
                frames.push(f);
            }
        }
        assert!(joiner.is_empty());
        assert_eq!(frames.len(), flight.len());
        for (frame, sent) in frames.iter().zip(&flight) {
            assert_eq!(frame.encoded(), sent.as_slice(), "exact transcript bytes");
            let again = decode_and_reencode(frame).unwrap().unwrap();
            assert!(
                again.contains(sent),
                "{:?} re-encodes identically",
                frame.typ()
            );
        }
    }
}

#[test]
fn key_exchange_shapes_match_tongsuo() {
    let point = [4u8; 65];
    let params = EcdheParams {
        point: point.to_vec(),
    };
    // Bare ECDHE ClientKeyExchange: 03 0029 41 point (69 bytes), as Tongsuo sends by default.
    let bare = ClientKeyExchange::Ecdhe {
        params: params.clone(),
        encoding: Default::default(),
    }
    .encode()
    .unwrap();
    assert_eq!(&bare[..8], &[16, 0, 0, 69, 3, 0, 0x29, 65]);
    // Vector form: the same behind a u16 length (Tongsuo's strict mode, GB/T text).
    let vector = ClientKeyExchange::Ecdhe {
        params: params.clone(),
        encoding: EcdheKeyExchangeEncoding::Vector,
    }
    .encode()
    .unwrap();
    assert_eq!(&vector[..10], &[16, 0, 0, 71, 0, 69, 3, 0, 0x29, 65]);
    let decoded = ClientKeyExchange::decode(&vector[4..], KeyExchangeKind::Ecdhe).unwrap();
    assert!(matches!(
        decoded,
        ClientKeyExchange::Ecdhe {
            encoding: EcdheKeyExchangeEncoding::Vector,
            ..
        }
    ));
    // ECDHE ServerKeyExchange: params then u16 signature, no signature algorithm.
    let ske = ServerKeyExchange::Ecdhe {
        params,
        signature: vec![0x30, 0],
    }
    .encode()
    .unwrap();
    assert_eq!(&ske[4..8], &[3, 0, 0x29, 65]);
    assert_eq!(&ske[4 + 69..], &[0, 2, 0x30, 0]);
    // Other curves are refused as illegal parameters.
    let mut other_curve = ske[4..].to_vec();
    other_curve[2] = 23;
    let err = ServerKeyExchange::decode(&other_curve, KeyExchangeKind::Ecdhe).unwrap_err();
    assert_eq!(err.alert(), AlertDescription::IllegalParameter);
}

#[test]
fn typed_errors_name_the_field() {
    let hello = ClientHello {
        version: TLCP_VERSION,
        random: [0; 32],
        session_id: vec![0; 33],
        cipher_suites: vec![0xE053],
        compression_methods: vec![0],
        extensions: None,
    };
    assert!(matches!(
        hello.encode(),
        Err(TlcpError::Decode {
            what: "ClientHello.session_id",
            ..
        })
    ));
    let mut body = ClientHello {
        session_id: vec![],
        ..hello
    }
    .encode()
    .unwrap()
    .split_off(4);
    body.truncate(30);
    assert!(matches!(
        ClientHello::decode(&body),
        Err(TlcpError::Decode {
            what: "ClientHello.random",
            kind: DecodeErrorKind::Truncated
        })
    ));
    assert!(matches!(
        Finished::decode(&[0; 13]),
        Err(TlcpError::Decode {
            what: "Finished",
            kind: DecodeErrorKind::TrailingBytes
        })
    ));
    let err = ServerHello::decode(
        &[1, 1]
            .iter()
            .chain(&[0; 33])
            .chain(&[0xE0, 0x15, 0])
            .copied()
            .collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        TlcpError::Decode {
            what: "ServerHello.cipher_suite",
            ..
        }
    ));
    assert_eq!(err.alert(), AlertDescription::IllegalParameter);
    assert_eq!(
        Certificate::decode(&[0, 0, 4, 0, 0, 5, 1])
            .unwrap_err()
            .alert(),
        AlertDescription::DecodeError
    );
}

/// One random mutation: flips, truncation, extension, splices, overwritten lengths.
fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        match rng.gen_range(0..6) {
            0 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !v.is_empty() => {
                let i = rng.gen_range(0..v.len());
                v[i] = rng.gen();
            }
            2 => v.truncate(rng.gen_range(0..=v.len())),
            3 => {
                let extra = random_len(rng, 1..8);
                v.extend(extra);
            }
            4 if v.len() > 1 => {
                let i = rng.gen_range(0..v.len() - 1);
                v[i] = 0xff;
                v[i + 1] = 0xff;
            }
            _ => {
                let i = rng.gen_range(0..=v.len());
                let extra = random_len(rng, 1..4);
                v.splice(i..i, extra);
            }
        }
    }
    v
}

#[test]
fn mutated_messages_give_typed_errors_never_panics() {
    let mut rng = rng();
    let (mut tries, mut errors, mut accepted) = (0usize, 0usize, 0usize);
    for round in 0..40 {
        let flight = sample_flight(&mut rng);
        for msg in &flight {
            for _ in 0..40 {
                let bytes = if round % 10 == 0 {
                    random_len(&mut rng, 0..80)
                } else {
                    mutate(&mut rng, msg)
                };
                tries += 1;
                let mut joiner = HandshakeJoiner::new();
                let frame = match joiner.push(&bytes).and_then(|_| joiner.next_message()) {
                    Ok(Some(f)) => f,
                    // Incomplete: more bytes would be awaited.
                    Ok(None) => continue,
                    Err(e) => {
                        assert_eq!(e.alert(), AlertDescription::DecodeError, "{e}");
                        errors += 1;
                        continue;
                    }
                };
                match decode_and_reencode(&frame) {
                    Ok(_) => accepted += 1,
                    Err(e) => {
                        // Every decode failure maps to a protocol alert, never internal_error.
                        assert_ne!(e.alert(), AlertDescription::InternalError, "{e}");
                        errors += 1;
                    }
                }
            }
        }
    }
    println!("{tries} mutated messages: {errors} typed errors, {accepted} accepted");
    assert!(
        tries >= 20_000 && errors >= 4000,
        "{tries} tries: {errors} typed errors, {accepted} accepted"
    );
    // Every strict prefix of a fixed-shape body is an error.
    let fixed = [
        Finished {
            verify_data: [1; 12],
        }
        .encode()
        .unwrap(),
        CertificateVerify {
            signature: vec![1; 9],
        }
        .encode()
        .unwrap(),
        ServerKeyExchange::Ecc {
            signature: vec![1; 9],
        }
        .encode()
        .unwrap(),
    ];
    for msg in &fixed {
        for cut in HANDSHAKE_HEADER_LEN..msg.len() {
            let body = &msg[HANDSHAKE_HEADER_LEN..cut];
            assert!(Finished::decode(body).is_err() || msg[0] != 20);
            assert!(CertificateVerify::decode(body).is_err());
            assert!(ServerKeyExchange::decode(body, KeyExchangeKind::Ecc).is_err());
        }
    }
}

#[test]
fn alerts_decode_only_as_two_bytes() {
    let mut rng = rng();
    for _ in 0..2000 {
        let bytes = random_len(&mut rng, 0..5);
        match Alert::decode(&bytes) {
            Ok(alert) => assert_eq!(alert.encode().to_vec(), bytes),
            Err(e) => assert_eq!(e.alert(), AlertDescription::DecodeError),
        }
    }
}

// === Real peer bytes (Tongsuo 8.5) ===
//
// Captured from Tongsuo 8.5's `openssl s_client -enable_ntls -ntls` (its first record) and
// `s_server -enable_ntls` with SM2 sign/enc certificates from a throwaway CA, answering a
// ClientHello whose random is the bytes 0..32 and that offers one suite: ECC_SM4_GCM_SM3,
// then ECDHE_SM4_GCM_SM3. Each flight is ServerHello .. ServerHelloDone as sent.

const TONGSUO_CLIENT_HELLO_RECORD: &[&str] = &[
    "16010100430100003f0101da3460fce5cee64fa0d756c01e6591d2d5b21cd8f93e6c8d3bda3433409922fd000012e053",
    "e051e05ae059e013e011e01ce01900ff0100000400230000",
];
const TONGSUO_ECC_FLIGHT: &[&str] = &[
    "020000460101d23227489c9a084ce422da59689c7cda71c13191535c70363eb11e307b9ed6fd20baf1c6c3863cf9afe4",
    "05a6ec103b43ae832b9713526b7a6030f74051f357f57ae053000b00031b000318000189308201853082012ca0030201",
    "02021438081c6a1265c3ec4bf3cf7e141f713b42881924300a06082a811ccf5501837530153113301106035504030c0a",
    "62312074657374206361301e170d3236313132333037303030325a170d3336313132303037303030325a30123110300e",
    "06035504030c076231207369676e3059301306072a8648ce3d020106082a811ccf5501822d03420004b56829e78b059e",
    "16349574b09b97f1df9add0b755cc69254fcb7b18fe81081d92bbd02fdab972b0d3f6852074d866bfc424134c112924f",
    "c210e714deb099ca3ca35d305b300e0603551d0f0101ff04040302078030090603551d1304023000301d0603551d0e04",
    "16041471e5b8a2f14932734d8a160d5b7e354017108311301f0603551d2304183016801409cc004a67b271cd179e5270",
    "ae68fa98d9a858d5300a06082a811ccf5501837503470030440220715873e892dd60a5e8b300a1a22297faffe7bca3e8",
    "1a523de2f1697a4db354bf022065561a7a82f13a7842b26d52f0fa1ea90658fde13bffe230f3ad09085dbffb11000189",
    "308201853082012ba00302010202144adccd5781ca5564268b2422790ef372dccbba68300a06082a811ccf5501837530",
    "153113301106035504030c0a62312074657374206361301e170d3236313132333037303030325a170d33363131323030",
    "37303030325a3011310f300d06035504030c06623120656e633059301306072a8648ce3d020106082a811ccf5501822d",
    "03420004ef864b143e4e819215921ab2b4a3cd0f1191033267c784a3e6f3571adf654bdd6d142723caaccb1576d86cd4",
    "fcd9471aa4b29b15f51ed3798fa98c102075cd1ca35d305b300e0603551d0f0101ff04040302033830090603551d1304",
    "023000301d0603551d0e041604142e6dda2f4f935ccfc29e7bc21512cc46729a57b9301f0603551d2304183016801409",
    "cc004a67b271cd179e5270ae68fa98d9a858d5300a06082a811ccf55018375034800304502201d7aee29e7f22e319267",
    "370753cc833ff3c2cbf0dca4dede1f386a9b543f6b7e022100fa6b035c2211a0c12dce14cfd5a2df1c2f69ebfdfb5485",
    "848e1fe8dbf2cba0520c00004900473045022100e592c06300f0869c5ebb28bf94f9d9ccca64f08ac1d301b16dedf43c",
    "c86b416b02206f1d656a5ee98ba498e54a3a4f5cd573bc9636d2db3475333170edec58c85c560e000000",
];
const TONGSUO_ECDHE_FLIGHT: &[&str] = &[
    "020000460101d15e865202c16aad3c28a6779a8d316448deb6a41688643c60e10bc32bc3599e201b34576775e07f5d5f",
    "f162a4b26159ec01787e6a8cf7b396fb992e52bf8daee7e051000b00031b000318000189308201853082012ca0030201",
    "02021438081c6a1265c3ec4bf3cf7e141f713b42881924300a06082a811ccf5501837530153113301106035504030c0a",
    "62312074657374206361301e170d3236313132333037303030325a170d3336313132303037303030325a30123110300e",
    "06035504030c076231207369676e3059301306072a8648ce3d020106082a811ccf5501822d03420004b56829e78b059e",
    "16349574b09b97f1df9add0b755cc69254fcb7b18fe81081d92bbd02fdab972b0d3f6852074d866bfc424134c112924f",
    "c210e714deb099ca3ca35d305b300e0603551d0f0101ff04040302078030090603551d1304023000301d0603551d0e04",
    "16041471e5b8a2f14932734d8a160d5b7e354017108311301f0603551d2304183016801409cc004a67b271cd179e5270",
    "ae68fa98d9a858d5300a06082a811ccf5501837503470030440220715873e892dd60a5e8b300a1a22297faffe7bca3e8",
    "1a523de2f1697a4db354bf022065561a7a82f13a7842b26d52f0fa1ea90658fde13bffe230f3ad09085dbffb11000189",
    "308201853082012ba00302010202144adccd5781ca5564268b2422790ef372dccbba68300a06082a811ccf5501837530",
    "153113301106035504030c0a62312074657374206361301e170d3236313132333037303030325a170d33363131323030",
    "37303030325a3011310f300d06035504030c06623120656e633059301306072a8648ce3d020106082a811ccf5501822d",
    "03420004ef864b143e4e819215921ab2b4a3cd0f1191033267c784a3e6f3571adf654bdd6d142723caaccb1576d86cd4",
    "fcd9471aa4b29b15f51ed3798fa98c102075cd1ca35d305b300e0603551d0f0101ff04040302033830090603551d1304",
    "023000301d0603551d0e041604142e6dda2f4f935ccfc29e7bc21512cc46729a57b9301f0603551d2304183016801409",
    "cc004a67b271cd179e5270ae68fa98d9a858d5300a06082a811ccf55018375034800304502201d7aee29e7f22e319267",
    "370753cc833ff3c2cbf0dca4dede1f386a9b543f6b7e022100fa6b035c2211a0c12dce14cfd5a2df1c2f69ebfdfb5485",
    "848e1fe8dbf2cba0520c00008d0300294104d539685b0000af072681b0cae4590064b0db55c4f392f2609eec40b7b51b",
    "010e9df5fa0fb7ee5f07b58b286b075338a43af0b8cc6b9037e51479d0cad13790c60046304402205e50bf99c0b829fe",
    "90788f06574c93f68904d71282d2290751e4105564ee65f102204c68cec531df00c0fcc3e8f9dcfa168a6fdfe60bc3e4",
    "bf1cb4e28ebc54356cc00d00000502014000000e000000",
];

fn unhex(parts: &[&str]) -> Vec<u8> {
    hex::decode(parts.concat()).expect("fixture hex")
}

#[test]
fn decodes_tongsuo_client_hello() {
    let wire = unhex(TONGSUO_CLIENT_HELLO_RECORD);
    let records = deframe_all(&wire);
    assert_eq!(records.len(), 1);
    let mut joiner = HandshakeJoiner::new();
    joiner.push(&records[0].payload).unwrap();
    let frame = joiner.next_message().unwrap().unwrap();
    assert_eq!(frame.encoded(), &records[0].payload[..]);
    let hello = ClientHello::decode(frame.body()).unwrap();
    assert_eq!(hello.version, TLCP_VERSION);
    let known: Vec<_> = hello.known_suites().collect();
    assert_eq!(
        known,
        [
            CipherSuite::EccSm4GcmSm3,
            CipherSuite::EcdheSm4GcmSm3,
            CipherSuite::EccSm4CbcSm3,
            CipherSuite::EcdheSm4CbcSm3
        ]
    );
    assert_eq!(hello.encode().unwrap(), frame.encoded());
}

/// The server's signing key, from the first certificate (via OpenSSL's X.509 parser).
fn sign_key_of(cert: &CertificateDer<'_>) -> meshtls_engine_sm::sm2::PublicKey {
    let x509 = openssl::x509::X509::from_der(cert.as_ref()).expect("certificate");
    let spki = x509.public_key().unwrap().public_key_to_der().unwrap();
    meshtls_engine_sm::sm2::PublicKey::from_spki_der(&spki).expect("SM2 key")
}

/// Splits a Tongsuo server flight and checks its ServerKeyExchange signature over the bytes
/// our helpers build.
fn check_tongsuo_flight(flight: &[&str], kind: KeyExchangeKind) {
    use meshtls_engine_sm::sm2::{Signature, DEFAULT_ID};
    let client_random: [u8; 32] = core::array::from_fn(|i| i as u8);
    let wire = unhex(flight);
    let mut joiner = HandshakeJoiner::new();
    joiner.push(&wire).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = joiner.next_message().unwrap() {
        frames.push(f);
    }
    let types: Vec<_> = frames.iter().map(|f| f.typ()).collect();
    // ECDHE needs the client's encryption certificate, so Tongsuo asks for certificates.
    let mut expected = vec![
        HandshakeType::ServerHello,
        HandshakeType::Certificate,
        HandshakeType::ServerKeyExchange,
        HandshakeType::ServerHelloDone,
    ];
    if kind == KeyExchangeKind::Ecdhe {
        expected.insert(3, HandshakeType::CertificateRequest);
        let request = CertificateRequest::decode(frames[3].body()).unwrap();
        assert!(request.certificate_types.contains(&CERT_TYPE_ECDSA_SIGN));
    }
    assert_eq!(types, expected);
    for f in &frames {
        let again = decode_and_reencode(f).unwrap().unwrap();
        assert!(
            again.iter().any(|e| e == f.encoded()),
            "{:?} re-encodes",
            f.typ()
        );
    }
    let hello = ServerHello::decode(frames[0].body()).unwrap();
    assert_eq!(hello.cipher_suite.key_exchange(), kind);
    let certs = Certificate::decode(frames[1].body()).unwrap().certs;
    assert_eq!(
        certs.len(),
        2,
        "sign certificate, then encryption certificate"
    );
    let ske = ServerKeyExchange::decode(frames[2].body(), kind).unwrap();
    let signed = match &ske {
        ServerKeyExchange::Ecc { .. } => {
            ecc_signed_params(&client_random, &hello.random, certs[1].as_ref()).unwrap()
        }
        ServerKeyExchange::Ecdhe { params, .. } => {
            assert_eq!(params.point.len(), 65);
            ecdhe_signed_params(&client_random, &hello.random, params).unwrap()
        }
    };
    let sig = Signature::from_der(ske.signature()).unwrap();
    sign_key_of(&certs[0])
        .verify_with_id(DEFAULT_ID, &signed, &sig)
        .expect("Tongsuo signed these bytes");
    // The other certificate, or other randoms, do not verify.
    let wrong = ecc_signed_params(&client_random, &hello.random, certs[0].as_ref()).unwrap();
    assert!(sign_key_of(&certs[0])
        .verify_with_id(DEFAULT_ID, &wrong, &sig)
        .is_err());
}

#[test]
fn tongsuo_ecc_server_key_exchange_signs_our_bytes() {
    check_tongsuo_flight(TONGSUO_ECC_FLIGHT, KeyExchangeKind::Ecc);
}

#[test]
fn tongsuo_ecdhe_server_key_exchange_signs_our_bytes() {
    check_tongsuo_flight(TONGSUO_ECDHE_FLIGHT, KeyExchangeKind::Ecdhe);
}

// === Records ===

fn keys(suite: CipherSuite, rng: &mut StdRng) -> DirectionKeys {
    let master: [u8; 48] = random_array(rng);
    prf::key_block(suite, &master, &random_array(rng), &random_array(rng)).client_write
}

fn sealer_opener(suite: CipherSuite, k: &DirectionKeys) -> (RecordSealer, RecordOpener) {
    let mut s = RecordSealer::new();
    s.set_cipher(RecordCipher::new(suite, k).unwrap());
    let mut o = RecordOpener::new();
    o.set_cipher(RecordCipher::new(suite, k).unwrap());
    (s, o)
}

fn deframe_all(wire: &[u8]) -> Vec<OpaqueRecord> {
    let mut d = RecordDeframer::new();
    d.push(wire);
    let mut out = Vec::new();
    while let Some(r) = d.next_record().unwrap() {
        out.push(r);
    }
    assert!(d.is_empty());
    out
}

fn pseudo_header(seq: u64, typ: ContentType, len: usize) -> Vec<u8> {
    let mut h = seq.to_be_bytes().to_vec();
    h.push(typ.to_u8());
    h.extend_from_slice(&TLCP_VERSION.to_be_bytes());
    h.extend_from_slice(&(len as u16).to_be_bytes());
    h
}

/// RustCrypto SM4 in CBC mode, block by block.
fn ref_cbc(key: &[u8; 16], iv: &[u8], data: &mut [u8], encrypt: bool) {
    let c = <sm4_rustcrypto::Sm4 as KeyInit>::new(key.into());
    let mut prev = GenericArray::clone_from_slice(iv);
    for block in data.chunks_exact_mut(16) {
        let b = GenericArray::from_mut_slice(block);
        if encrypt {
            b.iter_mut().zip(prev.iter()).for_each(|(x, p)| *x ^= p);
            c.encrypt_block(b);
            prev = *b;
        } else {
            let saved = *b;
            c.decrypt_block(b);
            b.iter_mut().zip(prev.iter()).for_each(|(x, p)| *x ^= p);
            prev = saved;
        }
    }
}

/// An independent record opener: RustCrypto SM4 + OpenSSL HMAC, or RustCrypto AES-GCM's
/// generic GCM over RustCrypto SM4.
fn reference_open(
    suite: CipherSuite,
    k: &DirectionKeys,
    seq: u64,
    typ: ContentType,
    payload: &[u8],
) -> Vec<u8> {
    match suite.bulk() {
        BulkCipher::Sm4CbcHmacSm3 => {
            let (iv, ct) = payload.split_at(16);
            let mut data = ct.to_vec();
            ref_cbc(&k.enc_key, iv, &mut data, false);
            let pad = *data.last().unwrap() as usize;
            let content_len = data.len() - pad - 1 - 32;
            assert!(data[content_len + 32..].iter().all(|&b| b as usize == pad));
            let content = &data[..content_len];
            let mac = openssl_hmac_sm3(
                &k.mac_key,
                &[&pseudo_header(seq, typ, content_len), content],
            );
            assert_eq!(mac, &data[content_len..content_len + 32]);
            content.to_vec()
        }
        BulkCipher::Sm4Gcm => {
            let nonce = [k.iv.as_slice(), &payload[..8]].concat();
            let mut data = payload[8..payload.len() - 16].to_vec();
            let tag = &payload[payload.len() - 16..];
            assert_eq!(
                &payload[..8],
                &seq.to_be_bytes(),
                "explicit nonce = sequence number"
            );
            let gcm = aes_gcm::AesGcm::<sm4_rustcrypto::Sm4, U12>::new(k.enc_key.as_ref().into());
            gcm.decrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &pseudo_header(seq, typ, data.len()),
                &mut data,
                GenericArray::from_slice(tag),
            )
            .expect("reference GCM opens our record");
            data
        }
    }
}

/// An independent record sealer (CBC pads with `extra_blocks` more blocks than needed).
fn reference_seal(
    suite: CipherSuite,
    k: &DirectionKeys,
    seq: u64,
    typ: ContentType,
    content: &[u8],
    extra_blocks: usize,
) -> Vec<u8> {
    match suite.bulk() {
        BulkCipher::Sm4CbcHmacSm3 => {
            let mac = openssl_hmac_sm3(
                &k.mac_key,
                &[&pseudo_header(seq, typ, content.len()), content],
            );
            let mut data = [content, &mac].concat();
            let pad = 15 - data.len() % 16 + 16 * extra_blocks;
            data.resize(data.len() + pad + 1, pad as u8);
            let iv = [0x5au8; 16];
            ref_cbc(&k.enc_key, &iv, &mut data, true);
            [iv.as_slice(), &data].concat()
        }
        BulkCipher::Sm4Gcm => {
            let explicit = [0xa5u8; 8];
            let nonce = [k.iv.as_slice(), &explicit].concat();
            let mut data = content.to_vec();
            let gcm = aes_gcm::AesGcm::<sm4_rustcrypto::Sm4, U12>::new(k.enc_key.as_ref().into());
            let tag = gcm
                .encrypt_in_place_detached(
                    GenericArray::from_slice(&nonce),
                    &pseudo_header(seq, typ, content.len()),
                    &mut data,
                )
                .unwrap();
            [explicit.as_slice(), &data, tag.as_slice()].concat()
        }
    }
}

#[test]
fn records_interoperate_with_reference_implementations() {
    let mut rng = rng();
    for suite in ALL_SUITES {
        let k = keys(suite, &mut rng);
        let cipher = RecordCipher::new(suite, &k).unwrap();
        for seq in 0..60u64 {
            let len = if seq < 50 {
                seq as usize * 7
            } else {
                rng.gen_range(0..=MAX_PLAINTEXT_LEN)
            };
            let content = random_bytes(&mut rng, len);
            let typ = [
                ContentType::Handshake,
                ContentType::ApplicationData,
                ContentType::Alert,
            ][seq as usize % 3];
            let ours = cipher.encrypt(seq, typ, &content).unwrap();
            assert_eq!(reference_open(suite, &k, seq, typ, &ours), content);
            let theirs = reference_seal(suite, &k, seq, typ, &content, rng.gen_range(0..15));
            assert_eq!(cipher.decrypt(seq, typ, &theirs).unwrap(), content);
        }
    }
}

#[test]
fn sealer_fragments_and_opener_reassembles() {
    let mut rng = rng();
    for suite in ALL_SUITES {
        let (mut s, mut o) = sealer_opener(suite, &keys(suite, &mut rng));
        let data = random_bytes(&mut rng, 3 * MAX_PLAINTEXT_LEN + 123);
        let mut wire = Vec::new();
        s.seal(ContentType::ApplicationData, &data, &mut wire)
            .unwrap();
        s.seal(ContentType::ApplicationData, &[], &mut wire)
            .unwrap();
        let records = deframe_all(&wire);
        assert_eq!(records.len(), 4);
        let mut got = Vec::new();
        for r in records {
            assert!(r.payload.len() <= MAX_CIPHERTEXT_LEN);
            got.extend(o.open(r).unwrap().payload);
        }
        assert_eq!(got, data);
        assert_eq!((s.sequence(), o.sequence()), (4, 4));
    }
    // Null protection passes bytes through, with the TLCP version.
    let mut wire = Vec::new();
    RecordSealer::new()
        .seal(ContentType::Handshake, b"hi", &mut wire)
        .unwrap();
    assert_eq!(wire, [22, 1, 1, 0, 2, b'h', b'i']);
}

#[test]
fn tampering_anywhere_is_rejected() {
    let mut rng = rng();
    for suite in ALL_SUITES {
        let k = keys(suite, &mut rng);
        let (mut s, _) = sealer_opener(suite, &k);
        let mut wire = Vec::new();
        s.seal(
            ContentType::ApplicationData,
            &random_bytes(&mut rng, 100),
            &mut wire,
        )
        .unwrap();
        for i in 0..wire.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = wire.clone();
                bad[i] ^= bit;
                let (_, mut o) = sealer_opener(suite, &k);
                let mut d = RecordDeframer::new();
                d.push(&bad);
                let result = d
                    .next_record()
                    .and_then(|r| r.map(|r| o.open(r)).transpose());
                match i {
                    // Content type: authenticated (or unknown).
                    0 => assert!(matches!(
                        result,
                        Err(TlcpError::BadRecordMac | TlcpError::UnexpectedMessage(_))
                    )),
                    1 | 2 => assert!(matches!(result, Err(TlcpError::ProtocolVersion(_)))),
                    // Length: a shorter record fails its MAC, a longer one waits or overflows.
                    3 | 4 => assert!(matches!(
                        result,
                        Ok(None) | Err(TlcpError::BadRecordMac | TlcpError::RecordOverflow { .. })
                    )),
                    // IV/nonce, ciphertext, MAC, padding, tag.
                    _ => assert!(
                        matches!(result, Err(TlcpError::BadRecordMac)),
                        "{suite} byte {i}: {result:?}"
                    ),
                }
            }
        }
    }
}

#[test]
fn wrong_sequence_numbers_are_rejected() {
    let mut rng = rng();
    for suite in ALL_SUITES {
        let k = keys(suite, &mut rng);
        let (mut s, _) = sealer_opener(suite, &k);
        let mut wire = Vec::new();
        for i in 0..3u8 {
            s.seal(ContentType::ApplicationData, &[i; 20], &mut wire)
                .unwrap();
        }
        let records = deframe_all(&wire);
        // Dropped record.
        let (_, mut o) = sealer_opener(suite, &k);
        assert!(matches!(
            o.open(records[1].clone()),
            Err(TlcpError::BadRecordMac)
        ));
        // Replayed record.
        let (_, mut o) = sealer_opener(suite, &k);
        o.open(records[0].clone()).unwrap();
        assert!(matches!(
            o.open(records[0].clone()),
            Err(TlcpError::BadRecordMac)
        ));
        // Reordered records.
        let (_, mut o) = sealer_opener(suite, &k);
        assert!(o.open(records[2].clone()).is_err());
        // Wrong key direction.
        let mut other = k.clone();
        other.enc_key[0] ^= 1;
        let (_, mut o) = sealer_opener(suite, &other);
        assert!(matches!(
            o.open(records[0].clone()),
            Err(TlcpError::BadRecordMac)
        ));
    }
}

#[test]
fn overflow_limits() {
    // Header announcing more than 2^14 + 2048.
    let mut d = RecordDeframer::new();
    d.push(&[23, 1, 1]);
    d.push(&((MAX_CIPHERTEXT_LEN + 1) as u16).to_be_bytes());
    assert!(matches!(
        d.next_record(),
        Err(TlcpError::RecordOverflow { .. })
    ));
    // Null protection: a plaintext over 2^14.
    let rec = OpaqueRecord {
        typ: ContentType::Handshake,
        version: TLCP_VERSION,
        payload: vec![0; MAX_PLAINTEXT_LEN + 1],
    };
    assert!(matches!(
        RecordOpener::new().open(rec),
        Err(TlcpError::RecordOverflow { .. })
    ));
    // A protected record that authenticates but decrypts to more than 2^14 bytes.
    let mut rng = rng();
    let suite = CipherSuite::EcdheSm4GcmSm3;
    let k = keys(suite, &mut rng);
    let big = vec![7u8; MAX_PLAINTEXT_LEN + 1];
    let gcm = Sm4Gcm::new(&k.enc_key);
    let nonce: [u8; 12] = [k.iv.as_slice(), &[0u8; 8]].concat().try_into().unwrap();
    let mut data = big.clone();
    let mut tag = [0u8; 16];
    gcm.seal_in_place(
        &nonce,
        &pseudo_header(0, ContentType::ApplicationData, big.len()),
        &mut data,
        &mut tag,
    )
    .unwrap();
    let payload = [[0u8; 8].as_slice(), &data, &tag].concat();
    let (_, mut o) = sealer_opener(suite, &k);
    let rec = OpaqueRecord {
        typ: ContentType::ApplicationData,
        version: TLCP_VERSION,
        payload,
    };
    let err = o.open(rec).unwrap_err();
    assert_eq!(err.alert(), AlertDescription::RecordOverflow);
    // Our own sealer never writes more than 2^14 plaintext per record.
    let cipher = RecordCipher::new(suite, &k).unwrap();
    assert!(cipher
        .encrypt(0, ContentType::ApplicationData, &big)
        .is_err());
}

#[test]
fn mutated_records_never_panic() {
    let mut rng = rng();
    for suite in ALL_SUITES {
        let k = keys(suite, &mut rng);
        let (mut s, _) = sealer_opener(suite, &k);
        let mut wire = Vec::new();
        s.seal(
            ContentType::Handshake,
            &random_bytes(&mut rng, 300),
            &mut wire,
        )
        .unwrap();
        // One cipher for all tries (a fresh opener per try would rebuild the key schedule);
        // each deframed record is opened at its position's sequence number.
        let cipher = RecordCipher::new(suite, &k).unwrap();
        for _ in 0..1500 {
            let bad = mutate(&mut rng, &wire);
            let mut d = RecordDeframer::new();
            d.push(&bad);
            let mut seq = 0;
            while let Ok(Some(r)) = d.next_record() {
                match cipher.decrypt(seq, r.typ, &r.payload) {
                    Ok(plain) => assert!(plain.len() <= MAX_PLAINTEXT_LEN),
                    Err(e) => assert!(
                        matches!(
                            e,
                            TlcpError::BadRecordMac | TlcpError::RecordOverflow { .. }
                        ),
                        "{e}"
                    ),
                }
                seq += 1;
            }
        }
    }
}

#[test]
fn change_cipher_spec_payload() {
    assert!(check_change_cipher_spec(&CHANGE_CIPHER_SPEC_PAYLOAD).is_ok());
    for bad in [&[][..], &[2], &[1, 1]] {
        assert!(check_change_cipher_spec(bad).is_err());
    }
}
