//! SM2 protocol tests: the known-answer vectors of GB/T 32918 (tests/data/sm2_kat.txt), key
//! files written by the OpenSSL command line (tests/data/sm2_*.pem), differential runs
//! against OpenSSL 3 (signatures with an explicit distinguishing ID, encryption, key
//! encodings, ECDH) and RustCrypto's `sm2` (signatures, PKCS#8), tampering and wrong-key
//! rejection, and random and mutated input into every parser (which must return an error,
//! never panic).
//!
//! Run: `cargo test -p meshtls-engine-sm --test sm2`; the timing print is
//! `cargo test -p meshtls-engine-sm --release --test sm2 -- --ignored --nocapture`.

use std::collections::HashMap;

use meshtls_engine_sm::sm2::{
    diffie_hellman, encrypt_with_nonce, sign_with_nonce, z_value, Ciphertext, EphemeralSecret,
    KeyExchange, PrivateKey, PublicKey, Role, Signature, DEFAULT_ID, MAX_ID_LEN,
};
use meshtls_engine_sm::SmError;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use rand::{Rng, RngCore};

/// Group order n of curveSM2, big-endian.
const N: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
/// Field prime p of curveSM2, big-endian.
const P: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF");

/// Random cases per differential test (each case is a few scalar multiplications; sized so
/// the whole binary stays well under 20 s in a debug build).
const CASES: usize = 200;
/// Cases that share one key in the differential tests (key setup costs an inversion).
const KEY_REUSE: usize = 5;

/// Parses 64 hex digits at compile time.
const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// One hex digit.
const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex digit"),
    }
}

/// Sections of tests/data/sm2_kat.txt: `[name]` then `key = hex` lines.
fn kat() -> HashMap<String, HashMap<String, Vec<u8>>> {
    let mut out: HashMap<String, HashMap<String, Vec<u8>>> = HashMap::new();
    let mut section = String::new();
    for line in include_str!("data/sm2_kat.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        out.entry(section.clone()).or_default().insert(
            key.trim().to_owned(),
            hex::decode(value.trim()).expect("hex"),
        );
    }
    out
}

/// A 32-byte array from a KAT field.
fn arr32(v: &[u8]) -> [u8; 32] {
    v.try_into().expect("32 bytes")
}

/// `a` - `b` for 32-byte big-endian values (a >= b).
fn sub_be(a: &[u8; 32], b: u64) -> [u8; 32] {
    let mut out = *a;
    let mut borrow = b as u128;
    for byte in out.iter_mut().rev() {
        let v = *byte as i128 - (borrow & 0xff) as i128;
        borrow >>= 8;
        if v < 0 {
            *byte = (v + 256) as u8;
            borrow += 1;
        } else {
            *byte = v as u8;
        }
    }
    out
}

/// A random distinguishing ID: usually the default, otherwise 0 to 40 printable bytes.
fn random_id(rng: &mut impl Rng) -> Vec<u8> {
    if rng.gen_bool(0.5) {
        return DEFAULT_ID.to_vec();
    }
    let len = rng.gen_range(0..=40);
    (0..len).map(|_| rng.gen_range(b'!'..=b'~')).collect()
}

/// A random message of 0 to 300 bytes.
fn random_msg(rng: &mut impl Rng) -> Vec<u8> {
    let len = rng.gen_range(0..=300);
    let mut m = vec![0u8; len];
    rng.fill_bytes(&mut m);
    m
}

/// OpenSSL's SM2 signatures with an explicit distinguishing ID. The `openssl` crate does not
/// wrap `EVP_PKEY_CTX_set1_id`, so this goes through FFI, following the sequence the
/// EVP_PKEY-SM2(7) manual gives: a PKEY_CTX with the ID, attached to the MD_CTX before
/// `EVP_DigestSignInit` / `EVP_DigestVerifyInit`.
mod ossl_sm2 {
    use std::os::raw::{c_int, c_void};
    use std::ptr;

    use foreign_types::ForeignType;
    use openssl::pkey::{HasPrivate, HasPublic, PKey};
    use openssl_sys as ffi;

    extern "C" {
        // OpenSSL 3.0: int EVP_PKEY_CTX_set1_id(EVP_PKEY_CTX *, const void *, int);
        fn EVP_PKEY_CTX_set1_id(
            ctx: *mut ffi::EVP_PKEY_CTX,
            id: *const c_void,
            len: c_int,
        ) -> c_int;
        // void EVP_MD_CTX_set_pkey_ctx(EVP_MD_CTX *, EVP_PKEY_CTX *);
        fn EVP_MD_CTX_set_pkey_ctx(ctx: *mut ffi::EVP_MD_CTX, pctx: *mut ffi::EVP_PKEY_CTX);
    }

    /// Whether OpenSSL treats `key` as an SM2 key (not plain EC, which would do ECDSA).
    pub(crate) fn is_sm2<T>(key: &PKey<T>) -> bool {
        // SAFETY: `key.as_ptr()` is a live EVP_PKEY; the name is a NUL-terminated literal.
        unsafe { ffi::EVP_PKEY_is_a(key.as_ptr(), c"SM2".as_ptr()) == 1 }
    }

    /// Owns an MD_CTX and the PKEY_CTX attached to it (attaching does not transfer
    /// ownership), and frees both.
    struct Ctx {
        md: *mut ffi::EVP_MD_CTX,
        pkey: *mut ffi::EVP_PKEY_CTX,
    }

    impl Drop for Ctx {
        fn drop(&mut self) {
            // SAFETY: both pointers were checked non-null in `Ctx::new`, are owned by this
            // value alone, and are freed exactly once here.
            unsafe {
                ffi::EVP_MD_CTX_free(self.md);
                ffi::EVP_PKEY_CTX_free(self.pkey);
            }
        }
    }

    impl Ctx {
        /// Contexts for `key` with the distinguishing ID `id`.
        fn new<T>(key: &PKey<T>, id: &[u8]) -> Ctx {
            assert!(is_sm2(key), "OpenSSL must see an SM2 key, not plain EC");
            let len = c_int::try_from(id.len()).expect("ID length fits an int");
            // SAFETY: `key.as_ptr()` is a live EVP_PKEY borrowed for this call; a null engine
            // is allowed. The result is checked for null before use.
            let pkey = unsafe { ffi::EVP_PKEY_CTX_new(key.as_ptr(), ptr::null_mut()) };
            assert!(!pkey.is_null());
            // SAFETY: EVP_MD_CTX_new takes no arguments; the result is checked for null.
            let md = unsafe { ffi::EVP_MD_CTX_new() };
            let ctx = Ctx { md, pkey };
            assert!(!md.is_null());
            // SAFETY: `pkey` is non-null (checked above); `id` is a live slice of `len` bytes
            // that OpenSSL copies.
            let rc = unsafe { EVP_PKEY_CTX_set1_id(pkey, id.as_ptr().cast(), len) };
            assert_eq!(rc, 1, "EVP_PKEY_CTX_set1_id");
            // SAFETY: both contexts are non-null (checked above) and outlive each other's use:
            // `Ctx` frees them together.
            unsafe { EVP_MD_CTX_set_pkey_ctx(md, pkey) };
            ctx
        }
    }

