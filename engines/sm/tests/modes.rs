//! GHASH and the SM4 modes of operation, on every code path this CPU runs.
//!
//! - Known answers: RFC 8998 A.1 (SM4-GCM) and A.2 (SM4-CCM), tests/data/modes_rfc8998.txt.
//! - Differential: GHASH against the `ghash` crate; ECB, CBC (raw and PKCS#7) and CTR against
//!   OpenSSL 3; GCM and CCM against RustCrypto's generic `aes-gcm` and `ccm` over RustCrypto's
//!   SM4, on thousands of random keys, nonces, AADs, messages and tag lengths.
//! - Properties: decrypt(encrypt(x)) = x for every mode and length (0, 1, 15, 16, 17, ...),
//!   on unaligned sub-slices; every bit flip of ciphertext, AAD, tag and nonce, and a wrong
//!   key, give `BadTag` without releasing plaintext; bad lengths give typed errors.
//!
//! Paths the CPU lacks are skipped with a printed "skipped: CPU lacks ..." line. A timing
//! report (not an assertion) runs with `cargo test --release --test modes -- --ignored
//! --nocapture`.

use std::collections::HashMap;

use aes_gcm::aead::consts::{U10, U11, U12, U13, U14, U16, U4, U6, U7, U8, U9};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use ghash::universal_hash::UniversalHash;
use meshtls_engine_sm::ghash::{Ghash, GhashPath};
use meshtls_engine_sm::modes::{cbc, ctr, ecb, Sm4Ccm, Sm4Gcm};
use meshtls_engine_sm::sm4::{Sm4, Sm4Path};
use meshtls_engine_sm::SmError;
use openssl::symm::{Cipher, Crypter, Mode};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

const GCM_TAG_LENS: [usize; 7] = [16, 15, 14, 13, 12, 8, 4];
const CCM_TAG_LENS: [usize; 7] = [4, 6, 8, 10, 12, 14, 16];
/// Lengths every round-trip test covers: block edges, the GHASH group sizes and the CBC
/// decryption run (256 blocks).
const EDGE_LENS: [usize; 15] = [
    0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 511, 512, 513, 4129,
];

// === helpers ===

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn key16(rng: &mut StdRng) -> [u8; 16] {
    let mut k = [0u8; 16];
    rng.fill_bytes(&mut k);
    k
}

/// A random length, mostly short (where the edge cases are), sometimes up to `max`.
fn len(rng: &mut StdRng, max: usize) -> usize {
    if rng.gen_bool(0.8) {
        rng.gen_range(0..=70)
    } else {
        rng.gen_range(0..=max)
    }
}

/// Bit positions to flip in an `n`-byte field: all of them, or a random dozen.
fn flips(rng: &mut StdRng, n: usize, all: bool) -> Vec<usize> {
    if all {
        (0..n * 8).collect()
    } else {
        (0..12).map(|_| rng.gen_range(0..n * 8)).collect()
    }
}

/// Random bytes of a random length (see [`len`]).
fn some_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let n = len(rng, max);
    bytes(rng, n)
}

fn sm4_paths() -> Vec<Sm4Path> {
    Sm4Path::ALL
        .iter()
        .copied()
        .filter(|p| {
            let ok = p.is_available();
            if !ok {
                println!(
                    "sm4 path {}: skipped: CPU lacks {:?}",
                    p.name(),
                    p.cpu_features()
                );
            }
            ok
        })
        .collect()
}

fn ghash_paths() -> Vec<GhashPath> {
    GhashPath::ALL
        .iter()
        .copied()
        .filter(|p| {
            let ok = p.is_available();
            if !ok {
                println!(
                    "ghash path {}: skipped: CPU lacks {:?}",
                    p.name(),
                    p.cpu_features()
                );
            }
            ok
        })
        .collect()
}

/// Every (SM4, GHASH) path pair this CPU runs.
fn gcm_keys(key: &[u8; 16]) -> Vec<Sm4Gcm> {
    let ghash = ghash_paths();
    let mut out = Vec::new();
    for s in sm4_paths() {
        for &g in &ghash {
            out.push(Sm4Gcm::with_paths(key, s, g).expect("available paths"));
        }
    }
    out
}

fn ccm_keys(key: &[u8; 16]) -> Vec<Sm4Ccm> {
    sm4_paths()
        .into_iter()
        .map(|p| Sm4Ccm::with_path(key, p).expect("available path"))
        .collect()
}

fn sm4_keys(key: &[u8; 16]) -> Vec<Sm4> {
    sm4_paths()
        .into_iter()
        .map(|p| Sm4::with_path(key, p).expect("available path"))
        .collect()
}

/// The RFC 8998 vectors, by name.
fn rfc8998() -> HashMap<String, Vec<u8>> {
    include_str!("data/modes_rfc8998.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key = value");
            (k.trim().to_string(), hex::decode(v.trim()).expect("hex"))
        })
        .collect()
}

