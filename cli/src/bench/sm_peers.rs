//! The SM rows' peers, measured by direct calls in the same run as the engines: the SM4
//! modes the catalogue lacks (CTR, CBC) for meshtls' `sm` engine and OpenSSL; RustCrypto's
//! sm2/sm3/sm4 (GCM and CCM generic over its block cipher, ECDH from `elliptic-curve`); the
//! `sm-crypto` crate; and, with `--sm-paths`, each code path of the `sm` engine (SM4 modes,
//! SM4-GCM/CCM and SM3). SM2's path is chosen once per process: compare it by running the
//! bench under `MESHTLS_SM_FORCE=sm2=<path>`.
//!
//! Why a module that names crates: the issue compares our engine with libraries that are
//! not engines, on modes no TLS suite uses, and one engine's code paths side by side; none
//! of that fits tls-core's catalogue. The cli is the one crate allowed to name engine
//! crates, and this is the one place in it that does so outside the wiring (`engines.rs`);
//! every other cell of the bench goes through tls-core's traits.
//!
//! Before timing, each cell checks one result against a reference: OpenSSL's output for
//! SM4-CTR/CBC and SM3, RFC 8998's vectors for SM4-GCM/CCM, GB/T 32918.2's signature for
//! SM2 verifiers. A peer that computes something else is skipped, not measured.

use std::hint::black_box;
use std::sync::Arc;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, StreamCipher};
use elliptic_curve::ecdh::EphemeralSecret;
use meshtls_engine_sm::ghash::GhashPath;
use meshtls_engine_sm::modes::{cbc as sm_cbc, ctr as sm_ctr, Sm4Ccm, Sm4Gcm};
use meshtls_engine_sm::sm3::{Sm3, Sm3Path};
use meshtls_engine_sm::sm4::{Sm4, Sm4Path};
use meshtls_engine_sm::SmError;
use meshtls_tls_core::{AlgorithmId, CryptoError};
use openssl::symm::{Cipher, Crypter, Mode};
use sm2_rustcrypto::dsa::signature::{Signer, Verifier};
use sm2_rustcrypto::elliptic_curve::rand_core::OsRng;

use super::ciphers::{Work, AAD, SIGNED_MESSAGE};
use super::measure::Budget;
use super::record::{Metric, Op, Subject};
use crate::error::CliError;

/// The SM4 key, IV and GCM/CCM nonce of every cell.
const KEY: [u8; 16] = [0x11; 16];
const IV: [u8; 16] = [0x22; 16];
const NONCE: [u8; 12] = [0x22; 12];

/// The SM2 key of the peers' cells: GB/T 32918.2's example private key, whose public key
/// and signature of "message digest" (ID 1234567812345678) check each verifier first.
const SM2_D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const SM2_PUBLIC: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
                          CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const SM2_R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const SM2_S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
const SM2_MESSAGE: &[u8] = b"message digest";
/// The signer ID of GB/T 32918.2's example and of certificates.
const SM2_ID: &str = "1234567812345678";

/// RFC 8998 A.1/A.2: key, IV, AAD, plaintext, and the GCM and CCM tags.
const RFC8998_KEY: &str = "0123456789ABCDEFFEDCBA9876543210";
const RFC8998_IV: &str = "00001234567800000000ABCD";
const RFC8998_AAD: &str = "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2";
const RFC8998_PT_BYTES: [u8; 8] = [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0xEE, 0xAA];
const RFC8998_GCM_TAG: &str = "83DE3541E4C2B58177E065A9BF7B62EC";
const RFC8998_CCM_TAG: &str = "16842D4FA186F56AB33256971FA110F4";

/// RustCrypto's SM4-GCM (12-byte nonce) and SM4-CCM (16-byte tag, 12-byte nonce).
type RustCryptoGcm = aes_gcm::AesGcm<sm4_rustcrypto::Sm4, U12>;
type RustCryptoCcm = ccm::Ccm<sm4_rustcrypto::Sm4, U16, U12>;

