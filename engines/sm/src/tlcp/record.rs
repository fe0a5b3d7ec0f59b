//! The TLCP record layer: framing, size limits, and record protection state per direction.
//!
//! GB/T 38636-2020 section 6.3 (RFC 5246 section 6.2 with version 0x0101):
//! - [`RecordDeframer`] cuts buffered bytes into [`OpaqueRecord`]s, refusing another
//!   version (protocol_version), an unknown content type (unexpected_message) and a length
//!   over 2^14 + 2048 (record_overflow) as soon as the header is in.
//! - [`RecordSealer`] (write side) and [`RecordOpener`] (read side) hold one direction's
//!   state: null until that direction's ChangeCipherSpec, then a [`RecordCipher`] with a
//!   64-bit sequence number starting at 0. A sequence number is never reused: at 2^64 - 1
//!   the direction fails with [`TlcpError::SequenceExhausted`] instead of wrapping.
//!
//! No I/O of its own beyond [`RecordDeframer::read_from`], which reads from the caller's
//! `Read`.

use std::io;

use super::cipher::RecordCipher;
use super::error::{DecodeErrorKind, TlcpError};

/// The TLCP protocol version on the wire (GB/T 38636-2020 section 6.3.2).
pub const TLCP_VERSION: u16 = 0x0101;
/// Bytes in a record header: type, version, length.
pub const HEADER_LEN: usize = 5;
/// Largest plaintext fragment (2^14).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 14;
/// Largest protected fragment (2^14 + 2048).
pub const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + 2048;
/// The one-byte ChangeCipherSpec payload.
pub const CHANGE_CIPHER_SPEC_PAYLOAD: [u8; 1] = [1];
/// Most bytes [`RecordDeframer::read_from`] buffers before refusing to read more.
const MAX_BUFFERED: usize = 4 * (HEADER_LEN + MAX_CIPHERTEXT_LEN);

/// A record's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// 20
    ChangeCipherSpec,
    /// 21
    Alert,
    /// 22
    Handshake,
    /// 23
    ApplicationData,
}

impl ContentType {
    /// The type for wire code `code`, if it is one of the four.
    pub fn from_u8(code: u8) -> Option<Self> {
        match code {
            20 => Some(ContentType::ChangeCipherSpec),
            21 => Some(ContentType::Alert),
            22 => Some(ContentType::Handshake),
            23 => Some(ContentType::ApplicationData),
            _ => None,
        }
    }

    /// The wire code.
    pub fn to_u8(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
        }
    }
}

/// Checks a ChangeCipherSpec record payload: exactly the byte 1.
pub fn check_change_cipher_spec(payload: &[u8]) -> Result<(), TlcpError> {
    match payload {
        [1] => Ok(()),
        [] => Err(TlcpError::decode(
            "ChangeCipherSpec",
            DecodeErrorKind::Truncated,
        )),
        [_] => Err(TlcpError::decode(
            "ChangeCipherSpec",
            DecodeErrorKind::InvalidValue,
        )),
        _ => Err(TlcpError::decode(
            "ChangeCipherSpec",
            DecodeErrorKind::TrailingBytes,
        )),
    }
}

/// A record as received, payload still protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueRecord {
    /// Content type.
    pub typ: ContentType,
    /// Version from the header (always [`TLCP_VERSION`] once deframed).
    pub version: u16,
    /// The protected fragment.
    pub payload: Vec<u8>,
}

/// A record after [`RecordOpener::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRecord {
    /// Content type.
    pub typ: ContentType,
    /// The plaintext fragment (at most 2^14 bytes).
    pub payload: Vec<u8>,
}

/// Buffers received bytes and cuts them into records.
#[derive(Debug, Clone, Default)]
pub struct RecordDeframer {
    buf: Vec<u8>,
}