    /// DER signature of `msg` by `key` with ID `id`.
    pub(crate) fn sign<T: HasPrivate>(key: &PKey<T>, id: &[u8], msg: &[u8]) -> Vec<u8> {
        let ctx = Ctx::new(key, id);
        // SAFETY: `ctx.md` is a live MD_CTX with the PKEY_CTX attached; EVP_sm3() returns a
        // static digest; `key.as_ptr()` is live for the call.
        let rc = unsafe {
            ffi::EVP_DigestSignInit(
                ctx.md,
                ptr::null_mut(),
                ffi::EVP_sm3(),
                ptr::null_mut(),
                key.as_ptr(),
            )
        };
        assert_eq!(rc, 1, "EVP_DigestSignInit");
        let mut sig = vec![0u8; 80];
        let mut len = sig.len();
        // SAFETY: `sig` has `len` writable bytes and OpenSSL writes at most that many (an SM2
        // DER signature is at most 72 bytes); `msg` is a live slice of `msg.len()` bytes.
        let rc = unsafe {
            ffi::EVP_DigestSign(ctx.md, sig.as_mut_ptr(), &mut len, msg.as_ptr(), msg.len())
        };
        assert_eq!(rc, 1, "EVP_DigestSign");
        sig.truncate(len);
        sig
    }

    /// Whether OpenSSL accepts the DER signature `sig` over `msg` by `key` with ID `id`.
    pub(crate) fn verify<T: HasPublic>(key: &PKey<T>, id: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let ctx = Ctx::new(key, id);
        // SAFETY: as in `sign`: live contexts, static digest, live key.
        let rc = unsafe {
            ffi::EVP_DigestVerifyInit(
                ctx.md,
                ptr::null_mut(),
                ffi::EVP_sm3(),
                ptr::null_mut(),
                key.as_ptr(),
            )
        };
        assert_eq!(rc, 1, "EVP_DigestVerifyInit");
        // SAFETY: `sig` and `msg` are live slices of the given lengths, only read.
        let rc = unsafe {
            ffi::EVP_DigestVerify(ctx.md, sig.as_ptr(), sig.len(), msg.as_ptr(), msg.len())
        };
        rc == 1
    }
}

/// Our key as an OpenSSL SM2 private key (through our PKCS#8).
fn to_ossl_private(key: &PrivateKey) -> PKey<Private> {
    let pkey = PKey::private_key_from_der(&key.to_pkcs8_der().unwrap()).unwrap();
    assert!(ossl_sm2::is_sm2(&pkey));
    pkey
}

/// Our public key as an OpenSSL SM2 public key (through our SPKI).
fn to_ossl_public(key: &PublicKey) -> PKey<Public> {
    let pkey = PKey::public_key_from_der(&key.to_spki_der().unwrap()).unwrap();
    assert!(ossl_sm2::is_sm2(&pkey));
    pkey
}

/// The SM2 group in OpenSSL.
fn ossl_group() -> EcGroup {
    EcGroup::from_curve_name(Nid::SM2).unwrap()
}

// === Known answers ===

#[test]
fn kat_signature() {
    let v = &kat()["sign"];
    let key = PrivateKey::from_bytes(&v["d"]).unwrap();
    let point = key.public_key().to_uncompressed();
    assert_eq!(&point[1..33], &v["px"][..]);
    assert_eq!(&point[33..], &v["py"][..]);
    let sig = sign_with_nonce(&key, &v["id"], &v["msg"], &arr32(&v["k"])).unwrap();
    assert_eq!(&sig.r()[..], &v["r"][..]);
    assert_eq!(&sig.s()[..], &v["s"][..]);
    key.public_key().verify(&v["msg"], &sig).unwrap();
    key.public_key()
        .verify_with_id(&v["id"], &v["msg"], &sig)
        .unwrap();
    // Our own nonces give other signatures of the same message that verify too.
    let ours = key.sign(&v["msg"]).unwrap();
    assert_ne!(ours, sig);
    key.public_key().verify(&v["msg"], &ours).unwrap();
}

#[test]
fn kat_encryption() {
    let v = &kat()["encrypt"];
    let key = PrivateKey::from_bytes(&v["d"]).unwrap();
    let ct = encrypt_with_nonce(key.public_key(), &v["msg"], &arr32(&v["k"])).unwrap();
    assert_eq!(ct.to_der(), v["der"]);
    let parsed = Ciphertext::from_der(&v["der"]).unwrap();
    assert_eq!(parsed, ct);
    assert_eq!(&key.decrypt(&parsed).unwrap()[..], &v["msg"][..]);
    // The raw C1 || C3 || C2 form carries the same parts.
    let raw = ct.to_raw();
    assert_eq!(raw.len(), 65 + 32 + v["msg"].len());
    assert_eq!(Ciphertext::from_raw(&raw).unwrap(), ct);
}

#[test]
fn kat_key_exchange() {
    let v = &kat()["kex"];
    let a = PrivateKey::from_bytes(&v["d_a"]).unwrap();
    let b = PrivateKey::from_bytes(&v["d_b"]).unwrap();
    assert_eq!(&a.public_key().to_uncompressed()[..], &v["p_a"][..]);
    assert_eq!(&b.public_key().to_uncompressed()[..], &v["p_b"][..]);
    assert_eq!(
        &z_value(&v["id_a"], a.public_key()).unwrap()[..],
        &v["z_a"][..]
    );
    assert_eq!(
        &z_value(&v["id_b"], b.public_key()).unwrap()[..],
        &v["z_b"][..]
    );

    let init =
        KeyExchange::with_ephemeral(Role::Initiator, &a, &v["id_a"], &arr32(&v["r_a"])).unwrap();
    let resp =
        KeyExchange::with_ephemeral(Role::Responder, &b, &v["id_b"], &arr32(&v["r_b"])).unwrap();
    assert_eq!(init.role(), Role::Initiator);
    assert_eq!(
        &init.ephemeral_public_key().to_uncompressed()[..],
        &v["eph_a"][..]
    );
    assert_eq!(
        &resp.ephemeral_public_key().to_uncompressed()[..],
        &v["eph_b"][..]
    );
    let ra = init.ephemeral_public_key().clone();
    let rb = resp.ephemeral_public_key().clone();
    let ka = init
        .finish(b.public_key(), &v["id_b"], &rb, v["k"].len())
        .unwrap();
    let kb = resp
        .finish(a.public_key(), &v["id_a"], &ra, v["k"].len())
        .unwrap();
    assert_eq!(ka.key(), &v["k"][..]);
    assert_eq!(kb.key(), &v["k"][..]);
    assert_eq!(&kb.confirmation()[..], &v["s_b"][..]);
    assert_eq!(&ka.confirmation()[..], &v["s_a"][..]);
    ka.verify_peer_confirmation(kb.confirmation()).unwrap();
    kb.verify_peer_confirmation(ka.confirmation()).unwrap();
    assert_eq!(
        ka.verify_peer_confirmation(ka.confirmation()),
        Err(SmError::ConfirmationFailed)
    );
    assert_eq!(
        kb.verify_peer_confirmation(&v["s_b"][..31]),
        Err(SmError::ConfirmationFailed)
    );
}

