//! Every engine registered, the named provider variants, and the stacks under test.
//!
//! Variants name their engines per algorithm explicitly (never `auto`), so a test run never
//! measures and always composes the same provider.

use std::sync::{Arc, OnceLock};

use meshtls_ca::IssuedSvid;
use meshtls_tls_core::autoselect::AutoSelect;
use meshtls_tls_core::policy::{Choice, Policy};
use meshtls_tls_core::registry::Selection;
use meshtls_tls_core::spiffe::{Authorizer, TrustBundleSet};
use meshtls_tls_core::stack::rustls_stack::RUSTLS_STACK;
use meshtls_tls_core::stack::{StackConfig, TlsAcceptor, TlsConnector, TlsPolicy, TlsStack};
use meshtls_tls_core::{AlgorithmId, Registry, TlsError};
use rustls::crypto::CryptoProvider;

use crate::pki;

/// Every engine of the workspace, in tie-break order.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new(vec![
            &meshtls_engine_aws_lc::ENGINE,
            &meshtls_engine_ring::ENGINE,
            &meshtls_engine_openssl::ENGINE,
            &meshtls_engine_boring::ENGINE,
        ])
    })
}

/// aws-lc for the standard algorithms and the SM engine for the SM ones, every algorithm
/// named (no measuring): the provider of the SM stack tests.
pub fn sm_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let registry = Registry::new(vec![
                &meshtls_engine_aws_lc::ENGINE,
                &meshtls_engine_sm::ENGINE,
            ]);
            let mut policy = Policy::default();
            for &id in AlgorithmId::ALL {
                let engine = ["aws-lc", "sm"]
                    .into_iter()
                    .find(|e| registry.engine(e).is_some_and(|e| e.find(id).is_some()));
                if let Some(engine) = engine {
                    policy.set(id, Choice::Engine(engine.to_owned()));
                }
            }
            let no_measuring = AutoSelect {
                cache_dir: None,
                ..AutoSelect::default()
            };
            let selection = registry
                .select(&policy, &no_measuring)
                .expect("explicit policy resolves");
            meshtls_tls_core::compose::provider(&selection)
        })
        .clone()
}

/// A named provider composition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Every algorithm from ring where ring has it, aws-lc for the rest.
    Ring,
    /// Every algorithm from aws-lc where it has it, ring for the rest.
    AwsLc,
    /// Engines mixed per algorithm: AES-GCM from BoringSSL, ChaCha20-Poly1305 from ring,
    /// X25519 (and the ML-KEM hybrid) from aws-lc, signatures and SHA-2 from OpenSSL,
    /// P-256 from BoringSSL, P-384 from ring.
    Mixed,
    /// OpenSSL wherever it has the algorithm (the openssl stack's verification provider).
    OpenSsl,
    /// BoringSSL wherever it has the algorithm (the boring stack's verification provider).
    Boring,
}

impl Variant {
    /// Engines per algorithm this variant names explicitly.
    fn overrides(self) -> &'static [(AlgorithmId, &'static str)] {
        use AlgorithmId::*;
        match self {
            Variant::Mixed => &[
                (Aes128Gcm, "boring"),
                (Aes256Gcm, "boring"),
                (Chacha20Poly1305, "ring"),
                (X25519, "aws-lc"),
                (X25519MlKem768, "aws-lc"),
                (P256, "boring"),
                (P384, "ring"),
                (Sha256, "openssl"),
                (Sha384, "openssl"),
                (EcdsaP256, "openssl"),
                (EcdsaP384, "openssl"),
                (Ed25519, "openssl"),
                (RsaPss, "openssl"),
                (RsaPkcs1, "openssl"),
            ],
            Variant::Ring | Variant::AwsLc | Variant::OpenSsl | Variant::Boring => &[],
        }
    }

    /// Engines to try, in order, for algorithms without an override.
    fn preference(self) -> &'static [&'static str] {
        match self {
            Variant::Ring => &["ring", "aws-lc", "boring", "openssl"],
            Variant::AwsLc | Variant::Mixed => &["aws-lc", "ring", "boring", "openssl"],
            Variant::OpenSsl => &["openssl", "aws-lc", "ring", "boring"],
            Variant::Boring => &["boring", "aws-lc", "ring", "openssl"],
        }
    }

    /// The explicit per-algorithm policy of this variant.
    pub fn policy(self) -> Policy {
        let registry = registry();
        let has = |engine: &str, id: AlgorithmId| {
            registry
                .engine(engine)
                .is_some_and(|e| e.find(id).is_some())
        };
        let mut policy = Policy::default();
        for &id in AlgorithmId::ALL {
            let named = self
                .overrides()
                .iter()
                .find(|(alg, engine)| *alg == id && has(engine, id))
                .map(|(_, engine)| *engine);
            let engine = named.or_else(|| self.preference().iter().copied().find(|e| has(e, id)));
            if let Some(engine) = engine {
                policy.set(id, Choice::Engine(engine.to_owned()));
            }
        }
        policy
    }

    /// The resolved selection (no measurement: every algorithm is named).
    pub fn selection(self) -> Selection {
        let no_measuring = AutoSelect {
            cache_dir: None,
            ..AutoSelect::default()
        };
        registry()
            .select(&self.policy(), &no_measuring)
            .expect("variant policy resolves")
    }

    /// The composed rustls provider.
    pub fn provider(self) -> Arc<CryptoProvider> {
        meshtls_tls_core::compose::provider(&self.selection())
    }
}

