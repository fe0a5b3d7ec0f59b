//! SM4 cipher core: known answers from GB/T 32907-2016, every code path against the portable
//! one, and differential tests against OpenSSL 3 and RustCrypto's `sm4`.
//!
//! Paths this CPU cannot run are reported as skipped (a line on stderr), not failed. The
//! `#[ignore]`d `throughput` test prints MB/s per path next to OpenSSL's SM4-CTR:
//! `cargo test -p meshtls-engine-sm --release --test sm4 -- --ignored --nocapture`.

use meshtls_engine_sm::sm4::{CtrWidth, Sm4, Sm4Path};
use meshtls_engine_sm::SmError;
use openssl::symm::{Cipher, Crypter, Mode};
use rand::{rngs::StdRng, Rng, RngCore, SeedableRng};
use sm4_rustcrypto::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};

/// The standard's example key, which is also its example plaintext.
const KEY: [u8; 16] = [
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
];

fn hex16(s: &str) -> [u8; 16] {
    let v = hex::decode(s).expect("hex");
    v.try_into().expect("16 bytes")
}

/// Prints a skip line straight to stderr, past the test harness's output capture.
fn skip(path: Sm4Path) {
    use std::io::Write;
    let line = format!(
        "skipped: CPU lacks the features of sm4 path {}\n",
        path.name()
    );
    // Ignoring a failed diagnostic write is fine: it only affects the report.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Every path this CPU runs; prints a skip line for the others (once per test binary).
fn paths() -> Vec<Sm4Path> {
    static PATHS: std::sync::OnceLock<Vec<Sm4Path>> = std::sync::OnceLock::new();
    PATHS
        .get_or_init(|| {
            Sm4Path::ALL
                .iter()
                .copied()
                .filter(|&p| {
                    let ok = p.is_available();
                    if !ok {
                        skip(p);
                    }
                    ok
                })
                .collect()
        })
        .clone()
}

fn key_on(key: &[u8; 16], path: Sm4Path) -> Sm4 {
    Sm4::with_path(key, path).expect("available path")
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(0x5334_5f74_6573_7473)
}

fn openssl_crypt(
    cipher: Cipher,
    mode: Mode,
    key: &[u8],
    iv: Option<&[u8]>,
    data: &[u8],
) -> Vec<u8> {
    let mut c = Crypter::new(cipher, mode, key, iv).expect("crypter");
    c.pad(false);
    let mut out = vec![0u8; data.len() + 16];
    let mut n = c.update(data, &mut out).expect("update");
    n += c.finalize(&mut out[n..]).expect("finalize");
    out.truncate(n);
    out
}

fn as_blocks(data: &mut [u8]) -> Vec<[u8; 16]> {
    data.chunks_exact(16)
        .map(|c| c.try_into().expect("16"))
        .collect()
}

#[test]
fn known_answer_single_block() {
    let want = hex16("681edf34d206965e86b3e94f536e4246");
    for path in paths() {
        let key = key_on(&KEY, path);
        let mut block = KEY;
        key.encrypt_block(&mut block);
        assert_eq!(block, want, "{}", path.name());
        key.decrypt_block(&mut block);
        assert_eq!(block, KEY, "{}", path.name());
        // The wide kernels give the same answer in every lane.
        let mut many = vec![KEY; 67];
        key.encrypt_blocks(&mut many);
        assert!(many.iter().all(|b| *b == want), "{}", path.name());
        key.decrypt_blocks(&mut many);
        assert!(many.iter().all(|b| *b == KEY), "{}", path.name());
    }
}

#[test]
fn known_answer_million_iterations() {
    let path = Sm4Path::detect();
    let key = key_on(&KEY, path);
    let mut block = KEY;
    for _ in 0..1_000_000 {
        key.encrypt_block(&mut block);
    }
    assert_eq!(
        block,
        hex16("595298c7c6fd271f0402f804c33d3f66"),
        "{}",
        path.name()
    );
}

#[test]
fn paths_are_named_detected_and_forceable() {
    assert_eq!(Sm4Path::ALL.last(), Some(&Sm4Path::Soft));
    assert!(Sm4Path::detect().is_available());
    assert_eq!(Sm4::new(&KEY).path(), Sm4Path::detect());
    for &p in Sm4Path::ALL {
        match Sm4::with_path(&KEY, p) {
            Ok(k) => assert_eq!(k.path(), p),
            Err(e) => {
                assert!(!p.is_available());
                assert_eq!(e, SmError::PathUnavailable(p.name()));
            }
        }
    }
    // The key stays out of Debug output.
    let shown = format!("{:?}", Sm4::new(&KEY));
    assert!(shown.contains("path") && !shown.contains("f12186f9"));
}

/// The environment variable forces the detected path (checked in a child process, since
/// detection runs once per process).
#[test]
fn env_var_forces_the_path() {
    let exe = std::env::current_exe().expect("test binary path");
    for &path in Sm4Path::ALL {
        let out = std::process::Command::new(&exe)
            .args(["--exact", "print_detected_path", "--ignored", "--nocapture"])
            .env(
                "MESHTLS_SM_FORCE",
                format!("ghash=soft,sm4={}", path.name()),
            )
            .output()
            .expect("run the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let want = if path.is_available() {
            path
        } else {
            Sm4Path::detect()
        };
        assert!(
            stdout.contains(&format!("detected sm4 path: {}\n", want.name())),
            "forcing {}: {stdout}",
            path.name()
        );
    }
}

/// Helper for `env_var_forces_the_path`.
#[test]
#[ignore = "run by env_var_forces_the_path in a child process"]
fn print_detected_path() {
    println!("detected sm4 path: {}", Sm4Path::detect().name());
    assert_eq!(Sm4::new(&KEY).path(), Sm4Path::detect());
}

/// The GFNI + AVX-512 path against the portable one, or a skip line on CPUs without it.
#[test]
fn gfni_avx512_path_matches_soft() {
    let path = Sm4Path::GfniAvx512;
    if !path.is_available() {
        skip(path);
        return;
    }
    let mut rng = rng();
    for n in [1usize, 15, 16, 17, 63, 64, 65, 200] {
        let mut key_bytes = [0u8; 16];
        rng.fill_bytes(&mut key_bytes);
        let (fast, soft) = (key_on(&key_bytes, path), key_on(&key_bytes, Sm4Path::Soft));
        let mut blocks = vec![[0u8; 16]; n];
        blocks.iter_mut().for_each(|b| rng.fill_bytes(b));
        let (mut a, mut b) = (blocks.clone(), blocks.clone());
        fast.encrypt_blocks(&mut a);
        soft.encrypt_blocks(&mut b);
        assert_eq!(a, b, "n={n}");
        fast.decrypt_blocks(&mut a);
        assert_eq!(a, blocks, "n={n}");
        let mut data = vec![0u8; 16 * n + 5];
        rng.fill_bytes(&mut data);
        let (mut x, mut y) = (data.clone(), data.clone());
        let ctr = [0xfe; 16];
        fast.ctr_xor(&mut ctr.clone(), CtrWidth::Be128, &mut x);
        soft.ctr_xor(&mut ctr.clone(), CtrWidth::Be128, &mut y);
        assert_eq!(x, y, "n={n}");
    }
}

#[test]
fn every_path_agrees_with_soft_on_random_blocks() {
    let mut rng = rng();
    let mut key_bytes = [0u8; 16];
    for round in 0..800 {
        rng.fill_bytes(&mut key_bytes);
        let soft = key_on(&key_bytes, Sm4Path::Soft);
        let n = if round % 10 == 0 {
            rng.gen_range(0..200)
        } else {
            rng.gen_range(0..40)
        };
        let mut blocks = vec![[0u8; 16]; n];
        for b in &mut blocks {
            rng.fill_bytes(b);
        }
        let mut want_enc = blocks.clone();
        soft.encrypt_blocks(&mut want_enc);
        let mut want_dec = blocks.clone();
        soft.decrypt_blocks(&mut want_dec);
        for path in paths() {
            let key = key_on(&key_bytes, path);
            // Blocks one block into a larger buffer: not 32-byte aligned (byte offsets are
            // covered by the CTR tests, which take byte slices).
            let mut shifted = vec![[0u8; 16]; n + 2];
            shifted[1..=n].copy_from_slice(&blocks);
            key.encrypt_blocks(&mut shifted[1..=n]);
            assert_eq!(shifted[1..=n], want_enc[..], "{} offset n={n}", path.name());
            assert_eq!((shifted[0], shifted[n + 1]), ([0; 16], [0; 16]));
            let mut got = blocks.clone();
            key.encrypt_blocks(&mut got);
            assert_eq!(got, want_enc, "{} encrypt_blocks n={n}", path.name());
            let mut got = blocks.clone();
            key.decrypt_blocks(&mut got);
            assert_eq!(got, want_dec, "{} decrypt_blocks n={n}", path.name());
            for (i, b) in blocks.iter().enumerate().take(3) {
                let mut one = *b;
                key.encrypt_block(&mut one);
                assert_eq!(one, want_enc[i], "{} encrypt_block", path.name());
                key.decrypt_block(&mut one);
                assert_eq!(one, *b, "{} decrypt_block", path.name());
            }
        }
    }
}

#[test]
fn every_path_agrees_with_soft_on_ctr() {
    let mut rng = rng();
    let mut buf = vec![0u8; 6000 + 64];
    let fixed = (0..=80).chain([
        127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025,
    ]);
    let random: Vec<usize> = (0..400).map(|_| rng.gen_range(0..6000)).collect();
    for (i, len) in fixed.chain(random).enumerate() {
        let mut key_bytes = [0u8; 16];
        rng.fill_bytes(&mut key_bytes);
        let mut counter = [0u8; 16];
        rng.fill_bytes(&mut counter);
        if i % 3 == 0 {
            // Push the low words near their wrap so both widths carry inside a call.
            counter[8..].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0]);
        }
        let width = if i % 2 == 0 {
            CtrWidth::Be128
        } else {
            CtrWidth::Be32
        };
        let offset = rng.gen_range(0..16);
        rng.fill_bytes(&mut buf);
        let data = buf[offset..offset + len].to_vec();
        let soft = key_on(&key_bytes, Sm4Path::Soft);
        let mut want = data.clone();
        let mut want_ctr = counter;
        soft.ctr_xor(&mut want_ctr, width, &mut want);
        for path in paths() {
            let key = key_on(&key_bytes, path);
            let mut work = buf.clone();
            let slice = &mut work[offset..offset + len];
            let mut ctr = counter;
            key.ctr_xor(&mut ctr, width, slice);
            assert_eq!(slice, &want[..], "{} len={len} {width:?}", path.name());
            assert_eq!(ctr, want_ctr, "{} counter after len={len}", path.name());
            // Bytes around the slice are untouched.
            assert_eq!(work[..offset], buf[..offset]);
            assert_eq!(work[offset + len..], buf[offset + len..]);
        }
    }
}

