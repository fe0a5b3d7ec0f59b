//! Target `tlcp_record`: the TLCP record layer as a receiver runs it (deframing, opening with
//! fixed keys for each suite, and the checks on each content type).

use super::message::check_handshake_message;
use crate::tlcp::alert::Alert;
use crate::tlcp::cipher::RecordCipher;
use crate::tlcp::error::TlcpError;
use crate::tlcp::message::HandshakeJoiner;
use crate::tlcp::prf::{key_block, KeyBlock};
use crate::tlcp::record::{
    check_change_cipher_spec, ContentType, RecordDeframer, RecordOpener, RecordSealer, HEADER_LEN,
    MAX_PLAINTEXT_LEN, TLCP_VERSION,
};
use crate::tlcp::suite::{CipherSuite, ALL_SUITES};

/// The record keys of `tlcp_record` for `suite`: a key block from a fixed master secret and
/// fixed randoms. Records are opened with the client-write keys; the server-write keys drive
/// the re-protection round trip.
fn record_keys(suite: CipherSuite) -> KeyBlock {
    key_block(suite, &[0x4d; 48], &[0x43; 32], &[0x53; 32])
}

/// A record cipher over fixed keys; the key block always has the suite's lengths.
fn fixed_cipher(suite: CipherSuite, client_write: bool) -> RecordCipher {
    let keys = record_keys(suite);
    let direction = if client_write {
        &keys.client_write
    } else {
        &keys.server_write
    };
    RecordCipher::new(suite, direction).expect("a key block fits its suite")
}

/// How `tlcp_record` reads its first input byte: bits 0-1 pick the suite (of
/// [`ALL_SUITES`]), bit 2 switches record protection on, and the top five bits give the
/// size of the pieces the rest arrives in (1 + 37 * value bytes).
#[derive(Debug, Clone, Copy)]
pub struct RecordControl {
    /// The suite whose keys open protected records.
    pub suite: CipherSuite,
    /// Whether records are protected (after ChangeCipherSpec) or null (before).
    pub protected: bool,
    /// Bytes per push into the deframer.
    pub piece_len: usize,
}

impl RecordControl {
    /// Decodes the control byte.
    pub fn from_byte(byte: u8) -> Self {
        Self {
            suite: ALL_SUITES[usize::from(byte & 3)],
            protected: byte & 4 != 0,
            piece_len: 1 + 37 * usize::from(byte >> 3),
        }
    }

    /// The control byte for `suite`, protection on or off, and the whole input in one piece
    /// (the largest piece size).
    pub fn to_byte(suite: CipherSuite, protected: bool) -> u8 {
        let index = ALL_SUITES.iter().position(|&s| s == suite).unwrap_or(0) as u8;
        0xf8 | (u8::from(protected) << 2) | index
    }
}

/// Seeds for `tlcp_record`: the control byte for `suite` and `protected`, then `records` as
/// wire records, protected with the same fixed keys the target opens them with.
pub fn tlcp_record_input(
    suite: CipherSuite,
    protected: bool,
    records: &[(ContentType, &[u8])],
) -> Result<Vec<u8>, TlcpError> {
    let mut sealer = RecordSealer::new();
    if protected {
        sealer.set_cipher(fixed_cipher(suite, true));
    }
    let mut out = vec![RecordControl::to_byte(suite, protected)];
    for (typ, data) in records {
        sealer.seal(*typ, data, &mut out)?;
    }
    Ok(out)
}

/// Target `tlcp_record`: the record layer as a receiver runs it, on the input after a control
/// byte (see [`RecordControl`]).
///
/// The bytes are deframed in pieces; each record must re-serialize to exactly the bytes it
/// was cut from, and is then opened (null or with fixed keys). An opened record is checked by
/// content type (ChangeCipherSpec, Alert with its re-encoding, handshake messages through the
/// joiner and [`check_handshake_message`]); protected ones also go through a seal/open round
/// trip on a second key set. The first error ends the run, as it ends a connection.
pub fn tlcp_record(data: &[u8]) {
    let Some((&control, wire)) = data.split_first() else {
        return;
    };
    let control = RecordControl::from_byte(control);
    let mut receiver = RecordReceiver::new(control);
    for piece in wire.chunks(control.piece_len) {
        if receiver.receive(wire, piece).is_err() {
            return;
        }
    }
}