/// A TLS stack with the provider it runs on (rustls) or verifies chains with (native).
#[derive(Clone, Debug)]
pub struct StackUnderTest {
    /// Name in reports: `rustls-ring`, `rustls-aws-lc`, `rustls-mixed`, `openssl`, `boring`.
    pub name: &'static str,
    /// The stack.
    pub stack: &'static dyn TlsStack,
    /// Its provider.
    pub provider: Arc<CryptoProvider>,
}

impl StackUnderTest {
    /// A configuration presenting `issued` and trusting `bundles`.
    pub fn config(
        &self,
        issued: &IssuedSvid,
        bundles: TrustBundleSet,
        authorizer: Authorizer,
        policy: TlsPolicy,
    ) -> StackConfig {
        pki::stack_config(issued, bundles, authorizer, policy, self.provider.clone())
    }

    /// An acceptor for `config`.
    pub fn acceptor(&self, config: &StackConfig) -> Result<Arc<dyn TlsAcceptor>, TlsError> {
        self.stack.acceptor(config)
    }

    /// A connector for `config`.
    pub fn connector(&self, config: &StackConfig) -> Result<Arc<dyn TlsConnector>, TlsError> {
        self.stack.connector(config)
    }
}

fn native(engine: &'static meshtls_tls_core::Engine, variant: Variant) -> StackUnderTest {
    StackUnderTest {
        name: engine.name,
        stack: engine
            .stack
            .unwrap_or_else(|| panic!("engine {} brings no TLS stack", engine.name)),
        provider: variant.provider(),
    }
}

fn rustls(name: &'static str, variant: Variant) -> StackUnderTest {
    StackUnderTest {
        name,
        stack: &RUSTLS_STACK,
        provider: variant.provider(),
    }
}

/// The five stacks of the interop matrix: rustls on three provider variants, then OpenSSL
/// and BoringSSL.
pub fn all_stacks() -> Vec<StackUnderTest> {
    vec![
        rustls("rustls-ring", Variant::Ring),
        rustls("rustls-aws-lc", Variant::AwsLc),
        rustls("rustls-mixed", Variant::Mixed),
        native(&meshtls_engine_openssl::ENGINE, Variant::OpenSsl),
        native(&meshtls_engine_boring::ENGINE, Variant::Boring),
    ]
}

/// One stack per TLS implementation: rustls (on aws-lc), OpenSSL, BoringSSL.
pub fn one_per_implementation() -> Vec<StackUnderTest> {
    vec![
        rustls("rustls-aws-lc", Variant::AwsLc),
        native(&meshtls_engine_openssl::ENGINE, Variant::OpenSsl),
        native(&meshtls_engine_boring::ENGINE, Variant::Boring),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_of(selection: &Selection, id: AlgorithmId) -> &'static str {
        selection.engine(id).map(|e| e.name).unwrap_or("none")
    }

    #[test]
    fn variants_take_each_algorithm_from_the_engine_they_name() {
        let mixed = Variant::Mixed.selection();
        for (id, engine) in Variant::Mixed.overrides() {
            assert_eq!(engine_of(&mixed, *id), *engine, "mixed {id}");
        }
        let ring = Variant::Ring.selection();
        let aws_lc = Variant::AwsLc.selection();
        for id in [
            AlgorithmId::Aes128Gcm,
            AlgorithmId::Sha256,
            AlgorithmId::X25519,
            AlgorithmId::EcdsaP256,
        ] {
            assert_eq!(engine_of(&ring, id), "ring", "ring {id}");
            assert_eq!(engine_of(&aws_lc, id), "aws-lc", "aws-lc {id}");
        }
    }

    #[test]
    fn five_stacks_under_test() {
        let names: Vec<_> = all_stacks().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "rustls-ring",
                "rustls-aws-lc",
                "rustls-mixed",
                "openssl",
                "boring"
            ]
        );
        let native: Vec<_> = all_stacks().iter().map(|s| s.stack.name()).collect();
        assert_eq!(native, ["rustls", "rustls", "rustls", "openssl", "boring"]);
    }
}