impl RecordDeframer {
    /// An empty deframer.
    pub fn new() -> Self {
        RecordDeframer::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Reads once from `rd` into the buffer; `Ok(0)` means EOF. Refuses (with an error of
    /// kind `Other`) when four full records are already waiting to be processed.
    pub fn read_from(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        if self.buf.len() >= MAX_BUFFERED {
            return Err(io::Error::other(
                "TLCP receive buffer full: process records first",
            ));
        }
        let start = self.buf.len();
        let want = (HEADER_LEN + MAX_CIPHERTEXT_LEN).min(MAX_BUFFERED - start);
        self.buf.resize(start + want, 0);
        let got = rd.read(&mut self.buf[start..]);
        let n = *got.as_ref().unwrap_or(&0);
        self.buf.truncate(start + n);
        got
    }

    /// The next whole record, if one is buffered.
    pub fn next_record(&mut self) -> Result<Option<OpaqueRecord>, TlcpError> {
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let typ = ContentType::from_u8(header[0])
            .ok_or(TlcpError::UnexpectedMessage("unknown record content type"))?;
        let version = u16::from_be_bytes([header[1], header[2]]);
        if version != TLCP_VERSION {
            return Err(TlcpError::ProtocolVersion(version));
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > MAX_CIPHERTEXT_LEN {
            return Err(TlcpError::RecordOverflow { len });
        }
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let rest = self.buf.split_off(HEADER_LEN + len);
        let mut record = core::mem::replace(&mut self.buf, rest);
        record.drain(..HEADER_LEN);
        Ok(Some(OpaqueRecord {
            typ,
            version,
            payload: record,
        }))
    }

    /// Bytes buffered (whole and partial records).
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is buffered (at EOF, anything left is a truncated record).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Takes the next sequence number. 2^64 - 1 is never used: reaching it means the direction
/// is exhausted, so the counter can never wrap back to a used value.
fn next_seq(seq: &mut u64) -> Result<u64, TlcpError> {
    let this = *seq;
    if this == u64::MAX {
        return Err(TlcpError::SequenceExhausted);
    }
    *seq = this + 1;
    Ok(this)
}

/// Write-side record state.
#[derive(Debug, Default)]
pub struct RecordSealer {
    cipher: Option<RecordCipher>,
    seq: u64,
}

impl RecordSealer {
    /// Null protection (before our ChangeCipherSpec).
    pub fn new() -> Self {
        RecordSealer::default()
    }

    /// Switches to `cipher` with sequence number 0 (right after sending ChangeCipherSpec).
    pub fn set_cipher(&mut self, cipher: RecordCipher) {
        self.cipher = Some(cipher);
        self.seq = 0;
    }

    /// Whether records are protected.
    pub fn is_encrypting(&self) -> bool {
        self.cipher.is_some()
    }

    /// The sequence number the next protected record will use.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// Appends `data` to `out` as records of type `typ`, split into fragments of at most
    /// 2^14 bytes (no record for empty `data`).
    pub fn seal(
        &mut self,
        typ: ContentType,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TlcpError> {
        for fragment in data.chunks(MAX_PLAINTEXT_LEN) {
            let payload = match &self.cipher {
                Some(cipher) => {
                    let seq = next_seq(&mut self.seq)?;
                    cipher.encrypt(seq, typ, fragment)?
                }
                None => fragment.to_vec(),
            };
            out.push(typ.to_u8());
            out.extend_from_slice(&TLCP_VERSION.to_be_bytes());
            // Fragments are at most 2^14 bytes and protection adds under 2048.
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            out.extend_from_slice(&payload);
        }
        Ok(())
    }
}

/// Read-side record state.
#[derive(Debug, Default)]
pub struct RecordOpener {
    cipher: Option<RecordCipher>,
    seq: u64,
}

impl RecordOpener {
    /// Null protection (before the peer's ChangeCipherSpec).
    pub fn new() -> Self {
        RecordOpener::default()
    }

    /// Switches to `cipher` with sequence number 0 (right after the peer's
    /// ChangeCipherSpec).
    pub fn set_cipher(&mut self, cipher: RecordCipher) {
        self.cipher = Some(cipher);
        self.seq = 0;
    }

    /// Whether records are protected.
    pub fn is_decrypting(&self) -> bool {
        self.cipher.is_some()
    }

    /// The sequence number the next protected record must carry.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// Removes protection from one record (a plaintext over 2^14 bytes is a
    /// record_overflow, a failed check a bad_record_mac).
    pub fn open(&mut self, record: OpaqueRecord) -> Result<PlainRecord, TlcpError> {
        let payload = match &self.cipher {
            Some(cipher) => {
                let seq = next_seq(&mut self.seq)?;
                cipher.decrypt(seq, record.typ, &record.payload)?
            }
            None => {
                if record.payload.len() > MAX_PLAINTEXT_LEN {
                    return Err(TlcpError::RecordOverflow {
                        len: record.payload.len(),
                    });
                }
                record.payload
            }
        };
        Ok(PlainRecord {
            typ: record.typ,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlcp::prf::key_block;
    use crate::tlcp::suite::CipherSuite;

    fn pair(suite: CipherSuite) -> (RecordSealer, RecordOpener) {
        let kb = key_block(suite, &[5; 48], &[1; 32], &[2; 32]);
        let mut s = RecordSealer::new();
        s.set_cipher(RecordCipher::new(suite, &kb.client_write).unwrap());
        let mut o = RecordOpener::new();
        o.set_cipher(RecordCipher::new(suite, &kb.client_write).unwrap());
        (s, o)
    }

    #[test]
    fn sequence_exhaustion_is_an_error_not_a_wrap() {
        for suite in [CipherSuite::EccSm4CbcSm3, CipherSuite::EccSm4GcmSm3] {
            let (mut s, mut o) = pair(suite);
            s.seq = u64::MAX - 1;
            o.seq = u64::MAX - 1;
            let mut wire = Vec::new();
            s.seal(ContentType::ApplicationData, b"last", &mut wire)
                .unwrap();
            assert_eq!(s.sequence(), u64::MAX);
            assert!(matches!(
                s.seal(ContentType::ApplicationData, b"one more", &mut Vec::new()),
                Err(TlcpError::SequenceExhausted)
            ));
            let mut d = RecordDeframer::new();
            d.push(&wire);
            let rec = d.next_record().unwrap().unwrap();
            assert_eq!(o.open(rec.clone()).unwrap().payload, b"last");
            assert!(matches!(o.open(rec), Err(TlcpError::SequenceExhausted)));
        }
    }

    #[test]
    fn deframer_limits() {
        let mut d = RecordDeframer::new();
        d.push(&[23, 1, 1, 0x48, 0x01]);
        assert!(matches!(
            d.next_record(),
            Err(TlcpError::RecordOverflow { len: 0x4801 })
        ));
        let mut d = RecordDeframer::new();
        d.push(&[22, 3, 3, 0, 1, 0]);
        assert!(matches!(
            d.next_record(),
            Err(TlcpError::ProtocolVersion(0x0303))
        ));
        let mut d = RecordDeframer::new();
        d.push(&[99, 1, 1, 0, 0]);
        assert!(matches!(
            d.next_record(),
            Err(TlcpError::UnexpectedMessage(_))
        ));
        let mut d = RecordDeframer::new();
        d.push(&[22, 1, 1, 0, 2, 7]);
        assert!(d.next_record().unwrap().is_none());
        d.push(&[8]);
        assert_eq!(d.next_record().unwrap().unwrap().payload, [7, 8]);
        assert!(d.is_empty());
    }
}
