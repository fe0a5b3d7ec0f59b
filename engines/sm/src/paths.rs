//! What `meshtls engines` shows for this engine: the CPU features and kernel names of the code
//! paths chosen at start-up.

use meshtls_tls_core::cpu::{CpuFeature, CpuFeatures};

/// tls-core's names for the features our paths test (`is_x86_feature_detected!` spelling);
/// helper features tls-core does not list (SSE4.1, AVX-512 sub-sets) fold into their family.
const FEATURE_NAMES: &[(&str, CpuFeature)] = &[
    ("aes", CpuFeature::AesNi),
    ("pclmulqdq", CpuFeature::Pclmulqdq),
    ("vaes", CpuFeature::Vaes),
    ("vpclmulqdq", CpuFeature::Vpclmulqdq),
    ("avx", CpuFeature::Avx),
    ("avx2", CpuFeature::Avx2),
    ("avx512f", CpuFeature::Avx512),
    ("gfni", CpuFeature::Gfni),
    ("bmi2", CpuFeature::Bmi2),
    ("adx", CpuFeature::Adx),
];

/// The tls-core feature set of one path's requirements.
pub(crate) fn features(needs: &[&str]) -> CpuFeatures {
    needs
        .iter()
        .filter_map(|n| FEATURE_NAMES.iter().find(|(name, _)| name == n))
        .fold(CpuFeatures::NONE, |set, (_, f)| set.with(*f))
}