// === Keys and encodings ===

#[test]
fn private_key_range() {
    let one = {
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    };
    assert!(PrivateKey::from_bytes(&one).is_ok());
    assert!(PrivateKey::from_bytes(&sub_be(&N, 2)).is_ok());
    for bad in [[0u8; 32], sub_be(&N, 1), N, [0xff; 32]] {
        assert_eq!(
            PrivateKey::from_bytes(&bad).unwrap_err(),
            SmError::InvalidScalar
        );
    }
    assert_eq!(
        PrivateKey::from_bytes(&one[1..]).unwrap_err(),
        SmError::InvalidKeyLength
    );
    let key = PrivateKey::generate().unwrap();
    assert_eq!(
        PrivateKey::from_bytes(&key.to_bytes()[..])
            .unwrap()
            .public_key(),
        key.public_key()
    );
}

#[test]
fn public_key_points() {
    let mut rng = rand::thread_rng();
    let group = ossl_group();
    let mut ctx = BigNumContext::new().unwrap();
    for _ in 0..20 {
        let key = PrivateKey::generate().unwrap();
        let pk = key.public_key();
        let c = pk.to_compressed();
        assert_eq!(PublicKey::from_sec1_bytes(&c).unwrap(), *pk);
        assert_eq!(
            PublicKey::from_sec1_bytes(&pk.to_uncompressed()).unwrap(),
            *pk
        );
        assert_eq!(
            PublicKey::from_uncompressed(&c).unwrap_err(),
            SmError::InvalidPoint
        );
        // OpenSSL compresses the same way.
        let ossl = EcKey::public_key_from_der(&pk.to_spki_der().unwrap()).unwrap();
        let ossl_c = ossl
            .public_key()
            .to_bytes(&group, PointConversionForm::COMPRESSED, &mut ctx)
            .unwrap();
        assert_eq!(ossl_c, c);
        // A random x is on the curve about half the time; never a panic either way.
        let mut x = [0u8; 33];
        rng.fill_bytes(&mut x[1..]);
        x[0] = 2;
        let _ = PublicKey::from_sec1_bytes(&x);
    }
    let mut bad = PrivateKey::generate()
        .unwrap()
        .public_key()
        .to_uncompressed();
    bad[64] ^= 1;
    assert_eq!(
        PublicKey::from_sec1_bytes(&bad).unwrap_err(),
        SmError::PointNotOnCurve
    );
    let mut big = [0u8; 65];
    big[0] = 4;
    big[1..33].copy_from_slice(&P);
    assert_eq!(
        PublicKey::from_sec1_bytes(&big).unwrap_err(),
        SmError::InvalidPoint
    );
    assert_eq!(
        PublicKey::from_sec1_bytes(&[0]).unwrap_err(),
        SmError::PointAtInfinity
    );
    assert_eq!(
        PublicKey::from_sec1_bytes(&[]).unwrap_err(),
        SmError::InvalidPoint
    );
    let mut wrong_tag = PrivateKey::generate()
        .unwrap()
        .public_key()
        .to_uncompressed();
    wrong_tag[0] = 6;
    assert_eq!(
        PublicKey::from_sec1_bytes(&wrong_tag).unwrap_err(),
        SmError::InvalidPoint
    );
}

#[test]
fn openssl_cli_key_files() {
    // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2` (PKCS#8).
    let genpkey = include_str!("data/sm2_genpkey.pem");
    // `openssl ec` of the same key (SEC1, labelled "SM2 PRIVATE KEY" by OpenSSL 3).
    let ec = include_str!("data/sm2_ec.pem");
    // `openssl pkey -pubout` of the same key.
    let public = include_str!("data/sm2_pub.pem");
    // `openssl ecparam -name SM2 -genkey` (a parameters block, then PKCS#8).
    let ecparam = include_str!("data/sm2_ecparam.pem");

    let key = PrivateKey::from_pkcs8_pem(genpkey).unwrap();
    let key_ec = PrivateKey::from_sec1_pem(ec).unwrap();
    assert_eq!(key.to_bytes(), key_ec.to_bytes());
    assert_eq!(PrivateKey::from_pem(ec).unwrap().to_bytes(), key.to_bytes());
    assert_eq!(
        PrivateKey::from_pem(genpkey).unwrap().to_bytes(),
        key.to_bytes()
    );
    let pk = PublicKey::from_spki_pem(public).unwrap();
    assert_eq!(&pk, key.public_key());
    let other = PrivateKey::from_pem(ecparam).unwrap();
    assert_ne!(other.public_key(), key.public_key());

    // Our encodings are byte for byte what OpenSSL wrote (PEM bodies compared as DER).
    let der_of = |pem: &str| pem_body(pem);
    assert_eq!(&key.to_pkcs8_der().unwrap()[..], &der_of(genpkey)[..]);
    assert_eq!(&key.to_sec1_der().unwrap()[..], &der_of(ec)[..]);
    assert_eq!(pk.to_spki_der().unwrap(), der_of(public));
    assert_eq!(pk.to_spki_pem().unwrap(), public);
    assert_eq!(&key.to_pkcs8_pem().unwrap()[..], genpkey);
    // Labels must match the form.
    assert!(matches!(
        PrivateKey::from_sec1_pem(genpkey),
        Err(SmError::Encoding(_))
    ));
    assert!(matches!(
        PrivateKey::from_pkcs8_pem(ec),
        Err(SmError::Encoding(_))
    ));
    assert!(matches!(
        PublicKey::from_spki_pem(genpkey),
        Err(SmError::Encoding(_))
    ));
}