/// A one-shot hash function of a peer.
type OneShotHash = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A backend measured by direct calls rather than through tls-core's engine traits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Peer {
    /// meshtls' SM engine on its detected code paths, for the rows the catalogue lacks.
    Sm,
    /// meshtls' SM engine with each unit (sm4, ghash, sm3) that has this path forced onto it
    /// and the others on their detected path; a row none of whose units has the path is
    /// not measured for it.
    SmPath(&'static str),
    /// OpenSSL through the `openssl` crate, for the rows the catalogue lacks.
    Openssl,
    /// RustCrypto's `sm2`, `sm3`, `sm4` with its `ctr`, `cbc`, `aes-gcm` and `ccm` modes.
    RustCrypto,
    /// The `sm-crypto` crate (SM3, SM4-CBC with PKCS#7 padding, SM2 over big integers).
    SmCrypto,
}

impl Peer {
    /// Every peer, with the `sm` engine's path columns when `sm_paths`.
    pub(super) fn all(sm_paths: bool) -> Vec<Peer> {
        let paths = if sm_paths { path_names() } else { Vec::new() };
        std::iter::once(Peer::Sm)
            .chain(paths.into_iter().map(Peer::SmPath))
            .chain([Peer::Openssl, Peer::RustCrypto, Peer::SmCrypto])
            .collect()
    }

    /// The column name: `sm`, `sm/<path>`, `openssl`, `rustcrypto`, `sm-crypto`.
    pub(super) fn name(self) -> String {
        match self {
            Peer::Sm => "sm".into(),
            Peer::SmPath(path) => format!("sm/{path}"),
            Peer::Openssl => "openssl".into(),
            Peer::RustCrypto => "rustcrypto".into(),
            Peer::SmCrypto => "sm-crypto".into(),
        }
    }

    /// Whether this peer has a cell for `subject` and `op`.
    pub(super) fn runs(self, subject: Subject, op: Op) -> bool {
        use AlgorithmId::{CurveSm2, Sm2, Sm3 as Sm3Hash, Sm4Ccm, Sm4Gcm as Gcm};
        let extra = matches!(subject, Subject::Sm4Ctr | Subject::Sm4Cbc);
        let has_row = match self {
            Peer::Sm | Peer::Openssl => extra,
            Peer::SmPath(path) => match subject {
                Subject::Sm4Ctr | Subject::Sm4Cbc => sm4_path(path).is_some(),
                Subject::Algorithm(Sm3Hash) => sm3_path(path).is_some(),
                Subject::Algorithm(Gcm) => sm4_path(path).is_some() || ghash_path(path).is_some(),
                Subject::Algorithm(Sm4Ccm) => sm4_path(path).is_some(),
                Subject::Algorithm(_) => false,
            },
            Peer::RustCrypto => {
                extra
                    || matches!(
                        subject,
                        Subject::Algorithm(Sm3Hash | Gcm | Sm4Ccm | Sm2 | CurveSm2)
                    )
            }
            Peer::SmCrypto => match subject {
                Subject::Sm4Cbc | Subject::Algorithm(Sm3Hash | Sm2) => true,
                Subject::Sm4Ctr | Subject::Algorithm(_) => false,
            },
        };
        has_row && op_fits(subject, op)
    }

