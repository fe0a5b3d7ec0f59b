//! TLCP handshake messages: framing, typed structs with encode/decode, and the byte strings
//! the key exchange signs.
//!
//! Framing (GB/T 38636-2020 section 6.4.4, as RFC 5246 section 7.4): a one-byte type and a
//! 24-bit length. Messages may be split across handshake records or several may share one;
//! [`HandshakeJoiner`] turns record payloads into whole [`HandshakeFrame`]s, each with its
//! exact bytes for the transcript hash.
//!
//! Typed messages implement [`HandshakePayload`]: `encode()` gives the framed message (header
//! included, ready for the transcript and the record layer) and an inherent `decode(body)`
//! takes the body of a [`HandshakeFrame`]. Where TLCP differs from TLS 1.2, checked against
//! Tongsuo's `ssl/statem_ntls`:
//! - no signature-algorithm fields anywhere (CertificateRequest, ServerKeyExchange and
//!   CertificateVerify are TLS 1.1-shaped: signatures are bare u16-prefixed DER);
//! - the ECC ServerKeyExchange signs the server's encryption certificate, not key-exchange
//!   parameters ([`ecc_signed_params`]);
//! - the ECDHE ClientKeyExchange is `ECParameters || point` either bare or inside a u16
//!   vector ([`EcdheKeyExchangeEncoding`]); both are decoded.
//!
//! Nothing here checks signatures or parses certificates: the handshake does, with `sm2`.

use rustls_pki_types::CertificateDer;

use super::codec::{Reader, Writer, MAX_U24};
use super::error::{DecodeErrorKind, TlcpError};
use super::suite::{CipherSuite, KeyExchangeKind};

/// Bytes in a handshake message header (type, 24-bit length).
pub const HANDSHAKE_HEADER_LEN: usize = 4;
/// Default cap on one handshake message's body (Tongsuo's default certificate list cap is
/// 100 KiB); larger messages are refused before being buffered.
pub const DEFAULT_MAX_HANDSHAKE_LEN: usize = 1 << 17;
/// Bytes in a ClientHello/ServerHello random.
pub const RANDOM_LEN: usize = 32;
/// Longest session ID (RFC 5246 section 7.4.1.2).
pub const MAX_SESSION_ID_LEN: usize = 32;
/// Bytes in Finished.verify_data.
pub const VERIFY_DATA_LEN: usize = 12;
/// ECParameters.curve_type `named_curve` (RFC 4492 section 5.4).
pub const CURVE_TYPE_NAMED: u8 = 3;
/// The named curve of TLCP's ECDHE: curveSM2 (41).
pub const CURVE_SM2: u16 = 0x0029;
/// CertificateRequest certificate type `ecdsa_sign` (64), which TLCP uses for SM2.
pub const CERT_TYPE_ECDSA_SIGN: u8 = 64;
/// Null compression, the only one TLCP uses.
pub const COMPRESSION_NULL: u8 = 0;

/// A handshake message type (RFC 5246 section 7.4 codes, which TLCP keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeType {
    /// 0
    HelloRequest,
    /// 1
    ClientHello,
    /// 2
    ServerHello,
    /// 11
    Certificate,
    /// 12
    ServerKeyExchange,
    /// 13
    CertificateRequest,
    /// 14
    ServerHelloDone,
    /// 15
    CertificateVerify,
    /// 16
    ClientKeyExchange,
    /// 20
    Finished,
    /// Any other code.
    Unknown(u8),
}

impl HandshakeType {
    /// The type for wire code `code`.
    pub fn from_u8(code: u8) -> Self {
        match code {
            0 => HandshakeType::HelloRequest,
            1 => HandshakeType::ClientHello,
            2 => HandshakeType::ServerHello,
            11 => HandshakeType::Certificate,
            12 => HandshakeType::ServerKeyExchange,
            13 => HandshakeType::CertificateRequest,
            14 => HandshakeType::ServerHelloDone,
            15 => HandshakeType::CertificateVerify,
            16 => HandshakeType::ClientKeyExchange,
            20 => HandshakeType::Finished,
            other => HandshakeType::Unknown(other),
        }
    }