fn arr<const N: usize>(v: &[u8]) -> [u8; N] {
    v.try_into().expect("length")
}

/// Buffer offsets to try for a message of `n` bytes (fewer for long ones, to keep debug
/// runs short).
fn offsets(n: usize) -> &'static [usize] {
    if n < 1000 {
        &[0, 1, 15]
    } else {
        &[7]
    }
}

/// Runs `f` on a copy of `data` placed at byte offset `off` of a larger buffer.
fn at_offset(data: &[u8], off: usize, f: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut buf = vec![0xa5u8; data.len() + off + 7];
    buf[off..off + data.len()].copy_from_slice(data);
    f(&mut buf[off..off + data.len()]);
    buf[off..off + data.len()].to_vec()
}

// === references ===

fn ghash_reference(h: &[u8; 16], aad: &[u8], ct: &[u8]) -> [u8; 16] {
    let mut g = <ghash::GHash as ghash::universal_hash::KeyInit>::new(h.into());
    g.update_padded(aad);
    g.update_padded(ct);
    let mut lens = [0u8; 16];
    lens[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
    lens[8..].copy_from_slice(&(ct.len() as u64 * 8).to_be_bytes());
    g.update(&[lens.into()]);
    g.finalize().into()
}

type RefGcm = aes_gcm::AesGcm<sm4_rustcrypto::Sm4, U12>;

/// RustCrypto's SM4-GCM: ciphertext and full tag (shorter tags are its prefixes).
fn gcm_reference(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let cipher = RefGcm::new(key.into());
    let mut buf = pt.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(nonce.into(), aad, &mut buf)
        .expect("reference seal");
    (buf, tag.into())
}

/// RustCrypto's SM4-CCM for any allowed nonce and tag length: ciphertext and tag.
fn ccm_reference(
    key: &[u8; 16],
    nonce: &[u8],
    aad: &[u8],
    pt: &[u8],
    tag_len: usize,
) -> (Vec<u8>, Vec<u8>) {
    let mut buf = pt.to_vec();
    macro_rules! run {
        ($m:ty, $n:ty) => {{
            let c = ccm::Ccm::<sm4_rustcrypto::Sm4, $m, $n>::new(key.into());
            c.encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, &mut buf)
                .expect("reference seal")
                .to_vec()
        }};
    }
    macro_rules! by_nonce {
        ($m:ty) => {
            match nonce.len() {
                7 => run!($m, U7),
                8 => run!($m, U8),
                9 => run!($m, U9),
                10 => run!($m, U10),
                11 => run!($m, U11),
                12 => run!($m, U12),
                13 => run!($m, U13),
                n => panic!("nonce length {n}"),
            }
        };
    }
    let tag = match tag_len {
        4 => by_nonce!(U4),
        6 => by_nonce!(U6),
        8 => by_nonce!(U8),
        10 => by_nonce!(U10),
        12 => by_nonce!(U12),
        14 => by_nonce!(U14),
        16 => by_nonce!(U16),
        m => panic!("tag length {m}"),
    };
    (buf, tag)
}

fn openssl_crypt(
    cipher: Cipher,
    mode: Mode,
    key: &[u8],
    iv: Option<&[u8]>,
    data: &[u8],
    pad: bool,
) -> Vec<u8> {
    let mut c = Crypter::new(cipher, mode, key, iv).expect("openssl crypter");
    c.pad(pad);
    let mut out = vec![0u8; data.len() + 32];
    let n = c.update(data, &mut out).expect("openssl update");
    let m = c.finalize(&mut out[n..]).expect("openssl finalize");
    out.truncate(n + m);
    out
}

// === GHASH ===

#[test]
fn ghash_matches_reference_crate_on_every_path() {
    let mut r = rng(1);
    let paths = ghash_paths();
    for case in 0..1500 {
        let h = key16(&mut r);
        let aad = some_bytes(&mut r, 300);
        let ct = some_bytes(&mut r, 1500);
        let want = ghash_reference(&h, &aad, &ct);
        // Split the ciphertext at a block boundary: the result must not depend on it.
        let cut = r.gen_range(0..=ct.len()) / 16 * 16;
        for &p in &paths {
            let mut g = Ghash::with_path(&h, p).expect("available");
            assert_eq!(g.path(), p);
            g.update(&aad);
            g.update(&ct[..cut]);
            g.update(&ct[cut..]);
            let got = g.finalize_lengths(aad.len() as u64, ct.len() as u64);
            assert_eq!(got, want, "case {case}, path {}", p.name());
        }
    }
}