    /// Measures one cell: MB/s for the throughput ops, operations per second otherwise.
    pub(super) fn measure(
        self,
        subject: Subject,
        work: Work,
        budget: &Budget,
    ) -> Result<Metric, CliError> {
        let throughput = |size: usize, calls_per_s: f64| Metric::Throughput {
            size,
            mb_per_s: calls_per_s * size as f64 / 1e6,
        };
        let rate = |ops_per_s| Metric::Rate { ops_per_s };
        match (subject, work) {
            (Subject::Sm4Ctr, Work::Encrypt(n)) => Ok(throughput(n, self.sm4_ctr(n, budget)?)),
            (Subject::Sm4Cbc, Work::Encrypt(n)) => {
                Ok(throughput(n, self.sm4_cbc(n, true, budget)?))
            }
            (Subject::Sm4Cbc, Work::Decrypt(n)) => {
                Ok(throughput(n, self.sm4_cbc(n, false, budget)?))
            }
            (Subject::Algorithm(AlgorithmId::Sm3), Work::Hash(n)) => {
                Ok(throughput(n, self.sm3(n, budget)?))
            }
            (Subject::Algorithm(id @ (AlgorithmId::Sm4Gcm | AlgorithmId::Sm4Ccm)), work) => {
                let (size, seal) = match work {
                    Work::Seal(n) => (n, true),
                    Work::Open(n) => (n, false),
                    _ => return Err(no_cell()),
                };
                Ok(throughput(size, self.aead(id, size, seal, budget)?))
            }
            (Subject::Algorithm(AlgorithmId::Sm2), Work::Sign) => Ok(rate(self.sm2(true, budget)?)),
            (Subject::Algorithm(AlgorithmId::Sm2), Work::Verify) => {
                Ok(rate(self.sm2(false, budget)?))
            }
            (Subject::Algorithm(AlgorithmId::CurveSm2), Work::Exchange) => {
                Ok(rate(self.curvesm2(budget)?))
            }
            _ => Err(no_cell()),
        }
    }

    /// SM4-CTR over `size` bytes, encrypting in place call after call (the keystream goes
    /// on; each call's first result is checked against OpenSSL's).
    fn sm4_ctr(self, size: usize, budget: &Budget) -> Result<f64, CliError> {
        let data = vec![0x33; size];
        let want = openssl_oneshot(Cipher::sm4_ctr(), Mode::Encrypt, &data)?;
        match self {
            Peer::Sm | Peer::SmPath(_) => {
                let key = self.sm4_key()?;
                in_place(budget, &data, &want, |buf| {
                    sm_ctr::apply_keystream(&key, &IV, buf);
                    Ok(())
                })
            }
            Peer::Openssl => openssl_stream(budget, Cipher::sm4_ctr(), Mode::Encrypt, &data, &want),
            Peer::RustCrypto => {
                let mut ctr = ctr::Ctr128BE::<sm4_rustcrypto::Sm4>::new(&KEY.into(), &IV.into());
                in_place(budget, &data, &want, |buf| {
                    ctr.apply_keystream(buf);
                    Ok(())
                })
            }
            Peer::SmCrypto => Err(no_cell()),
        }
    }

