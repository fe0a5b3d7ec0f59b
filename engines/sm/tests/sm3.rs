//! SM3, HMAC-SM3 and HKDF-SM3: known answers, streaming, and differential tests of every code
//! path against the portable path, OpenSSL 3 and RustCrypto's `sm3`.
//!
//! The speed print is `#[ignore]`d; run it with
//! `cargo test -p meshtls-engine-sm --release --test sm3 -- --ignored --nocapture`.

use meshtls_engine_sm::hkdf;
use meshtls_engine_sm::hmac::{hmac_sm3, HmacSm3};
use meshtls_engine_sm::sm3::{sm3, Sm3, Sm3Path, BLOCK_LEN, DIGEST_LEN};
use meshtls_engine_sm::SmError;
use openssl::hash::{hash, MessageDigest};
use openssl::pkey::PKey;
use openssl::pkey_ctx::{HkdfMode, PkeyCtx};
use openssl::sign::Signer;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sm3_rustcrypto::Digest;

/// The paths this CPU runs; prints a skipped line for the others.
fn runnable_paths() -> Vec<Sm3Path> {
    Sm3Path::ALL
        .iter()
        .copied()
        .filter(|p| {
            let ok = p.is_available();
            if !ok {
                println!("sm3 path {}: skipped: CPU lacks its features", p.name());
            }
            ok
        })
        .collect()
}

fn digest_on(path: Sm3Path, data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h = Sm3::with_path(path).expect("path is available");
    h.update(data);
    h.finalize()
}

fn openssl_sm3(data: &[u8]) -> Vec<u8> {
    hash(MessageDigest::sm3(), data)
        .expect("OpenSSL SM3")
        .to_vec()
}

fn rustcrypto_sm3(data: &[u8]) -> Vec<u8> {
    sm3_rustcrypto::Sm3::digest(data).to_vec()
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn kat_vectors() -> Vec<(Vec<u8>, Vec<u8>)> {
    include_str!("data/sm3_kat.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (msg, digest) = l.split_once(' ').expect("two fields");
            (
                hex::decode(msg).expect("hex"),
                hex::decode(digest.trim()).expect("hex"),
            )
        })
        .collect()
}

#[test]
fn known_answers_on_every_path() {
    let vectors = kat_vectors();
    assert_eq!(vectors.len(), 2);
    for path in runnable_paths() {
        for (msg, want) in &vectors {
            assert_eq!(
                digest_on(path, msg).as_slice(),
                want.as_slice(),
                "path {}",
                path.name()
            );
        }
    }
    for (msg, want) in &vectors {
        assert_eq!(sm3(msg).as_slice(), want.as_slice());
    }
}

#[test]
fn streaming_every_split_point() {
    let mut rng = StdRng::seed_from_u64(1);
    let msg = random_bytes(&mut rng, 3 * BLOCK_LEN + 17);
    for path in runnable_paths() {
        let want = digest_on(path, &msg);
        for i in 0..=msg.len() {
            let mut h = Sm3::with_path(path).unwrap();
            h.update(&msg[..i]);
            h.update(&msg[i..]);
            assert_eq!(h.finalize(), want, "path {} split {i}", path.name());
        }
        // Three pieces, with an empty update in the middle.
        for i in (0..=msg.len()).step_by(7) {
            for j in (i..=msg.len()).step_by(5) {
                let mut h = Sm3::with_path(path).unwrap();
                h.update(&msg[..i]);
                h.update(&[]);
                h.update(&msg[i..j]);
                h.update(&msg[j..]);
                assert_eq!(h.finalize(), want, "path {} splits {i},{j}", path.name());
            }
        }
        let mut h = Sm3::with_path(path).unwrap();
        msg.iter().for_each(|b| h.update(std::slice::from_ref(b)));
        assert_eq!(h.finalize(), want, "path {} byte by byte", path.name());
    }
}

