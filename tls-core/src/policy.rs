//! The per-algorithm engine selection policy, as given on the command line.
//!
//! A policy says, for each [`AlgorithmId`], either "this engine" or "auto" (measure on this
//! CPU, see [`crate::autoselect`]). It is parsed from `--backend ALG=ENGINE` arguments:
//!
//! - `aes-128-gcm=boring`: one algorithm (strict: the engine must implement it);
//! - `all=openssl`: the default for every algorithm not named on its own. Algorithms the
//!   default engine lacks fall back to `auto`, so `all=X` works with partial engines;
//! - `sha256=auto`: measure this one even if `all=` names an engine.
//!
//! A later argument for the same algorithm replaces an earlier one. Engine names are checked
//! against the registry when the policy is resolved ([`crate::Registry::select`]), not here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::algorithm::AlgorithmId;
use crate::error::ConfigError;

/// The keyword that names every algorithm at once (`all=openssl`).
const ALL_KEYWORD: &str = "all";
/// The keyword that asks for measurement instead of a named engine.
const AUTO_KEYWORD: &str = "auto";

/// What the policy says for one algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Choice {
    /// Measure every candidate engine on this CPU and take the fastest.
    #[default]
    Auto,
    /// Use the engine with this name.
    Engine(String),
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Auto => f.write_str(AUTO_KEYWORD),
            Choice::Engine(name) => f.write_str(name),
        }
    }
}

/// How a choice for one algorithm came about: named on its own, or inherited from `all=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `ALG=...` named this algorithm: an engine lacking it is an error.
    PerAlgorithm,
    /// Inherited from `all=...`: an engine lacking the algorithm falls back to `auto`.
    Default,
}

/// Per-algorithm engine choices plus a default for the rest. `Policy::default()` is all-auto.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    default: Choice,
    per_algorithm: BTreeMap<AlgorithmId, Choice>,
}

impl Policy {
    /// Parses repeated `--backend` arguments, later ones overriding earlier ones.
    pub fn from_backends<I, S>(specs: I) -> Result<Policy, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut policy = Policy::default();
        for spec in specs {
            policy.apply(spec.as_ref())?;
        }
        Ok(policy)
    }

    /// Applies one `ALG=ENGINE` argument (`all=...` sets the default).
    pub fn apply(&mut self, spec: &str) -> Result<(), ConfigError> {
        let bad = |reason: &str| ConfigError::BadPolicy {
            input: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (target, engine) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected ALGORITHM=ENGINE (e.g. aes-128-gcm=boring)"))?;
        let target = target.trim().to_ascii_lowercase();
        let choice = parse_choice(engine).map_err(|reason| bad(&reason))?;
        if target == ALL_KEYWORD {
            self.default = choice;
        } else {
            let id = target
                .parse::<AlgorithmId>()
                .map_err(|e| bad(&e.to_string()))?;
            self.per_algorithm.insert(id, choice);
        }
        Ok(())
    }

    /// Sets the choice for one algorithm.
    pub fn set(&mut self, id: AlgorithmId, choice: Choice) {
        self.per_algorithm.insert(id, choice);
    }

    /// Sets the default for algorithms not named on their own.
    pub fn set_default(&mut self, choice: Choice) {
        self.default = choice;
    }

    /// The choice for `id` and where it came from.
    pub fn choice(&self, id: AlgorithmId) -> (&Choice, Origin) {
        match self.per_algorithm.get(&id) {
            Some(choice) => (choice, Origin::PerAlgorithm),
            None => (&self.default, Origin::Default),
        }
    }

    /// Every engine name the policy mentions, for validation against a registry.
    pub fn engine_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.default)
            .chain(self.per_algorithm.values())
            .filter_map(|c| match c {
                Choice::Auto => None,
                Choice::Engine(name) => Some(name.as_str()),
            })
    }
}

/// Parses the engine side of a spec: `auto` or an engine name (`[a-z0-9-]+`).
fn parse_choice(engine: &str) -> Result<Choice, String> {
    let engine = engine.trim().to_ascii_lowercase();
    if engine.is_empty() {
        return Err("empty engine name".to_owned());
    }
    if engine == AUTO_KEYWORD {
        return Ok(Choice::Auto);
    }
    if !engine
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "engine name {engine:?} has characters other than [a-z0-9_-]"
        ));
    }
    Ok(Choice::Engine(engine))
}

/// Parses a comma-separated list (`aes-128-gcm=boring,all=ring`), as in a config file.
impl FromStr for Policy {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Policy, ConfigError> {
        Policy::from_backends(s.split(',').map(str::trim).filter(|p| !p.is_empty()))
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ALL_KEYWORD}={}", self.default)?;
        for (id, choice) in &self.per_algorithm {
            write!(f, ",{id}={choice}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(spec: &str) -> String {
        match Policy::from_backends([spec]) {
            Err(ConfigError::BadPolicy { input, reason }) => {
                assert_eq!(input, spec);
                reason
            }
            other => panic!("{spec:?}: expected BadPolicy, got {other:?}"),
        }
    }

    #[test]
    fn default_is_all_auto() {
        let p = Policy::default();
        for id in AlgorithmId::ALL {
            assert_eq!(p.choice(*id), (&Choice::Auto, Origin::Default));
        }
        assert_eq!(p.engine_names().count(), 0);
    }

    #[test]
    fn parses_per_algorithm_default_and_auto() {
        let p = Policy::from_backends([
            "all=openssl",
            "aes-128-gcm=boring",
            "SHA256 = Auto",
            "x25519=aws-lc",
        ])
        .unwrap();
        assert_eq!(
            p.choice(AlgorithmId::Aes128Gcm),
            (&Choice::Engine("boring".into()), Origin::PerAlgorithm)
        );
        assert_eq!(
            p.choice(AlgorithmId::Sha256),
            (&Choice::Auto, Origin::PerAlgorithm)
        );
        assert_eq!(
            p.choice(AlgorithmId::P256),
            (&Choice::Engine("openssl".into()), Origin::Default)
        );
        let mut names: Vec<_> = p.engine_names().collect();
        names.sort();
        assert_eq!(names, ["aws-lc", "boring", "openssl"]);
    }

    #[test]
    fn later_specs_override_earlier_ones() {
        let p = Policy::from_backends(["sha384=ring", "sha384=boring", "all=ring", "all=auto"])
            .unwrap();
        assert_eq!(
            p.choice(AlgorithmId::Sha384).0,
            &Choice::Engine("boring".into())
        );
        assert_eq!(p.choice(AlgorithmId::Ed25519).0, &Choice::Auto);
    }

    #[test]
    fn rejects_junk_with_bad_policy() {
        assert!(bad("aes-128-gcm").contains("ALGORITHM=ENGINE"));
        assert!(bad("aes-128-gcm=").contains("empty"));
        assert!(bad("des-cbc=openssl").contains("unknown algorithm"));
        assert!(bad("=openssl").contains("unknown algorithm"));
        assert!(bad("sha256=open ssl").contains("characters"));
        assert!(bad("sha256=a=b").contains("characters"));
    }

    #[test]
    fn comma_list_round_trips_through_display() {
        let p: Policy = "chacha20-poly1305=ring, all=boring,".parse().unwrap();
        let again: Policy = p.to_string().parse().unwrap();
        assert_eq!(p, again);
        assert!("sha256=ring,nonsense".parse::<Policy>().is_err());
    }
}