    /// The wire code.
    pub fn to_u8(self) -> u8 {
        match self {
            HandshakeType::HelloRequest => 0,
            HandshakeType::ClientHello => 1,
            HandshakeType::ServerHello => 2,
            HandshakeType::Certificate => 11,
            HandshakeType::ServerKeyExchange => 12,
            HandshakeType::CertificateRequest => 13,
            HandshakeType::ServerHelloDone => 14,
            HandshakeType::CertificateVerify => 15,
            HandshakeType::ClientKeyExchange => 16,
            HandshakeType::Finished => 20,
            HandshakeType::Unknown(code) => code,
        }
    }
}

/// `body` framed as a handshake message of type `typ`.
pub fn frame(typ: HandshakeType, body: &[u8]) -> Result<Vec<u8>, TlcpError> {
    let mut w = Writer::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
    w.u8(typ.to_u8());
    w.vec_u24(body, "Handshake.length")?;
    Ok(w.into_vec())
}

/// One whole handshake message as received: its exact bytes, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeFrame {
    encoded: Vec<u8>,
}

impl HandshakeFrame {
    /// The message type.
    pub fn typ(&self) -> HandshakeType {
        HandshakeType::from_u8(self.encoded[0])
    }

    /// The body, after the four-byte header.
    pub fn body(&self) -> &[u8] {
        &self.encoded[HANDSHAKE_HEADER_LEN..]
    }

    /// The whole message as sent, for the transcript hash.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The whole message as sent, by value.
    pub fn into_encoded(self) -> Vec<u8> {
        self.encoded
    }
}

/// Joins handshake record payloads into whole messages.
///
/// Push each handshake record's payload with [`HandshakeJoiner::push`], then take messages
/// with [`HandshakeJoiner::next_message`] until it gives `None`. A message whose header
/// claims more than the cap is refused as soon as the header arrives.
#[derive(Debug, Clone)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
    max_len: usize,
}

impl Default for HandshakeJoiner {
    fn default() -> Self {
        HandshakeJoiner::new()
    }
}

impl HandshakeJoiner {
    /// A joiner with the [`DEFAULT_MAX_HANDSHAKE_LEN`] cap.
    pub fn new() -> Self {
        HandshakeJoiner::with_max_len(DEFAULT_MAX_HANDSHAKE_LEN)
    }

    /// A joiner refusing message bodies over `max_len` bytes.
    pub fn with_max_len(max_len: usize) -> Self {
        HandshakeJoiner {
            buf: Vec::new(),
            max_len: max_len.min(MAX_U24),
        }
    }

    /// Adds one handshake record's payload. Empty handshake records are forbidden
    /// (RFC 5246 section 6.2.1).
    pub fn push(&mut self, fragment: &[u8]) -> Result<(), TlcpError> {
        if fragment.is_empty() {
            return Err(TlcpError::decode(
                "Handshake record",
                DecodeErrorKind::BadLength,
            ));
        }
        self.buf.extend_from_slice(fragment);
        self.check_pending_len()
    }

    /// The next whole message, if one is buffered.
    pub fn next_message(&mut self) -> Result<Option<HandshakeFrame>, TlcpError> {
        let Some(len) = self.pending_len()? else {
            return Ok(None);
        };
        let total = HANDSHAKE_HEADER_LEN + len;
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        let encoded = core::mem::replace(&mut self.buf, rest);
        Ok(Some(HandshakeFrame { encoded }))
    }

    /// Whether no partial message is buffered (a ChangeCipherSpec or a key change must
    /// fall on a message boundary).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes buffered.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The body length of the first buffered message, once its header is complete.
    fn pending_len(&self) -> Result<Option<usize>, TlcpError> {
        let Some(header) = self.buf.get(..HANDSHAKE_HEADER_LEN) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        if len > self.max_len {
            return Err(TlcpError::decode(
                "Handshake.length",
                DecodeErrorKind::BadLength,
            ));
        }
        Ok(Some(len))
    }

    fn check_pending_len(&self) -> Result<(), TlcpError> {
        self.pending_len().map(|_| ())
    }
}

/// A typed handshake message.
pub trait HandshakePayload {
    /// Its handshake type.
    const TYPE: HandshakeType;

    /// Writes the body (without the header).
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError>;

    /// The framed message, header included.
    fn encode(&self) -> Result<Vec<u8>, TlcpError> {
        let mut w = Writer::new();
        self.encode_body(&mut w)?;
        frame(Self::TYPE, w.as_slice())
    }
}

/// A hello extension, kept opaque (TLCP defines none of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Extension type.
    pub typ: u16,
    /// Extension data.
    pub data: Vec<u8>,
}

