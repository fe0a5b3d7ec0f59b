#![no_main]
//! TLCP handshake messages: joining, decoding every type, re-encoding round trip.
libfuzzer_sys::fuzz_target!(|data: &[u8]| meshtls_engine_sm::fuzzing::tlcp_message(data));
