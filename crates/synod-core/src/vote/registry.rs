//! Decision algorithms by name.

use std::collections::BTreeMap;

use super::{
    Algorithm, Quorum, Score, Unanimous, VoteError, Weighted, QUORUM, SCORE, UNANIMOUS, WEIGHTED,
};

/// Decision algorithms by name: the four built-ins plus whatever the
/// application registers through the Rust API (issue 6, item 2).
///
/// A proposal names its algorithm, and every replica looks the name up in
/// its own registry, so **every node must register the same algorithms
/// under the same names** before it applies the log. Names are never
/// re-bound — not even a built-in's — so a name means one rule for the
/// life of the process.
#[derive(Debug)]
pub struct Registry {
    algorithms: BTreeMap<String, Box<dyn Algorithm>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// A registry of the built-ins: `quorum`, `weighted`, `unanimous`,
    /// `score`.
    pub fn new() -> Registry {
        let mut algorithms: BTreeMap<String, Box<dyn Algorithm>> = BTreeMap::new();
        algorithms.insert(QUORUM.into(), Box::new(Quorum));
        algorithms.insert(WEIGHTED.into(), Box::new(Weighted));
        algorithms.insert(UNANIMOUS.into(), Box::new(Unanimous));
        algorithms.insert(SCORE.into(), Box::new(Score));
        Registry { algorithms }
    }

    /// Adds `algorithm` under `name`. Refused, with the registry
    /// unchanged, when the name is empty or taken.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        algorithm: Box<dyn Algorithm>,
    ) -> Result<(), VoteError> {
        let name = name.into();
        if name.is_empty() {
            return Err(VoteError::EmptyAlgorithmName);
        }
        if self.algorithms.contains_key(&name) {
            return Err(VoteError::AlgorithmExists { name });
        }
        self.algorithms.insert(name, algorithm);
        Ok(())
    }

    /// The algorithm registered as `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Algorithm> {
        self.algorithms.get(name).map(|a| a.as_ref())
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.algorithms.contains_key(name)
    }

    /// The registered names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.algorithms.keys().map(String::as_str)
    }
}
