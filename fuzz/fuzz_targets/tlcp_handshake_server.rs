#![no_main]
//! A TLCP server connection fed the client's bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| meshtls_engine_sm::fuzzing::tlcp_handshake_server(data));