/// Reads an optional extensions block: absent if nothing is left; duplicates are refused
/// (RFC 5246 section 7.4.1.4).
fn decode_extensions(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Option<Vec<Extension>>, TlcpError> {
    if r.is_empty() {
        return Ok(None);
    }
    let mut list = Reader::new(r.vec_u16(what)?);
    let mut out: Vec<Extension> = Vec::new();
    while !list.is_empty() {
        let typ = list.u16(what)?;
        let data = list.vec_u16(what)?.to_vec();
        if out.iter().any(|e| e.typ == typ) {
            return Err(TlcpError::decode(what, DecodeErrorKind::InvalidValue));
        }
        out.push(Extension { typ, data });
    }
    Ok(Some(out))
}

fn encode_extensions(
    w: &mut Writer,
    extensions: &Option<Vec<Extension>>,
    what: &'static str,
) -> Result<(), TlcpError> {
    let Some(list) = extensions else {
        return Ok(());
    };
    w.nested(2, what, |w| {
        for ext in list {
            w.u16(ext.typ);
            w.vec_u16(&ext.data, what)?;
        }
        Ok(())
    })
}

fn decode_session_id(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, TlcpError> {
    let id = r.vec_u8(what)?;
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(TlcpError::decode(what, DecodeErrorKind::BadLength));
    }
    Ok(id.to_vec())
}

fn encode_session_id(w: &mut Writer, id: &[u8], what: &'static str) -> Result<(), TlcpError> {
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(TlcpError::decode(what, DecodeErrorKind::TooLongToEncode));
    }
    w.vec_u8(id, what)
}

/// HelloRequest: the server asks the client to renegotiate (empty body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HelloRequest;

impl HelloRequest {
    /// Decodes the (empty) body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        Reader::new(body).expect_empty("HelloRequest")?;
        Ok(HelloRequest)
    }
}

impl HandshakePayload for HelloRequest {
    const TYPE: HandshakeType = HandshakeType::HelloRequest;
    fn encode_body(&self, _: &mut Writer) -> Result<(), TlcpError> {
        Ok(())
    }
}

/// ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// client_version (0x0101 for TLCP).
    pub version: u16,
    /// Client random.
    pub random: [u8; RANDOM_LEN],
    /// Session to resume (at most 32 bytes; empty for a new session).
    pub session_id: Vec<u8>,
    /// Offered suite codes in preference order, unknown ones kept.
    pub cipher_suites: Vec<u16>,
    /// Offered compression methods (must include null).
    pub compression_methods: Vec<u8>,
    /// Extensions, `None` when the block is absent.
    pub extensions: Option<Vec<Extension>>,
}

impl ClientHello {
    /// Decodes the body. The suite list must be non-empty and even-length, and the
    /// compression list must include null.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let version = r.u16("ClientHello.client_version")?;
        let random = r.array("ClientHello.random")?;
        let session_id = decode_session_id(&mut r, "ClientHello.session_id")?;
        let suites = r.vec_u16("ClientHello.cipher_suites")?;
        if suites.is_empty() || suites.len() % 2 != 0 {
            return Err(TlcpError::decode(
                "ClientHello.cipher_suites",
                DecodeErrorKind::BadLength,
            ));
        }
        let cipher_suites = suites
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let compression_methods = r.vec_u8("ClientHello.compression_methods")?.to_vec();
        if !compression_methods.contains(&COMPRESSION_NULL) {
            return Err(TlcpError::decode(
                "ClientHello.compression_methods",
                DecodeErrorKind::InvalidValue,
            ));
        }
        let extensions = decode_extensions(&mut r, "ClientHello.extensions")?;
        r.expect_empty("ClientHello")?;
        Ok(ClientHello {
            version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// The offered suites this crate knows, in the client's order.
    pub fn known_suites(&self) -> impl Iterator<Item = CipherSuite> + '_ {
        self.cipher_suites
            .iter()
            .filter_map(|&c| CipherSuite::from_u16(c))
    }
}

impl HandshakePayload for ClientHello {
    const TYPE: HandshakeType = HandshakeType::ClientHello;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.u16(self.version);
        w.bytes(&self.random);
        encode_session_id(w, &self.session_id, "ClientHello.session_id")?;
        w.nested(2, "ClientHello.cipher_suites", |w| {
            self.cipher_suites.iter().for_each(|&s| w.u16(s));
            Ok(())
        })?;
        w.vec_u8(&self.compression_methods, "ClientHello.compression_methods")?;
        encode_extensions(w, &self.extensions, "ClientHello.extensions")
    }
}

