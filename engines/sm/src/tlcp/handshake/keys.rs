//! The cryptography of a TLCP handshake, one function per step: hello randoms, the `ECC_*`
//! pre-master secret and its SM2 encryption, SM2 signatures as TLCP carries them, and the
//! record ciphers from the master secret.
//!
//! GB/T 38636-2020 section 6.4.5: the `ECC_*` pre-master secret is 48 bytes, the first two the
//! client's version (0x0101), SM2-encrypted to the server's encryption key as DER
//! `SEQUENCE { x, y, hash, ciphertext }`. Signatures are SM2 with SM3 and the default ID
//! 1234567812345678, DER-encoded.

use zeroize::Zeroizing;

use super::super::cipher::RecordCipher;
use super::super::config::Clock;
use super::super::error::TlcpError;
use super::super::message::RANDOM_LEN;
use super::super::prf::{self, MASTER_SECRET_LEN, PRE_MASTER_SECRET_LEN};
use super::super::record::TLCP_VERSION;
use super::super::suite::CipherSuite;
use crate::sm2::{Ciphertext, PrivateKey, PublicKey, Signature};

/// Fills `out` from the operating system's random source.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), TlcpError> {
    getrandom::getrandom(out).map_err(|_| TlcpError::Internal("random source failed"))
}

/// A hello random: the time in seconds (low 32 bits, as `gmt_unix_time`) then 28 random
/// bytes.
pub(crate) fn hello_random(clock: &dyn Clock) -> Result<[u8; RANDOM_LEN], TlcpError> {
    let mut random = [0u8; RANDOM_LEN];
    // gmt_unix_time is 32 bits on the wire; it wraps in 2106 by design.
    random[..4].copy_from_slice(&(clock.now() as u32).to_be_bytes());
    fill_random(&mut random[4..])?;
    Ok(random)
}

/// A fresh `ECC_*` pre-master secret: 0x01 0x01 then 46 random bytes.
pub(crate) fn ecc_pre_master() -> Result<Zeroizing<[u8; PRE_MASTER_SECRET_LEN]>, TlcpError> {
    let mut pms = Zeroizing::new([0u8; PRE_MASTER_SECRET_LEN]);
    pms[..2].copy_from_slice(&TLCP_VERSION.to_be_bytes());
    fill_random(&mut pms[2..])?;
    Ok(pms)
}

/// The pre-master secret SM2-encrypted to the server's encryption key, as DER.
pub(crate) fn encrypt_pre_master(
    server_enc_key: &PublicKey,
    pms: &[u8],
) -> Result<Vec<u8>, TlcpError> {
    Ok(server_enc_key.encrypt(pms)?.to_der())
}

/// Decrypts and checks an `ECC_*` pre-master secret: 48 bytes starting with the TLCP version.
pub(crate) fn decrypt_pre_master(
    enc_key: &PrivateKey,
    der: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TlcpError> {
    let ct = Ciphertext::from_der(der)?;
    let pms = enc_key
        .decrypt(&ct)
        .map_err(|_| TlcpError::DecryptError("pre-master secret did not decrypt"))?;
    if pms.len() != PRE_MASTER_SECRET_LEN || pms[..2] != TLCP_VERSION.to_be_bytes() {
        return Err(TlcpError::DecryptError("malformed pre-master secret"));
    }
    Ok(pms)
}

/// SM2 signature (default ID) over `msg`, DER-encoded.
pub(crate) fn sign(key: &PrivateKey, msg: &[u8]) -> Result<Vec<u8>, TlcpError> {
    Ok(key.sign(msg)?.to_der())
}

/// Checks a DER SM2 signature (default ID) over `msg`.
pub(crate) fn verify(key: &PublicKey, msg: &[u8], der: &[u8]) -> Result<(), TlcpError> {
    let sig = Signature::from_der(der)?;
    Ok(key.verify(msg, &sig)?)
}

/// The master secret and the two record ciphers it yields.
pub(crate) struct Secrets {
    /// The master secret (kept for Finished and resumption).
    pub(crate) master: Zeroizing<[u8; MASTER_SECRET_LEN]>,
    /// Protects what the client writes.
    pub(crate) client_write: RecordCipher,
    /// Protects what the server writes.
    pub(crate) server_write: RecordCipher,
}

impl Secrets {
    /// From the pre-master secret of a full handshake.
    pub(crate) fn from_pre_master(
        suite: CipherSuite,
        pre_master: &[u8],
        client_random: &[u8; RANDOM_LEN],
        server_random: &[u8; RANDOM_LEN],
    ) -> Result<Self, TlcpError> {
        let master = prf::master_secret(pre_master, client_random, server_random);
        Self::from_master(suite, master, client_random, server_random)
    }

    /// From a master secret (a resumed session's, or a fresh one).
    pub(crate) fn from_master(
        suite: CipherSuite,
        master: Zeroizing<[u8; MASTER_SECRET_LEN]>,
        client_random: &[u8; RANDOM_LEN],
        server_random: &[u8; RANDOM_LEN],
    ) -> Result<Self, TlcpError> {
        let block = prf::key_block(suite, &master, client_random, server_random);
        Ok(Self {
            client_write: RecordCipher::new(suite, &block.client_write)?,
            server_write: RecordCipher::new(suite, &block.server_write)?,
            master,
        })
    }
}