#[test]
fn ctr_calls_chain_like_one_call() {
    let mut rng = rng();
    for path in paths() {
        let key = key_on(&KEY, path);
        let mut data = vec![0u8; 1500];
        rng.fill_bytes(&mut data);
        let start = [0x11u8; 16];
        let mut whole = data.clone();
        key.ctr_xor(&mut start.clone(), CtrWidth::Be128, &mut whole);
        // Split on block boundaries: the counter carries over between calls.
        let mut pieces = data.clone();
        let mut ctr = start;
        let mut rest = &mut pieces[..];
        for take in [16usize, 0, 160, 48, 512, 16] {
            let (head, tail) = rest.split_at_mut(take);
            key.ctr_xor(&mut ctr, CtrWidth::Be128, head);
            rest = tail;
        }
        key.ctr_xor(&mut ctr, CtrWidth::Be128, rest);
        assert_eq!(pieces, whole, "{}", path.name());
        // A partial block uses up a whole counter value.
        let mut ctr = start;
        key.ctr_xor(&mut ctr, CtrWidth::Be128, &mut [0u8; 17]);
        let mut want = start;
        want[15] += 2;
        assert_eq!(ctr, want, "{}", path.name());
        let mut ctr = start;
        key.ctr_xor(&mut ctr, CtrWidth::Be128, &mut []);
        assert_eq!(ctr, start, "{}", path.name());
    }
}

