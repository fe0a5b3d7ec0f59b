//! The handshake transcript: a running SM3 over every handshake message sent and received,
//! headers included and HelloRequest excluded (RFC 5246 section 7.4.9, with SM3 per GB/T
//! 38636-2020 section 6.4.5.9).
//!
//! Both uses take the hash of the messages so far: CertificateVerify signs it (Tongsuo's
//! `tls_construct_cert_verify_ntls` signs SM3(messages) with SM2, so the signed message is the
//! 32-byte hash and SM2 adds its own Z), and Finished feeds it to the PRF. A running hash is
//! enough for both; no message is kept.

use crate::sm3::{Sm3, DIGEST_LEN};

/// The running transcript hash.
#[derive(Clone, Default)]
pub(crate) struct Transcript {
    hash: Sm3,
}

impl Transcript {
    /// Adds one encoded handshake message (header and body).
    pub(crate) fn add(&mut self, message: &[u8]) {
        self.hash.update(message);
    }

    /// SM3 of every message added so far.
    pub(crate) fn current(&self) -> [u8; DIGEST_LEN] {
        self.hash.clone().finalize()
    }
}