/// The DER inside a single-block PEM.
fn pem_body(pem: &str) -> Vec<u8> {
    let (_, doc) = pem_rfc7468_decode(pem);
    doc
}

/// Decodes PEM with OpenSSL's base64 (an implementation independent of ours).
fn pem_rfc7468_decode(pem: &str) -> (String, Vec<u8>) {
    let mut lines = pem.lines();
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .expect("PEM header")
        .to_owned();
    let body: String = lines.take_while(|l| !l.starts_with("-----END")).collect();
    (label, openssl::base64::decode_block(&body).unwrap())
}

#[test]
fn encodings_against_openssl() {
    let group = ossl_group();
    for i in 0..40 {
        // Ours into OpenSSL: it reads each form as the same key, and writes PKCS#8 / SPKI
        // back byte for byte.
        let key = PrivateKey::generate().unwrap();
        let d = BigNum::from_slice(&key.to_bytes()[..]).unwrap();
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let from_pkcs8 = PKey::private_key_from_pkcs8(&pkcs8).unwrap();
        assert!(ossl_sm2::is_sm2(&from_pkcs8));
        assert_eq!(&from_pkcs8.private_key_to_pkcs8().unwrap(), &*pkcs8);
        let from_der = PKey::private_key_from_der(&pkcs8).unwrap();
        assert_eq!(&from_der.private_key_to_pkcs8().unwrap(), &*pkcs8);
        let from_sec1 = EcKey::private_key_from_der(&key.to_sec1_der().unwrap()).unwrap();
        assert_eq!(from_sec1.private_key(), &*d);
        from_sec1.check_key().unwrap();
        let from_pem = PKey::private_key_from_pem(key.to_sec1_pem().unwrap().as_bytes()).unwrap();
        assert_eq!(&from_pem.private_key_to_pkcs8().unwrap(), &*pkcs8);
        let from_pem8 = PKey::private_key_from_pem(key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        assert_eq!(&from_pem8.private_key_to_pkcs8().unwrap(), &*pkcs8);
        let spki = key.public_key().to_spki_der().unwrap();
        let public = PKey::public_key_from_der(&spki).unwrap();
        assert!(public.public_eq(&from_pkcs8));
        assert_eq!(public.public_key_to_der().unwrap(), spki);
        let public_pem =
            PKey::public_key_from_pem(key.public_key().to_spki_pem().unwrap().as_bytes()).unwrap();
        assert!(public_pem.public_eq(&from_pkcs8));

        // OpenSSL's into ours.
        let ossl = EcKey::generate(&group).unwrap();
        let d = ossl.private_key().to_vec_padded(32).unwrap();
        let sec1 = PrivateKey::from_sec1_der(&ossl.private_key_to_der().unwrap()).unwrap();
        assert_eq!(&sec1.to_bytes()[..], &d[..]);
        let sec1_pem = ossl.private_key_to_pem().unwrap();
        let sec1_pem = std::str::from_utf8(&sec1_pem).unwrap();
        assert!(sec1_pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        assert_eq!(
            &PrivateKey::from_sec1_pem(sec1_pem).unwrap().to_bytes()[..],
            &d[..]
        );
        let pkey = PKey::from_ec_key(ossl.clone()).unwrap();
        let pkcs8 = PrivateKey::from_pkcs8_der(&pkey.private_key_to_pkcs8().unwrap()).unwrap();
        assert_eq!(&pkcs8.to_bytes()[..], &d[..]);
        let spki = PublicKey::from_spki_der(&pkey.public_key_to_der().unwrap()).unwrap();
        assert_eq!(&spki, sec1.public_key());
        if i % 2 == 0 {
            // A compressed point (as OpenSSL compresses it) inside SPKI is accepted as well.
            let mut ctx = BigNumContext::new().unwrap();
            let point = ossl
                .public_key()
                .to_bytes(&group, PointConversionForm::COMPRESSED, &mut ctx)
                .unwrap();
            let prefix =
                hex::decode("3039301306072a8648ce3d020106082a811ccf5501822d032200").unwrap();
            let der = [prefix, point].concat();
            assert_eq!(PublicKey::from_spki_der(&der).unwrap(), *sec1.public_key());
        }
    }
}

#[test]
fn encodings_against_rustcrypto() {
    use sm2_rustcrypto::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
    for _ in 0..20 {
        let key = PrivateKey::generate().unwrap();
        let theirs =
            sm2_rustcrypto::SecretKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(&theirs.to_bytes()[..], &key.to_bytes()[..]);
        let back = PrivateKey::from_pkcs8_der(theirs.to_pkcs8_der().unwrap().as_bytes()).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        let their_pk = sm2_rustcrypto::PublicKey::from_public_key_der(
            &key.public_key().to_spki_der().unwrap(),
        )
        .unwrap();
        assert_eq!(
            &their_pk.to_sec1_bytes()[..],
            &key.public_key().to_uncompressed()[..]
        );
        let sec1 = theirs.to_sec1_der().unwrap();
        assert_eq!(
            PrivateKey::from_sec1_der(&sec1).unwrap().to_bytes(),
            key.to_bytes()
        );
    }
}

#[test]
fn encodings_strictness() {
    let key = PrivateKey::generate().unwrap();
    let other = PrivateKey::generate().unwrap();
    // A P-256 key is refused, in every container.
    let p256 = EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap();
    let p256_pkey = PKey::from_ec_key(p256.clone()).unwrap();
    assert!(matches!(
        PrivateKey::from_sec1_der(&p256.private_key_to_der().unwrap()),
        Err(SmError::Encoding(_))
    ));
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&p256_pkey.private_key_to_pkcs8().unwrap()),
        Err(SmError::Encoding(_))
    ));
    assert!(matches!(
        PublicKey::from_spki_der(&p256_pkey.public_key_to_der().unwrap()),
        Err(SmError::Encoding(_))
    ));
    // The algorithm OID SM2 itself is accepted (absent, NULL or SM2 parameters).
    let point = key.public_key().to_uncompressed();
    for params in [
        &[][..],
        &[0x05, 0x00][..],
        &hex::decode("06082a811ccf5501822d").unwrap()[..],
    ] {
        let alg = [&hex::decode("06082a811ccf5501822d").unwrap()[..], params].concat();
        let alg_seq = [&[0x30, alg.len() as u8][..], &alg].concat();
        let bits = [&[0x03, 66, 0][..], &point[..]].concat();
        let body = [alg_seq, bits].concat();
        let spki = [&[0x30, body.len() as u8][..], &body].concat();
        assert_eq!(PublicKey::from_spki_der(&spki).unwrap(), *key.public_key());
    }
    // A SEC1 key whose embedded public key is someone else's.
    let mut sec1 = key.to_sec1_der().unwrap().to_vec();
    let pos = sec1.len() - 65;
    sec1[pos..].copy_from_slice(&other.public_key().to_uncompressed());
    assert!(matches!(
        PrivateKey::from_sec1_der(&sec1),
        Err(SmError::Encoding(_))
    ));
    // Trailing bytes.
    let mut pkcs8 = key.to_pkcs8_der().unwrap().to_vec();
    pkcs8.push(0);
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&pkcs8),
        Err(SmError::Encoding(_))
    ));
    let mut spki = key.public_key().to_spki_der().unwrap();
    spki.push(0);
    assert!(matches!(
        PublicKey::from_spki_der(&spki),
        Err(SmError::Encoding(_))
    ));
    // An EC PARAMETERS block naming another curve.
    let p256_params =
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    let pem = format!("{p256_params}{}", &*key.to_sec1_pem().unwrap());
    assert!(matches!(
        PrivateKey::from_sec1_pem(&pem),
        Err(SmError::Encoding(_))
    ));
    let sm2_params =
        "-----BEGIN EC PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END EC PARAMETERS-----\n";
    let pem = format!("{sm2_params}{}", &*key.to_sec1_pem().unwrap());
    assert_eq!(
        PrivateKey::from_sec1_pem(&pem).unwrap().to_bytes(),
        key.to_bytes()
    );
}

