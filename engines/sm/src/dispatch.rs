//! Which code path each primitive runs: detected once per process, overridable for tests and
//! benchmarks.
//!
//! `MESHTLS_SM_FORCE` holds `unit=path` pairs, comma-separated (`sm4=soft,ghash=pclmul`), read
//! once at first use. A forced path this CPU cannot run is ignored for the default choice
//! (with the best available path used instead); the explicit `with_path` constructors of each
//! unit return [`crate::SmError::PathUnavailable`] for it.

use std::sync::OnceLock;

/// The environment variable that forces code paths.
pub const FORCE_ENV: &str = "MESHTLS_SM_FORCE";

/// The path forced for `unit` (`sm3`, `sm4`, `ghash`, `sm2`) by [`FORCE_ENV`], if any.
pub(crate) fn forced(unit: &str) -> Option<&'static str> {
    static PAIRS: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    PAIRS
        .get_or_init(|| {
            let raw = std::env::var(FORCE_ENV).unwrap_or_default();
            raw.split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(u, p)| {
                    let path: &'static str = Box::leak(p.trim().to_ascii_lowercase().into());
                    (u.trim().to_ascii_lowercase(), path)
                })
                .collect()
        })
        .iter()
        .find(|(u, _)| u == unit)
        .map(|(_, p)| *p)
}

/// Declares a code-path enum: names, the CPU features each needs, detection and override.
macro_rules! code_paths {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $unit:literal {
            $($(#[$vmeta:meta])* $variant:ident = $pname:literal if [$($feat:tt),*],)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every path, fastest first.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The name used in reports and in `MESHTLS_SM_FORCE`.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $pname,)+ }
            }

            /// The CPU features the path needs, as `is_x86_feature_detected!` names them.
            pub const fn cpu_features(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($feat),*],)+ }
            }

            /// Whether this CPU can run the path.
            pub fn is_available(self) -> bool {
                match self {
                    $($name::$variant => {
                        #[cfg(target_arch = "x86_64")]
                        { true $(&& std::arch::is_x86_feature_detected!($feat))* }
                        #[cfg(not(target_arch = "x86_64"))]
                        { [$($feat),*].is_empty() }
                    })+
                }
            }

            /// The forced path if set and runnable, else the fastest this CPU runs; decided once.
            pub fn detect() -> $name {
                static CHOSEN: std::sync::OnceLock<$name> = std::sync::OnceLock::new();
                *CHOSEN.get_or_init(|| {
                    let forced = $crate::dispatch::forced($unit)
                        .and_then(|p| $name::ALL.iter().copied().find(|v| v.name() == p))
                        .filter(|v| v.is_available());
                    forced.unwrap_or_else(|| {
                        $name::ALL.iter().copied().find(|v| v.is_available())
                            .unwrap_or($name::ALL[$name::ALL.len() - 1])
                    })
                })
            }

            /// `Ok(self)` if this CPU can run it.
            pub fn require(self) -> Result<$name, $crate::SmError> {
                if self.is_available() { Ok(self) } else { Err($crate::SmError::PathUnavailable(self.name())) }
            }
        }
    };
}
pub(crate) use code_paths;
