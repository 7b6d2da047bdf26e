//! Causal CRDTs: a dot store paired with a causal context (Almeida,
//! Shoker, Baquero 2018, §6).

use super::Crdt;
use crate::causality::{CausalContext, Dot, PruneError};
use crate::NodeId;

/// A store of dots: the part of a causal CRDT that holds the live events
/// (paper §6.2: `DotSet`, `DotFun`, `DotMap`).
///
/// The join of two causal states keeps a dot when both stores have it, or
/// when one store has it and the other context has not seen it; a dot the
/// other side has seen but no longer stores was removed there.
pub trait DotStore: Clone + Default + PartialEq {
    /// True when the store holds no dot.
    fn is_empty(&self) -> bool;

    /// Adds every dot of the store to `out`.
    fn collect_dots(&self, out: &mut Vec<Dot>);

    /// Joins the store of `(other, other_cx)` into `self`, whose context
    /// is `cx`. Contexts are those from before the join; the caller merges
    /// them afterwards.
    fn join(&mut self, cx: &CausalContext, other: &Self, other_cx: &CausalContext);

    /// Renames every dot of the store by `rename`, which must be injective
    /// (used by [`Causal::prune`] with a
    /// [`NodeFold`](crate::causality::NodeFold)). Payloads are untouched.
    fn rename_dots(&mut self, rename: &dyn Fn(Dot) -> Dot);

    /// The dots of the store as a causal context.
    fn dots(&self) -> CausalContext {
        let mut out = Vec::new();
        self.collect_dots(&mut out);
        out.into_iter().collect()
    }
}

/// A causal CRDT: a dot store and the causal context of every dot the
/// replica has seen, live or removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Causal<S> {
    /// The live dots, with their payload.
    pub store: S,
    /// Every dot seen, compacted.
    pub context: CausalContext,
}

impl<S: DotStore> Causal<S> {
    /// The empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// A delta that removes everything this replica has observed (the
    /// paper's `clear`/`disable`/reset: empty store, context = live dots).
    pub fn clear(&mut self) -> Self {
        let delta = Causal { store: S::default(), context: self.store.dots() };
        self.merge(&delta);
        delta
    }

    /// Retires `removed`, a node that left the cluster, into `survivor`:
    /// every dot of store and context is renamed by the same
    /// [`NodeFold`](crate::causality::NodeFold), so the state no longer
    /// names `removed` (payloads, such as the timestamps inside a value,
    /// are not rewritten) and the value read from it is unchanged.
    ///
    /// Sound because renaming dots uniformly commutes with join (see
    /// `NodeFold`): replicas that prune at the same agreed point keep
    /// converging, and a removal of one of `removed`'s dots recorded on
    /// one replica still removes it from the others. Pruning is not a
    /// lattice operation and must be coordinated like [`GCounter::prune`]:
    /// apply it on every replica at an agreed point (a membership change
    /// committed in the replicated log) after every update of `removed`
    /// has reached every replica, and do not merge states or deltas from
    /// before that point afterwards.
    ///
    /// # Errors
    ///
    /// [`PruneError::MissingDot`] when some dot of `removed` has not
    /// arrived here yet; nothing changes.
    ///
    /// [`GCounter::prune`]: super::GCounter::prune
    pub fn prune(&mut self, removed: NodeId, survivor: NodeId) -> Result<(), PruneError> {
        let fold = self.context.prune(removed, survivor)?;
        if !fold.is_identity() {
            self.store.rename_dots(&|d| fold.apply(d));
        }
        Ok(())
    }
}

impl<S: DotStore> Crdt for Causal<S> {
    fn merge(&mut self, other: &Self) {
        self.store.join(&self.context, &other.store, &other.context);
        self.context.merge(&other.context);
    }
}