#[test]
fn clone_forks_the_stream() {
    let mut rng = StdRng::seed_from_u64(2);
    let a = random_bytes(&mut rng, 100);
    let b = random_bytes(&mut rng, 77);
    let mut h = Sm3::new();
    h.update(&a);
    let fork = h.clone();
    h.update(&b);
    assert_eq!(fork.finalize().to_vec(), openssl_sm3(&a));
    assert_eq!(h.finalize().to_vec(), openssl_sm3(&[a, b].concat()));
}

#[test]
fn every_path_matches_soft_openssl_and_rustcrypto() {
    let mut rng = StdRng::seed_from_u64(3);
    let paths = runnable_paths();
    // Two random messages of every length up to 16 blocks, then some large ones, kept small
    // enough for a quick debug run.
    let mut lens: Vec<usize> = (0..=1024).chain(0..=1024).collect();
    lens.extend((0..16).map(|_| rng.gen_range(1025..20_000)));
    lens.extend([(1 << 18) + 55]);
    for len in lens {
        let msg = random_bytes(&mut rng, len);
        let want = openssl_sm3(&msg);
        assert_eq!(rustcrypto_sm3(&msg), want, "RustCrypto len {len}");
        let soft = digest_on(Sm3Path::Soft, &msg);
        assert_eq!(soft.to_vec(), want, "soft len {len}");
        for &path in &paths {
            assert_eq!(
                digest_on(path, &msg),
                soft,
                "path {} len {len}",
                path.name()
            );
        }
        assert_eq!(sm3(&msg), soft, "default path len {len}");
    }
}

#[test]
fn every_path_random_streams() {
    let mut rng = StdRng::seed_from_u64(4);
    for path in runnable_paths() {
        for _ in 0..300 {
            let msg = {
                let n = rng.gen_range(0..3000);
                random_bytes(&mut rng, n)
            };
            let mut h = Sm3::with_path(path).unwrap();
            let mut rest = &msg[..];
            while !rest.is_empty() {
                let n = rng.gen_range(0..=rest.len().min(300));
                h.update(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(
                h.finalize().to_vec(),
                openssl_sm3(&msg),
                "path {}",
                path.name()
            );
        }
    }
}

#[test]
fn with_path_reports_unavailable_paths() {
    for &path in Sm3Path::ALL {
        match Sm3::with_path(path) {
            Ok(h) => {
                assert!(path.is_available());
                assert_eq!(h.path(), path);
            }
            Err(e) => {
                assert!(!path.is_available());
                assert_eq!(e, SmError::PathUnavailable(path.name()));
            }
        }
    }
    assert!(Sm3::new().path().is_available());
    assert_eq!(Sm3::new().path(), Sm3Path::detect());
}

/// OpenSSL's HMAC-SM3. OpenSSL refuses an empty key; one zero byte is the same key once
/// HMAC zero-pads it to the block.
fn openssl_hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = if key.is_empty() { &[0u8][..] } else { key };
    let pkey = PKey::hmac(key).expect("HMAC key");
    let mut signer = Signer::new(MessageDigest::sm3(), &pkey).expect("signer");
    signer.update(data).expect("update");
    signer.sign_to_vec().expect("sign")
}

#[test]
fn hmac_matches_openssl() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut key_lens: Vec<usize> = (0..=130).collect();
    key_lens.extend([200, 1000, 4096]);
    for (i, key_len) in key_lens.into_iter().enumerate() {
        let key = random_bytes(&mut rng, key_len);
        let data = random_bytes(&mut rng, (i * 37) % 700);
        let want = openssl_hmac(&key, &data);
        assert_eq!(hmac_sm3(&key, &data).to_vec(), want, "key len {key_len}");
        // Streaming in two pieces, and from a cloned keyed state.
        let split = data.len() / 3;
        let keyed = HmacSm3::new(&key);
        let mut mac = keyed.clone();
        mac.update(&data[..split]);
        mac.update(&data[split..]);
        assert_eq!(mac.finalize().to_vec(), want);
        let mut mac = keyed;
        mac.update(&data);
        assert!(mac.verify(&want).is_ok());
    }
}

