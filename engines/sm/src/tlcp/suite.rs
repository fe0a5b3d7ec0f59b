//! The four TLCP cipher suites and their parameters.
//!
//! GB/T 38636-2020 section 6.4.5.2 (codes as Tongsuo's `ntls.h` has them): key exchange by
//! SM2 key transport to the server's encryption certificate (`ECC_*`) or by the SM2 key
//! exchange protocol over ephemeral keys (`ECDHE_*`), records by SM4-CBC with HMAC-SM3 or
//! by SM4-GCM, PRF and transcript hash SM3.

/// How the pre-master secret is agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyExchangeKind {
    /// The client encrypts a random pre-master secret to the server's SM2 encryption key.
    Ecc,
    /// The SM2 key exchange protocol over both sides' encryption keys and ephemeral keys.
    Ecdhe,
}

/// How records are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkCipher {
    /// SM4-CBC with HMAC-SM3, MAC-then-encrypt, explicit per-record IV.
    Sm4CbcHmacSm3,
    /// SM4-GCM with a 4-byte implicit and 8-byte explicit nonce.
    Sm4Gcm,
}

/// A TLCP cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// `ECC_SM4_CBC_SM3`, 0xE013.
    EccSm4CbcSm3,
    /// `ECC_SM4_GCM_SM3`, 0xE053.
    EccSm4GcmSm3,
    /// `ECDHE_SM4_CBC_SM3`, 0xE011.
    EcdheSm4CbcSm3,
    /// `ECDHE_SM4_GCM_SM3`, 0xE051.
    EcdheSm4GcmSm3,
}

/// Every suite, GCM before CBC and ECC before ECDHE (a default preference order).
pub const ALL_SUITES: [CipherSuite; 4] = [
    CipherSuite::EccSm4GcmSm3,
    CipherSuite::EcdheSm4GcmSm3,
    CipherSuite::EccSm4CbcSm3,
    CipherSuite::EcdheSm4CbcSm3,
];

/// SM4 key length in bytes.
pub const ENC_KEY_LEN: usize = 16;
/// HMAC-SM3 key and tag length in bytes (CBC suites).
pub const MAC_LEN: usize = 32;

impl CipherSuite {
    /// The suite with wire code `code`, if it is one of the four.
    pub fn from_u16(code: u16) -> Option<Self> {
        ALL_SUITES.into_iter().find(|s| s.to_u16() == code)
    }

    /// The wire code.
    pub fn to_u16(self) -> u16 {
        match self {
            CipherSuite::EccSm4CbcSm3 => 0xE013,
            CipherSuite::EccSm4GcmSm3 => 0xE053,
            CipherSuite::EcdheSm4CbcSm3 => 0xE011,
            CipherSuite::EcdheSm4GcmSm3 => 0xE051,
        }
    }

    /// The standard's name (`ECC_SM4_GCM_SM3`), as `PeerInfo.suite` reports it.
    pub fn name(self) -> &'static str {
        match self {
            CipherSuite::EccSm4CbcSm3 => "ECC_SM4_CBC_SM3",
            CipherSuite::EccSm4GcmSm3 => "ECC_SM4_GCM_SM3",
            CipherSuite::EcdheSm4CbcSm3 => "ECDHE_SM4_CBC_SM3",
            CipherSuite::EcdheSm4GcmSm3 => "ECDHE_SM4_GCM_SM3",
        }
    }

    /// The suite named `name` (the standard's spelling, as [`CipherSuite::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        ALL_SUITES.into_iter().find(|s| s.name() == name)
    }

    /// How the pre-master secret is agreed.
    pub fn key_exchange(self) -> KeyExchangeKind {
        match self {
            CipherSuite::EccSm4CbcSm3 | CipherSuite::EccSm4GcmSm3 => KeyExchangeKind::Ecc,
            CipherSuite::EcdheSm4CbcSm3 | CipherSuite::EcdheSm4GcmSm3 => KeyExchangeKind::Ecdhe,
        }
    }

    /// How records are protected.
    pub fn bulk(self) -> BulkCipher {
        match self {
            CipherSuite::EccSm4CbcSm3 | CipherSuite::EcdheSm4CbcSm3 => BulkCipher::Sm4CbcHmacSm3,
            CipherSuite::EccSm4GcmSm3 | CipherSuite::EcdheSm4GcmSm3 => BulkCipher::Sm4Gcm,
        }
    }

    /// MAC key length per direction (32 for CBC, 0 for GCM).
    pub fn mac_key_len(self) -> usize {
        match self.bulk() {
            BulkCipher::Sm4CbcHmacSm3 => MAC_LEN,
            BulkCipher::Sm4Gcm => 0,
        }
    }

    /// Encryption key length per direction (16).
    pub fn enc_key_len(self) -> usize {
        ENC_KEY_LEN
    }

    /// IV bytes per direction taken from the key block (16 for CBC, the 4-byte implicit
    /// nonce part for GCM).
    pub fn fixed_iv_len(self) -> usize {
        match self.bulk() {
            BulkCipher::Sm4CbcHmacSm3 => 16,
            BulkCipher::Sm4Gcm => 4,
        }
    }

    /// Explicit IV or nonce bytes carried in each record (16 for CBC, 8 for GCM).
    pub fn record_iv_len(self) -> usize {
        match self.bulk() {
            BulkCipher::Sm4CbcHmacSm3 => 16,
            BulkCipher::Sm4Gcm => 8,
        }
    }

    /// Total key block length: two MAC keys, two encryption keys, two IVs.
    pub fn key_block_len(self) -> usize {
        2 * (self.mac_key_len() + self.enc_key_len() + self.fixed_iv_len())
    }
}

impl core::fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_lengths() {
        for suite in ALL_SUITES {
            assert_eq!(CipherSuite::from_u16(suite.to_u16()), Some(suite));
            assert_eq!(CipherSuite::from_name(suite.name()), Some(suite));
        }
        assert_eq!(CipherSuite::from_u16(0xE015), None);
        assert_eq!(CipherSuite::EccSm4CbcSm3.key_block_len(), 128);
        assert_eq!(CipherSuite::EcdheSm4GcmSm3.key_block_len(), 40);
        assert_eq!(
            CipherSuite::EcdheSm4CbcSm3.key_exchange(),
            KeyExchangeKind::Ecdhe
        );
        assert_eq!(CipherSuite::EccSm4GcmSm3.bulk(), BulkCipher::Sm4Gcm);
    }
}
