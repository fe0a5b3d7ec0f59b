//! The TLS 1.2 PRF over HMAC-SM3 and the TLCP key schedule (master secret, key block,
//! Finished).
//!
//! GB/T 38636-2020 section 6.5 uses RFC 5246 section 5's `P_hash` with HMAC-SM3 as the PRF,
//! the RFC's labels and seeds, and SM3 as the Finished transcript hash:
//! - master_secret = PRF(pre_master, "master secret", client_random || server_random)[..48]
//! - key_block = PRF(master, "key expansion", server_random || client_random), cut into
//!   client MAC key, server MAC key, client key, server key, client IV, server IV (lengths in
//!   [`CipherSuite`]);
//! - verify_data = PRF(master, "client finished" | "server finished", SM3(messages))[..12].

use zeroize::Zeroizing;

use super::message::{RANDOM_LEN, VERIFY_DATA_LEN};
use super::suite::{CipherSuite, ENC_KEY_LEN};
use crate::hmac::HmacSm3;
use crate::sm3::DIGEST_LEN;

/// Bytes in the master secret.
pub const MASTER_SECRET_LEN: usize = 48;
/// Bytes in the pre-master secret (both key exchanges).
pub const PRE_MASTER_SECRET_LEN: usize = 48;

/// `P_SM3(secret, label || seed)` (RFC 5246 section 5), filling `out`.
pub fn prf(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let keyed = HmacSm3::new(secret);
    // A(1) = HMAC(secret, label || seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = {
        let mut mac = keyed.clone();
        mac.update(label);
        mac.update(seed);
        Zeroizing::new(mac.finalize())
    };
    for chunk in out.chunks_mut(DIGEST_LEN) {
        let mut mac = keyed.clone();
        mac.update(a.as_ref());
        mac.update(label);
        mac.update(seed);
        let block = Zeroizing::new(mac.finalize());
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut next = keyed.clone();
        next.update(a.as_ref());
        *a = next.finalize();
    }
}

/// The master secret from the pre-master secret and both randoms.
pub fn master_secret(
    pre_master: &[u8],
    client_random: &[u8; RANDOM_LEN],
    server_random: &[u8; RANDOM_LEN],
) -> Zeroizing<[u8; MASTER_SECRET_LEN]> {
    let mut seed = [0u8; 2 * RANDOM_LEN];
    seed[..RANDOM_LEN].copy_from_slice(client_random);
    seed[RANDOM_LEN..].copy_from_slice(server_random);
    let mut out = Zeroizing::new([0u8; MASTER_SECRET_LEN]);
    prf(pre_master, b"master secret", &seed, out.as_mut());
    out
}

/// One direction's record keys.
#[derive(Clone)]
pub struct DirectionKeys {
    /// HMAC-SM3 key (32 bytes for CBC suites, empty for GCM).
    pub mac_key: Zeroizing<Vec<u8>>,
    /// SM4 key.
    pub enc_key: Zeroizing<[u8; ENC_KEY_LEN]>,
    /// IV from the key block (16 bytes for CBC, the 4-byte implicit nonce for GCM).
    pub iv: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirectionKeys").finish_non_exhaustive()
    }
}

/// Both directions' record keys.
#[derive(Clone, Debug)]
pub struct KeyBlock {
    /// Keys for records the client writes (and the server reads).
    pub client_write: DirectionKeys,
    /// Keys for records the server writes (and the client reads).
    pub server_write: DirectionKeys,
}

/// The key block for `suite`.
pub fn key_block(
    suite: CipherSuite,
    master: &[u8; MASTER_SECRET_LEN],
    client_random: &[u8; RANDOM_LEN],
    server_random: &[u8; RANDOM_LEN],
) -> KeyBlock {
    let mut seed = [0u8; 2 * RANDOM_LEN];
    seed[..RANDOM_LEN].copy_from_slice(server_random);
    seed[RANDOM_LEN..].copy_from_slice(client_random);
    let mut block = Zeroizing::new(vec![0u8; suite.key_block_len()]);
    prf(master, b"key expansion", &seed, &mut block);

    let (mac, iv) = (suite.mac_key_len(), suite.fixed_iv_len());
    let mut rest: &[u8] = &block;
    let mut take = |n: usize| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head
    };
    let client_mac = Zeroizing::new(take(mac).to_vec());
    let server_mac = Zeroizing::new(take(mac).to_vec());
    let mut client_key = Zeroizing::new([0u8; ENC_KEY_LEN]);
    client_key.copy_from_slice(take(ENC_KEY_LEN));
    let mut server_key = Zeroizing::new([0u8; ENC_KEY_LEN]);
    server_key.copy_from_slice(take(ENC_KEY_LEN));
    let client_iv = Zeroizing::new(take(iv).to_vec());
    let server_iv = Zeroizing::new(take(iv).to_vec());
    KeyBlock {
        client_write: DirectionKeys {
            mac_key: client_mac,
            enc_key: client_key,
            iv: client_iv,
        },
        server_write: DirectionKeys {
            mac_key: server_mac,
            enc_key: server_key,
            iv: server_iv,
        },
    }
}

/// Which side sends a Finished message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    /// The client ("client finished").
    Client,
    /// The server ("server finished").
    Server,
}

/// Finished.verify_data for `sender`, given SM3 of all handshake messages before this
/// Finished (headers included, HelloRequest excluded).
pub fn verify_data(
    master: &[u8; MASTER_SECRET_LEN],
    sender: Sender,
    handshake_hash: &[u8; DIGEST_LEN],
) -> [u8; VERIFY_DATA_LEN] {
    let label: &[u8] = match sender {
        Sender::Client => b"client finished",
        Sender::Server => b"server finished",
    };
    let mut out = [0u8; VERIFY_DATA_LEN];
    prf(master, label, handshake_hash, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_prefixes_agree() {
        // P_hash output is a stream: a shorter request is a prefix of a longer one.
        let mut long = [0u8; 100];
        let mut short = [0u8; 33];
        prf(b"secret", b"label", b"seed", &mut long);
        prf(b"secret", b"label", b"seed", &mut short);
        assert_eq!(&long[..33], &short);
    }

    #[test]
    fn key_block_slices_by_suite() {
        let master = [7u8; 48];
        let (c, s) = ([1u8; 32], [2u8; 32]);
        let cbc = key_block(CipherSuite::EccSm4CbcSm3, &master, &c, &s);
        assert_eq!(cbc.client_write.mac_key.len(), 32);
        assert_eq!(cbc.server_write.iv.len(), 16);
        let gcm = key_block(CipherSuite::EcdheSm4GcmSm3, &master, &c, &s);
        assert!(gcm.client_write.mac_key.is_empty());
        assert_eq!(gcm.server_write.iv.len(), 4);
        // The GCM key block is a prefix-free slice of the same PRF stream.
        let mut stream = [0u8; 128];
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(&s);
        seed[32..].copy_from_slice(&c);
        prf(&master, b"key expansion", &seed, &mut stream);
        assert_eq!(gcm.client_write.enc_key.as_ref(), &stream[..16]);
        assert_eq!(cbc.client_write.enc_key.as_ref(), &stream[64..80]);
    }
}