#[test]
fn hmac_verify_rejects_bad_tags() {
    let mut rng = StdRng::seed_from_u64(6);
    for _ in 0..200 {
        let key = {
            let n = rng.gen_range(1..100);
            random_bytes(&mut rng, n)
        };
        let data = {
            let n = rng.gen_range(0..200);
            random_bytes(&mut rng, n)
        };
        let tag = hmac_sm3(&key, &data);
        let verify = |k: &[u8], d: &[u8], t: &[u8]| {
            let mut mac = HmacSm3::new(k);
            mac.update(d);
            mac.verify(t)
        };
        assert_eq!(verify(&key, &data, &tag), Ok(()));
        let mut bad = tag;
        bad[rng.gen_range(0..DIGEST_LEN)] ^= 1 << rng.gen_range(0..8);
        assert_eq!(verify(&key, &data, &bad), Err(SmError::BadTag));
        assert_eq!(verify(&key, &data, &tag[..31]), Err(SmError::BadTag));
        assert_eq!(verify(&key, &data, &[]), Err(SmError::BadTag));
        assert_eq!(
            verify(&key, &data, &[tag.as_slice(), &[0]].concat()),
            Err(SmError::BadTag)
        );
        let mut wrong_key = key.clone();
        wrong_key[0] ^= 0x80;
        assert_eq!(verify(&wrong_key, &data, &tag), Err(SmError::BadTag));
        if !data.is_empty() {
            let mut tampered = data.clone();
            tampered[rng.gen_range(0..data.len())] ^= 0x01;
            assert_eq!(verify(&key, &tampered, &tag), Err(SmError::BadTag));
        }
    }
}

/// RFC 5869 written out independently of the crate's `hkdf`, on top of its HMAC-SM3.
fn rfc5869(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let salt = if salt.is_empty() {
        vec![0u8; DIGEST_LEN]
    } else {
        salt.to_vec()
    };
    let prk = hmac_sm3(&salt, ikm);
    let mut okm = Vec::new();
    let mut t = Vec::new();
    let mut counter = 1u8;
    while okm.len() < len {
        t = hmac_sm3(&prk, &[t.as_slice(), info, &[counter]].concat()).to_vec();
        okm.extend_from_slice(&t);
        counter = counter.wrapping_add(1);
    }
    okm.truncate(len);
    okm
}

fn openssl_hkdf(mode: HkdfMode, key: &[u8], salt: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut ctx = PkeyCtx::new_id(openssl::pkey::Id::HKDF).expect("HKDF ctx");
    ctx.derive_init().expect("init");
    ctx.set_hkdf_mode(mode).expect("mode");
    ctx.set_hkdf_md(openssl::md::Md::sm3()).expect("md");
    ctx.set_hkdf_key(key).expect("key");
    if !salt.is_empty() {
        ctx.set_hkdf_salt(salt).expect("salt");
    }
    if !info.is_empty() {
        ctx.add_hkdf_info(info).expect("info");
    }
    let mut out = vec![0u8; len];
    let n = ctx.derive(Some(&mut out)).expect("derive");
    out.truncate(n);
    out
}

#[test]
fn hkdf_matches_rfc5869_and_openssl() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut lens: Vec<usize> = (0..=100).collect();
    lens.extend([255, 256, 1000, 255 * DIGEST_LEN - 1, 255 * DIGEST_LEN]);
    for (i, len) in lens.into_iter().enumerate() {
        let salt = random_bytes(&mut rng, [0, 1, 13, 32, 64, 65, 100][i % 7]);
        let ikm = random_bytes(&mut rng, 1 + (i * 11) % 120);
        let info = random_bytes(&mut rng, (i * 5) % 90);
        let prk = hkdf::extract(&salt, &ikm);
        let mut okm = vec![0u8; len];
        hkdf::expand(&prk, &info, &mut okm).expect("length in range");
        assert_eq!(okm, rfc5869(&salt, &ikm, &info, len), "len {len}");

        let ossl_prk = openssl_hkdf(HkdfMode::EXTRACT_ONLY, &ikm, &salt, &[], DIGEST_LEN);
        assert_eq!(prk.to_vec(), ossl_prk, "extract, salt len {}", salt.len());
        if len > 0 {
            let ossl = openssl_hkdf(HkdfMode::EXPAND_ONLY, &prk, &[], &info, len);
            assert_eq!(okm, ossl, "expand len {len}");
            let both = openssl_hkdf(HkdfMode::EXTRACT_THEN_EXPAND, &ikm, &salt, &info, len);
            assert_eq!(okm, both, "extract+expand len {len}");
        }
    }
}