/// ServerHello (compression is always null: any other value is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// server_version (0x0101 for TLCP).
    pub version: u16,
    /// Server random.
    pub random: [u8; RANDOM_LEN],
    /// Session ID (at most 32 bytes).
    pub session_id: Vec<u8>,
    /// The chosen suite; an unknown code is refused with illegal_parameter.
    pub cipher_suite: CipherSuite,
    /// Extensions, `None` when the block is absent.
    pub extensions: Option<Vec<Extension>>,
}

impl ServerHello {
    /// Decodes the body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let version = r.u16("ServerHello.server_version")?;
        let random = r.array("ServerHello.random")?;
        let session_id = decode_session_id(&mut r, "ServerHello.session_id")?;
        let cipher_suite = CipherSuite::from_u16(r.u16("ServerHello.cipher_suite")?).ok_or(
            TlcpError::decode("ServerHello.cipher_suite", DecodeErrorKind::InvalidValue),
        )?;
        if r.u8("ServerHello.compression_method")? != COMPRESSION_NULL {
            return Err(TlcpError::decode(
                "ServerHello.compression_method",
                DecodeErrorKind::InvalidValue,
            ));
        }
        let extensions = decode_extensions(&mut r, "ServerHello.extensions")?;
        r.expect_empty("ServerHello")?;
        Ok(ServerHello {
            version,
            random,
            session_id,
            cipher_suite,
            extensions,
        })
    }
}

impl HandshakePayload for ServerHello {
    const TYPE: HandshakeType = HandshakeType::ServerHello;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.u16(self.version);
        w.bytes(&self.random);
        encode_session_id(w, &self.session_id, "ServerHello.session_id")?;
        w.u16(self.cipher_suite.to_u16());
        w.u8(COMPRESSION_NULL);
        encode_extensions(w, &self.extensions, "ServerHello.extensions")
    }
}

/// Certificate: a list of DER certificates. A TLCP server sends its signing leaf, its
/// encryption certificate, then the CA chain; a client without a certificate sends none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate {
    /// The certificates in order.
    pub certs: Vec<CertificateDer<'static>>,
}

impl Certificate {
    /// Decodes the body; every certificate must be non-empty.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let mut list = Reader::new(r.vec_u24("Certificate.certificate_list")?);
        r.expect_empty("Certificate")?;
        let mut certs = Vec::new();
        while !list.is_empty() {
            let der = list.vec_u24("Certificate.certificate_list")?;
            if der.is_empty() {
                return Err(TlcpError::decode(
                    "Certificate.certificate_list",
                    DecodeErrorKind::BadLength,
                ));
            }
            certs.push(CertificateDer::from(der.to_vec()));
        }
        Ok(Certificate { certs })
    }
}

impl HandshakePayload for Certificate {
    const TYPE: HandshakeType = HandshakeType::Certificate;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.nested(3, "Certificate.certificate_list", |w| {
            for cert in &self.certs {
                w.vec_u24(cert.as_ref(), "Certificate.certificate_list")?;
            }
            Ok(())
        })
    }
}

/// The server's ephemeral key for ECDHE suites: `ECParameters` (named_curve, curveSM2) and
/// the SEC1 point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdheParams {
    /// The SEC1 encoding of the ephemeral public key (uncompressed: 65 bytes).
    pub point: Vec<u8>,
}

impl EcdheParams {
    /// Reads `curve_type || named_curve || u8-prefixed point`; only named curveSM2 is
    /// accepted.
    fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, TlcpError> {
        if r.u8(what)? != CURVE_TYPE_NAMED || r.u16(what)? != CURVE_SM2 {
            return Err(TlcpError::decode(what, DecodeErrorKind::InvalidValue));
        }
        let point = r.vec_u8(what)?;
        if point.is_empty() {
            return Err(TlcpError::decode(what, DecodeErrorKind::BadLength));
        }
        Ok(EcdheParams {
            point: point.to_vec(),
        })
    }

