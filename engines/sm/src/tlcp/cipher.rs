//! Record protection for the TLCP suites: SM4-CBC with HMAC-SM3 (MAC-then-encrypt, explicit
//! IV) and SM4-GCM (explicit nonce).
//!
//! One [`RecordCipher`] protects one direction. Its layouts (GB/T 38636-2020 section 6.3.3,
//! the TLS 1.2 shapes of RFC 5246 section 6.2.3 and RFC 5288):
//! - CBC: `IV(16) || SM4-CBC(content || HMAC-SM3(seq || type || version || length ||
//!   content) || padding)`, the padding being `n + 1` bytes of value `n`. The IV is random
//!   per record (the key block IV is unused, as in TLS 1.1+). On receipt, a bad padding and
//!   a bad MAC are one error ([`TlcpError::BadRecordMac`]) after the same work: the padding
//!   is checked without branching on its bytes, the received MAC is extracted by a scan over
//!   every possible position, and dummy SM3 compressions bring the MAC computation to the
//!   cost of the longest content the record could hold (the Lucky 13 countermeasure).
//! - GCM: `explicit nonce(8) || SM4-GCM ciphertext || tag(16)`; nonce = the key block's
//!   4-byte implicit part || the explicit part, which is the record's sequence number (so a
//!   nonce never repeats under one key); AAD = `seq || type || version || length`.

use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeLess};
use zeroize::Zeroizing;

use super::error::TlcpError;
use super::prf::DirectionKeys;
use super::record::{ContentType, MAX_PLAINTEXT_LEN, TLCP_VERSION};
use super::suite::{BulkCipher, CipherSuite, MAC_LEN};
use crate::hmac::HmacSm3;
use crate::modes::{cbc, gcm, BLOCK_LEN};
use crate::sm3::{Sm3, BLOCK_LEN as SM3_BLOCK_LEN};
use crate::sm4::Sm4;

/// Bytes in the MAC/AAD pseudo-header: seq(8) || type(1) || version(2) || length(2).
const PSEUDO_HEADER_LEN: usize = 13;
/// GCM: bytes of the implicit nonce part from the key block.
const GCM_IMPLICIT_LEN: usize = 4;
/// GCM: bytes of the explicit nonce carried in each record.
const GCM_EXPLICIT_LEN: usize = 8;
/// Longest CBC padding (`padding_length` is one byte, plus itself).
const MAX_CBC_PADDING: usize = 256;

/// Protects records in one direction under one suite's keys.
pub struct RecordCipher {
    suite: CipherSuite,
    inner: Inner,
}

/// The keyed primitives of one bulk cipher (the SM4 key schedule is boxed: it dwarfs the
/// GCM variant's state).
enum Inner {
    Cbc {
        key: Box<Sm4>,
        mac: HmacSm3,
    },
    Gcm {
        aead: gcm::Sm4Gcm,
        implicit: [u8; GCM_IMPLICIT_LEN],
    },
}

impl core::fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordCipher")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// The pseudo-header that the MAC or AAD covers.
fn pseudo_header(seq: u64, typ: ContentType, len: usize) -> [u8; PSEUDO_HEADER_LEN] {
    let mut h = [0u8; PSEUDO_HEADER_LEN];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8] = typ.to_u8();
    h[9..11].copy_from_slice(&TLCP_VERSION.to_be_bytes());
    // Callers bound `len` by the record limits, well under 2^16.
    h[11..].copy_from_slice(&(len as u16).to_be_bytes());
    h
}

impl RecordCipher {
    /// A cipher for `suite` with one direction's keys (from [`super::prf::key_block`]).
    pub fn new(suite: CipherSuite, keys: &DirectionKeys) -> Result<Self, TlcpError> {
        let inner = match suite.bulk() {
            BulkCipher::Sm4CbcHmacSm3 => {
                if keys.mac_key.len() != MAC_LEN {
                    return Err(TlcpError::ApiMisuse("CBC suites need a 32-byte MAC key"));
                }
                Inner::Cbc {
                    key: Box::new(Sm4::new(&keys.enc_key)),
                    mac: HmacSm3::new(&keys.mac_key),
                }
            }
            BulkCipher::Sm4Gcm => {
                let implicit = <[u8; GCM_IMPLICIT_LEN]>::try_from(keys.iv.as_slice())
                    .map_err(|_| TlcpError::ApiMisuse("GCM suites need a 4-byte implicit IV"))?;
                Inner::Gcm {
                    aead: gcm::Sm4Gcm::new(&keys.enc_key),
                    implicit,
                }
            }
        };
        Ok(RecordCipher { suite, inner })
    }

    /// The suite these keys are for.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The most bytes protection adds to a plaintext (CBC: IV, MAC, full padding; GCM:
    /// explicit nonce and tag).
    pub fn max_overhead(&self) -> usize {
        match self.inner {
            Inner::Cbc { .. } => BLOCK_LEN + MAC_LEN + BLOCK_LEN,
            Inner::Gcm { .. } => GCM_EXPLICIT_LEN + gcm::TAG_LEN,
        }
    }