#[test]
fn hkdf_expand_length_limit() {
    let prk = hkdf::extract(b"salt", b"ikm");
    let mut max = vec![0u8; 255 * DIGEST_LEN];
    assert_eq!(hkdf::expand(&prk, b"info", &mut max), Ok(()));
    let mut over = vec![0u8; 255 * DIGEST_LEN + 1];
    assert_eq!(
        hkdf::expand(&prk, b"info", &mut over),
        Err(SmError::InvalidLength)
    );
    let mut huge = vec![0u8; 1 << 16];
    assert_eq!(
        hkdf::expand(&prk, b"", &mut huge),
        Err(SmError::InvalidLength)
    );
    let mut empty = [0u8; 0];
    assert_eq!(hkdf::expand(&prk, b"info", &mut empty), Ok(()));
}

/// A hash function under timing, returning one byte of its digest.
type HashFn = Box<dyn FnMut(&[u8]) -> u8>;
/// A named [`HashFn`].
type Contender = (String, HashFn);

/// Seconds for one call of `f` on `data`.
fn time_once(data: &[u8], f: &mut dyn FnMut(&[u8]) -> u8) -> f64 {
    let start = std::time::Instant::now();
    std::hint::black_box(f(std::hint::black_box(data)));
    start.elapsed().as_secs_f64()
}

#[test]
#[ignore = "timing print; run in release with --ignored --nocapture"]
fn speed_16k() {
    // Other processes share this machine: time single 16 KiB hashes, interleaving the
    // contenders call by call so they see the same load, and compare medians (and the 10th
    // percentile, a near-unloaded figure).
    let data = vec![0x5au8; 16 * 1024];
    let paths = runnable_paths();
    let mut contenders: Vec<Contender> = paths
        .iter()
        .map(|&p| {
            let f: HashFn = Box::new(move |d| digest_on(p, d)[0]);
            (format!("meshtls {}", p.name()), f)
        })
        .collect();
    contenders.push(("OpenSSL".into(), Box::new(|d| openssl_sm3(d)[0])));
    contenders.push((
        "RustCrypto".into(),
        Box::new(|d| sm3_rustcrypto::Sm3::digest(d)[0]),
    ));
    let samples = 3000;
    let mut times = vec![Vec::with_capacity(samples); contenders.len()];
    for _ in 0..samples {
        for (t, (_, f)) in times.iter_mut().zip(contenders.iter_mut()) {
            t.push(time_once(&data, f.as_mut()));
        }
    }
    let mbps = |secs: f64| data.len() as f64 / secs / 1e6;
    let stats: Vec<(f64, f64)> = times
        .into_iter()
        .map(|mut t| {
            t.sort_by(|a, b| a.total_cmp(b));
            (mbps(t[t.len() / 2]), mbps(t[t.len() / 10]))
        })
        .collect();
    let ossl = stats[paths.len()];
    println!("SM3 16 KiB, MB/s: median (10th-percentile time) of {samples} interleaved calls");
    for ((name, _), (med, fast)) in contenders.iter().zip(&stats) {
        println!(
            "  {name:<16} {med:7.1} ({fast:7.1})  {:.2}x ({:.2}x) OpenSSL",
            med / ossl.0,
            fast / ossl.1
        );
    }
}