#[test]
fn ghash_paths_agree_on_long_and_split_inputs() {
    let mut r = rng(2);
    let paths = ghash_paths();
    for case in 0..40 {
        let h = key16(&mut r);
        let data = {
            let n = r.gen_range(0..5000);
            bytes(&mut r, n)
        };
        let mut results = Vec::new();
        for &p in &paths {
            let mut g = Ghash::with_path(&h, p).expect("available");
            // Feed in random whole-block pieces.
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = (r.gen_range(0..=rest.len()) / 16 * 16).max(rest.len().min(16));
                let (now, later) = rest.split_at(n.min(rest.len()));
                g.update(now);
                rest = later;
            }
            results.push(g.finalize_lengths(0, data.len() as u64));
        }
        assert!(
            results.windows(2).all(|w| w[0] == w[1]),
            "case {case}: paths disagree: {results:02x?}"
        );
        assert_eq!(results[0], ghash_reference(&h, &[], &data), "case {case}");
    }
}

#[test]
fn ghash_default_path_and_unavailable_paths() {
    let g = Ghash::new(&[1u8; 16]);
    assert_eq!(g.path(), GhashPath::detect());
    for &p in GhashPath::ALL {
        if !p.is_available() {
            assert_eq!(
                Ghash::with_path(&[1u8; 16], p).err(),
                Some(SmError::PathUnavailable(p.name()))
            );
        }
    }
}

// === known answers ===

#[test]
fn gcm_rfc8998_vector_on_every_path_pair() {
    let v = rfc8998();
    let key = arr::<16>(&v["key"]);
    let nonce = arr::<12>(&v["nonce"]);
    for gcm in gcm_keys(&key) {
        let mut data = v["plaintext"].clone();
        let mut tag = [0u8; 16];
        gcm.seal_in_place(&nonce, &v["aad"], &mut data, &mut tag)
            .expect("seal");
        assert_eq!(data, v["gcm_ciphertext"], "{gcm:?}");
        assert_eq!(tag.to_vec(), v["gcm_tag"], "{gcm:?}");
        gcm.open_in_place(&nonce, &v["aad"], &mut data, &tag)
            .expect("open");
        assert_eq!(data, v["plaintext"], "{gcm:?}");
    }
}

#[test]
fn ccm_rfc8998_vector_on_every_path() {
    let v = rfc8998();
    let key = arr::<16>(&v["key"]);
    for ccm in ccm_keys(&key) {
        let mut data = v["plaintext"].clone();
        let mut tag = [0u8; 16];
        ccm.seal_in_place(&v["nonce"], &v["aad"], &mut data, &mut tag)
            .expect("seal");
        assert_eq!(data, v["ccm_ciphertext"], "{ccm:?}");
        assert_eq!(tag.to_vec(), v["ccm_tag"], "{ccm:?}");
        ccm.open_in_place(&v["nonce"], &v["aad"], &mut data, &tag)
            .expect("open");
        assert_eq!(data, v["plaintext"], "{ccm:?}");
    }
}

// === differential: AEADs against RustCrypto ===

#[test]
fn gcm_matches_rustcrypto_on_random_inputs() {
    let mut r = rng(3);
    for case in 0..1000 {
        let key = key16(&mut r);
        let nonce = arr::<12>(&bytes(&mut r, 12));
        let aad = some_bytes(&mut r, 200);
        let pt = some_bytes(&mut r, 1500);
        let tag_len = GCM_TAG_LENS[case % GCM_TAG_LENS.len()];
        let (want_ct, want_tag) = gcm_reference(&key, &nonce, &aad, &pt);
        // All path pairs every few cases, the detected ones otherwise.
        let keys = if case % 32 == 0 {
            gcm_keys(&key)
        } else {
            vec![Sm4Gcm::new(&key)]
        };
        for gcm in keys {
            let mut data = pt.clone();
            let mut tag = vec![0u8; tag_len];
            gcm.seal_in_place(&nonce, &aad, &mut data, &mut tag)
                .expect("seal");
            assert_eq!(data, want_ct, "case {case} {gcm:?}");
            assert_eq!(tag, want_tag[..tag_len], "case {case} {gcm:?}");
            gcm.open_in_place(&nonce, &aad, &mut data, &tag)
                .expect("open");
            assert_eq!(data, pt, "case {case} {gcm:?}");
        }
    }
}