// === Signatures ===

#[test]
fn sign_here_verify_openssl() {
    let mut rng = rand::thread_rng();
    let mut key = PrivateKey::generate().unwrap();
    let mut ossl = to_ossl_public(key.public_key());
    for i in 0..CASES {
        if i > 0 && i % KEY_REUSE == 0 {
            key = PrivateKey::generate().unwrap();
            ossl = to_ossl_public(key.public_key());
        }
        let id = random_id(&mut rng);
        let msg = random_msg(&mut rng);
        let sig = key.sign_with_id(&id, &msg).unwrap();
        assert!(
            ossl_sm2::verify(&ossl, &id, &msg, &sig.to_der()),
            "case {i}"
        );
        // OpenSSL also rejects it under another ID.
        assert!(!ossl_sm2::verify(&ossl, b"another id", &msg, &sig.to_der()));
    }
}

#[test]
fn sign_openssl_verify_here() {
    let mut rng = rand::thread_rng();
    let mut key = PrivateKey::generate().unwrap();
    let mut ossl = to_ossl_private(&key);
    for i in 0..CASES {
        if i > 0 && i % KEY_REUSE == 0 {
            key = PrivateKey::generate().unwrap();
            ossl = to_ossl_private(&key);
        }
        let id = random_id(&mut rng);
        let msg = random_msg(&mut rng);
        let der = ossl_sm2::sign(&ossl, &id, &msg);
        let sig = Signature::from_der(&der).unwrap();
        assert_eq!(sig.to_der(), der, "DER re-encodes identically");
        key.public_key()
            .verify_with_id(&id, &msg, &sig)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
    }
}

#[test]
fn signatures_against_rustcrypto() {
    use sm2_rustcrypto::dsa::signature::{Signer, Verifier};
    use sm2_rustcrypto::dsa::{Signature as TheirSig, SigningKey, VerifyingKey};
    let mut rng = rand::thread_rng();
    // RustCrypto's arithmetic is slow in debug builds: fewer cases here.
    for i in 0..CASES / 4 {
        let key = PrivateKey::generate().unwrap();
        let id = String::from_utf8(random_id(&mut rng)).unwrap();
        let msg = random_msg(&mut rng);
        let theirs = SigningKey::from_slice(&id, &key.to_bytes()[..]).unwrap();
        let their_vk =
            VerifyingKey::from_sec1_bytes(&id, &key.public_key().to_uncompressed()).unwrap();
        // Theirs, verified here.
        let sig: TheirSig = theirs.sign(&msg);
        let ours = Signature::from_bytes(&sig.to_bytes()).unwrap();
        key.public_key()
            .verify_with_id(id.as_bytes(), &msg, &ours)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        // Ours, verified there.
        let sig = key.sign_with_id(id.as_bytes(), &msg).unwrap();
        let theirs = TheirSig::from_slice(&sig.to_bytes()).unwrap();
        their_vk.verify(&msg, &theirs).unwrap();
    }
}

#[test]
fn signature_round_trips_and_tampering() {
    let mut rng = rand::thread_rng();
    let other = PrivateKey::generate().unwrap();
    for _ in 0..CASES / 4 {
        let key = PrivateKey::generate().unwrap();
        let pk = key.public_key();
        let id = random_id(&mut rng);
        let mut msg = random_msg(&mut rng);
        let sig = key.sign_with_id(&id, &msg).unwrap();
        pk.verify_with_id(&id, &msg, &sig).unwrap();
        assert_eq!(Signature::from_der(&sig.to_der()).unwrap(), sig);
        assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        // Hedged nonces: signing twice gives two different valid signatures.
        let again = key.sign_with_id(&id, &msg).unwrap();
        assert_ne!(again, sig);
        pk.verify_with_id(&id, &msg, &again).unwrap();
        // Wrong key, wrong ID.
        assert_eq!(
            other.public_key().verify_with_id(&id, &msg, &sig),
            Err(SmError::BadSignature)
        );
        let mut wrong_id = id.clone();
        wrong_id.push(b'x');
        assert_eq!(
            pk.verify_with_id(&wrong_id, &msg, &sig),
            Err(SmError::BadSignature)
        );
        // A flipped bit in r or s: out of range, or a bad signature.
        let mut raw = sig.to_bytes();
        let bit = rng.gen_range(0..512);
        raw[bit / 8] ^= 1 << (bit % 8);
        match Signature::from_bytes(&raw) {
            Ok(s) => assert_eq!(pk.verify_with_id(&id, &msg, &s), Err(SmError::BadSignature)),
            Err(e) => assert_eq!(e, SmError::MalformedSignature),
        }
        // A flipped bit in the message.
        if !msg.is_empty() {
            let bit = rng.gen_range(0..msg.len() * 8);
            msg[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                pk.verify_with_id(&id, &msg, &sig),
                Err(SmError::BadSignature)
            );
        }
    }
}