    /// Protects one record's plaintext (at most [`MAX_PLAINTEXT_LEN`] bytes) sent with
    /// sequence number `seq`; returns the record payload.
    pub fn encrypt(
        &self,
        seq: u64,
        typ: ContentType,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, TlcpError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(TlcpError::RecordOverflow {
                len: plaintext.len(),
            });
        }
        let header = pseudo_header(seq, typ, plaintext.len());
        match &self.inner {
            Inner::Cbc { key, mac } => {
                let mut iv = [0u8; BLOCK_LEN];
                getrandom::getrandom(&mut iv)
                    .map_err(|_| TlcpError::Internal("random source failed"))?;
                let mut m = mac.clone();
                m.update(&header);
                m.update(plaintext);
                let tag = m.finalize();
                let body_len = plaintext.len() + MAC_LEN;
                let pad = BLOCK_LEN - 1 - body_len % BLOCK_LEN;
                let mut out = Vec::with_capacity(BLOCK_LEN + body_len + pad + 1);
                out.extend_from_slice(&iv);
                out.extend_from_slice(plaintext);
                out.extend_from_slice(&tag);
                out.resize(out.len() + pad + 1, pad as u8);
                cbc::encrypt(key, &iv, &mut out[BLOCK_LEN..])?;
                Ok(out)
            }
            Inner::Gcm { aead, implicit } => {
                let explicit = seq.to_be_bytes();
                let nonce = gcm_nonce(implicit, &explicit);
                let mut out = Vec::with_capacity(GCM_EXPLICIT_LEN + plaintext.len() + gcm::TAG_LEN);
                out.extend_from_slice(&explicit);
                out.extend_from_slice(plaintext);
                let mut tag = [0u8; gcm::TAG_LEN];
                aead.seal_in_place(&nonce, &header, &mut out[GCM_EXPLICIT_LEN..], &mut tag)?;
                out.extend_from_slice(&tag);
                Ok(out)
            }
        }
    }

    /// Checks and decrypts one record payload received with sequence number `seq`.
    ///
    /// Errors: [`TlcpError::BadRecordMac`] for any failed check (length, padding, MAC,
    /// tag), [`TlcpError::RecordOverflow`] if the plaintext exceeds 2^14 bytes.
    pub fn decrypt(
        &self,
        seq: u64,
        typ: ContentType,
        payload: &[u8],
    ) -> Result<Vec<u8>, TlcpError> {
        let plaintext = match &self.inner {
            Inner::Cbc { key, mac } => decrypt_cbc(key, mac, seq, typ, payload)?,
            Inner::Gcm { aead, implicit } => {
                let body_len = payload
                    .len()
                    .checked_sub(GCM_EXPLICIT_LEN + gcm::TAG_LEN)
                    .ok_or(TlcpError::BadRecordMac)?;
                let (explicit, rest) = payload.split_at(GCM_EXPLICIT_LEN);
                let (ct, tag) = rest.split_at(body_len);
                let mut explicit_arr = [0u8; GCM_EXPLICIT_LEN];
                explicit_arr.copy_from_slice(explicit);
                let nonce = gcm_nonce(implicit, &explicit_arr);
                let header = pseudo_header(seq, typ, body_len);
                let mut data = ct.to_vec();
                aead.open_in_place(&nonce, &header, &mut data, tag)
                    .map_err(|_| TlcpError::BadRecordMac)?;
                data
            }
        };
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(TlcpError::RecordOverflow {
                len: plaintext.len(),
            });
        }
        Ok(plaintext)
    }
}

/// implicit(4) || explicit(8).
fn gcm_nonce(
    implicit: &[u8; GCM_IMPLICIT_LEN],
    explicit: &[u8; GCM_EXPLICIT_LEN],
) -> [u8; gcm::NONCE_LEN] {
    let mut nonce = [0u8; gcm::NONCE_LEN];
    nonce[..GCM_IMPLICIT_LEN].copy_from_slice(implicit);
    nonce[GCM_IMPLICIT_LEN..].copy_from_slice(explicit);
    nonce
}

/// SM3 compression calls for hashing `len` bytes (with the 9 bytes of final padding).
fn sm3_blocks(len: usize) -> usize {
    (len + 9).div_ceil(SM3_BLOCK_LEN)
}