#[test]
fn ccm_matches_rustcrypto_on_random_inputs() {
    let mut r = rng(4);
    for case in 0..1000 {
        let key = key16(&mut r);
        let nonce = bytes(&mut r, 7 + case % 7);
        let tag_len = CCM_TAG_LENS[(case / 7) % CCM_TAG_LENS.len()];
        let aad = some_bytes(&mut r, 300);
        let pt = some_bytes(&mut r, 500);
        let (want_ct, want_tag) = ccm_reference(&key, &nonce, &aad, &pt, tag_len);
        let keys = if case % 32 == 0 {
            ccm_keys(&key)
        } else {
            vec![Sm4Ccm::new(&key)]
        };
        for ccm in keys {
            let mut data = pt.clone();
            let mut tag = vec![0u8; tag_len];
            ccm.seal_in_place(&nonce, &aad, &mut data, &mut tag)
                .expect("seal");
            assert_eq!(data, want_ct, "case {case} {ccm:?}");
            assert_eq!(tag, want_tag, "case {case} {ccm:?}");
            ccm.open_in_place(&nonce, &aad, &mut data, &tag)
                .expect("open");
            assert_eq!(data, pt, "case {case} {ccm:?}");
        }
    }
}

#[test]
fn ccm_aad_length_encodings_match_rustcrypto() {
    // Two-byte form up to 0xfeff, then 0xfffe with four bytes (SP 800-38C A.2.2).
    let mut r = rng(5);
    let key = key16(&mut r);
    let nonce = bytes(&mut r, 12);
    let pt = bytes(&mut r, 40);
    for aad_len in [0xfeff, 0xff00] {
        let aad = bytes(&mut r, aad_len);
        let (want_ct, want_tag) = ccm_reference(&key, &nonce, &aad, &pt, 16);
        let ccm = Sm4Ccm::new(&key);
        let mut data = pt.clone();
        let mut tag = [0u8; 16];
        ccm.seal_in_place(&nonce, &aad, &mut data, &mut tag)
            .expect("seal");
        assert_eq!(
            (data, tag.to_vec()),
            (want_ct, want_tag),
            "aad length {aad_len:#x}"
        );
    }
}

// === differential: ECB, CBC, CTR against OpenSSL ===

#[test]
fn ecb_cbc_ctr_match_openssl_on_random_inputs() {
    let mut r = rng(6);
    for case in 0..1000 {
        let key = key16(&mut r);
        let mut iv = key16(&mut r);
        if case % 10 == 0 {
            // Near the top of the 128-bit counter: the carry must ripple through all bytes.
            iv = (u128::MAX - r.gen_range(0..40u128)).to_be_bytes();
        }
        let n = len(&mut r, 2000);
        let pt = bytes(&mut r, n);
        let aligned = &pt[..n / 16 * 16];
        let want_ecb = openssl_crypt(Cipher::sm4_ecb(), Mode::Encrypt, &key, None, aligned, false);
        let want_cbc = openssl_crypt(
            Cipher::sm4_cbc(),
            Mode::Encrypt,
            &key,
            Some(&iv),
            aligned,
            false,
        );
        let want_cbc_pad =
            openssl_crypt(Cipher::sm4_cbc(), Mode::Encrypt, &key, Some(&iv), &pt, true);
        let want_ctr = openssl_crypt(
            Cipher::sm4_ctr(),
            Mode::Encrypt,
            &key,
            Some(&iv),
            &pt,
            false,
        );
        let keys = if case % 8 == 0 {
            sm4_keys(&key)
        } else {
            vec![Sm4::new(&key)]
        };
        for k in keys {
            let p = k.path().name();
            let mut d = aligned.to_vec();
            ecb::encrypt(&k, &mut d).expect("ecb");
            assert_eq!(d, want_ecb, "ecb case {case} {p}");
            ecb::decrypt(&k, &mut d).expect("ecb");
            assert_eq!(d, aligned, "ecb case {case} {p}");

            let mut d = aligned.to_vec();
            cbc::encrypt(&k, &iv, &mut d).expect("cbc");
            assert_eq!(d, want_cbc, "cbc case {case} {p}");
            cbc::decrypt(&k, &iv, &mut d).expect("cbc");
            assert_eq!(d, aligned, "cbc case {case} {p}");

            let mut d = pt.clone();
            cbc::encrypt_padded(&k, &iv, &mut d);
            assert_eq!(d, want_cbc_pad, "cbc pkcs7 case {case} {p}");
            let back = cbc::decrypt_padded(&k, &iv, &mut d).expect("cbc pkcs7");
            assert_eq!(back, &pt[..], "cbc pkcs7 case {case} {p}");

            let mut d = pt.clone();
            ctr::apply_keystream(&k, &iv, &mut d);
            assert_eq!(d, want_ctr, "ctr case {case} {p}");
            ctr::apply_keystream(&k, &iv, &mut d);
            assert_eq!(d, pt, "ctr case {case} {p}");
        }
    }
}

#[test]
fn openssl_decrypts_what_we_encrypt() {
    let mut r = rng(7);
    for case in 0..200 {
        let key = key16(&mut r);
        let iv = key16(&mut r);
        let pt = some_bytes(&mut r, 3000);
        let k = Sm4::new(&key);
        let mut d = pt.clone();
        cbc::encrypt_padded(&k, &iv, &mut d);
        let back = openssl_crypt(Cipher::sm4_cbc(), Mode::Decrypt, &key, Some(&iv), &d, true);
        assert_eq!(back, pt, "case {case}");
    }
}

