#![no_main]
//! SM2 ciphertext decoding (DER and raw), round trips and decryption with a fixed key.
libfuzzer_sys::fuzz_target!(|data: &[u8]| meshtls_engine_sm::fuzzing::sm2_ciphertext(data));