    /// The wire form: `3 || 0x0029 || u8 length || point` (this is also what is signed).
    pub fn encode(&self) -> Result<Vec<u8>, TlcpError> {
        let mut w = Writer::with_capacity(4 + self.point.len());
        w.u8(CURVE_TYPE_NAMED);
        w.u16(CURVE_SM2);
        w.vec_u8(&self.point, "ECParameters.point")?;
        Ok(w.into_vec())
    }
}

/// ServerKeyExchange, whose shape depends on the suite's key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKeyExchange {
    /// ECC suites: only a signature, over [`ecc_signed_params`].
    Ecc {
        /// DER SM2 signature.
        signature: Vec<u8>,
    },
    /// ECDHE suites: the server's ephemeral key and a signature over
    /// [`ecdhe_signed_params`].
    Ecdhe {
        /// The ephemeral key.
        params: EcdheParams,
        /// DER SM2 signature.
        signature: Vec<u8>,
    },
}

impl ServerKeyExchange {
    /// Decodes the body for a suite with key exchange `kind`.
    pub fn decode(body: &[u8], kind: KeyExchangeKind) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let out = match kind {
            KeyExchangeKind::Ecc => ServerKeyExchange::Ecc {
                signature: read_signature(&mut r, "ServerKeyExchange.signature")?,
            },
            KeyExchangeKind::Ecdhe => {
                let params = EcdheParams::read(&mut r, "ServerKeyExchange.params")?;
                let signature = read_signature(&mut r, "ServerKeyExchange.signature")?;
                ServerKeyExchange::Ecdhe { params, signature }
            }
        };
        r.expect_empty("ServerKeyExchange")?;
        Ok(out)
    }

    /// The signature, whatever the kind.
    pub fn signature(&self) -> &[u8] {
        match self {
            ServerKeyExchange::Ecc { signature } | ServerKeyExchange::Ecdhe { signature, .. } => {
                signature
            }
        }
    }
}

impl HandshakePayload for ServerKeyExchange {
    const TYPE: HandshakeType = HandshakeType::ServerKeyExchange;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        if let ServerKeyExchange::Ecdhe { params, .. } = self {
            w.bytes(&params.encode()?);
        }
        w.vec_u16(self.signature(), "ServerKeyExchange.signature")
    }
}

/// A non-empty u16-prefixed signature.
fn read_signature(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, TlcpError> {
    let sig = r.vec_u16(what)?;
    if sig.is_empty() {
        return Err(TlcpError::decode(what, DecodeErrorKind::BadLength));
    }
    Ok(sig.to_vec())
}

/// The bytes an ECC ServerKeyExchange signs (GB/T 38636-2020 6.4.5.5, Tongsuo
/// `construct_key_exchange_tbs_ntls` with `x509_to_asn1_ntls`): `client_random ||
/// server_random || u24 length || encryption certificate DER`.
pub fn ecc_signed_params(
    client_random: &[u8; RANDOM_LEN],
    server_random: &[u8; RANDOM_LEN],
    enc_cert_der: &[u8],
) -> Result<Vec<u8>, TlcpError> {
    let mut w = Writer::with_capacity(2 * RANDOM_LEN + 3 + enc_cert_der.len());
    w.bytes(client_random);
    w.bytes(server_random);
    w.vec_u24(enc_cert_der, "ServerKeyExchange.enc_cert")?;
    Ok(w.into_vec())
}

/// The bytes an ECDHE ServerKeyExchange signs: `client_random || server_random ||
/// ECParameters || u8-prefixed point` (the params exactly as sent).
pub fn ecdhe_signed_params(
    client_random: &[u8; RANDOM_LEN],
    server_random: &[u8; RANDOM_LEN],
    params: &EcdheParams,
) -> Result<Vec<u8>, TlcpError> {
    let encoded = params.encode()?;
    let mut w = Writer::with_capacity(2 * RANDOM_LEN + encoded.len());
    w.bytes(client_random);
    w.bytes(server_random);
    w.bytes(&encoded);
    Ok(w.into_vec())
}

/// CertificateRequest (TLS 1.1-shaped: no signature algorithms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Acceptable certificate types (non-empty; [`CERT_TYPE_ECDSA_SIGN`] for SM2).
    pub certificate_types: Vec<u8>,
    /// DER distinguished names of acceptable CAs (may be empty).
    pub authorities: Vec<Vec<u8>>,
}