// === properties: round trips on every length and alignment ===

#[test]
fn round_trips_every_mode_length_and_offset() {
    let mut r = rng(8);
    let key = key16(&mut r);
    let iv = key16(&mut r);
    let nonce12 = arr::<12>(&bytes(&mut r, 12));
    let nonce13 = bytes(&mut r, 13);
    let aad = bytes(&mut r, 21);
    for k in sm4_keys(&key) {
        let gcm = Sm4Gcm::with_paths(&key, k.path(), GhashPath::detect()).expect("paths");
        let ccm = Sm4Ccm::with_path(&key, k.path()).expect("path");
        for &n in &EDGE_LENS {
            let pt = bytes(&mut r, n);
            for &off in offsets(n) {
                let p = k.path().name();
                // CTR: any length.
                let ct = at_offset(&pt, off, |d| ctr::apply_keystream(&k, &iv, d));
                let back = at_offset(&ct, off, |d| ctr::apply_keystream(&k, &iv, d));
                assert_eq!(back, pt, "ctr len {n} off {off} {p}");
                // ECB and CBC: whole blocks.
                let blocks = &pt[..n / 16 * 16];
                let ct = at_offset(blocks, off, |d| ecb::encrypt(&k, d).expect("ecb"));
                let back = at_offset(&ct, off, |d| ecb::decrypt(&k, d).expect("ecb"));
                assert_eq!(back, blocks, "ecb len {n} off {off} {p}");
                let ct = at_offset(blocks, off, |d| cbc::encrypt(&k, &iv, d).expect("cbc"));
                let back = at_offset(&ct, off, |d| cbc::decrypt(&k, &iv, d).expect("cbc"));
                assert_eq!(back, blocks, "cbc len {n} off {off} {p}");
                // GCM and CCM.
                let mut tag = [0u8; 16];
                let ct = at_offset(&pt, off, |d| {
                    gcm.seal_in_place(&nonce12, &aad, d, &mut tag).expect("gcm")
                });
                let back = at_offset(&ct, off, |d| {
                    gcm.open_in_place(&nonce12, &aad, d, &tag).expect("gcm")
                });
                assert_eq!(back, pt, "gcm len {n} off {off} {p}");
                let ct = at_offset(&pt, off, |d| {
                    ccm.seal_in_place(&nonce13, &aad, d, &mut tag).expect("ccm")
                });
                let back = at_offset(&ct, off, |d| {
                    ccm.open_in_place(&nonce13, &aad, d, &tag).expect("ccm")
                });
                assert_eq!(back, pt, "ccm len {n} off {off} {p}");
            }
            // PKCS#7 (allocating).
            let mut d = pt.clone();
            cbc::encrypt_padded(&k, &iv, &mut d);
            assert_eq!(d.len(), n / 16 * 16 + 16);
            assert_eq!(
                cbc::decrypt_padded(&k, &iv, &mut d).expect("pkcs7"),
                &pt[..]
            );
        }
    }
}

// === tampering and wrong keys ===

#[test]
fn gcm_rejects_bit_flips_and_wrong_keys() {
    let mut r = rng(9);
    let key = key16(&mut r);
    let nonce = arr::<12>(&bytes(&mut r, 12));
    let aad = bytes(&mut r, 13);
    let pt = bytes(&mut r, 37);
    // Every bit on the fastest path pair with full tags; a random dozen per field otherwise.
    for (i, gcm) in gcm_keys(&key).into_iter().enumerate() {
        for tag_len in GCM_TAG_LENS {
            let all = i == 0 && tag_len == 16;
            let mut ct = pt.clone();
            let mut tag = vec![0u8; tag_len];
            gcm.seal_in_place(&nonce, &aad, &mut ct, &mut tag)
                .expect("seal");
            let reject = |nonce: &[u8; 12], aad: &[u8], data: &[u8], tag: &[u8], what: &str| {
                let mut d = data.to_vec();
                assert_eq!(
                    gcm.open_in_place(nonce, aad, &mut d, tag),
                    Err(SmError::BadTag),
                    "{what}"
                );
                // Nothing was decrypted: the buffer still holds the ciphertext.
                assert_eq!(d, data, "{what}: buffer changed");
            };
            for bit in flips(&mut r, ct.len(), all) {
                let mut bad = ct.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &aad, &bad, &tag, "ciphertext");
            }
            for bit in flips(&mut r, aad.len(), all) {
                let mut bad = aad.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &bad, &ct, &tag, "aad");
            }
            for bit in flips(&mut r, tag.len(), all) {
                let mut bad = tag.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &aad, &ct, &bad, "tag");
            }
            for bit in flips(&mut r, 12, all) {
                let mut bad = nonce;
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&bad, &aad, &ct, &tag, "nonce");
            }
            // Truncated or extended ciphertext and AAD.
            reject(&nonce, &aad, &ct[..ct.len() - 1], &tag, "short ciphertext");
            reject(&nonce, &aad[1..], &ct, &tag, "short aad");
            let mut longer = ct.clone();
            longer.push(0);
            reject(&nonce, &aad, &longer, &tag, "long ciphertext");
            let wrong = Sm4Gcm::new(&key16(&mut r));
            let mut d = ct.clone();
            assert_eq!(
                wrong.open_in_place(&nonce, &aad, &mut d, &tag),
                Err(SmError::BadTag)
            );
            assert_eq!(d, ct, "wrong key: buffer changed");
        }
    }
}

