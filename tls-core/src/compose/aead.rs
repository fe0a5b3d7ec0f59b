//! rustls record protection over an engine's [`Aead`]: one adapter for TLS 1.3 and TLS 1.2,
//! AES-GCM and ChaCha20-Poly1305, and for RFC 8998's SM4-GCM and SM4-CCM (TLS 1.3 only, with
//! the same 12-byte nonce and 16-byte tag; rustls' kTLS secret export has no SM4 variant).
//!
//! Nonces and additional data follow the record layer specs: TLS 1.3 (RFC 8446 §5.2-5.3),
//! TLS 1.2 AES-GCM (RFC 5288 §3: 4-byte implicit salt + 8-byte explicit nonce on the wire),
//! TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2: 12-byte IV, no explicit nonce).

use rustls::crypto::cipher::{
    make_tls12_aad, make_tls13_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv,
    KeyBlockShape, MessageDecrypter, MessageEncrypter, Nonce, OutboundOpaqueMessage,
    OutboundPlainMessage, PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm,
    UnsupportedOperationError, NONCE_LEN,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

use super::intern::intern;
use crate::algorithm::AlgorithmId;
use crate::engine::{self, Aead, Engine, AEAD_TAG_LEN};
use crate::error::CryptoError;

/// Largest plaintext in one record (RFC 8446 §5.1, RFC 5246 §6.2.1: 2^14 bytes).
const MAX_FRAGMENT_LEN: usize = 1 << 14;
/// The explicit nonce carried by TLS 1.2 AES-GCM records (RFC 5288 §3).
const GCM_EXPLICIT_NONCE_LEN: usize = 8;
/// The implicit part of the TLS 1.2 AES-GCM nonce, from the key block (RFC 5288 §3).
const GCM_SALT_LEN: usize = 4;

/// An engine's AEAD seen as a rustls TLS 1.3 and TLS 1.2 AEAD algorithm.
pub(crate) struct AeadAdapter {
    aead: &'static dyn Aead,
    key_len: usize,
}

/// The interned adapter for `engine`'s `aead`.
pub(crate) fn adapter(engine: &'static Engine, aead: &'static dyn Aead) -> &'static AeadAdapter {
    let id = aead.id();
    intern(format!("{}/{id}", engine.name), || AeadAdapter {
        aead,
        key_len: id.aead_key_len().unwrap_or(0),
    })
}

impl AeadAdapter {
    fn is_gcm(&self) -> bool {
        matches!(
            self.aead.id(),
            AlgorithmId::Aes128Gcm | AlgorithmId::Aes256Gcm
        )
    }

    fn new_key(&self, key: &AeadKey) -> Result<Box<dyn engine::AeadKey>, CryptoError> {
        self.aead.new_key(key.as_ref())
    }

    fn secrets(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        match self.aead.id() {
            AlgorithmId::Aes128Gcm => Ok(ConnectionTrafficSecrets::Aes128Gcm { key, iv }),
            AlgorithmId::Aes256Gcm => Ok(ConnectionTrafficSecrets::Aes256Gcm { key, iv }),
            AlgorithmId::Chacha20Poly1305 => {
                Ok(ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv })
            }
            _ => Err(UnsupportedOperationError),
        }
    }

    /// The TLS 1.2 record format of this AEAD.
    fn tls12_mode(&self) -> Mode {
        if self.is_gcm() {
            Mode::Tls12Gcm
        } else {
            Mode::Tls12Chacha
        }
    }
}

impl Tls13AeadAlgorithm for AeadAdapter {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(RecordKey::new(self.new_key(&key), iv, Mode::Tls13))
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(RecordKey::new(self.new_key(&key), iv, Mode::Tls13))
    }

    fn key_len(&self) -> usize {
        self.key_len
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        self.secrets(key, iv)
    }
}

