//! Target `tlcp_message`: handshake message joining and decoding, with the re-encoding round
//! trip of every message type.

use crate::tlcp::error::TlcpError;
use crate::tlcp::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Finished,
    HandshakeFrame, HandshakeJoiner, HandshakePayload, HandshakeType, HelloRequest, ServerHello,
    ServerHelloDone, ServerKeyExchange,
};
use crate::tlcp::suite::KeyExchangeKind;

/// Target `tlcp_message`: the input as handshake record payload. It goes through the joiner
/// in one push, and every whole message is checked by [`check_handshake_message`].
pub fn tlcp_message(data: &[u8]) {
    let mut joiner = HandshakeJoiner::new();
    if joiner.push(data).is_err() {
        return;
    }
    let mut joined = 0;
    while let Ok(Some(frame)) = joiner.next_message() {
        joined += frame.encoded().len();
        check_handshake_message(&frame);
    }
    assert_eq!(joined + joiner.buffered_len(), data.len());
}

/// Decodes `frame` as its type says (ServerKeyExchange and ClientKeyExchange under both key
/// exchange kinds); a message that decodes must re-encode to exactly the bytes received, and
/// a decode error must be typed with an alert to send.
pub fn check_handshake_message(frame: &HandshakeFrame) {
    let body = frame.body();
    match frame.typ() {
        HandshakeType::HelloRequest => round_trip(frame, HelloRequest::decode(body)),
        HandshakeType::ClientHello => round_trip(frame, ClientHello::decode(body)),
        HandshakeType::ServerHello => round_trip(frame, ServerHello::decode(body)),
        HandshakeType::Certificate => round_trip(frame, Certificate::decode(body)),
        HandshakeType::ServerKeyExchange => {
            for kind in [KeyExchangeKind::Ecc, KeyExchangeKind::Ecdhe] {
                round_trip(frame, ServerKeyExchange::decode(body, kind));
            }
        }
        HandshakeType::CertificateRequest => round_trip(frame, CertificateRequest::decode(body)),
        HandshakeType::ServerHelloDone => round_trip(frame, ServerHelloDone::decode(body)),
        HandshakeType::CertificateVerify => round_trip(frame, CertificateVerify::decode(body)),
        HandshakeType::ClientKeyExchange => {
            for kind in [KeyExchangeKind::Ecc, KeyExchangeKind::Ecdhe] {
                round_trip(frame, ClientKeyExchange::decode(body, kind));
            }
        }
        HandshakeType::Finished => round_trip(frame, Finished::decode(body)),
        HandshakeType::Unknown(_) => {}
    }
}

/// The round-trip property of one decode result.
fn round_trip<M: HandshakePayload>(frame: &HandshakeFrame, decoded: Result<M, TlcpError>) {
    match decoded {
        Ok(msg) => {
            let encoded = msg.encode().expect("a decoded message re-encodes");
            assert_eq!(
                encoded,
                frame.encoded(),
                "re-encoding differs from the input"
            );
        }
        Err(err) => assert!(err.sends_alert(), "decode error without an alert: {err}"),
    }
}
