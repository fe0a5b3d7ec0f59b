//! BoringSSL (prefixed) and the system OpenSSL in one test binary: each engine must reach its
//! own library. Cross-engine comparisons live in the workspace `tests` crate.

use meshtls_tls_core::AlgorithmId;

#[test]
fn boring_and_openssl_link_side_by_side() {
    // BoringSSL does real work here...
    let sha256 = meshtls_engine_boring::ENGINE
        .hash(AlgorithmId::Sha256)
        .unwrap();
    let digest = sha256.hash(b"abc");
    assert_eq!(
        format!("{digest:?}"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let boring = (meshtls_engine_boring::ENGINE.version)();
    assert!(boring.contains("BoringSSL"), "{boring}");

    // ...and OpenSSL's version string must come from the system libcrypto, not BoringSSL's.
    let openssl = (meshtls_engine_openssl::ENGINE.version)();
    assert!(openssl.starts_with("OpenSSL 3."), "{openssl}");
    assert!(!openssl.contains("BoringSSL"), "{openssl}");
}
