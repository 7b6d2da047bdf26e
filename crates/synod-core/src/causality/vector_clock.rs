//! Vector clocks (Mattern 1988, Fidge 1988).

use crate::NodeId;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A vector clock: for each replica, how many of its events are known.
///
/// Entries are never zero (a missing entry means zero), so two clocks that
/// describe the same history are `==`. The partial order is the pointwise
/// order: `a < b` means `a` happens before `b`, `None` from
/// [`PartialOrd::partial_cmp`] means the two are concurrent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VectorClock {
    entries: BTreeMap<NodeId, u64>,
}

impl VectorClock {
    /// The clock that has seen nothing.
    pub fn new() -> VectorClock {
        VectorClock::default()
    }

    /// How many events of `node` this clock has seen.
    pub fn get(&self, node: NodeId) -> u64 {
        self.entries.get(&node).copied().unwrap_or(0)
    }

    /// Records that `node` has seen `counter` of its events, if that is more
    /// than known so far.
    pub fn observe(&mut self, node: NodeId, counter: u64) {
        if counter > 0 {
            let entry = self.entries.entry(node).or_insert(0);
            *entry = (*entry).max(counter);
        }
    }

    /// Records a new event of `node` and returns its counter.
    pub fn increment(&mut self, node: NodeId) -> u64 {
        let entry = self.entries.entry(node).or_insert(0);
        *entry += 1;
        *entry
    }

    /// Pointwise maximum: afterwards `self` is the least upper bound of both.
    pub fn merge(&mut self, other: &VectorClock) {
        for (&node, &counter) in &other.entries {
            self.observe(node, counter);
        }
    }

    /// True when every event seen by `self` is seen by `other` and `other`
    /// has seen more (`self < other`).
    pub fn happens_before(&self, other: &VectorClock) -> bool {
        self.partial_cmp(other) == Some(Ordering::Less)
    }

    /// True when neither clock has seen all the events of the other.
    pub fn is_concurrent(&self, other: &VectorClock) -> bool {
        self.partial_cmp(other).is_none()
    }

    /// True when `self <= other` pointwise.
    pub fn is_dominated_by(&self, other: &VectorClock) -> bool {
        self.entries.iter().all(|(&n, &c)| c <= other.get(n))
    }

    /// The `(node, counter)` entries, in node order, none of them zero.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, u64)> + '_ {
        self.entries.iter().map(|(&n, &c)| (n, c))
    }

    /// Forgets the entry of a node removed from the cluster.
    ///
    /// Safe once every replica has stopped comparing against events of
    /// `removed` (the removal was agreed, e.g. through the replicated log,
    /// and its last events are known everywhere): afterwards clocks that
    /// differed only in that entry compare equal.
    pub fn prune(&mut self, removed: NodeId) {
        self.entries.remove(&removed);
    }
}

impl PartialOrd for VectorClock {
    fn partial_cmp(&self, other: &VectorClock) -> Option<Ordering> {
        match (self.is_dominated_by(other), other.is_dominated_by(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }
}