#[test]
fn signature_range_and_der_errors() {
    let key = PrivateKey::generate().unwrap();
    let sig = key.sign(b"range").unwrap();
    let (r, s) = (sig.r(), sig.s());
    let zero = [0u8; 32];
    for (r, s) in [(zero, s), (r, zero), (N, s), (r, N), ([0xff; 32], s)] {
        let raw = [r, s].concat();
        assert_eq!(
            Signature::from_bytes(&raw).unwrap_err(),
            SmError::MalformedSignature
        );
    }
    assert_eq!(
        Signature::from_bytes(&sig.to_bytes()[..63]).unwrap_err(),
        SmError::MalformedSignature
    );
    // r + s = n is in range but must not verify (GB/T 32918.2 §7.1 B5).
    let s_neg = {
        // n - r as big-endian bytes.
        let mut out = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let v = N[i] as i16 - r[i] as i16 - borrow;
            borrow = i16::from(v < 0);
            out[i] = v.rem_euclid(256) as u8;
        }
        out
    };
    let sum_n = Signature::from_bytes(&[r, s_neg].concat()).unwrap();
    assert_eq!(
        key.public_key().verify(b"range", &sum_n),
        Err(SmError::BadSignature)
    );
    // DER defects: non-minimal integer, negative integer, trailing data, wrong tag,
    // indefinite length, 33-byte magnitude.
    let good = sig.to_der();
    let mut trailing = good.clone();
    trailing.push(0);
    let bad: Vec<Vec<u8>> = vec![
        hex::decode("3007020200010201 01".replace(' ', "")).unwrap(),
        hex::decode("30060201ff020101").unwrap(),
        trailing,
        hex::decode("3106020101020101").unwrap(),
        hex::decode("3080020101020101 0000".replace(' ', "")).unwrap(),
        [
            &hex::decode("302602210100").unwrap()[..],
            &[0u8; 31][..],
            &hex::decode("020101").unwrap()[..],
        ]
        .concat(),
        vec![],
        hex::decode("3000").unwrap(),
    ];
    for der in bad {
        assert_eq!(
            Signature::from_der(&der).unwrap_err(),
            SmError::MalformedSignature,
            "{}",
            hex::encode(&der)
        );
    }
    assert_eq!(
        Signature::from_der(&hex::decode("3006020100020101").unwrap()).unwrap_err(),
        SmError::MalformedSignature
    );
}

#[test]
fn distinguishing_id_length() {
    let key = PrivateKey::generate().unwrap();
    let longest = vec![b'a'; MAX_ID_LEN];
    let sig = key.sign_with_id(&longest, b"m").unwrap();
    key.public_key()
        .verify_with_id(&longest, b"m", &sig)
        .unwrap();
    let too_long = vec![b'a'; MAX_ID_LEN + 1];
    assert_eq!(
        key.sign_with_id(&too_long, b"m").unwrap_err(),
        SmError::InvalidLength
    );
    assert_eq!(
        z_value(&too_long, key.public_key()).unwrap_err(),
        SmError::InvalidLength
    );
    // The default ID and an explicit copy of it agree (the cached Z is the computed one).
    let sig = key.sign(b"m").unwrap();
    key.public_key()
        .verify_with_id(b"1234567812345678", b"m", &sig)
        .unwrap();
}

// === Encryption ===

#[test]
fn encrypt_here_decrypt_openssl() {
    let mut rng = rand::thread_rng();
    let mut key = PrivateKey::generate().unwrap();
    let mut ossl = to_ossl_private(&key);
    for i in 0..CASES {
        if i > 0 && i % KEY_REUSE == 0 {
            key = PrivateKey::generate().unwrap();
            ossl = to_ossl_private(&key);
        }
        let mut msg = random_msg(&mut rng);
        if msg.is_empty() {
            msg.push(0);
        }
        let ct = key.public_key().encrypt(&msg).unwrap();
        let der = ct.to_der();
        let dec = openssl::encrypt::Decrypter::new(&ossl).unwrap();
        let mut out = vec![0u8; dec.decrypt_len(&der).unwrap()];
        let n = dec.decrypt(&der, &mut out).unwrap();
        assert_eq!(&out[..n], &msg[..], "case {i}");
    }
}

#[test]
fn encrypt_openssl_decrypt_here() {
    let mut rng = rand::thread_rng();
    let mut key = PrivateKey::generate().unwrap();
    let mut ossl = to_ossl_public(key.public_key());
    for i in 0..CASES {
        if i > 0 && i % KEY_REUSE == 0 {
            key = PrivateKey::generate().unwrap();
            ossl = to_ossl_public(key.public_key());
        }
        let mut msg = random_msg(&mut rng);
        if msg.is_empty() {
            msg.push(0);
        }
        let enc = openssl::encrypt::Encrypter::new(&ossl).unwrap();
        let mut der = vec![0u8; enc.encrypt_len(&msg).unwrap()];
        let n = enc.encrypt(&msg, &mut der).unwrap();
        der.truncate(n);
        let ct = Ciphertext::from_der(&der).unwrap();
        assert_eq!(ct.to_der(), der, "DER re-encodes identically");
        assert_eq!(&key.decrypt(&ct).unwrap()[..], &msg[..], "case {i}");
        assert_eq!(Ciphertext::from_raw(&ct.to_raw()).unwrap(), ct);
    }
}