/// The receiving side of `tlcp_record`.
struct RecordReceiver {
    deframer: RecordDeframer,
    opener: RecordOpener,
    joiner: HandshakeJoiner,
    /// Seals and opens protected plaintexts again on the server-write keys.
    mirror: Option<(RecordSealer, RecordOpener)>,
    /// Wire bytes consumed by whole records so far.
    consumed: usize,
}

impl RecordReceiver {
    fn new(control: RecordControl) -> Self {
        let mut opener = RecordOpener::new();
        let mut mirror = None;
        if control.protected {
            opener.set_cipher(fixed_cipher(control.suite, true));
            let mut sealer = RecordSealer::new();
            sealer.set_cipher(fixed_cipher(control.suite, false));
            let mut opener = RecordOpener::new();
            opener.set_cipher(fixed_cipher(control.suite, false));
            mirror = Some((sealer, opener));
        }
        Self {
            deframer: RecordDeframer::new(),
            opener,
            joiner: HandshakeJoiner::new(),
            mirror,
            consumed: 0,
        }
    }

    /// Pushes one piece of `wire` and handles every record it completes.
    fn receive(&mut self, wire: &[u8], piece: &[u8]) -> Result<(), TlcpError> {
        self.deframer.push(piece);
        while let Some(record) = self.deframer.next_record()? {
            let end = self.consumed + HEADER_LEN + record.payload.len();
            let mut framed = vec![record.typ.to_u8()];
            framed.extend_from_slice(&record.version.to_be_bytes());
            framed.extend_from_slice(&(record.payload.len() as u16).to_be_bytes());
            framed.extend_from_slice(&record.payload);
            assert_eq!(record.version, TLCP_VERSION);
            assert_eq!(
                framed,
                wire[self.consumed..end],
                "record re-framing differs"
            );
            self.consumed = end;
            let plain = self.opener.open(record)?;
            assert!(plain.payload.len() <= MAX_PLAINTEXT_LEN);
            if let Some((sealer, opener)) = &mut self.mirror {
                reseal(sealer, opener, plain.typ, &plain.payload)?;
            }
            match plain.typ {
                ContentType::ChangeCipherSpec => check_change_cipher_spec(&plain.payload)?,
                ContentType::Alert => {
                    let alert = Alert::decode(&plain.payload)?;
                    assert_eq!(alert.encode()[..], plain.payload[..]);
                }
                ContentType::Handshake => {
                    self.joiner.push(&plain.payload)?;
                    while let Some(frame) = self.joiner.next_message()? {
                        check_handshake_message(&frame);
                    }
                }
                ContentType::ApplicationData => {}
            }
        }
        Ok(())
    }
}

/// Protects `payload` with `sealer` and opens it with `opener`: the same record must come back.
fn reseal(
    sealer: &mut RecordSealer,
    opener: &mut RecordOpener,
    typ: ContentType,
    payload: &[u8],
) -> Result<(), TlcpError> {
    let mut wire = Vec::new();
    sealer.seal(typ, payload, &mut wire)?;
    let mut deframer = RecordDeframer::new();
    deframer.push(&wire);
    let mut back = Vec::new();
    while let Some(record) = deframer.next_record()? {
        let plain = opener.open(record)?;
        assert_eq!(plain.typ, typ);
        back.extend_from_slice(&plain.payload);
    }
    assert_eq!(back, payload, "seal/open round trip differs");
    assert!(deframer.is_empty());
    Ok(())
}