    /// SM4-CBC over `size` bytes (whole blocks, no padding, except sm-crypto's API, which
    /// always pads with PKCS#7: one more block per call).
    fn sm4_cbc(self, size: usize, encrypt: bool, budget: &Budget) -> Result<f64, CliError> {
        if !size.is_multiple_of(16) {
            return Err(CliError::Crypto(CryptoError::Unsupported(
                "CBC measures whole 16-byte blocks",
            )));
        }
        let plain = vec![0x33; size];
        let cipher = openssl_oneshot(Cipher::sm4_cbc(), Mode::Encrypt, &plain)?;
        let (input, want, mode) = if encrypt {
            (&plain, &cipher, Mode::Encrypt)
        } else {
            (&cipher, &plain, Mode::Decrypt)
        };
        match self {
            Peer::Sm | Peer::SmPath(_) => {
                let key = self.sm4_key()?;
                in_place(budget, input, want, |buf| {
                    if encrypt {
                        sm_cbc::encrypt(&key, &IV, buf)
                    } else {
                        sm_cbc::decrypt(&key, &IV, buf)
                    }
                    .map_err(sm_error)
                })
            }
            Peer::Openssl => openssl_stream(budget, Cipher::sm4_cbc(), mode, input, want),
            Peer::RustCrypto => {
                type Block = cbc::cipher::Block<sm4_rustcrypto::Sm4>;
                let mut blocks: Vec<Block> =
                    input.chunks(16).map(Block::clone_from_slice).collect();
                let check = |blocks: &[Block]| blocks.iter().flatten().eq(want.iter());
                let rate = if encrypt {
                    let mut enc =
                        cbc::Encryptor::<sm4_rustcrypto::Sm4>::new(&KEY.into(), &IV.into());
                    enc.encrypt_blocks_mut(&mut blocks);
                    check_that(check(&blocks))?;
                    budget.rate(|| {
                        enc.encrypt_blocks_mut(black_box(&mut blocks));
                        Ok::<_, CliError>(())
                    })?
                } else {
                    let mut dec =
                        cbc::Decryptor::<sm4_rustcrypto::Sm4>::new(&KEY.into(), &IV.into());
                    dec.decrypt_blocks_mut(&mut blocks);
                    check_that(check(&blocks))?;
                    budget.rate(|| {
                        dec.decrypt_blocks_mut(black_box(&mut blocks));
                        Ok::<_, CliError>(())
                    })?
                };
                Ok(rate)
            }
            Peer::SmCrypto => {
                let cbc = sm_crypto::sm4::CryptSM4CBC::new(&KEY, &IV);
                if encrypt {
                    check_that(cbc.encrypt_cbc(&plain).starts_with(&cipher))?;
                    budget.rate(|| {
                        black_box(cbc.encrypt_cbc(black_box(&plain)));
                        Ok::<_, CliError>(())
                    })
                } else {
                    // Its decryption checks and strips the padding its encryption added.
                    let padded = cbc.encrypt_cbc(&plain);
                    check_that(cbc.decrypt_cbc(&padded) == plain)?;
                    budget.rate(|| {
                        black_box(cbc.decrypt_cbc(black_box(&padded)));
                        Ok::<_, CliError>(())
                    })
                }
            }
        }
    }

    /// SM3 of `size` bytes, one-shot.
    fn sm3(self, size: usize, budget: &Budget) -> Result<f64, CliError> {
        let data = vec![0x44; size];
        let want = openssl::hash::hash(openssl::hash::MessageDigest::sm3(), &data)
            .map_err(openssl_error)?
            .to_vec();
        let run: OneShotHash = match self {
            Peer::SmPath(path) => {
                let start =
                    Sm3::with_path(sm3_path(path).ok_or_else(no_cell)?).map_err(sm_error)?;
                Box::new(move |data| {
                    let mut h = start.clone();
                    h.update(data);
                    h.finalize().to_vec()
                })
            }
            Peer::RustCrypto => Box::new(|data| {
                use sm3_rustcrypto::Digest;
                sm3_rustcrypto::Sm3::digest(data).to_vec()
            }),
            Peer::SmCrypto => Box::new(sm_crypto::sm3::sm3_hash_raw),
            Peer::Sm | Peer::Openssl => return Err(no_cell()),
        };
        check_that(run(&data) == want)?;
        budget.rate(|| {
            black_box(run(black_box(&data)));
            Ok::<_, CliError>(())
        })
    }