#[test]
fn encryption_tampering_and_errors() {
    let mut rng = rand::thread_rng();
    let other = PrivateKey::generate().unwrap();
    let key = PrivateKey::generate().unwrap();
    for _ in 0..CASES / 4 {
        let msg: Vec<u8> = (0..rng.gen_range(1..100)).map(|_| rng.gen()).collect();
        let ct = key.public_key().encrypt(&msg).unwrap();
        assert_eq!(other.decrypt(&ct).unwrap_err(), SmError::DecryptionFailed);
        let raw = ct.to_raw();
        // Flip one bit anywhere after the 04 prefix: C1 (becomes invalid, or another point),
        // C3 or C2.
        let bit = rng.gen_range(8..raw.len() * 8);
        let mut tampered = raw.clone();
        tampered[bit / 8] ^= 1 << (bit % 8);
        match Ciphertext::from_raw(&tampered) {
            Ok(ct) => assert_eq!(key.decrypt(&ct).unwrap_err(), SmError::DecryptionFailed),
            Err(e) => assert!(
                matches!(e, SmError::PointNotOnCurve | SmError::InvalidPoint),
                "{e:?}"
            ),
        }
        // Each part explicitly.
        for pos in [
            1 + rng.gen_range(0..64),
            65 + rng.gen_range(0..32),
            97 + rng.gen_range(0..msg.len()),
        ] {
            let mut t = raw.clone();
            t[pos] ^= 0x01;
            if let Ok(ct) = Ciphertext::from_raw(&t) {
                assert_eq!(key.decrypt(&ct).unwrap_err(), SmError::DecryptionFailed);
            }
        }
    }
    let key = PrivateKey::generate().unwrap();
    assert_eq!(
        key.public_key().encrypt(b"").unwrap_err(),
        SmError::InvalidLength
    );
    let raw = key.public_key().encrypt(b"x").unwrap().to_raw();
    assert_eq!(
        Ciphertext::from_raw(&raw[..97]).unwrap_err(),
        SmError::CiphertextTooShort
    );
    assert_eq!(
        Ciphertext::from_raw(&[]).unwrap_err(),
        SmError::CiphertextTooShort
    );
    let mut compressed_tag = raw.clone();
    compressed_tag[0] = 2;
    assert_eq!(
        Ciphertext::from_raw(&compressed_tag).unwrap_err(),
        SmError::InvalidPoint
    );
    let mut off_curve = raw.clone();
    off_curve[64] ^= 1;
    assert_eq!(
        Ciphertext::from_raw(&off_curve).unwrap_err(),
        SmError::PointNotOnCurve
    );
    // DER defects.
    let der = key.public_key().encrypt(b"hello").unwrap().to_der();
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        Ciphertext::from_der(&trailing),
        Err(SmError::Encoding(_))
    ));
    assert!(matches!(
        Ciphertext::from_der(&der[..der.len() - 1]),
        Err(SmError::Encoding(_))
    ));
    // C3 of 31 bytes, empty C2.
    let ct = Ciphertext::from_der(&der).unwrap();
    let c1 = ct.c1();
    let rebuild = |c3: &[u8], c2: &[u8]| -> Vec<u8> {
        let int = |v: &[u8]| {
            let v = if v[0] >= 0x80 {
                [&[0u8][..], v].concat()
            } else {
                v.to_vec()
            };
            [&[0x02, v.len() as u8][..], &v].concat()
        };
        let body = [
            int(&c1[1..33]),
            int(&c1[33..]),
            [&[0x04, c3.len() as u8][..], c3].concat(),
            [&[0x04, c2.len() as u8][..], c2].concat(),
        ]
        .concat();
        [&[0x30, body.len() as u8][..], &body].concat()
    };
    assert_eq!(
        Ciphertext::from_der(&rebuild(ct.c3(), ct.c2())).unwrap(),
        ct
    );
    assert!(matches!(
        Ciphertext::from_der(&rebuild(&ct.c3()[..31], ct.c2())),
        Err(SmError::Encoding(_))
    ));
    assert_eq!(
        Ciphertext::from_der(&rebuild(ct.c3(), &[])).unwrap_err(),
        SmError::CiphertextTooShort
    );
}

#[test]
fn encryption_lengths() {
    let key = PrivateKey::generate().unwrap();
    for len in [1usize, 2, 31, 32, 33, 63, 64, 65, 1000, 4096] {
        let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let ct = key.public_key().encrypt(&msg).unwrap();
        assert_eq!(ct.c2().len(), len);
        let der = ct.to_der();
        assert_eq!(
            &key.decrypt(&Ciphertext::from_der(&der).unwrap()).unwrap()[..],
            &msg[..]
        );
    }
}

// === Key exchange and ECDH ===

#[test]
fn key_exchange_round_trips() {
    let mut rng = rand::thread_rng();
    for _ in 0..CASES / 10 {
        let a = PrivateKey::generate().unwrap();
        let b = PrivateKey::generate().unwrap();
        let (id_a, id_b) = (random_id(&mut rng), random_id(&mut rng));
        let klen = rng.gen_range(1..=100);
        let init = KeyExchange::new(Role::Initiator, &a, &id_a).unwrap();
        let resp = KeyExchange::new(Role::Responder, &b, &id_b).unwrap();
        let (ra, rb) = (
            init.ephemeral_public_key().clone(),
            resp.ephemeral_public_key().clone(),
        );
        let kb = resp.finish(a.public_key(), &id_a, &ra, klen).unwrap();
        let ka = init.finish(b.public_key(), &id_b, &rb, klen).unwrap();
        assert_eq!(ka.key(), kb.key());
        assert_eq!(ka.key().len(), klen);
        ka.verify_peer_confirmation(kb.confirmation()).unwrap();
        kb.verify_peer_confirmation(ka.confirmation()).unwrap();
    }
    // TLCP shape: server initiates, 48 bytes; a wrong peer ID gives another key and failed
    // confirmation.
    let server = PrivateKey::generate().unwrap();
    let client = PrivateKey::generate().unwrap();
    let s = KeyExchange::new(Role::Initiator, &server, DEFAULT_ID).unwrap();
    let c = KeyExchange::new(Role::Responder, &client, DEFAULT_ID).unwrap();
    let (rs, rc) = (
        s.ephemeral_public_key().clone(),
        c.ephemeral_public_key().clone(),
    );
    let kc = c
        .finish(server.public_key(), b"not the server", &rs, 48)
        .unwrap();
    let ks = s.finish(client.public_key(), DEFAULT_ID, &rc, 48).unwrap();
    assert_eq!(ks.key().len(), 48);
    assert_ne!(ks.key(), kc.key());
    assert_eq!(
        ks.verify_peer_confirmation(kc.confirmation()),
        Err(SmError::ConfirmationFailed)
    );
    // Zero-length output is refused.
    let s = KeyExchange::new(Role::Initiator, &server, DEFAULT_ID).unwrap();
    assert_eq!(
        s.finish(client.public_key(), DEFAULT_ID, &rc, 0)
            .unwrap_err(),
        SmError::InvalidLength
    );
}

#[test]
fn ecdh_against_openssl() {
    for _ in 0..CASES / 4 {
        let alice = EphemeralSecret::generate().unwrap();
        let bob = PrivateKey::generate().unwrap();
        let alice_share = alice.public_key_bytes();
        let alice_pk = PublicKey::from_uncompressed(&alice_share).unwrap();
        let from_bob = diffie_hellman(&bob, &alice_pk).unwrap();
        let from_alice = alice.diffie_hellman(bob.public_key()).unwrap();
        assert_eq!(from_alice.as_bytes(), from_bob.as_bytes());
        // OpenSSL's point arithmetic agrees: x of d_bob * A. (Its EVP derive refuses SM2
        // keys, so this multiplies directly.)
        let group = ossl_group();
        let mut ctx = BigNumContext::new().unwrap();
        let alice_ec = EcKey::public_key_from_der(&alice_pk.to_spki_der().unwrap()).unwrap();
        let d = BigNum::from_slice(&bob.to_bytes()[..]).unwrap();
        let mut shared = openssl::ec::EcPoint::new(&group).unwrap();
        shared
            .mul2(&group, alice_ec.public_key(), &d, &mut ctx)
            .unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        shared
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        assert_eq!(&x.to_vec_padded(32).unwrap()[..], from_bob.as_bytes());
    }
    // Invalid shares never become keys.
    assert_eq!(
        PublicKey::from_uncompressed(&[0]).unwrap_err(),
        SmError::InvalidPoint
    );
    let mut off = EphemeralSecret::generate().unwrap().public_key_bytes();
    off[40] ^= 4;
    assert_eq!(
        PublicKey::from_uncompressed(&off).unwrap_err(),
        SmError::PointNotOnCurve
    );
}

