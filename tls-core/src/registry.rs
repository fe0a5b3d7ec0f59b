//! The engines this process can use, and the resolution of a [`Policy`] into a
//! [`Selection`]: one engine per algorithm, with the reason it was chosen.
//!
//! The binary's wiring code registers engines; tls-core never names one. A [`Selection`] is
//! what [`crate::compose::provider`] turns into a rustls `CryptoProvider`, and it serializes
//! to the report `meshtls engines` prints.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::algorithm::{AlgorithmId, AlgorithmKind};
use crate::autoselect::{AutoSelect, ScoreSource, Scores};
use crate::engine::{Aead, Algorithm, Engine, Hash, KeyExchange, SecureRandom, Signature};
use crate::error::ConfigError;
use crate::policy::{Choice, Origin, Policy};
use crate::stack::TlsStack;

/// Registered engines.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    engines: Vec<&'static Engine>,
}

impl Registry {
    /// A registry holding `engines`, in preference order for ties.
    pub fn new(engines: Vec<&'static Engine>) -> Registry {
        Registry { engines }
    }

    /// Every engine.
    pub fn engines(&self) -> &[&'static Engine] {
        &self.engines
    }

    /// The engine called `name`.
    pub fn engine(&self, name: &str) -> Option<&'static Engine> {
        self.engines.iter().copied().find(|e| e.name == name)
    }

    /// The engine called `name`, or [`ConfigError::UnknownEngine`].
    pub fn require(&self, name: &str) -> Result<&'static Engine, ConfigError> {
        self.engine(name)
            .ok_or_else(|| ConfigError::UnknownEngine(name.to_owned()))
    }

    /// The engines implementing `id`, in registration order.
    pub fn candidates(&self, id: AlgorithmId) -> Vec<(&'static Engine, Implementation)> {
        self.engines
            .iter()
            .filter_map(|e| Implementation::find(e, id).map(|i| (*e, i)))
            .collect()
    }

    /// The native TLS stacks engines bring (OpenSSL, BoringSSL); rustls is not among them.
    pub fn native_stacks(&self) -> impl Iterator<Item = &'static dyn TlsStack> + '_ {
        self.engines.iter().filter_map(|e| e.stack)
    }

    /// Resolves `policy` into one engine per algorithm that some engine implements.
    ///
    /// Algorithms left to `auto` with several candidates are measured (or read from the
    /// cache) through `auto`. Errors: a policy naming an unregistered engine
    /// ([`ConfigError::UnknownEngine`]), or naming one for an algorithm it lacks
    /// ([`ConfigError::EngineLacksAlgorithm`]).
    pub fn select(&self, policy: &Policy, auto: &AutoSelect) -> Result<Selection, ConfigError> {
        for name in policy.engine_names() {
            self.require(name)?;
        }
        let mut pending = Vec::new();
        let mut decided = BTreeMap::new();
        for id in AlgorithmId::ALL.iter().copied() {
            let candidates = self.candidates(id);
            match self.explicit_engine(policy, id)? {
                Some(engine) => {
                    decided.insert(id, (engine, Reason::Explicit));
                }
                None if candidates.len() == 1 => {
                    decided.insert(id, (candidates[0].0, Reason::OnlyCandidate));
                }
                None if candidates.is_empty() => {}
                None => pending.push(id),
            }
        }
        let scores = if pending.is_empty() {
            Scores::default()
        } else {
            auto.scores(self, &pending)
        };
        for id in pending {
            let (engine, reason) = self.fastest(id, &scores)?;
            decided.insert(id, (engine, reason));
        }
        let random = decided
            .get(&AlgorithmId::Aes128Gcm)
            .map(|(e, _)| *e)
            .or_else(|| self.engines.first().copied())
            .ok_or(ConfigError::NoEngineFor(AlgorithmId::Aes128Gcm))?;
        let choices = decided
            .into_iter()
            .filter_map(|(id, (engine, reason))| {
                let implementation = Implementation::find(engine, id)?;
                Some(Selected {
                    algorithm: id,
                    kind: id.kind(),
                    engine,
                    implementation,
                    reason,
                    candidates: self.candidate_reports(id, &scores),
                })
            })
            .collect();
        Ok(Selection { choices, random })
    }

    /// The engine the policy names for `id`, if it names one that applies.
    fn explicit_engine(
        &self,
        policy: &Policy,
        id: AlgorithmId,
    ) -> Result<Option<&'static Engine>, ConfigError> {
        let (choice, origin) = policy.choice(id);
        let Choice::Engine(name) = choice else {
            return Ok(None);
        };
        let engine = self.require(name)?;
        match (engine.find(id).is_some(), origin) {
            (true, _) => Ok(Some(engine)),
            (false, Origin::Default) => Ok(None),
            (false, Origin::PerAlgorithm) => Err(ConfigError::EngineLacksAlgorithm {
                engine: name.clone(),
                algorithm: id,
            }),
        }
    }

    /// The best-scoring candidate for `id`; ties go to the earlier-registered engine.
    fn fastest(
        &self,
        id: AlgorithmId,
        scores: &Scores,
    ) -> Result<(&'static Engine, Reason), ConfigError> {
        let mut best: Option<(&'static Engine, f64)> = None;
        for (engine, _) in self.candidates(id) {
            if let Some(score) = scores.get(id, engine.name) {
                if best.is_none_or(|(_, b)| score > b) {
                    best = Some((engine, score));
                }
            }
        }
        let (engine, score) = best.ok_or(ConfigError::NoEngineFor(id))?;
        let reason = match scores.source(id) {
            Some(ScoreSource::Cached) => Reason::Cached { score },
            _ => Reason::Measured { score },
        };
        Ok((engine, reason))
    }

    fn candidate_reports(&self, id: AlgorithmId, scores: &Scores) -> Vec<Candidate> {
        self.candidates(id)
            .into_iter()
            .map(|(engine, imp)| Candidate {
                engine: engine.name,
                cpu_features: imp.algorithm().cpu_features().names(),
                score: scores.get(id, engine.name),
            })
            .collect()
    }
}

