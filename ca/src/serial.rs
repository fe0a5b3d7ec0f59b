//! Random certificate serial numbers.

use crate::error::CaError;

/// Serial length in bytes: 128 random bits, within RFC 5280's 20-octet limit (section 4.1.2.2)
/// and above the CA/Browser Forum's 64-bit entropy floor.
const SERIAL_LEN: usize = 16;

/// A fresh random, positive serial number with no leading zero byte, as big-endian bytes.
pub(crate) fn random_serial_bytes() -> Result<[u8; SERIAL_LEN], CaError> {
    let mut bytes = [0u8; SERIAL_LEN];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CaError::Random)?;
    // Clear the sign bit (serials are positive) and set the next one so that the DER
    // INTEGER keeps its full length.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(bytes)
}

/// [`random_serial_bytes`] as rcgen's type.
pub(crate) fn random_serial() -> Result<rcgen::SerialNumber, CaError> {
    Ok(rcgen::SerialNumber::from_slice(&random_serial_bytes()?))
}
