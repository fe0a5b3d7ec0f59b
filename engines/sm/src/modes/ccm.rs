//! SM4-CCM (NIST SP 800-38C, RFC 3610; RFC 8998 for TLS 1.3): nonces of 7 to 13 bytes, tags
//! of 4, 6, 8, 10, 12, 14 or 16 bytes, messages shorter than 2^(8L) bytes for L = 15 -
//! nonce length.
//!
//! The tag is a CBC-MAC over B0, the encoded AAD and the plaintext, so it is serial and
//! must see the plaintext: opening decrypts first, then checks the tag in constant time and
//! wipes the buffer if it does not match.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::{xor_in, BLOCK_LEN};
use crate::sm4::{CtrWidth, Sm4, Sm4Path};
use crate::SmError;

/// Shortest nonce: L = 8.
pub const MIN_NONCE_LEN: usize = 7;
/// Longest nonce: L = 2.
pub const MAX_NONCE_LEN: usize = 13;
/// Tag lengths SP 800-38C appendix A allows.
pub const TAG_LENS: [usize; 7] = [4, 6, 8, 10, 12, 14, 16];

/// An SM4-CCM key.
#[derive(Clone, Debug)]
pub struct Sm4Ccm {
    cipher: Sm4,
}

impl Sm4Ccm {
    /// A key on the detected SM4 path.
    pub fn new(key: &[u8; 16]) -> Sm4Ccm {
        Sm4Ccm {
            cipher: Sm4::new(key),
        }
    }

    /// A key on `path`, or [`SmError::PathUnavailable`] if this CPU lacks it.
    pub fn with_path(key: &[u8; 16], path: Sm4Path) -> Result<Sm4Ccm, SmError> {
        Ok(Sm4Ccm {
            cipher: Sm4::with_path(key, path)?,
        })
    }

    /// The SM4 code path of this key.
    pub fn path(&self) -> Sm4Path {
        self.cipher.path()
    }

    /// Encrypts `data` in place and writes the tag into `tag`, whose length (one of
    /// [`TAG_LENS`]) picks the tag length.
    ///
    /// Errors, all before anything is written: [`SmError::InvalidNonceLength`],
    /// [`SmError::InvalidTagLength`], [`SmError::MessageTooLong`].
    pub fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), SmError> {
        let params = Params::new(nonce, data.len(), tag.len())?;
        let mut mac = self.mac(&params, nonce, aad, data);
        let mut counter = params.counter(nonce);
        // A0's keystream encrypts the MAC; A1 onwards the data.
        self.cipher.ctr_xor(&mut counter, CtrWidth::Be128, &mut mac);
        self.cipher.ctr_xor(&mut counter, CtrWidth::Be128, data);
        tag.copy_from_slice(&mac[..tag.len()]);
        mac.zeroize();
        Ok(())
    }

    /// Decrypts `data` in place and checks `tag`.
    ///
    /// Errors: [`SmError::InvalidNonceLength`], [`SmError::InvalidTagLength`],
    /// [`SmError::MessageTooLong`] (before decrypting), and [`SmError::BadTag`] (tampered
    /// data, AAD, nonce or tag, or the wrong key), after which `data` is wiped to zeros.
    pub fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Result<(), SmError> {
        let params = Params::new(nonce, data.len(), tag.len())?;
        let mut counter = params.counter(nonce);
        let mut s0 = [0u8; BLOCK_LEN];
        self.cipher.ctr_xor(&mut counter, CtrWidth::Be128, &mut s0);
        self.cipher.ctr_xor(&mut counter, CtrWidth::Be128, data);
        let mut mac = self.mac(&params, nonce, aad, data);
        xor_in(&mut mac, &s0);
        let ok = mac[..tag.len()].ct_eq(tag);
        mac.zeroize();
        s0.zeroize();
        if bool::from(ok) {
            Ok(())
        } else {
            data.zeroize();
            Err(SmError::BadTag)
        }
    }

    /// The CBC-MAC over B0, the encoded AAD and the plaintext (SP 800-38C A.2), untruncated.
    fn mac(&self, params: &Params, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> [u8; 16] {
        let mut mac = CbcMac::new(&self.cipher, params.b0(nonce, !aad.is_empty()));
        if !aad.is_empty() {
            mac.absorb(encode_aad_len(aad.len()).as_slice());
            mac.absorb(aad);
            mac.pad();
        }
        mac.absorb(plaintext);
        mac.pad();
        mac.finish()
    }
}

/// The checked lengths of one message.
struct Params {
    /// Bytes of the length field and the counter: 15 - nonce length.
    l: usize,
    /// Tag length.
    m: usize,
    /// Message length.
    len: usize,
}