/// One engine's implementation of an algorithm, typed by kind.
#[derive(Clone, Copy, Debug)]
pub enum Implementation {
    /// An AEAD.
    Aead(&'static dyn Aead),
    /// A hash (with HMAC).
    Hash(&'static dyn Hash),
    /// A key-exchange group.
    KeyExchange(&'static dyn KeyExchange),
    /// A signature key type.
    Signature(&'static dyn Signature),
}

impl Implementation {
    /// `engine`'s implementation of `id`, if any.
    pub fn find(engine: &Engine, id: AlgorithmId) -> Option<Implementation> {
        match id.kind() {
            AlgorithmKind::Aead => engine.aead(id).map(Implementation::Aead),
            AlgorithmKind::Hash => engine.hash(id).map(Implementation::Hash),
            AlgorithmKind::KeyExchange => engine.key_exchange(id).map(Implementation::KeyExchange),
            AlgorithmKind::Signature => engine.signature(id).map(Implementation::Signature),
        }
    }

    /// The common view of the implementation.
    pub fn algorithm(self) -> &'static dyn Algorithm {
        match self {
            Implementation::Aead(a) => a,
            Implementation::Hash(a) => a,
            Implementation::KeyExchange(a) => a,
            Implementation::Signature(a) => a,
        }
    }
}

/// Why an engine was chosen for an algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// The policy named the engine.
    Explicit,
    /// Fastest when measured now; `score` in operations per second.
    Measured {
        /// Operations per second (see [`crate::autoselect`] for what one operation is).
        score: f64,
    },
    /// Fastest in an earlier measurement on this machine and binary, read from the cache.
    Cached {
        /// Operations per second, as measured then.
        score: f64,
    },
    /// No other engine implements the algorithm.
    OnlyCandidate,
}

/// One engine that could serve an algorithm, for the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// Engine name.
    pub engine: &'static str,
    /// CPU features its implementation uses on this machine.
    pub cpu_features: Vec<&'static str>,
    /// Measured or cached operations per second, when the algorithm was auto-selected.
    pub score: Option<f64>,
}

/// The engine chosen for one algorithm.
#[derive(Clone, Debug, Serialize)]
pub struct Selected {
    /// The algorithm.
    pub algorithm: AlgorithmId,
    /// Its kind.
    pub kind: AlgorithmKind,
    /// The chosen engine.
    #[serde(serialize_with = "engine_name")]
    pub engine: &'static Engine,
    /// The chosen engine's implementation.
    #[serde(skip)]
    pub implementation: Implementation,
    /// Why it was chosen.
    #[serde(flatten)]
    pub reason: Reason,
    /// Every engine implementing the algorithm.
    pub candidates: Vec<Candidate>,
}

fn engine_name<S: serde::Serializer>(engine: &&'static Engine, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(engine.name)
}

/// One engine per algorithm: the input to [`crate::compose::provider`] and the
/// `meshtls engines` report (serializes as the list of [`Selected`]).
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Selection {
    choices: Vec<Selected>,
    #[serde(skip)]
    random: &'static Engine,
}

impl Selection {
    /// Every choice, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = &Selected> {
        self.choices.iter()
    }