#[test]
fn ccm_rejects_bit_flips_and_wrong_keys() {
    let mut r = rng(10);
    let key = key16(&mut r);
    let aad = bytes(&mut r, 13);
    let pt = bytes(&mut r, 21);
    // Every bit on the fastest path with full tags; a random dozen per field otherwise.
    for (p, ccm) in ccm_keys(&key).into_iter().enumerate() {
        for (i, tag_len) in CCM_TAG_LENS.into_iter().enumerate() {
            let all = p == 0 && tag_len == 16;
            let nonce = bytes(&mut r, 7 + i);
            let mut ct = pt.clone();
            let mut tag = vec![0u8; tag_len];
            ccm.seal_in_place(&nonce, &aad, &mut ct, &mut tag)
                .expect("seal");
            let reject = |nonce: &[u8], aad: &[u8], data: &[u8], tag: &[u8], what: &str| {
                let mut d = data.to_vec();
                assert_eq!(
                    ccm.open_in_place(nonce, aad, &mut d, tag),
                    Err(SmError::BadTag),
                    "{what}"
                );
                // No plaintext released: the buffer is wiped.
                assert!(d.iter().all(|&b| b == 0), "{what}: buffer not wiped");
            };
            for bit in flips(&mut r, ct.len(), all) {
                let mut bad = ct.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &aad, &bad, &tag, "ciphertext");
            }
            for bit in flips(&mut r, aad.len(), all) {
                let mut bad = aad.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &bad, &ct, &tag, "aad");
            }
            for bit in flips(&mut r, tag.len(), all) {
                let mut bad = tag.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&nonce, &aad, &ct, &bad, "tag");
            }
            for bit in flips(&mut r, nonce.len(), all) {
                let mut bad = nonce.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                reject(&bad, &aad, &ct, &tag, "nonce");
            }
            reject(&nonce, &aad, &ct[..ct.len() - 1], &tag, "short ciphertext");
            reject(&nonce, &[], &ct, &tag, "dropped aad");
            let wrong = Sm4Ccm::new(&key16(&mut r));
            let mut d = ct.clone();
            assert_eq!(
                wrong.open_in_place(&nonce, &aad, &mut d, &tag),
                Err(SmError::BadTag)
            );
        }
    }
}

// === typed errors for bad lengths ===

#[test]
fn gcm_bad_tag_lengths_are_typed_errors() {
    let gcm = Sm4Gcm::new(&[7u8; 16]);
    let nonce = [1u8; 12];
    for tag_len in (0..=20).filter(|l| !GCM_TAG_LENS.contains(l)) {
        let mut data = vec![3u8; 20];
        let mut tag = vec![0u8; tag_len];
        assert_eq!(
            gcm.seal_in_place(&nonce, b"", &mut data, &mut tag),
            Err(SmError::InvalidTagLength)
        );
        assert_eq!(data, vec![3u8; 20], "seal touched data on error");
        assert_eq!(
            gcm.open_in_place(&nonce, b"", &mut data, &tag),
            Err(SmError::InvalidTagLength)
        );
        assert_eq!(data, vec![3u8; 20], "open touched data on error");
    }
}

