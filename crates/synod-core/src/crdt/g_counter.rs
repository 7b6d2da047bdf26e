//! Grow-only counter (Shapiro et al. 2011, Spec. 6; delta version:
//! Almeida et al. 2018, Fig. 5).

use super::Crdt;
use crate::NodeId;
use std::collections::BTreeMap;

/// A counter that only grows: one entry per replica, value = sum, merge =
/// pointwise maximum.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GCounter {
    counts: BTreeMap<NodeId, u64>,
}

impl GCounter {
    /// A counter at zero.
    pub fn new() -> GCounter {
        GCounter::default()
    }

    /// The counter's value (saturating at `u64::MAX`).
    pub fn value(&self) -> u64 {
        self.counts.values().fold(0, |a, &b| a.saturating_add(b))
    }

    /// The part of the value contributed by `node`.
    pub fn get(&self, node: NodeId) -> u64 {
        self.counts.get(&node).copied().unwrap_or(0)
    }

    /// Adds `amount` on behalf of replica `node`; returns the delta (the
    /// new entry of `node` alone).
    pub fn increment(&mut self, node: NodeId, amount: u64) -> GCounter {
        let entry = self.counts.entry(node).or_insert(0);
        *entry = entry.saturating_add(amount);
        let mut delta = GCounter::new();
        delta.counts.insert(node, *entry);
        delta
    }

    /// Folds the entry of `removed`, a node that left the cluster, into
    /// `survivor`'s entry, so the value is unchanged and the state no
    /// longer names `removed`.
    ///
    /// Pruning is not a lattice operation; it must be coordinated: apply it
    /// on every replica at the same agreed point (e.g. a membership change
    /// committed in the replicated log, after the removed node's final
    /// entry has reached every replica), and do not merge states or deltas
    /// from before that point afterwards, or the removed entry comes back
    /// and is counted twice.
    pub fn prune(&mut self, removed: NodeId, survivor: NodeId) {
        if removed == survivor {
            return;
        }
        if let Some(count) = self.counts.remove(&removed) {
            let entry = self.counts.entry(survivor).or_insert(0);
            *entry = entry.saturating_add(count);
        }
    }
}

impl Crdt for GCounter {
    fn merge(&mut self, other: &GCounter) {
        for (&node, &count) in &other.counts {
            let entry = self.counts.entry(node).or_insert(0);
            *entry = (*entry).max(count);
        }
    }
}
