//! Tongsuo 8.5 as an interop peer no one here wrote: its `openssl` CLI built once from the
//! source vendored by the `tongsuo-src` crate, run as `s_server`/`s_client` child processes,
//! and used as an independent SM2 certificate authority.
//!
//! - [`build`]: configure and make `apps/openssl` under the cargo target directory, once per
//!   target directory (a stamp file), safe against concurrent test threads and binaries (a
//!   file lock), with the build log kept for failures.
//! - [`child`]: `s_server`/`s_client` on 127.0.0.1 with readiness detection, captured output
//!   and kill-on-drop.
//! - [`pki`]: SM2 CAs, SPIFFE SVIDs and TLCP sign/enc pairs made by Tongsuo's own CLI.
//!
//! Names: Tongsuo calls TLCP "NTLS" (`NTLSv1.1`) and names TLCP suites OpenSSL-style
//! ([`TLCP_SUITES`] maps them to the IANA-style names meshtls reports).

pub mod build;
pub mod child;
pub mod pki;

pub use build::cli;

/// The four TLCP suites: meshtls' name (as in `PeerInfo::suite`) and Tongsuo's.
pub const TLCP_SUITES: [(&str, &str); 4] = [
    ("ECC_SM4_CBC_SM3", "ECC-SM2-SM4-CBC-SM3"),
    ("ECC_SM4_GCM_SM3", "ECC-SM2-SM4-GCM-SM3"),
    ("ECDHE_SM4_CBC_SM3", "ECDHE-SM2-SM4-CBC-SM3"),
    ("ECDHE_SM4_GCM_SM3", "ECDHE-SM2-SM4-GCM-SM3"),
];

/// The two RFC 8998 TLS 1.3 suites; both sides use the same name.
pub const TLS13_SUITES: [&str; 2] = ["TLS_SM4_GCM_SM3", "TLS_SM4_CCM_SM3"];

/// The protocol name Tongsuo prints for TLCP.
pub const TONGSUO_TLCP_VERSION: &str = "NTLSv1.1";

/// The suite Tongsuo reports in `output`: `s_server`'s `Ciphersuite: X` summary line or
/// `s_client`'s `New, <version>, Cipher is X` line.
pub fn negotiated_suite(output: &str) -> Option<&str> {
    output.lines().find_map(|line| {
        line.strip_prefix("Ciphersuite: ")
            .or_else(|| line.split_once(", Cipher is ").map(|(_, suite)| suite))
            .map(str::trim)
    })
}

/// The protocol version Tongsuo reports in `output` (`NTLSv1.1`, `TLSv1.3`): `s_server`'s
/// `Protocol version: X` or `s_client`'s `New, X, Cipher is ..` line.
pub fn negotiated_version(output: &str) -> Option<&str> {
    output.lines().find_map(|line| {
        line.strip_prefix("Protocol version: ")
            .or_else(|| {
                line.strip_prefix("New, ")
                    .and_then(|rest| rest.split_once(", Cipher is "))
                    .map(|(version, _)| version)
            })
            .map(str::trim)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_negotiated_suite_and_version_from_either_side() {
        let server = "CONNECTION ESTABLISHED\nProtocol version: NTLSv1.1\n\
                      Client cipher list: ECC-SM2-SM4-GCM-SM3\nCiphersuite: ECC-SM2-SM4-GCM-SM3\n";
        assert_eq!(negotiated_suite(server), Some("ECC-SM2-SM4-GCM-SM3"));
        assert_eq!(negotiated_version(server), Some("NTLSv1.1"));
        let client = "---\nNew, TLSv1.3, Cipher is TLS_SM4_CCM_SM3\nProtocol: TLSv1.3\n";
        assert_eq!(negotiated_suite(client), Some("TLS_SM4_CCM_SM3"));
        assert_eq!(negotiated_version(client), Some("TLSv1.3"));
        assert_eq!(negotiated_suite("CONNECTION FAILURE\n"), None);
    }
}