/// CBC record opening with one error for padding and MAC failures and the same work for
/// both (see the module docs).
fn decrypt_cbc(
    key: &Sm4,
    mac: &HmacSm3,
    seq: u64,
    typ: ContentType,
    payload: &[u8],
) -> Result<Vec<u8>, TlcpError> {
    // Public checks on the length alone: IV plus at least MAC and one padding byte, whole
    // blocks.
    if !payload.len().is_multiple_of(BLOCK_LEN)
        || payload.len() < BLOCK_LEN + (MAC_LEN + 1).next_multiple_of(BLOCK_LEN)
    {
        return Err(TlcpError::BadRecordMac);
    }
    let (iv, ct) = payload.split_at(BLOCK_LEN);
    let mut iv_arr = [0u8; BLOCK_LEN];
    iv_arr.copy_from_slice(iv);
    let mut data = Zeroizing::new(ct.to_vec());
    cbc::decrypt(key, &iv_arr, &mut data)?;
    let len = data.len();

    // Padding: last byte n, the n bytes before it all equal n, and n + 1 + MAC fit.
    let pad = data[len - 1];
    let pad_len = usize::from(pad);
    let mut good = (pad_len as u64 + 1 + MAC_LEN as u64).ct_lt(&(len as u64 + 1));
    let scan = MAX_CBC_PADDING.min(len);
    for i in 1..scan {
        let b = data[len - 1 - i];
        // Byte i back from the end is padding when i <= n (i < 256, so i - 1 fits a u8).
        let in_pad = ((i - 1) as u8).ct_lt(&pad);
        good &= !in_pad | b.ct_eq(&pad);
    }
    // On bad padding, MAC as if there were no padding (RFC 5246 section 6.2.3.2).
    let eff_pad = u64::conditional_select(&0, &(pad_len as u64), good) as usize;
    let content_len = len - MAC_LEN - 1 - eff_pad;

    // The received MAC, gathered from every position it could start at.
    let lowest = len.saturating_sub(MAC_LEN + MAX_CBC_PADDING);
    let mut received = [0u8; MAC_LEN];
    for start in lowest..=len - MAC_LEN - 1 {
        let here = (start as u64).ct_eq(&(content_len as u64));
        for (j, r) in received.iter_mut().enumerate() {
            r.conditional_assign(&data[start + j], here);
        }
    }

    let mut m = mac.clone();
    m.update(&pseudo_header(seq, typ, content_len));
    m.update(&data[..content_len]);
    let computed = m.finalize();
    // Equalise the inner hash's compressions with the longest possible content.
    let hashed = SM3_BLOCK_LEN + PSEUDO_HEADER_LEN;
    let extra = sm3_blocks(hashed + len - MAC_LEN - 1) - sm3_blocks(hashed + content_len);
    let mut dummy = Sm3::new();
    for _ in 0..extra {
        dummy.update(&[0u8; SM3_BLOCK_LEN]);
    }
    core::hint::black_box(dummy.finalize());

    good &= computed.ct_eq(&received);
    if bool::from(good) {
        Ok(data[..content_len].to_vec())
    } else {
        Err(TlcpError::BadRecordMac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlcp::prf::key_block;

    fn cipher(suite: CipherSuite) -> RecordCipher {
        let kb = key_block(suite, &[3; 48], &[1; 32], &[2; 32]);
        RecordCipher::new(suite, &kb.client_write).unwrap()
    }

    #[test]
    fn cbc_padding_is_checked_whole() {
        let c = cipher(CipherSuite::EccSm4CbcSm3);
        // Build a record with a long (non-minimal) but valid padding by hand.
        let Inner::Cbc { key, mac } = &c.inner else {
            unreachable!()
        };
        let content = b"hello";
        let mut m = mac.clone();
        m.update(&pseudo_header(
            5,
            ContentType::ApplicationData,
            content.len(),
        ));
        m.update(content);
        let mut body = content.to_vec();
        body.extend_from_slice(&m.finalize());
        // 5 + 32 = 37; pad to 96 with 59 bytes of value 58.
        body.resize(96, 58);
        let iv = [9u8; 16];
        let mut enc = body.clone();
        cbc::encrypt(key, &iv, &mut enc).unwrap();
        let mut payload = iv.to_vec();
        payload.extend_from_slice(&enc);
        assert_eq!(
            c.decrypt(5, ContentType::ApplicationData, &payload)
                .unwrap(),
            content
        );
        // One padding byte changed: bad_record_mac.
        let mut bad = body.clone();
        bad[60] = 57;
        let mut enc = bad;
        cbc::encrypt(key, &iv, &mut enc).unwrap();
        let mut payload = iv.to_vec();
        payload.extend_from_slice(&enc);
        assert!(matches!(
            c.decrypt(5, ContentType::ApplicationData, &payload),
            Err(TlcpError::BadRecordMac)
        ));
    }

    #[test]
    fn round_trip_both_bulks_every_length() {
        for suite in [CipherSuite::EccSm4CbcSm3, CipherSuite::EcdheSm4GcmSm3] {
            let c = cipher(suite);
            for len in 0..70 {
                let pt = vec![len as u8; len];
                let ct = c.encrypt(len as u64, ContentType::Handshake, &pt).unwrap();
                assert!(ct.len() <= pt.len() + c.max_overhead());
                assert_eq!(
                    c.decrypt(len as u64, ContentType::Handshake, &ct).unwrap(),
                    pt
                );
                assert!(c
                    .decrypt(len as u64 + 1, ContentType::Handshake, &ct)
                    .is_err());
            }
        }
    }
}
