//! The gossip checkers. The truth is the join of every update ever made
//! (the deltas returned by the writers' mutators); replicas are compared
//! with it, never only with each other, so replicas that agree on a wrong
//! state fail.
//!
//! * Safety, after every change to any replica: a key's state only grows
//!   (the old state is below the new one: nothing merged is ever lost),
//!   and stays below the truth (nothing is invented).
//! * Convergence, when the run ends: every replica holds exactly the truth
//!   for every key, so every update made anywhere — on either side of a
//!   partition — is visible everywhere (Demers et al. 1987: anti-entropy
//!   "eventually distributes every update to every site").

use std::collections::BTreeMap;

use synod_core::antientropy::Replica;
use synod_core::merkle::MerkleTree;
use synod_core::NodeId;

use super::replica::{Change, Store};
use super::value::Value;

/// A broken property, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which property: `lost update`, `invented state` or `convergence`.
    pub property: &'static str,
    /// What was observed.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// How many differing keys a convergence violation lists.
const KEYS_REPORTED_MAX: usize = 5;

/// The truth: the join of every update, and a Merkle tree over it whose
/// root a converged replica shares.
#[derive(Debug)]
pub struct Checker {
    expected: BTreeMap<Vec<u8>, Value>,
    tree: MerkleTree,
    updates: u64,
}

impl Checker {
    /// A checker that has seen no update; `tree` is an empty tree of the
    /// replicas' depth.
    pub fn new(tree: MerkleTree) -> Checker {
        assert!(tree.is_empty(), "the truth starts empty");
        Checker { expected: BTreeMap::new(), tree, updates: 0 }
    }

    /// Joins the delta of one update into the truth.
    pub fn record_update(&mut self, key: &[u8], delta: &Value) {
        self.updates += 1;
        let value = self.expected.entry(key.to_vec()).or_insert_with(|| delta.kind().empty());
        value.merge(delta).expect("a key keeps its kind");
        self.tree.upsert(key, value.digest(key));
    }

    /// Updates recorded.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Checks the changes `store` of `node` just went through.
    pub fn check_changes(
        &self,
        node: NodeId,
        store: &Store,
        changes: &[Change],
    ) -> Result<(), Violation> {
        for (key, old) in changes {
            let new = store.get(key);
            let shown = |v: Option<&Value>| v.map_or("nothing".to_string(), Value::visible);
            let grew = match (old, new) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(old), Some(new)) => old.is_below(new),
            };
            if !grew {
                return Err(Violation {
                    property: "lost update",
                    detail: format!(
                        "{node} key {}: state went from {} to {}, which does not include it",
                        String::from_utf8_lossy(key),
                        shown(old.as_ref()),
                        shown(new)
                    ),
                });
            }
            let bounded = match (new, self.expected.get(key)) {
                (None, _) => true,
                (Some(new), Some(truth)) => new.is_below(truth),
                (Some(_), None) => false,
            };
            if !bounded {
                return Err(Violation {
                    property: "invented state",
                    detail: format!(
                        "{node} key {}: holds {}, beyond the join of all updates {}",
                        String::from_utf8_lossy(key),
                        shown(new),
                        shown(self.expected.get(key))
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether `store` holds the truth (compared by Merkle root).
    pub fn is_converged(&self, store: &Store) -> bool {
        store.tree().root() == self.tree.root()
    }

    /// The keys where `store` differs from the truth, as
    /// `key: holds X, expected Y`, at most [`KEYS_REPORTED_MAX`] of them;
    /// empty when it holds exactly the truth.
    pub fn differences(&self, store: &Store) -> Vec<String> {
        let mut out = Vec::new();
        let held: BTreeMap<&[u8], &Value> = store.iter().collect();
        for (key, truth) in &self.expected {
            let mine = held.get(key.as_slice());
            if mine != Some(&truth) {
                let shown = mine.map_or("nothing".to_string(), |v| v.visible());
                let key = String::from_utf8_lossy(key);
                out.push(format!("{key}: holds {shown}, expected {}", truth.visible()));
            }
        }
        for (key, value) in held.iter().filter(|(k, _)| !self.expected.contains_key(**k)) {
            let key = String::from_utf8_lossy(key);
            out.push(format!("{key}: holds {}, expected nothing", value.visible()));
        }
        out.truncate(KEYS_REPORTED_MAX);
        out
    }

    /// Fails unless every replica holds exactly the truth: the final,
    /// value-by-value check (the Merkle roots are only the fast path).
    pub fn check_converged<'a>(
        &self,
        stores: impl Iterator<Item = (NodeId, &'a Store)>,
        context: &str,
    ) -> Result<(), Violation> {
        let mut lagging = Vec::new();
        let mut total = 0;
        for (node, store) in stores {
            let differences = self.differences(store);
            if !differences.is_empty() {
                total += 1;
                if lagging.len() < KEYS_REPORTED_MAX {
                    lagging.push(format!("\n  {node}: {}", differences.join("; ")));
                }
            }
        }
        if total == 0 {
            return Ok(());
        }
        Err(Violation {
            property: "convergence",
            detail: format!(
                "{context}: {total} replicas miss updates or hold other state{}",
                lagging.concat()
            ),
        })
    }
}
