//! The RFC 8998 code points rustls has no names for, and the split of suites, groups and
//! signature schemes into the SM family and the standard family.
//!
//! rustls 0.23 knows none of these values, so they are its `Unknown(_)` variants; the rustls
//! minor version is pinned because a release naming them would stop `Unknown(_)` matching.

use rustls::{CipherSuite, NamedGroup, SignatureScheme};

/// `TLS_SM4_GCM_SM3` (RFC 8998 §2: 0x00C6).
pub const TLS_SM4_GCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C6);
/// `TLS_SM4_CCM_SM3` (RFC 8998 §2: 0x00C7).
pub const TLS_SM4_CCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C7);
/// The `curveSM2` key-exchange group (RFC 8998 §3.2.1: 41).
pub const CURVE_SM2: NamedGroup = NamedGroup::Unknown(41);
/// The `sm2sig_sm3` signature scheme (RFC 8998 §3.2.2: 0x0708).
pub const SM2SIG_SM3: SignatureScheme = SignatureScheme::Unknown(0x0708);

/// Whether `suite` is one of the RFC 8998 SM suites.
pub fn is_sm_suite(suite: CipherSuite) -> bool {
    suite == TLS_SM4_GCM_SM3 || suite == TLS_SM4_CCM_SM3
}

/// Whether `group` is `curveSM2`.
pub fn is_sm_group(group: NamedGroup) -> bool {
    group == CURVE_SM2
}

/// Whether `scheme` is `sm2sig_sm3`.
pub fn is_sm_scheme(scheme: SignatureScheme) -> bool {
    scheme == SM2SIG_SM3
}

/// The RFC 8998 name of an SM suite (`TLS_SM4_GCM_SM3`); `None` for other suites.
pub fn sm_suite_name(suite: CipherSuite) -> Option<&'static str> {
    if suite == TLS_SM4_GCM_SM3 {
        Some("TLS_SM4_GCM_SM3")
    } else if suite == TLS_SM4_CCM_SM3 {
        Some("TLS_SM4_CCM_SM3")
    } else {
        None
    }
}

/// The RFC 8998 name of `curveSM2`; `None` for other groups.
pub fn sm_group_name(group: NamedGroup) -> Option<&'static str> {
    is_sm_group(group).then_some("curveSM2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_are_rfc8998s_and_unknown_to_rustls() {
        assert_eq!(u16::from(TLS_SM4_GCM_SM3), 0x00C6);
        assert_eq!(u16::from(TLS_SM4_CCM_SM3), 0x00C7);
        assert_eq!(u16::from(CURVE_SM2), 41);
        assert_eq!(u16::from(SM2SIG_SM3), 0x0708);
        // Built from the wire value they are the same `Unknown(_)`: rustls names none of them.
        assert_eq!(CipherSuite::from(0x00C6), TLS_SM4_GCM_SM3);
        assert_eq!(CipherSuite::from(0x00C7), TLS_SM4_CCM_SM3);
        assert_eq!(NamedGroup::from(41), CURVE_SM2);
        assert_eq!(SignatureScheme::from(0x0708), SM2SIG_SM3);
        assert_eq!(sm_suite_name(TLS_SM4_CCM_SM3), Some("TLS_SM4_CCM_SM3"));
        assert_eq!(sm_suite_name(CipherSuite::TLS13_AES_128_GCM_SHA256), None);
        assert_eq!(sm_group_name(CURVE_SM2), Some("curveSM2"));
        assert!(!is_sm_scheme(SignatureScheme::ED25519));
    }
}