    /// SM4-GCM or SM4-CCM seal (in place, call after call) or open (ciphertext restored
    /// before each call, as for the engines) of `size` bytes.
    fn aead(
        self,
        id: AlgorithmId,
        size: usize,
        seal: bool,
        budget: &Budget,
    ) -> Result<f64, CliError> {
        let aead = self.aead_key(id)?;
        // Known answer first: RFC 8998's tag for its key, IV, AAD and plaintext.
        let (key, iv, aad) = (hex(RFC8998_KEY), hex(RFC8998_IV), hex(RFC8998_AAD));
        let want_tag = hex(if id == AlgorithmId::Sm4Gcm {
            RFC8998_GCM_TAG
        } else {
            RFC8998_CCM_TAG
        });
        let key: [u8; 16] = key.try_into().map_err(|_| no_cell())?;
        let iv: [u8; 12] = iv.try_into().map_err(|_| no_cell())?;
        let mut pt: Vec<u8> = RFC8998_PT_BYTES.iter().flat_map(|b| [*b; 8]).collect();
        check_that(self.aead_key_with(id, &key)?.seal(&iv, &aad, &mut pt)? == want_tag)?;

        let mut buf = vec![0x33; size];
        if seal {
            return budget.rate(|| {
                black_box(aead.seal(&NONCE, &AAD, black_box(&mut buf))?);
                Ok::<_, CliError>(())
            });
        }
        let mut sealed = buf.clone();
        let tag = aead.seal(&NONCE, &AAD, &mut sealed)?;
        budget.rate(|| {
            buf.copy_from_slice(&sealed);
            aead.open(&NONCE, &AAD, black_box(&mut buf), &tag)?;
            black_box(&buf);
            Ok::<_, CliError>(())
        })
    }

    /// This peer's SM4-GCM or SM4-CCM under the cells' key.
    fn aead_key(self, id: AlgorithmId) -> Result<AeadPeer, CliError> {
        self.aead_key_with(id, &KEY)
    }

    fn aead_key_with(self, id: AlgorithmId, key: &[u8; 16]) -> Result<AeadPeer, CliError> {
        match (self, id) {
            (Peer::RustCrypto, AlgorithmId::Sm4Gcm) => Ok(AeadPeer::RustCryptoGcm(Box::new(
                RustCryptoGcm::new(key.into()),
            ))),
            (Peer::RustCrypto, AlgorithmId::Sm4Ccm) => Ok(AeadPeer::RustCryptoCcm(Box::new(
                RustCryptoCcm::new(key.into()),
            ))),
            (Peer::SmPath(path), AlgorithmId::Sm4Gcm) => {
                let sm4 = sm4_path(path).unwrap_or_else(Sm4Path::detect);
                let ghash = ghash_path(path).unwrap_or_else(GhashPath::detect);
                let gcm = Sm4Gcm::with_paths(key, sm4, ghash).map_err(sm_error)?;
                Ok(AeadPeer::SmGcm(Box::new(gcm)))
            }
            (Peer::SmPath(path), AlgorithmId::Sm4Ccm) => {
                let sm4 = sm4_path(path).ok_or_else(no_cell)?;
                let ccm = Sm4Ccm::with_path(key, sm4).map_err(sm_error)?;
                Ok(AeadPeer::SmCcm(Box::new(ccm)))
            }
            _ => Err(no_cell()),
        }
    }