#[test]
fn ctr_be32_wraps_only_the_low_word() {
    for path in paths() {
        let key = key_on(&KEY, path);
        let start = hex16("0102030405060708090a0b0cfffffffe");
        let mut ctr = start;
        let mut data = vec![0u8; 16 * 40 + 5];
        key.ctr_xor(&mut ctr, CtrWidth::Be32, &mut data);
        assert_eq!(
            ctr,
            hex16("0102030405060708090a0b0c00000027"),
            "{}",
            path.name()
        );
        // Block i of the keystream is E(prefix || (0xfffffffe + i) mod 2^32).
        for (i, chunk) in data.chunks(16).enumerate() {
            let mut block = start;
            let low = 0xffff_fffeu32.wrapping_add(i as u32);
            block[12..].copy_from_slice(&low.to_be_bytes());
            key.encrypt_block(&mut block);
            assert_eq!(chunk, &block[..chunk.len()], "{} block {i}", path.name());
        }
        // Be128 carries into the upper words instead.
        let mut ctr = start;
        key.ctr_xor(&mut ctr, CtrWidth::Be128, &mut [0u8; 16 * 3]);
        assert_eq!(
            ctr,
            hex16("0102030405060708090a0b0d00000001"),
            "{}",
            path.name()
        );
        let mut ctr = [0xff; 16];
        key.ctr_xor(&mut ctr, CtrWidth::Be128, &mut [0u8; 16]);
        assert_eq!(ctr, [0; 16], "{}", path.name());
    }
}

