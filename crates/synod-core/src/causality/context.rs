//! Causal contexts: the set of dots a replica has seen, kept compact.

use super::{Dot, NodeFold, PruneError, VectorClock};
use crate::NodeId;
use std::collections::BTreeSet;

/// A set of dots, stored as a version vector (every dot up to `vv[n]` of
/// each node `n`) plus a "dot cloud" of dots that arrived out of order
/// (Almeida, Shoker, Baquero 2018, §6.1, "compact causal context").
///
/// Every mutating method ends with [`compact`](CausalContext::compact), so
/// the cloud holds only dots that are not contiguous with the vector, and
/// two contexts holding the same dots are `==`. Because a removal in a
/// causal CRDT is recorded as dots in the context, and those dots fold
/// into the vector once the gaps before them arrive, removals leave no
/// tombstones that grow without bound.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CausalContext {
    vv: VectorClock,
    cloud: BTreeSet<Dot>,
}

impl CausalContext {
    /// The context that has seen no dot.
    pub fn new() -> CausalContext {
        CausalContext::default()
    }

    /// True when `dot` is in the set.
    pub fn contains(&self, dot: &Dot) -> bool {
        dot.counter <= self.vv.get(dot.node) || self.cloud.contains(dot)
    }

    /// The next fresh dot of `node`: one past the greatest counter of
    /// `node` in the set (the paper's `next_i`). Does not insert it.
    pub fn next_dot(&self, node: NodeId) -> Dot {
        let in_cloud = self
            .cloud
            .range(Dot::new(node, 0)..=Dot::new(node, u64::MAX))
            .next_back()
            .map_or(0, |d| d.counter);
        Dot::new(node, self.vv.get(node).max(in_cloud) + 1)
    }

    /// Adds one dot.
    pub fn insert(&mut self, dot: Dot) {
        if !self.contains(&dot) {
            self.cloud.insert(dot);
            self.compact();
        }
    }

    /// Set union with `other`.
    pub fn merge(&mut self, other: &CausalContext) {
        self.vv.merge(&other.vv);
        self.cloud.extend(other.cloud.iter().copied());
        self.compact();
    }

    /// Folds every cloud dot that extends the version vector contiguously
    /// into the vector and drops cloud dots the vector already covers.
    pub fn compact(&mut self) {
        let cloud = std::mem::take(&mut self.cloud);
        // Sorted by node then counter, so one pass folds runs like 3, 4, 5.
        for dot in cloud {
            let known = self.vv.get(dot.node);
            if dot.counter == known + 1 {
                self.vv.observe(dot.node, dot.counter);
            } else if dot.counter > known {
                self.cloud.insert(dot);
            }
        }
    }

    /// The version-vector part: every dot `(n, c)` with `c <= vv.get(n)`.
    pub fn version_vector(&self) -> &VectorClock {
        &self.vv
    }

    /// The dots held outside the version vector (out-of-order arrivals).
    pub fn cloud(&self) -> &BTreeSet<Dot> {
        &self.cloud
    }

    /// Retires `removed`, a node that left the cluster, into `survivor`:
    /// renames every dot by the returned [`NodeFold`], after which the
    /// context no longer names `removed`. The caller renames the dots of
    /// its store with the same fold ([`Causal::prune`] does both).
    ///
    /// Pruning is not a lattice operation; it must be coordinated like
    /// [`GCounter::prune`]: apply it on every replica at an agreed point
    /// (a membership change committed in the replicated log), once every
    /// dot of `removed` has reached every replica, so that all replicas
    /// fold the same number of dots; afterwards, do not merge states or
    /// deltas from before that point. The cost is one pass over the dot
    /// cloud: the version vector is shifted, not expanded.
    ///
    /// # Errors
    ///
    /// [`PruneError::MissingDot`] when this context has a gap in the dots
    /// of `removed` (some of them have not arrived); nothing changes.
    ///
    /// [`Causal::prune`]: crate::crdt::Causal::prune
    /// [`GCounter::prune`]: crate::crdt::GCounter::prune
    pub fn prune(&mut self, removed: NodeId, survivor: NodeId) -> Result<NodeFold, PruneError> {
        let contiguous = self.vv.get(removed);
        if self.next_dot(removed).counter != contiguous + 1 {
            return Err(PruneError::MissingDot { missing: Dot::new(removed, contiguous + 1) });
        }
        let fold = NodeFold::new(removed, survivor, contiguous);
        if fold.is_identity() {
            return Ok(fold);
        }
        // removed:1..=n becomes survivor:1..=n and survivor:1..=k becomes
        // survivor:n+1..=n+k, so the two runs join into survivor:1..=n+k.
        let own = self.vv.get(survivor);
        self.vv.prune(removed);
        self.vv.observe(survivor, fold.shift(own));
        let cloud = std::mem::take(&mut self.cloud);
        self.cloud = cloud.into_iter().map(|d| fold.apply(d)).collect();
        self.compact();
        Ok(fold)
    }
}

impl FromIterator<Dot> for CausalContext {
    fn from_iter<I: IntoIterator<Item = Dot>>(dots: I) -> CausalContext {
        let mut cc = CausalContext { vv: VectorClock::new(), cloud: dots.into_iter().collect() };
        cc.compact();
        cc
    }
}
