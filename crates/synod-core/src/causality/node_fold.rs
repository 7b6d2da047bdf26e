//! Folding the dots of a node removed from the cluster into a survivor's,
//! so that causal state stops naming the removed node.

use super::Dot;
use crate::NodeId;

/// A renaming of dots that retires `removed` into `survivor`.
///
/// Let `n` be the number of dots `removed` ever issued (its dots are
/// `removed:1 ..= removed:n`). The fold maps
///
/// - `removed:c` to `survivor:c`,
/// - `survivor:k` to `survivor:(n + k)`,
/// - every other dot to itself.
///
/// This is the causal counterpart of [`GCounter::prune`]: a counter entry
/// `k` of the survivor becomes `n + k`, and the removed node's `n` events
/// become the survivor's first `n`. The map is injective, and it depends
/// only on `(removed, survivor, n)`, not on the state it is applied to.
///
/// Why that makes pruning sound: the join of causal CRDTs (Almeida,
/// Shoker, Baquero 2018, §6.2) and the membership tests of a
/// [`CausalContext`](super::CausalContext) look only at whether a dot is
/// in a store or in a context, never at what the dot is. Renaming every
/// dot of every state by the same injective map therefore commutes with
/// join: `fold(a ⊔ b) = fold(a) ⊔ fold(b)`. Replicas that fold with the
/// same `n` — the case once every dot of `removed` has reached every
/// replica, which is the agreed point at which pruning is allowed — keep
/// converging exactly as before, and the values they read, which do not
/// depend on dot names, are unchanged. The survivor issues its next dot
/// after `n + k`, which no replica has used.
///
/// [`GCounter::prune`]: crate::crdt::GCounter::prune
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeFold {
    removed: NodeId,
    survivor: NodeId,
    removed_dots: u64,
}

impl NodeFold {
    /// The fold of `removed`, which issued `removed_dots` dots, into
    /// `survivor`. The identity when `removed == survivor`.
    pub fn new(removed: NodeId, survivor: NodeId, removed_dots: u64) -> NodeFold {
        let removed_dots = if removed == survivor { 0 } else { removed_dots };
        NodeFold { removed, survivor, removed_dots }
    }

    /// The node that left the cluster.
    pub fn removed(&self) -> NodeId {
        self.removed
    }

    /// The node whose dots absorb those of [`removed`](NodeFold::removed).
    pub fn survivor(&self) -> NodeId {
        self.survivor
    }

    /// How many dots the removed node issued: the survivor's shift.
    pub fn removed_dots(&self) -> u64 {
        self.removed_dots
    }

    /// True when the fold renames nothing.
    pub fn is_identity(&self) -> bool {
        self.removed == self.survivor
    }

    /// The new name of `dot`.
    ///
    /// # Panics
    ///
    /// On a dot of the removed node beyond the ones counted (the fold was
    /// built before all of them had arrived: a coordination bug), and on a
    /// survivor counter that would overflow `u64`.
    pub fn apply(&self, dot: Dot) -> Dot {
        if self.is_identity() {
            return dot;
        }
        if dot.node == self.removed {
            assert!(
                dot.counter <= self.removed_dots,
                "dot {dot} of {} beyond the {} dots folded",
                self.removed,
                self.removed_dots
            );
            Dot::new(self.survivor, dot.counter)
        } else if dot.node == self.survivor {
            Dot::new(self.survivor, self.shift(dot.counter))
        } else {
            dot
        }
    }

    /// `counter + removed_dots`, for a counter of the survivor.
    pub(super) fn shift(&self, counter: u64) -> u64 {
        counter.checked_add(self.removed_dots).expect("dot counter overflow")
    }
}

/// Why a causal context cannot be pruned yet. The context is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PruneError {
    /// Some dot of the removed node before `missing` has not arrived, so
    /// this replica does not know every event of the removed node yet
    /// (pruning must wait until they have reached every replica).
    #[error("dot {missing} of the removed node has not arrived")]
    MissingDot {
        /// The first dot of the removed node this replica has not seen.
        missing: Dot,
    },
}