// === Parsers never panic ===

/// Feeds `data` to every parser; each must return (Ok or Err) without panicking.
fn parse_everything(data: &[u8]) {
    let _ = Signature::from_der(data);
    let _ = Signature::from_bytes(data);
    let _ = Ciphertext::from_der(data);
    let _ = Ciphertext::from_raw(data);
    let _ = PrivateKey::from_bytes(data);
    let _ = PrivateKey::from_sec1_der(data);
    let _ = PrivateKey::from_pkcs8_der(data);
    let _ = PublicKey::from_sec1_bytes(data);
    let _ = PublicKey::from_uncompressed(data);
    let _ = PublicKey::from_spki_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PrivateKey::from_pem(text);
        let _ = PrivateKey::from_sec1_pem(text);
        let _ = PrivateKey::from_pkcs8_pem(text);
        let _ = PublicKey::from_spki_pem(text);
    }
}

#[test]
fn random_bytes_into_parsers() {
    let mut rng = rand::thread_rng();
    for _ in 0..3000 {
        let len = rng.gen_range(0..160);
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        // Start some inputs like real structures so parsing gets past the first byte.
        match rng.gen_range(0..4) {
            0 if len > 0 => data[0] = 0x30,
            1 if len > 1 => {
                data[0] = 0x30;
                data[1] = (len - 2).min(127) as u8;
            }
            2 if len > 0 => data[0] = 0x04,
            _ => {}
        }
        parse_everything(&data);
    }
}

#[test]
fn mutated_encodings_into_parsers() {
    let mut rng = rand::thread_rng();
    let key = PrivateKey::generate().unwrap();
    let sig = key.sign(b"mutate").unwrap();
    let ct = key.public_key().encrypt(b"mutate me").unwrap();
    let seeds: Vec<Vec<u8>> = vec![
        sig.to_der(),
        ct.to_der(),
        ct.to_raw(),
        key.to_sec1_der().unwrap().to_vec(),
        key.to_pkcs8_der().unwrap().to_vec(),
        key.public_key().to_spki_der().unwrap(),
        key.to_sec1_pem().unwrap().as_bytes().to_vec(),
        key.to_pkcs8_pem().unwrap().as_bytes().to_vec(),
        key.public_key().to_spki_pem().unwrap().into_bytes(),
        include_bytes!("data/sm2_ecparam.pem").to_vec(),
    ];
    for _ in 0..250 {
        for seed in &seeds {
            let mut data = seed.clone();
            for _ in 0..rng.gen_range(1..4) {
                match rng.gen_range(0..4) {
                    0 => {
                        let i = rng.gen_range(0..data.len());
                        data[i] ^= 1 << rng.gen_range(0..8);
                    }
                    1 => data.truncate(rng.gen_range(0..data.len())),
                    2 => {
                        let i = rng.gen_range(0..=data.len());
                        data.insert(i, rng.gen());
                    }
                    _ => {
                        let i = rng.gen_range(0..data.len());
                        data[i] = rng.gen();
                    }
                }
                if data.is_empty() {
                    break;
                }
            }
            parse_everything(&data);
            // A changed signature or ciphertext that still parses must not verify / decrypt.
            if data != *seed {
                if let Ok(s) = Signature::from_der(&data) {
                    assert!(key.public_key().verify(b"mutate", &s).is_err());
                }
                if let Ok(c) = Ciphertext::from_der(&data) {
                    assert!(key.decrypt(&c).is_err());
                }
                if let Ok(c) = Ciphertext::from_raw(&data) {
                    assert!(key.decrypt(&c).is_err());
                }
            }
        }
    }
}

// === Speed (not a test: prints figures) ===

#[test]
#[ignore = "timing print; run in release with --ignored --nocapture"]
fn timing() {
    use std::time::Instant;
    let rate = |name: &str, iters: u32, mut f: Box<dyn FnMut() + '_>| {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:<40} {:>10.0} ops/s  ({:.1} us/op)",
            iters as f64 / secs,
            secs * 1e6 / iters as f64
        );
    };
    let key = PrivateKey::generate().unwrap();
    let pk = key.public_key().clone();
    let msg = [0x42u8; 64];
    let sig = key.sign(&msg).unwrap();
    let ct = pk.encrypt(&msg[..48]).unwrap();
    let peer = PrivateKey::generate().unwrap();
    let iters = 2000;
    rate(
        "keygen",
        iters,
        Box::new(|| drop(PrivateKey::generate().unwrap())),
    );
    rate(
        "sign (64 B, default ID)",
        iters,
        Box::new(|| {
            key.sign(&msg).unwrap();
        }),
    );
    let k = [0x11u8; 32];
    rate(
        "sign, fixed nonce (no derivation, no RNG)",
        iters,
        Box::new(|| {
            sign_with_nonce(&key, DEFAULT_ID, &msg, &k).unwrap();
        }),
    );
    rate(
        "verify (64 B, default ID)",
        iters,
        Box::new(|| pk.verify(&msg, &sig).unwrap()),
    );
    rate(
        "encrypt (48 B)",
        iters,
        Box::new(|| drop(pk.encrypt(&msg[..48]).unwrap())),
    );
    rate(
        "decrypt (48 B)",
        iters,
        Box::new(|| drop(key.decrypt(&ct).unwrap())),
    );
    rate(
        "ECDH ephemeral keygen + derive",
        iters,
        Box::new(|| {
            let e = EphemeralSecret::generate().unwrap();
            drop(e.diffie_hellman(peer.public_key()).unwrap());
        }),
    );
    rate(
        "key exchange, one side (48 B)",
        iters,
        Box::new(|| {
            let kx = KeyExchange::new(Role::Initiator, &key, DEFAULT_ID).unwrap();
            drop(
                kx.finish(peer.public_key(), DEFAULT_ID, peer.public_key(), 48)
                    .unwrap(),
            );
        }),
    );
    // OpenSSL's SM2 sign/verify through the same EVP path, for comparison.
    let ossl = to_ossl_private(&key);
    let der = sig.to_der();
    rate(
        "openssl SM2 sign",
        iters,
        Box::new(|| drop(ossl_sm2::sign(&ossl, DEFAULT_ID, &msg))),
    );
    rate(
        "openssl SM2 verify",
        iters,
        Box::new(|| assert!(ossl_sm2::verify(&ossl, DEFAULT_ID, &msg, &der))),
    );
}
