#![no_main]
//! A TLCP client connection fed the server's bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| meshtls_engine_sm::fuzzing::tlcp_handshake_client(data));