#[test]
fn ccm_bad_lengths_are_typed_errors() {
    let ccm = Sm4Ccm::new(&[7u8; 16]);
    let mut tag = [0u8; 16];
    for nonce_len in (0..=20).filter(|l| !(7..=13).contains(l)) {
        let mut data = vec![3u8; 20];
        let nonce = vec![1u8; nonce_len];
        assert_eq!(
            ccm.seal_in_place(&nonce, b"", &mut data, &mut tag),
            Err(SmError::InvalidNonceLength)
        );
        assert_eq!(
            ccm.open_in_place(&nonce, b"", &mut data, &tag),
            Err(SmError::InvalidNonceLength)
        );
        assert_eq!(data, vec![3u8; 20]);
    }
    for tag_len in (0..=20).filter(|l| !CCM_TAG_LENS.contains(l)) {
        let mut data = vec![3u8; 20];
        let mut tag = vec![0u8; tag_len];
        assert_eq!(
            ccm.seal_in_place(&[1u8; 12], b"", &mut data, &mut tag),
            Err(SmError::InvalidTagLength)
        );
        assert_eq!(
            ccm.open_in_place(&[1u8; 12], b"", &mut data, &tag),
            Err(SmError::InvalidTagLength)
        );
        assert_eq!(data, vec![3u8; 20]);
    }
    // A 13-byte nonce leaves L = 2: messages must be shorter than 2^16 bytes.
    let mut data = vec![0u8; 1 << 16];
    assert_eq!(
        ccm.seal_in_place(&[1u8; 13], b"", &mut data, &mut tag),
        Err(SmError::MessageTooLong)
    );
    assert_eq!(
        ccm.open_in_place(&[1u8; 13], b"", &mut data, &tag),
        Err(SmError::MessageTooLong)
    );
    let mut data = vec![0u8; (1 << 16) - 1];
    ccm.seal_in_place(&[1u8; 13], b"", &mut data, &mut tag)
        .expect("2^16 - 1 bytes fit L = 2");
    ccm.open_in_place(&[1u8; 13], b"", &mut data, &tag)
        .expect("round trip");
    assert!(data.iter().all(|&b| b == 0));
}

#[test]
fn block_modes_reject_partial_blocks_and_bad_padding() {
    let k = Sm4::new(&[9u8; 16]);
    let iv = [4u8; 16];
    for n in [1, 15, 17, 33] {
        let mut data = vec![5u8; n];
        assert_eq!(ecb::encrypt(&k, &mut data), Err(SmError::NotBlockAligned));
        assert_eq!(ecb::decrypt(&k, &mut data), Err(SmError::NotBlockAligned));
        assert_eq!(
            cbc::encrypt(&k, &iv, &mut data),
            Err(SmError::NotBlockAligned)
        );
        assert_eq!(
            cbc::decrypt(&k, &iv, &mut data),
            Err(SmError::NotBlockAligned)
        );
        assert_eq!(
            cbc::decrypt_padded(&k, &iv, &mut data).err(),
            Some(SmError::NotBlockAligned)
        );
        assert_eq!(data, vec![5u8; n], "data touched on error");
    }
    assert_eq!(
        cbc::decrypt_padded(&k, &iv, &mut []).err(),
        Some(SmError::CiphertextTooShort)
    );
    // Malformed padding: last byte 0, over 16, or inconsistent padding bytes.
    let bad_tails: [&[u8]; 5] = [
        &[0],
        &[17],
        &[0xff],
        &[3, 2, 3],
        &[1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 16],
    ];
    for tail in bad_tails {
        let mut block = vec![0x41u8; 32 - tail.len()];
        block.extend_from_slice(tail);
        cbc::encrypt(&k, &iv, &mut block).expect("aligned");
        assert_eq!(
            cbc::decrypt_padded(&k, &iv, &mut block).err(),
            Some(SmError::BadPadding),
            "{tail:?}"
        );
        assert!(
            block.iter().all(|&b| b == 0),
            "bad padding: buffer not wiped"
        );
    }
    // Every valid padding length is accepted.
    for pad in 1..=16u8 {
        let mut block = vec![0x41u8; 32 - pad as usize];
        block.extend(std::iter::repeat_n(pad, pad as usize));
        cbc::encrypt(&k, &iv, &mut block).expect("aligned");
        let pt = cbc::decrypt_padded(&k, &iv, &mut block).expect("valid padding");
        assert_eq!(pt.len(), 32 - pad as usize);
    }
}

#[test]
fn gcm_paths_agree_with_each_other() {
    let mut r = rng(11);
    for case in 0..10 {
        let key = key16(&mut r);
        let nonce = arr::<12>(&bytes(&mut r, 12));
        let aad = some_bytes(&mut r, 100);
        let pt = {
            let n = r.gen_range(0..5000);
            bytes(&mut r, n)
        };
        let outs: Vec<(Vec<u8>, [u8; 16])> = gcm_keys(&key)
            .iter()
            .map(|g| {
                let mut d = pt.clone();
                let mut t = [0u8; 16];
                g.seal_in_place(&nonce, &aad, &mut d, &mut t).expect("seal");
                (d, t)
            })
            .collect();
        assert!(outs.windows(2).all(|w| w[0] == w[1]), "case {case}");
    }
}

// === timing report (not a test of speed; run with --ignored --nocapture) ===

/// CPU time of this thread in nanoseconds (immune to time slices lost on a busy machine).
fn cpu_ns() -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| {
            use std::sync::OnceLock;
            static START: OnceLock<std::time::Instant> = OnceLock::new();
            START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_nanos()
        })
}