impl Tls12AeadAlgorithm for AeadAdapter {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        let mode = self.tls12_mode();
        match tls12_iv(mode, iv, extra) {
            Some(iv) => Box::new(RecordKey::new(self.new_key(&key), iv, mode)),
            None => Box::new(RecordKey::new(
                Err(CryptoError::InvalidKey),
                Iv::default(),
                mode,
            )),
        }
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        let mode = self.tls12_mode();
        // The decrypter reads the explicit part of GCM nonces from each record.
        let explicit = [0u8; GCM_EXPLICIT_NONCE_LEN];
        match tls12_iv(mode, iv, &explicit[..mode.explicit_len()]) {
            Some(iv) => Box::new(RecordKey::new(self.new_key(&key), iv, mode)),
            None => Box::new(RecordKey::new(
                Err(CryptoError::InvalidKey),
                Iv::default(),
                mode,
            )),
        }
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        match self.tls12_mode() {
            Mode::Tls12Gcm => KeyBlockShape {
                enc_key_len: self.key_len,
                fixed_iv_len: GCM_SALT_LEN,
                explicit_nonce_len: GCM_EXPLICIT_NONCE_LEN,
            },
            _ => KeyBlockShape {
                enc_key_len: self.key_len,
                fixed_iv_len: NONCE_LEN,
                explicit_nonce_len: 0,
            },
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        let iv = tls12_iv(self.tls12_mode(), iv, explicit).ok_or(UnsupportedOperationError)?;
        self.secrets(key, iv)
    }
}

/// The 12-byte IV from TLS 1.2 key-block parts: salt + explicit (GCM) or the whole IV (ChaCha).
fn tls12_iv(mode: Mode, fixed: &[u8], explicit: &[u8]) -> Option<Iv> {
    let mut iv = [0u8; NONCE_LEN];
    if fixed.len() + explicit.len() != NONCE_LEN || explicit.len() != mode.explicit_len() {
        return None;
    }
    iv[..fixed.len()].copy_from_slice(fixed);
    iv[fixed.len()..].copy_from_slice(explicit);
    Some(Iv::from(iv))
}

/// The record formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// RFC 8446 §5.2: content type inside, nonce = iv ^ seq, AAD = record header.
    Tls13,
    /// RFC 5288: explicit 8-byte nonce prefix, AAD = seq + type + version + length.
    Tls12Gcm,
    /// RFC 7905: nonce = iv ^ seq, AAD as TLS 1.2.
    Tls12Chacha,
}

impl Mode {
    const fn explicit_len(self) -> usize {
        match self {
            Mode::Tls12Gcm => GCM_EXPLICIT_NONCE_LEN,
            Mode::Tls13 | Mode::Tls12Chacha => 0,
        }
    }
}

/// One direction's record key. A key the engine refused makes every record fail (rustls
/// passes keys of the length we declare, so this only guards against engine faults).
struct RecordKey {
    key: Result<Box<dyn engine::AeadKey>, CryptoError>,
    iv: Iv,
    mode: Mode,
}

impl RecordKey {
    fn new(key: Result<Box<dyn engine::AeadKey>, CryptoError>, iv: Iv, mode: Mode) -> RecordKey {
        if let Err(error) = &key {
            tracing::error!(%error, "engine refused a TLS record key");
        }
        RecordKey { key, iv, mode }
    }
}