impl CertificateRequest {
    /// Decodes the body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let types = r.vec_u8("CertificateRequest.certificate_types")?;
        if types.is_empty() {
            return Err(TlcpError::decode(
                "CertificateRequest.certificate_types",
                DecodeErrorKind::BadLength,
            ));
        }
        let mut list = Reader::new(r.vec_u16("CertificateRequest.certificate_authorities")?);
        r.expect_empty("CertificateRequest")?;
        let mut authorities = Vec::new();
        while !list.is_empty() {
            let dn = list.vec_u16("CertificateRequest.certificate_authorities")?;
            if dn.is_empty() {
                return Err(TlcpError::decode(
                    "CertificateRequest.certificate_authorities",
                    DecodeErrorKind::BadLength,
                ));
            }
            authorities.push(dn.to_vec());
        }
        Ok(CertificateRequest {
            certificate_types: types.to_vec(),
            authorities,
        })
    }
}

impl HandshakePayload for CertificateRequest {
    const TYPE: HandshakeType = HandshakeType::CertificateRequest;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.vec_u8(
            &self.certificate_types,
            "CertificateRequest.certificate_types",
        )?;
        w.nested(2, "CertificateRequest.certificate_authorities", |w| {
            for dn in &self.authorities {
                w.vec_u16(dn, "CertificateRequest.certificate_authorities")?;
            }
            Ok(())
        })
    }
}

/// ServerHelloDone (empty body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerHelloDone;

impl ServerHelloDone {
    /// Decodes the (empty) body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        Reader::new(body).expect_empty("ServerHelloDone")?;
        Ok(ServerHelloDone)
    }
}

impl HandshakePayload for ServerHelloDone {
    const TYPE: HandshakeType = HandshakeType::ServerHelloDone;
    fn encode_body(&self, _: &mut Writer) -> Result<(), TlcpError> {
        Ok(())
    }
}

/// How an ECDHE ClientKeyExchange is laid out; both are seen in the wild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EcdheKeyExchangeEncoding {
    /// `ECParameters || u8-prefixed point` directly (69 bytes for an uncompressed point):
    /// what Tongsuo sends by default and what GmSSL-derived stacks expect.
    #[default]
    Bare,
    /// The same inside a u16 vector, as GB/T 38636-2020 6.4.5.8 writes `opaque
    /// ClientECDHEParams<0..2^16-1>` (Tongsuo's `enable_ntls_strict_ecdhe_cke`).
    Vector,
}

/// ClientKeyExchange, whose shape depends on the suite's key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKeyExchange {
    /// ECC suites: the 48-byte pre-master secret SM2-encrypted to the server's encryption
    /// key, as a DER `SM2Cipher`.
    Ecc {
        /// The DER ciphertext.
        encrypted_pms: Vec<u8>,
    },
    /// ECDHE suites: the client's ephemeral key.
    Ecdhe {
        /// The ephemeral key.
        params: EcdheParams,
        /// Which layout was received, or will be sent.
        encoding: EcdheKeyExchangeEncoding,
    },
}

impl ClientKeyExchange {
    /// Decodes the body for a suite with key exchange `kind`. For ECDHE both layouts are
    /// accepted: a leading u16 equal to the rest's length marks the vector form (the bare
    /// form starts `03 00`, which can never match its own length).
    pub fn decode(body: &[u8], kind: KeyExchangeKind) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let out = match kind {
            KeyExchangeKind::Ecc => {
                let ct = r.vec_u16("ClientKeyExchange.encrypted_pms")?;
                if ct.is_empty() {
                    return Err(TlcpError::decode(
                        "ClientKeyExchange.encrypted_pms",
                        DecodeErrorKind::BadLength,
                    ));
                }
                ClientKeyExchange::Ecc {
                    encrypted_pms: ct.to_vec(),
                }
            }
            KeyExchangeKind::Ecdhe => {
                let vector = body.len() >= 2
                    && usize::from(u16::from_be_bytes([body[0], body[1]])) == body.len() - 2;
                let encoding = if vector {
                    r = Reader::new(r.vec_u16("ClientKeyExchange.params")?);
                    EcdheKeyExchangeEncoding::Vector
                } else {
                    EcdheKeyExchangeEncoding::Bare
                };
                let params = EcdheParams::read(&mut r, "ClientKeyExchange.params")?;
                ClientKeyExchange::Ecdhe { params, encoding }
            }
        };
        r.expect_empty("ClientKeyExchange")?;
        Ok(out)
    }
}