    /// SM2 signing or verification of the 64-byte message the engines sign.
    fn sm2(self, sign: bool, budget: &Budget) -> Result<f64, CliError> {
        match self {
            Peer::RustCrypto => {
                let d = hex(SM2_D);
                let d = sm2_rustcrypto::FieldBytes::from_slice(&d);
                let key = sm2_rustcrypto::dsa::SigningKey::from_bytes(SM2_ID, d)
                    .map_err(|_| no_cell())?;
                let verifier = key.verifying_key().clone();
                let public = [&[4u8][..], &hex(SM2_PUBLIC)].concat();
                check_that(*verifier.to_sec1_bytes() == *public)?;
                let kat = sm2_rustcrypto::dsa::Signature::from_scalars(
                    <[u8; 32]>::try_from(hex(SM2_R)).map_err(|_| no_cell())?,
                    <[u8; 32]>::try_from(hex(SM2_S)).map_err(|_| no_cell())?,
                )
                .map_err(|_| no_cell())?;
                check_that(verifier.verify(SM2_MESSAGE, &kat).is_ok())?;
                let signature: sm2_rustcrypto::dsa::Signature =
                    key.try_sign(&SIGNED_MESSAGE).map_err(|_| no_cell())?;
                check_that(verifier.verify(&SIGNED_MESSAGE, &signature).is_ok())?;
                if sign {
                    budget.rate(|| {
                        let s: sm2_rustcrypto::dsa::Signature = key
                            .try_sign(black_box(&SIGNED_MESSAGE))
                            .map_err(|_| no_cell())?;
                        black_box(s);
                        Ok::<_, CliError>(())
                    })
                } else {
                    budget.rate(|| {
                        verifier
                            .verify(black_box(&SIGNED_MESSAGE), &signature)
                            .map_err(|_| CliError::Crypto(CryptoError::BadSignature))
                    })
                }
            }
            Peer::SmCrypto => {
                use sm_crypto::sm2;
                let d = SM2_D.to_ascii_lowercase();
                let public = sm2::pk_from_sk(&d);
                check_that(public.eq_ignore_ascii_case(SM2_PUBLIC))?;
                let signer = sm2::Sign::new_with_id(SM2_ID.as_bytes(), &d);
                let verifier = sm2::Verify::new_with_id(SM2_ID.as_bytes(), &public);
                let kat = der_signature(&hex(SM2_R), &hex(SM2_S));
                check_that(verifier.verify_der(SM2_MESSAGE, &kat, true))?;
                let signature = signer.sign_der(&SIGNED_MESSAGE, true);
                check_that(verifier.verify_der(&SIGNED_MESSAGE, &signature, true))?;
                if sign {
                    budget.rate(|| {
                        black_box(signer.sign_der(black_box(&SIGNED_MESSAGE), true));
                        Ok::<_, CliError>(())
                    })
                } else {
                    budget.rate(|| {
                        check_that(verifier.verify_der(
                            black_box(&SIGNED_MESSAGE),
                            &signature,
                            true,
                        ))
                    })
                }
            }
            Peer::Sm | Peer::SmPath(_) | Peer::Openssl => Err(no_cell()),
        }
    }

    /// One curveSM2 ECDH exchange: both sides' key generation and shared secrets.
    fn curvesm2(self, budget: &Budget) -> Result<f64, CliError> {
        if self != Peer::RustCrypto {
            return Err(no_cell());
        }
        type Secret = EphemeralSecret<sm2_rustcrypto::Sm2>;
        let exchange = || {
            let (a, b) = (Secret::random(&mut OsRng), Secret::random(&mut OsRng));
            let (a_share, b_share) = (a.public_key(), b.public_key());
            let a_secret = a.diffie_hellman(&b_share);
            let b_secret = b.diffie_hellman(&a_share);
            a_secret.raw_secret_bytes() == b_secret.raw_secret_bytes()
        };
        check_that(exchange())?;
        budget.rate(|| {
            black_box(exchange());
            Ok::<_, CliError>(())
        })
    }

    /// The SM4 key schedule of `sm` or of a forced `sm/<path>`.
    fn sm4_key(self) -> Result<Sm4, CliError> {
        match self {
            Peer::SmPath(path) => {
                Sm4::with_path(&KEY, sm4_path(path).ok_or_else(no_cell)?).map_err(sm_error)
            }
            _ => Ok(Sm4::new(&KEY)),
        }
    }
}

/// An SM4 AEAD of one peer, with one seal/open shape for all.
enum AeadPeer {
    SmGcm(Box<Sm4Gcm>),
    SmCcm(Box<Sm4Ccm>),
    RustCryptoGcm(Box<RustCryptoGcm>),
    RustCryptoCcm(Box<RustCryptoCcm>),
}

