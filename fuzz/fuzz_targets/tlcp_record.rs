#![no_main]
//! TLCP record layer: deframing, opening with fixed keys per suite, content checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| meshtls_engine_sm::fuzzing::tlcp_record(data));