impl MessageEncrypter for RecordKey {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let key = self.key.as_ref().map_err(|_| Error::EncryptError)?;
        let nonce = Nonce::new(&self.iv, seq).0;
        let plain_len = msg.payload.len();
        let total_len = self.encrypted_payload_len(plain_len);
        let mut payload = PrefixedPayload::with_capacity(total_len);
        let explicit = self.mode.explicit_len();
        payload.extend_from_slice(&nonce[NONCE_LEN - explicit..]);
        payload.extend_from_chunks(&msg.payload);
        let (typ, version) = match self.mode {
            Mode::Tls13 => {
                payload.extend_from_slice(&msg.typ.to_array());
                let aad = make_tls13_aad(total_len);
                let tag = key
                    .seal_in_place(&nonce, &aad, &mut payload.as_mut()[explicit..])
                    .map_err(|_| Error::EncryptError)?;
                payload.extend_from_slice(&tag);
                // RFC 8446 §5.1: protected records claim application_data, TLS 1.2.
                (ContentType::ApplicationData, ProtocolVersion::TLSv1_2)
            }
            Mode::Tls12Gcm | Mode::Tls12Chacha => {
                let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
                let tag = key
                    .seal_in_place(&nonce, &aad, &mut payload.as_mut()[explicit..])
                    .map_err(|_| Error::EncryptError)?;
                payload.extend_from_slice(&tag);
                (msg.typ, msg.version)
            }
        };
        Ok(OutboundOpaqueMessage::new(typ, version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        let inner_type = usize::from(self.mode == Mode::Tls13);
        payload_len + inner_type + self.mode.explicit_len() + AEAD_TAG_LEN
    }
}

impl MessageDecrypter for RecordKey {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let key = self.key.as_ref().map_err(|_| Error::DecryptError)?;
        let explicit = self.mode.explicit_len();
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(explicit + AEAD_TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let mut nonce = Nonce::new(&self.iv, seq).0;
        if explicit > 0 {
            nonce[NONCE_LEN - explicit..].copy_from_slice(&payload[..explicit]);
        }
        let mut tag = [0u8; AEAD_TAG_LEN];
        tag.copy_from_slice(&payload[explicit + plain_len..]);
        let ciphertext = &mut payload[explicit..explicit + plain_len];
        let opened = match self.mode {
            Mode::Tls13 => key.open_in_place(
                &nonce,
                &make_tls13_aad(plain_len + AEAD_TAG_LEN),
                ciphertext,
                &tag,
            ),
            Mode::Tls12Gcm | Mode::Tls12Chacha => {
                let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
                key.open_in_place(&nonce, &aad, ciphertext, &tag)
            }
        };
        opened.map_err(|_| Error::DecryptError)?;
        if explicit > 0 {
            payload.copy_within(explicit..explicit + plain_len, 0);
        }
        payload.truncate(plain_len);
        match self.mode {
            Mode::Tls13 => msg.into_tls13_unpadded_message(),
            Mode::Tls12Gcm | Mode::Tls12Chacha if plain_len > MAX_FRAGMENT_LEN => {
                Err(Error::PeerSentOversizedRecord)
            }
            Mode::Tls12Gcm | Mode::Tls12Chacha => Ok(msg.into_plain_message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls12_ivs_follow_rfc5288_and_rfc7905() {
        let gcm = tls12_iv(Mode::Tls12Gcm, &[1, 2, 3, 4], &[5, 6, 7, 8, 9, 10, 11, 12]).unwrap();
        assert_eq!(gcm.as_ref(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let chacha = tls12_iv(Mode::Tls12Chacha, &[7; 12], &[]).unwrap();
        assert_eq!(chacha.as_ref(), &[7; 12]);
        assert!(tls12_iv(Mode::Tls12Gcm, &[1; 4], &[]).is_none());
        assert!(tls12_iv(Mode::Tls12Chacha, &[1; 4], &[2; 8]).is_none());
        assert!(tls12_iv(Mode::Tls12Chacha, &[1; 11], &[]).is_none());
    }

    #[test]
    fn record_overheads() {
        let key = |mode| RecordKey::new(Err(CryptoError::InvalidKey), Iv::default(), mode);
        assert_eq!(key(Mode::Tls13).encrypted_payload_len(100), 100 + 1 + 16);
        assert_eq!(key(Mode::Tls12Gcm).encrypted_payload_len(100), 100 + 8 + 16);
        assert_eq!(key(Mode::Tls12Chacha).encrypted_payload_len(100), 100 + 16);
    }
}
