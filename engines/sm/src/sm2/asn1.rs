//! DER for the two SM2 message structures, a signature (SEQUENCE of two INTEGERs, GM/T 0009) and
//! a ciphertext (SEQUENCE { INTEGER, INTEGER, OCTET STRING, OCTET STRING }).
//!
//! Reading goes through the `der` crate, which is strict (minimal lengths and integers, no
//! trailing bytes). Writing is by hand: these structures are flat, so a few lines produce them
//! without a fallible encoder.

use der::asn1::{OctetStringRef, UintRef};
use der::{Decode, Reader, SliceReader};

use crate::SmError;

/// DER tag of INTEGER.
const TAG_INTEGER: u8 = 0x02;
/// DER tag of OCTET STRING.
const TAG_OCTET_STRING: u8 = 0x04;
/// DER tag of a constructed SEQUENCE.
const TAG_SEQUENCE: u8 = 0x30;

/// One field of a flat SEQUENCE being written.
pub(crate) enum Field<'a> {
    /// A non-negative INTEGER given as big-endian bytes (leading zeros allowed).
    Uint(&'a [u8]),
    /// An OCTET STRING.
    Octets(&'a [u8]),
}

/// Length of a DER length field for a body of `len` bytes.
fn len_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - len.leading_zeros() as usize / 8)
    }
}

/// Appends a DER length field.
fn push_len(out: &mut Vec<u8>, len: usize) {
    let n = len_len(len);
    if n == 1 {
        out.push(len as u8);
    } else {
        out.push(0x80 | (n - 1) as u8);
        out.extend_from_slice(&len.to_be_bytes()[usize::BITS as usize / 8 - (n - 1)..]);
    }
}

/// The minimal big-endian magnitude of `be` and whether it needs a 0x00 sign byte.
fn minimal_uint(be: &[u8]) -> (&[u8], bool) {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let digits = &be[start..];
    match digits.first() {
        None => (&[0u8][..], false),
        Some(&b) => (digits, b >= 0x80),
    }
}

/// The body and tag of a field.
fn field_parts<'a>(field: &Field<'a>) -> (u8, &'a [u8], bool) {
    match *field {
        Field::Uint(be) => {
            let (digits, pad) = minimal_uint(be);
            (TAG_INTEGER, digits, pad)
        }
        Field::Octets(data) => (TAG_OCTET_STRING, data, false),
    }
}

/// DER of SEQUENCE { fields... }.
pub(crate) fn write_sequence(fields: &[Field<'_>]) -> Vec<u8> {
    let body_len: usize = fields
        .iter()
        .map(|f| {
            let (_, body, pad) = field_parts(f);
            let len = body.len() + usize::from(pad);
            1 + len_len(len) + len
        })
        .sum();
    let mut out = Vec::with_capacity(1 + len_len(body_len) + body_len);
    out.push(TAG_SEQUENCE);
    push_len(&mut out, body_len);
    for f in fields {
        let (tag, body, pad) = field_parts(f);
        out.push(tag);
        push_len(&mut out, body.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(body);
    }
    out
}

/// Reads a non-negative INTEGER of at most 32 bytes into a big-endian 32-byte array.
pub(crate) fn read_uint32<'a, R: Reader<'a>>(reader: &mut R) -> der::Result<Option<[u8; 32]>> {
    let uint = UintRef::decode(reader)?;
    let digits = uint.as_bytes();
    if digits.len() > 32 {
        return Ok(None);
    }
    let mut out = [0u8; 32];
    out[32 - digits.len()..].copy_from_slice(digits);
    Ok(Some(out))
}

/// Reads an OCTET STRING.
pub(crate) fn read_octets<'a, R: Reader<'a>>(reader: &mut R) -> der::Result<&'a [u8]> {
    Ok(OctetStringRef::decode(reader)?.as_bytes())
}

/// Parses `input` as exactly one DER SEQUENCE whose body `f` reads completely; any DER error
/// becomes [`SmError::Encoding`] with `what`.
pub(crate) fn read_sequence<'a, T>(
    input: &'a [u8],
    what: &'static str,
    f: impl FnOnce(&mut der::NestedReader<'_, SliceReader<'a>>) -> der::Result<T>,
) -> Result<T, SmError> {
    let mut reader = SliceReader::new(input).map_err(|_| SmError::Encoding(what))?;
    let value = reader.sequence(f).map_err(|_| SmError::Encoding(what))?;
    reader.finish(value).map_err(|_| SmError::Encoding(what))
}
