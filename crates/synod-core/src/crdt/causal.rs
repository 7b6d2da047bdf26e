//! Causal CRDTs: a dot store paired with a causal context (Almeida,
//! Shoker, Baquero 2018, §6).

use super::Crdt;
use crate::causality::{CausalContext, Dot};

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
}

impl<S: DotStore> Crdt for Causal<S> {
    fn merge(&mut self, other: &Self) {
        self.store.join(&self.context, &other.store, &other.context);
        self.context.merge(&other.context);
    }
}