impl Params {
    fn new(nonce: &[u8], len: usize, tag_len: usize) -> Result<Params, SmError> {
        if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
            return Err(SmError::InvalidNonceLength);
        }
        if !TAG_LENS.contains(&tag_len) {
            return Err(SmError::InvalidTagLength);
        }
        let l = 15 - nonce.len();
        if l < 8 && (len as u64) >> (8 * l) != 0 {
            return Err(SmError::MessageTooLong);
        }
        Ok(Params { l, m: tag_len, len })
    }

    /// B0 = flags || nonce || message length in `l` bytes (SP 800-38C A.2.1).
    fn b0(&self, nonce: &[u8], has_aad: bool) -> [u8; 16] {
        let mut b0 = [0u8; 16];
        b0[0] = (u8::from(has_aad) << 6) | (((self.m as u8 - 2) / 2) << 3) | (self.l as u8 - 1);
        b0[1..1 + nonce.len()].copy_from_slice(nonce);
        let len = (self.len as u64).to_be_bytes();
        b0[16 - self.l..].copy_from_slice(&len[8 - self.l..]);
        b0
    }

    /// A0 = (l - 1) || nonce || 0 (SP 800-38C A.3); A1, A2, ... follow by incrementing.
    fn counter(&self, nonce: &[u8]) -> [u8; 16] {
        let mut a0 = [0u8; 16];
        a0[0] = self.l as u8 - 1;
        a0[1..1 + nonce.len()].copy_from_slice(nonce);
        a0
    }
}

/// The AAD length prefix (SP 800-38C A.2.2): 2 bytes below 2^16 - 2^8, else 0xfffe and 4
/// bytes below 2^32, else 0xffff and 8 bytes.
fn encode_aad_len(len: usize) -> EncodedLen {
    let len = len as u64;
    let mut out = EncodedLen {
        bytes: [0u8; 10],
        len: 0,
    };
    if len < 0xff00 {
        out.bytes[..2].copy_from_slice(&(len as u16).to_be_bytes());
        out.len = 2;
    } else if len <= u64::from(u32::MAX) {
        out.bytes[..2].copy_from_slice(&[0xff, 0xfe]);
        out.bytes[2..6].copy_from_slice(&(len as u32).to_be_bytes());
        out.len = 6;
    } else {
        out.bytes[..2].copy_from_slice(&[0xff, 0xff]);
        out.bytes[2..10].copy_from_slice(&len.to_be_bytes());
        out.len = 10;
    }
    out
}

/// An encoded AAD length: up to 10 bytes.
struct EncodedLen {
    bytes: [u8; 10],
    len: usize,
}

impl EncodedLen {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A running CBC-MAC that takes bytes in any split and zero-pads on request.
struct CbcMac<'k> {
    cipher: &'k Sm4,
    x: [u8; 16],
    fill: usize,
}

impl<'k> CbcMac<'k> {
    /// Starts with X1 = E(B0).
    fn new(cipher: &'k Sm4, mut b0: [u8; 16]) -> CbcMac<'k> {
        cipher.encrypt_block(&mut b0);
        CbcMac {
            cipher,
            x: b0,
            fill: 0,
        }
    }

    /// XORs `data` into the chain, encrypting after each full block.
    fn absorb(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (BLOCK_LEN - self.fill).min(data.len());
            let (now, rest) = data.split_at(take);
            xor_in(&mut self.x[self.fill..], now);
            self.fill += take;
            data = rest;
            if self.fill == BLOCK_LEN {
                self.cipher.encrypt_block(&mut self.x);
                self.fill = 0;
            }
        }
    }

    /// Completes a partial block with zeros (the XOR of zeros is a no-op) and encrypts it.
    fn pad(&mut self) {
        if self.fill != 0 {
            self.cipher.encrypt_block(&mut self.x);
            self.fill = 0;
        }
    }

    /// The MAC value.
    fn finish(mut self) -> [u8; 16] {
        let out = self.x;
        self.x.zeroize();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_length_prefix_forms() {
        // SP 800-38C A.2.2: 2 bytes below 0xff00, 0xfffe + 4 bytes below 2^32, else
        // 0xffff + 8 bytes (too long to test end to end).
        assert_eq!(encode_aad_len(1).as_slice(), [0x00, 0x01]);
        assert_eq!(encode_aad_len(0xfeff).as_slice(), [0xfe, 0xff]);
        assert_eq!(
            encode_aad_len(0xff00).as_slice(),
            [0xff, 0xfe, 0, 0, 0xff, 0]
        );
        assert_eq!(
            encode_aad_len(0xffff_ffff).as_slice(),
            [0xff, 0xfe, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            encode_aad_len(0x1_0000_0000).as_slice(),
            [0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]
        );
    }

    #[test]
    fn message_length_limit_follows_l() {
        // L = 15 - nonce length bytes hold the message length.
        for nonce_len in MIN_NONCE_LEN..=MAX_NONCE_LEN {
            let nonce = [0u8; MAX_NONCE_LEN];
            let l = 15 - nonce_len;
            if l < 8 {
                let limit = 1usize << (8 * l);
                assert!(Params::new(&nonce[..nonce_len], limit - 1, 16).is_ok());
                assert_eq!(
                    Params::new(&nonce[..nonce_len], limit, 16).err(),
                    Some(SmError::MessageTooLong)
                );
            } else {
                assert!(Params::new(&nonce[..nonce_len], usize::MAX, 16).is_ok());
            }
        }
    }

    #[test]
    fn b0_and_counter_layout() {
        // RFC 3610 packet vector #1 framing: 13-byte nonce, 8-byte tag, AAD present, 23 bytes.
        let nonce = [0xa0u8; 13];
        let p = Params::new(&nonce, 23, 8).expect("valid");
        let b0 = p.b0(&nonce, true);
        assert_eq!(b0[0], 0x59);
        assert_eq!(&b0[1..14], &nonce);
        assert_eq!(&b0[14..], &[0, 23]);
        let a0 = p.counter(&nonce);
        assert_eq!(a0[0], 0x01);
        assert_eq!(&a0[14..], &[0, 0]);
    }
}