    /// The choice for `id`, if some engine implements it.
    pub fn get(&self, id: AlgorithmId) -> Option<&Selected> {
        self.choices.iter().find(|s| s.algorithm == id)
    }

    /// The engine chosen for `id`.
    pub fn engine(&self, id: AlgorithmId) -> Option<&'static Engine> {
        self.get(id).map(|s| s.engine)
    }

    /// The chosen AEAD `id` and its engine.
    pub fn aead(&self, id: AlgorithmId) -> Option<(&'static Engine, &'static dyn Aead)> {
        self.get(id).and_then(|s| match s.implementation {
            Implementation::Aead(a) => Some((s.engine, a)),
            _ => None,
        })
    }

    /// The chosen hash `id` and its engine.
    pub fn hash(&self, id: AlgorithmId) -> Option<(&'static Engine, &'static dyn Hash)> {
        self.get(id).and_then(|s| match s.implementation {
            Implementation::Hash(a) => Some((s.engine, a)),
            _ => None,
        })
    }

    /// The chosen key exchange `id` and its engine.
    pub fn key_exchange(
        &self,
        id: AlgorithmId,
    ) -> Option<(&'static Engine, &'static dyn KeyExchange)> {
        self.get(id).and_then(|s| match s.implementation {
            Implementation::KeyExchange(a) => Some((s.engine, a)),
            _ => None,
        })
    }

    /// The chosen signature algorithm `id` and its engine.
    pub fn signature(&self, id: AlgorithmId) -> Option<(&'static Engine, &'static dyn Signature)> {
        self.get(id).and_then(|s| match s.implementation {
            Implementation::Signature(a) => Some((s.engine, a)),
            _ => None,
        })
    }

    /// The engine whose random source the composed provider uses: the engine chosen for
    /// `aes-128-gcm` (the suite most connections use), else the first registered engine.
    pub fn random_engine(&self) -> &'static Engine {
        self.random
    }

    /// The random source of [`Self::random_engine`].
    pub fn random(&self) -> &'static dyn SecureRandom {
        self.random.random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_registry_selects_nothing_and_says_why() {
        let registry = Registry::default();
        assert_eq!(registry.native_stacks().count(), 0);
        assert!(registry.candidates(AlgorithmId::Sha256).is_empty());
        let auto = AutoSelect {
            cache_dir: None,
            ..AutoSelect::default()
        };
        assert!(matches!(
            registry.select(&Policy::default(), &auto),
            Err(ConfigError::NoEngineFor(AlgorithmId::Aes128Gcm))
        ));
        let named = Policy::from_backends(["sha256=ring"]).unwrap();
        assert!(matches!(
            registry.select(&named, &auto),
            Err(ConfigError::UnknownEngine(name)) if name == "ring"
        ));
    }
}