impl AeadPeer {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<Vec<u8>, CliError> {
        let failed = || CliError::Crypto(CryptoError::Unsupported("seal failed"));
        match self {
            AeadPeer::SmGcm(gcm) => {
                let mut tag = [0u8; 16];
                gcm.seal_in_place(nonce, aad, buf, &mut tag)
                    .map_err(sm_error)?;
                Ok(tag.to_vec())
            }
            AeadPeer::SmCcm(ccm) => {
                let mut tag = [0u8; 16];
                ccm.seal_in_place(nonce, aad, buf, &mut tag)
                    .map_err(sm_error)?;
                Ok(tag.to_vec())
            }
            AeadPeer::RustCryptoGcm(gcm) => gcm
                .encrypt_in_place_detached(nonce.into(), aad, buf)
                .map(|t| t.to_vec())
                .map_err(|_| failed()),
            AeadPeer::RustCryptoCcm(ccm) => ccm
                .encrypt_in_place_detached(nonce.into(), aad, buf)
                .map(|t| t.to_vec())
                .map_err(|_| failed()),
        }
    }

    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CliError> {
        let bad = || CliError::Crypto(CryptoError::DecryptFailed);
        match self {
            AeadPeer::SmGcm(gcm) => gcm.open_in_place(nonce, aad, buf, tag).map_err(sm_error),
            AeadPeer::SmCcm(ccm) => ccm.open_in_place(nonce, aad, buf, tag).map_err(sm_error),
            AeadPeer::RustCryptoGcm(gcm) => gcm
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .map_err(|_| bad()),
            AeadPeer::RustCryptoCcm(ccm) => ccm
                .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
                .map_err(|_| bad()),
        }
    }
}

/// Whether `op` is one of `subject`'s operations.
fn op_fits(subject: Subject, op: Op) -> bool {
    match subject {
        Subject::Sm4Ctr => op == Op::Encrypt,
        Subject::Sm4Cbc => matches!(op, Op::Encrypt | Op::Decrypt),
        Subject::Algorithm(AlgorithmId::Sm3) => op == Op::Hash,
        Subject::Algorithm(AlgorithmId::Sm4Gcm | AlgorithmId::Sm4Ccm) => {
            matches!(op, Op::Seal | Op::Open)
        }
        Subject::Algorithm(AlgorithmId::Sm2) => matches!(op, Op::Sign | Op::Verify),
        Subject::Algorithm(AlgorithmId::CurveSm2) => op == Op::Exchange,
        Subject::Algorithm(_) => false,
    }
}

/// The `sm` engine's code paths this CPU runs, by name across its units, `soft` last.
fn path_names() -> Vec<&'static str> {
    let names = Sm4Path::ALL
        .iter()
        .filter(|p| p.is_available())
        .map(|p| p.name())
        .chain(
            GhashPath::ALL
                .iter()
                .filter(|p| p.is_available())
                .map(|p| p.name()),
        )
        .chain(
            Sm3Path::ALL
                .iter()
                .filter(|p| p.is_available())
                .map(|p| p.name()),
        );
    let mut out: Vec<&'static str> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out.sort_by_key(|n| *n == "soft");
    out
}

fn sm4_path(name: &str) -> Option<Sm4Path> {
    Sm4Path::ALL.iter().copied().find(|p| p.name() == name)
}

fn ghash_path(name: &str) -> Option<GhashPath> {
    GhashPath::ALL.iter().copied().find(|p| p.name() == name)
}

fn sm3_path(name: &str) -> Option<Sm3Path> {
    Sm3Path::ALL.iter().copied().find(|p| p.name() == name)
}

/// Checks `op`'s first result on `input` against `want`, then measures calls per second of
/// `op` transforming one buffer in place call after call (unauthenticated modes do not mind
/// that each call sees the previous output).
fn in_place(
    budget: &Budget,
    input: &[u8],
    want: &[u8],
    mut op: impl FnMut(&mut [u8]) -> Result<(), CliError>,
) -> Result<f64, CliError> {
    let mut buf = input.to_vec();
    op(&mut buf)?;
    check_that(buf == want)?;
    budget.rate(|| {
        op(black_box(&mut buf))?;
        black_box(&buf);
        Ok(())
    })
}