/// Bytes per second of `f` over `len` bytes: batches sized to ~20 ms of CPU time (reading
/// the clock costs microseconds), best of five.
fn rate(len: usize, mut f: impl FnMut()) -> f64 {
    let mut batch = 1u32;
    loop {
        let start = cpu_ns();
        (0..batch).for_each(|_| f());
        if cpu_ns() - start > 20_000_000 || batch >= 1 << 24 {
            break;
        }
        batch *= 2;
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = cpu_ns();
        (0..batch).for_each(|_| f());
        best = best.min((cpu_ns() - start) as f64 / f64::from(batch));
    }
    len as f64 * 1e9 / best
}

#[test]
#[ignore = "timing report: cargo test --release --test modes -- --ignored --nocapture"]
fn speed_report() {
    const LEN: usize = 16 * 1024;
    let key = [0x42u8; 16];
    let nonce = [7u8; 12];
    let aad = [1u8; 13];
    let mut buf = vec![0u8; LEN];
    let mut tag = [0u8; 16];
    let gb = |r: f64| r / 1e9;

    let aes = Cipher::aes_128_gcm();
    let ossl = rate(LEN, || {
        let mut t = [0u8; 16];
        let ct = openssl::symm::encrypt_aead(aes, &key, Some(&nonce), &aad, &buf, &mut t)
            .expect("openssl");
        std::hint::black_box(ct);
    });
    println!("OpenSSL AES-128-GCM seal 16 KiB: {:.2} GB/s", gb(ossl));
    let sm4ctr = rate(LEN, || {
        let ct = openssl::symm::encrypt(Cipher::sm4_ctr(), &key, Some(&[0u8; 16]), &buf)
            .expect("openssl");
        std::hint::black_box(ct);
    });
    println!("OpenSSL SM4-CTR 16 KiB: {:.3} GB/s", gb(sm4ctr));

    for &gp in &ghash_paths() {
        let h = [3u8; 16];
        let g = Ghash::with_path(&h, gp).expect("available");
        let r = rate(LEN, || {
            let mut g = g.clone();
            g.update(&buf);
            std::hint::black_box(g.finalize_lengths(0, LEN as u64));
        });
        println!("GHASH {:>15} 16 KiB: {:.2} GB/s", gp.name(), gb(r));
    }
    for &sp in &sm4_paths() {
        let k = Sm4::with_path(&key, sp).expect("available");
        let r = rate(LEN, || ctr::apply_keystream(&k, &[0u8; 16], &mut buf));
        println!("SM4-CTR {:>13} 16 KiB: {:.2} GB/s", sp.name(), gb(r));
        let r = rate(LEN, || {
            cbc::decrypt(&k, &[0u8; 16], &mut buf).expect("aligned")
        });
        println!("SM4-CBC dec {:>9} 16 KiB: {:.2} GB/s", sp.name(), gb(r));
        let r = rate(LEN, || ecb::decrypt(&k, &mut buf).expect("aligned"));
        println!("SM4-ECB dec {:>9} 16 KiB: {:.2} GB/s", sp.name(), gb(r));
        let r = rate(LEN, || {
            cbc::encrypt(&k, &[0u8; 16], &mut buf).expect("aligned")
        });
        println!("SM4-CBC enc {:>9} 16 KiB: {:.3} GB/s", sp.name(), gb(r));
        let ccm = Sm4Ccm::with_path(&key, sp).expect("available");
        let r = rate(LEN, || {
            ccm.seal_in_place(&[1u8; 12], &aad, &mut buf, &mut tag)
                .expect("seal")
        });
        println!("SM4-CCM seal {:>8} 16 KiB: {:.3} GB/s", sp.name(), gb(r));
        for &gp in &ghash_paths() {
            let gcm = Sm4Gcm::with_paths(&key, sp, gp).expect("available");
            let seal = rate(LEN, || {
                gcm.seal_in_place(&nonce, &aad, &mut buf, &mut tag)
                    .expect("seal")
            });
            gcm.seal_in_place(&nonce, &aad, &mut buf, &mut tag)
                .expect("seal");
            let open = rate(LEN, || {
                // Opening a fixed ciphertext: decrypt, then re-encrypt to restore it.
                gcm.open_in_place(&nonce, &aad, &mut buf, &tag)
                    .expect("open");
                gcm.seal_in_place(&nonce, &aad, &mut buf, &mut tag)
                    .expect("seal");
            });
            // `open` measured open + seal; subtract the seal time.
            let open = 1.0 / (1.0 / open - 1.0 / seal);
            println!(
                "SM4-GCM {}+{} 16 KiB: seal {:.2} GB/s ({:.2}x OpenSSL AES-128-GCM, {:.1}x OpenSSL SM4-CTR), open {:.2} GB/s",
                sp.name(),
                gp.name(),
                gb(seal),
                seal / ossl,
                seal / sm4ctr,
                gb(open)
            );
        }
    }
}
