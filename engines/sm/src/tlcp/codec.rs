//! Wire reading and writing helpers for TLCP: integers and length-prefixed vectors, with typed
//! errors.
//!
//! [`Reader`] is a cursor over a borrowed slice: every read names the field it reads
//! (`"ClientHello.session_id"`), so a short or overlong input becomes a
//! [`TlcpError::Decode`] saying where, never a panic or an index out of range. [`Writer`]
//! appends big-endian integers and length-prefixed vectors; a body too long for its prefix
//! is an error, not a silent truncation.

use super::error::{DecodeErrorKind, TlcpError};

/// Largest value of a 24-bit length.
pub const MAX_U24: usize = 0xff_ffff;

/// A cursor over input bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TlcpError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(TlcpError::decode(what, DecodeErrorKind::Truncated))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], TlcpError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, TlcpError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, TlcpError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian 24-bit integer.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, TlcpError> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// A big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, TlcpError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A vector with a one-byte length prefix.
    pub fn vec_u8(&mut self, what: &'static str) -> Result<&'a [u8], TlcpError> {
        let len = self.u8(what)?;
        self.take(usize::from(len), what)
    }

    /// A vector with a two-byte length prefix.
    pub fn vec_u16(&mut self, what: &'static str) -> Result<&'a [u8], TlcpError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    /// A vector with a three-byte length prefix.
    pub fn vec_u24(&mut self, what: &'static str) -> Result<&'a [u8], TlcpError> {
        let len = self.u24(what)?;
        self.take(len as usize, what)
    }

    /// [`TlcpError::Decode`] with [`DecodeErrorKind::TrailingBytes`] unless everything was
    /// read.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), TlcpError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(TlcpError::decode(what, DecodeErrorKind::TrailingBytes))
        }
    }
}

/// An output buffer.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A big-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A big-endian 24-bit integer; [`DecodeErrorKind::TooLongToEncode`] above 2^24 - 1.
    pub fn u24(&mut self, v: usize, what: &'static str) -> Result<(), TlcpError> {
        if v > MAX_U24 {
            return Err(TlcpError::decode(what, DecodeErrorKind::TooLongToEncode));
        }
        self.buf.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        Ok(())
    }

    /// A big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Raw bytes.
    pub fn bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// `data` with a one-byte length prefix.
    pub fn vec_u8(&mut self, data: &[u8], what: &'static str) -> Result<(), TlcpError> {
        let len = u8::try_from(data.len())
            .map_err(|_| TlcpError::decode(what, DecodeErrorKind::TooLongToEncode))?;
        self.u8(len);
        self.bytes(data);
        Ok(())
    }

    /// `data` with a two-byte length prefix.
    pub fn vec_u16(&mut self, data: &[u8], what: &'static str) -> Result<(), TlcpError> {
        let len = u16::try_from(data.len())
            .map_err(|_| TlcpError::decode(what, DecodeErrorKind::TooLongToEncode))?;
        self.u16(len);
        self.bytes(data);
        Ok(())
    }

    /// `data` with a three-byte length prefix.
    pub fn vec_u24(&mut self, data: &[u8], what: &'static str) -> Result<(), TlcpError> {
        self.u24(data.len(), what)?;
        self.bytes(data);
        Ok(())
    }

    /// Writes what `body` writes, preceded by its length in `prefix_len` (1, 2 or 3) bytes.
    pub fn nested(
        &mut self,
        prefix_len: usize,
        what: &'static str,
        body: impl FnOnce(&mut Writer) -> Result<(), TlcpError>,
    ) -> Result<(), TlcpError> {
        let mut inner = Writer::new();
        body(&mut inner)?;
        match prefix_len {
            1 => self.vec_u8(&inner.buf, what),
            2 => self.vec_u16(&inner.buf, what),
            3 => self.vec_u24(&inner.buf, what),
            _ => Err(TlcpError::ApiMisuse(
                "length prefix must be 1, 2 or 3 bytes",
            )),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The output buffer.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_writer_wrote() {
        let mut w = Writer::new();
        w.u8(1);
        w.u16(0x0203);
        w.u24(0x040506, "x").unwrap();
        w.u32(0x0708090a);
        w.vec_u8(b"ab", "x").unwrap();
        w.vec_u16(b"cde", "x").unwrap();
        w.vec_u24(b"f", "x").unwrap();
        w.nested(2, "x", |w| {
            w.u8(9);
            Ok(())
        })
        .unwrap();
        let bytes = w.into_vec();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("a").unwrap(), 0x0203);
        assert_eq!(r.u24("a").unwrap(), 0x040506);
        assert_eq!(r.u32("a").unwrap(), 0x0708090a);
        assert_eq!(r.vec_u8("a").unwrap(), b"ab");
        assert_eq!(r.vec_u16("a").unwrap(), b"cde");
        assert_eq!(r.vec_u24("a").unwrap(), b"f");
        assert_eq!(r.vec_u16("a").unwrap(), [9]);
        r.expect_empty("a").unwrap();
    }

    #[test]
    fn short_and_long_inputs_are_typed_errors() {
        let mut r = Reader::new(&[0, 5, 1]);
        assert!(matches!(
            r.vec_u16("f"),
            Err(TlcpError::Decode {
                what: "f",
                kind: DecodeErrorKind::Truncated
            })
        ));
        let mut r = Reader::new(&[1, 2]);
        r.u8("f").unwrap();
        assert!(matches!(
            r.expect_empty("g"),
            Err(TlcpError::Decode {
                what: "g",
                kind: DecodeErrorKind::TrailingBytes
            })
        ));
        assert!(Reader::new(&[]).u24("f").is_err());
        assert!(Reader::new(&[1; 3]).take(usize::MAX, "f").is_err());
        let mut w = Writer::new();
        assert!(w.vec_u8(&[0; 256], "f").is_err());
        assert!(w.u24(1 << 24, "f").is_err());
    }
}
