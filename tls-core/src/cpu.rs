//! CPU features that crypto backends use, detected once per process.

use std::fmt;
use std::sync::OnceLock;

macro_rules! features {
    ($($variant:ident = $bit:literal, $name:literal, $detect:tt;)*) => {
        /// One CPU feature a backend may use.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum CpuFeature {
            $(#[doc = $name] $variant = 1 << $bit,)*
        }

        impl CpuFeature {
            /// Every feature we report, in display order.
            pub const ALL: &'static [CpuFeature] = &[$(CpuFeature::$variant,)*];

            /// The name used in reports (`aes-ni`, `avx512`, ...).
            pub const fn name(self) -> &'static str {
                match self { $(CpuFeature::$variant => $name,)* }
            }
        }

        #[cfg(target_arch = "x86_64")]
        fn detect_now() -> CpuFeatures {
            let mut found = CpuFeatures::NONE;
            $(if std::arch::is_x86_feature_detected!($detect) { found = found.with(CpuFeature::$variant); })*
            found
        }
    };
}

features! {
    AesNi = 0, "aes-ni", "aes";
    Pclmulqdq = 1, "pclmulqdq", "pclmulqdq";
    Vaes = 2, "vaes", "vaes";
    Vpclmulqdq = 3, "vpclmulqdq", "vpclmulqdq";
    ShaNi = 4, "sha-ni", "sha";
    Avx = 5, "avx", "avx";
    Avx2 = 6, "avx2", "avx2";
    Avx512 = 7, "avx512", "avx512f";
    Gfni = 8, "gfni", "gfni";
    Bmi2 = 9, "bmi2", "bmi2";
    Adx = 10, "adx", "adx";
}

#[cfg(not(target_arch = "x86_64"))]
fn detect_now() -> CpuFeatures {
    CpuFeatures::NONE
}

/// A set of [`CpuFeature`]s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CpuFeatures(u16);

impl CpuFeatures {
    /// The empty set (portable code).
    pub const NONE: CpuFeatures = CpuFeatures(0);

    /// This set plus `feature`.
    pub const fn with(self, feature: CpuFeature) -> CpuFeatures {
        CpuFeatures(self.0 | feature as u16)
    }

    /// Every feature of either set.
    pub const fn union(self, other: CpuFeatures) -> CpuFeatures {
        CpuFeatures(self.0 | other.0)
    }

    /// Whether `feature` is in the set.
    pub const fn contains(self, feature: CpuFeature) -> bool {
        self.0 & feature as u16 != 0
    }

    /// The features of `wanted` that this machine has: what a backend with those code paths uses here.
    pub fn available(wanted: &[CpuFeature]) -> CpuFeatures {
        let here = detected();
        wanted
            .iter()
            .filter(|f| here.contains(**f))
            .fold(CpuFeatures::NONE, |set, f| set.with(*f))
    }

    /// The features as names, in display order.
    pub fn names(self) -> Vec<&'static str> {
        CpuFeature::ALL
            .iter()
            .filter(|f| self.contains(**f))
            .map(|f| f.name())
            .collect()
    }

    /// A stable fingerprint for caches keyed on the CPU.
    pub const fn bits(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for CpuFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl fmt::Display for CpuFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("portable");
        }
        f.write_str(&self.names().join("+"))
    }
}

/// The features of this CPU, detected once.
pub fn detected() -> CpuFeatures {
    static DETECTED: OnceLock<CpuFeatures> = OnceLock::new();
    *DETECTED.get_or_init(detect_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_is_a_subset_of_detected() {
        let wanted = CpuFeature::ALL;
        let got = CpuFeatures::available(wanted);
        assert_eq!(got, detected());
        assert_eq!(CpuFeatures::available(&[]), CpuFeatures::NONE);
        assert_eq!(CpuFeatures::NONE.to_string(), "portable");
    }
}