/// OpenSSL's one-shot SM4 encryption without padding: the reference output.
fn openssl_oneshot(cipher: Cipher, mode: Mode, input: &[u8]) -> Result<Vec<u8>, CliError> {
    let mut crypter = Crypter::new(cipher, mode, &KEY, Some(&IV)).map_err(openssl_error)?;
    crypter.pad(false);
    let mut out = vec![0; input.len() + cipher.block_size()];
    let mut n = crypter.update(input, &mut out).map_err(openssl_error)?;
    n += crypter.finalize(&mut out[n..]).map_err(openssl_error)?;
    out.truncate(n);
    Ok(out)
}

/// OpenSSL through one reused `Crypter` (`EVP_CipherUpdate` call after call; the CTR
/// keystream and CBC chain go on). Its output lands in a second buffer, copied back so the
/// next call sees it, like the in-place peers: one memcpy, small beside SM4.
fn openssl_stream(
    budget: &Budget,
    cipher: Cipher,
    mode: Mode,
    input: &[u8],
    want: &[u8],
) -> Result<f64, CliError> {
    let mut crypter = Crypter::new(cipher, mode, &KEY, Some(&IV)).map_err(openssl_error)?;
    crypter.pad(false);
    let mut out = vec![0; input.len() + cipher.block_size()];
    in_place(budget, input, want, |buf| {
        let n = crypter.update(buf, &mut out).map_err(openssl_error)?;
        check_that(n == buf.len())?;
        buf.copy_from_slice(&out[..n]);
        Ok(())
    })
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` of two 32-byte big-endian scalars.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let integer = |x: &[u8]| {
        let x = &x[x.iter().take_while(|b| **b == 0).count()..];
        let pad = x.first().is_some_and(|b| b & 0x80 != 0);
        let mut out = vec![0x02, (x.len() + usize::from(pad)) as u8];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let body = [integer(r), integer(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| s.get(i..i + 2))
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// A peer's result differed from the reference: the cell is skipped.
fn check_that(ok: bool) -> Result<(), CliError> {
    if ok {
        Ok(())
    } else {
        Err(CliError::Crypto(CryptoError::Unsupported(
            "output differs from the reference (OpenSSL or the standard's vector)",
        )))
    }
}

fn no_cell() -> CliError {
    CliError::Crypto(CryptoError::Unsupported("this peer has no such cell"))
}

fn sm_error(e: SmError) -> CliError {
    CliError::Crypto(CryptoError::Backend(Arc::new(e)))
}

fn openssl_error(e: openssl::error::ErrorStack) -> CliError {
    CliError::Crypto(CryptoError::Backend(Arc::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_signature_pads_high_bits() {
        let der = der_signature(&[0x80; 32], &[0x01; 32]);
        assert_eq!(&der[..5], &[0x30, 0x45, 0x02, 0x21, 0x00]);
        assert_eq!(der.len(), 0x47);
    }

    #[test]
    fn path_columns_end_with_soft() {
        let names = path_names();
        assert_eq!(names.last(), Some(&"soft"));
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(unique, names);
    }

    #[test]
    fn peers_cover_the_issue_rows() {
        let cbc_dec = |p: Peer| p.runs(Subject::Sm4Cbc, Op::Decrypt);
        assert!([Peer::Sm, Peer::Openssl, Peer::RustCrypto, Peer::SmCrypto]
            .into_iter()
            .all(cbc_dec));
        assert!(!Peer::SmCrypto.runs(Subject::Sm4Ctr, Op::Encrypt));
        assert!(!Peer::RustCrypto.runs(Subject::Sm4Ctr, Op::Decrypt));
        let sm2 = Subject::Algorithm(AlgorithmId::Sm2);
        assert!(Peer::SmCrypto.runs(sm2, Op::Sign) && Peer::RustCrypto.runs(sm2, Op::Verify));
        assert!(
            !Peer::Openssl.runs(sm2, Op::Sign),
            "the openssl engine has that row"
        );
        assert!(Peer::SmPath("soft").runs(Subject::Algorithm(AlgorithmId::Sm4Gcm), Op::Seal));
    }
}