#[test]
fn ecb_matches_openssl_and_rustcrypto() {
    let mut rng = rng();
    for _ in 0..200 {
        let mut key_bytes = [0u8; 16];
        rng.fill_bytes(&mut key_bytes);
        let n = rng.gen_range(0..70);
        let mut data = vec![0u8; n * 16];
        rng.fill_bytes(&mut data);
        let want = openssl_crypt(Cipher::sm4_ecb(), Mode::Encrypt, &key_bytes, None, &data);
        let rc = sm4_rustcrypto::Sm4::new(&key_bytes.into());
        let mut rc_blocks = as_blocks(&mut data.clone());
        for b in &mut rc_blocks {
            rc.encrypt_block(b.into());
        }
        assert_eq!(rc_blocks.concat(), want);
        for path in paths() {
            let key = key_on(&key_bytes, path);
            let mut blocks = as_blocks(&mut data.clone());
            key.encrypt_blocks(&mut blocks);
            assert_eq!(blocks.concat(), want, "{} n={n}", path.name());
            key.decrypt_blocks(&mut blocks);
            assert_eq!(blocks.concat(), data, "{} n={n}", path.name());
        }
        for b in &mut rc_blocks {
            rc.decrypt_block(b.into());
        }
        assert_eq!(rc_blocks.concat(), data);
    }
}

#[test]
fn ctr_be128_matches_openssl() {
    let mut rng = rng();
    for i in 0..150 {
        let mut key_bytes = [0u8; 16];
        rng.fill_bytes(&mut key_bytes);
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut iv);
        if i % 4 == 0 {
            iv[4..].fill(0xff);
        }
        let len = rng.gen_range(0..3000);
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        let want = openssl_crypt(
            Cipher::sm4_ctr(),
            Mode::Encrypt,
            &key_bytes,
            Some(&iv),
            &data,
        );
        for path in paths() {
            let key = key_on(&key_bytes, path);
            let mut got = data.clone();
            key.ctr_xor(&mut iv.clone(), CtrWidth::Be128, &mut got);
            assert_eq!(got, want, "{} len={len}", path.name());
            key.ctr_xor(&mut iv.clone(), CtrWidth::Be128, &mut got);
            assert_eq!(got, data, "{} len={len}", path.name());
        }
    }
}

/// MB/s of `f` over `bytes`-sized calls: (median, best) of eleven 100 ms runs.
#[cfg(not(debug_assertions))]
fn rate(bytes: usize, mut f: impl FnMut()) -> (f64, f64) {
    use std::time::Instant;
    let mut runs = Vec::new();
    for _ in 0..11 {
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed().as_millis() < 100 {
            f();
            n += bytes;
        }
        runs.push(n as f64 / start.elapsed().as_secs_f64() / 1e6);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    (runs[runs.len() / 2], runs[runs.len() - 1])
}

/// Prints MB/s at 16 KiB for every path next to OpenSSL's SM4-CTR (the 2 cores here are
/// shared, so rerun when the figures look noisy).
#[test]
#[ignore = "timing print; run in release with --ignored --nocapture"]
#[cfg(not(debug_assertions))]
fn throughput() {
    const LEN: usize = 16 * 1024;
    let key_bytes = [7u8; 16];
    let iv = [0u8; 16];
    let mut data = vec![0x5au8; LEN];
    let mut out = vec![0u8; LEN + 16];
    let mut ossl_ctr = Crypter::new(Cipher::sm4_ctr(), Mode::Encrypt, &key_bytes, Some(&iv))
        .expect("openssl sm4-ctr");
    let (ossl, ossl_best) = rate(LEN, || {
        let n = ossl_ctr.update(&data, &mut out).expect("update");
        std::hint::black_box(n);
    });
    println!("openssl sm4-ctr: {ossl:7.1} MB/s median, {ossl_best:7.1} best");
    for path in paths() {
        let key = key_on(&key_bytes, path);
        let mut ctr = iv;
        let (ctr_mbs, ctr_best) = rate(LEN, || key.ctr_xor(&mut ctr, CtrWidth::Be128, &mut data));
        let mut blocks = vec![[0u8; 16]; LEN / 16];
        let (ecb, _) = rate(LEN, || key.encrypt_blocks(&mut blocks));
        let (dec, _) = rate(LEN, || key.decrypt_blocks(&mut blocks));
        let mut one = [0u8; 16];
        let (single, _) = rate(LEN, || {
            for _ in 0..LEN / 16 {
                key.encrypt_block(&mut one);
            }
        });
        println!(
            "{:>12}: ctr {ctr_mbs:7.1} MB/s median ({:4.1}x openssl), {ctr_best:7.1} best \
             ({:4.1}x); ecb-enc {ecb:7.1}; ecb-dec {dec:7.1}; 1-block {single:6.1}",
            path.name(),
            ctr_mbs / ossl,
            ctr_best / ossl_best,
        );
    }
}