impl HandshakePayload for ClientKeyExchange {
    const TYPE: HandshakeType = HandshakeType::ClientKeyExchange;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        match self {
            ClientKeyExchange::Ecc { encrypted_pms } => {
                w.vec_u16(encrypted_pms, "ClientKeyExchange.encrypted_pms")
            }
            ClientKeyExchange::Ecdhe { params, encoding } => {
                let encoded = params.encode()?;
                match encoding {
                    EcdheKeyExchangeEncoding::Bare => {
                        w.bytes(&encoded);
                        Ok(())
                    }
                    EcdheKeyExchangeEncoding::Vector => {
                        w.vec_u16(&encoded, "ClientKeyExchange.params")
                    }
                }
            }
        }
    }
}

/// CertificateVerify: an SM2 signature over the SM3 transcript hash (TLS 1.1-shaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateVerify {
    /// DER SM2 signature.
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    /// Decodes the body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let signature = read_signature(&mut r, "CertificateVerify.signature")?;
        r.expect_empty("CertificateVerify")?;
        Ok(CertificateVerify { signature })
    }
}

impl HandshakePayload for CertificateVerify {
    const TYPE: HandshakeType = HandshakeType::CertificateVerify;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.vec_u16(&self.signature, "CertificateVerify.signature")
    }
}

/// Finished: the 12-byte verify_data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// PRF(master_secret, label, SM3(handshake messages))[..12].
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

impl Finished {
    /// Decodes the body.
    pub fn decode(body: &[u8]) -> Result<Self, TlcpError> {
        let mut r = Reader::new(body);
        let verify_data = r.array("Finished.verify_data")?;
        r.expect_empty("Finished")?;
        Ok(Finished { verify_data })
    }
}

impl HandshakePayload for Finished {
    const TYPE: HandshakeType = HandshakeType::Finished;
    fn encode_body(&self, w: &mut Writer) -> Result<(), TlcpError> {
        w.bytes(&self.verify_data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joiner_splits_and_joins() {
        let a = frame(HandshakeType::ServerHelloDone, &[]).unwrap();
        let b = Finished {
            verify_data: [7; 12],
        }
        .encode()
        .unwrap();
        let mut all = a.clone();
        all.extend_from_slice(&b);
        let mut j = HandshakeJoiner::new();
        // Byte by byte.
        let mut got = Vec::new();
        for byte in &all {
            j.push(std::slice::from_ref(byte)).unwrap();
            while let Some(m) = j.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].encoded(), a);
        assert_eq!(got[1].typ(), HandshakeType::Finished);
        assert_eq!(
            Finished::decode(got[1].body()).unwrap().verify_data,
            [7; 12]
        );
        assert!(j.is_empty());
        assert!(j.push(&[]).is_err());
    }

    #[test]
    fn joiner_refuses_oversized_header() {
        let mut j = HandshakeJoiner::with_max_len(100);
        assert!(j.push(&[11, 0, 0, 101]).is_err());
    }

    #[test]
    fn ckx_both_encodings() {
        let params = EcdheParams { point: vec![4; 65] };
        for encoding in [
            EcdheKeyExchangeEncoding::Bare,
            EcdheKeyExchangeEncoding::Vector,
        ] {
            let msg = ClientKeyExchange::Ecdhe {
                params: params.clone(),
                encoding,
            };
            let bytes = msg.encode().unwrap();
            let expected_len = match encoding {
                EcdheKeyExchangeEncoding::Bare => 69,
                EcdheKeyExchangeEncoding::Vector => 71,
            };
            assert_eq!(bytes.len(), HANDSHAKE_HEADER_LEN + expected_len);
            let back =
                ClientKeyExchange::decode(&bytes[HANDSHAKE_HEADER_LEN..], KeyExchangeKind::Ecdhe)
                    .unwrap();
            assert_eq!(back, msg);
        }
    }

    #[test]
    fn signed_params_layout() {
        let c = [1u8; 32];
        let s = [2u8; 32];
        let tbs = ecc_signed_params(&c, &s, &[9, 9]).unwrap();
        assert_eq!(&tbs[64..], &[0, 0, 2, 9, 9]);
        let tbs = ecdhe_signed_params(&c, &s, &EcdheParams { point: vec![4, 5] }).unwrap();
        assert_eq!(&tbs[64..], &[3, 0, 0x29, 2, 4, 5]);
    }
}
