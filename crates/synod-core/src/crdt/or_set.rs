//! Add-wins observed-remove set (Shapiro et al. 2011, Spec. 15; delta
//! version: Almeida et al. 2018, Fig. 8 "AWORSet").

use super::{Causal, Crdt, DotMap, DotSet, DotStore};
use crate::NodeId;

/// A set where an add concurrent with a remove of the same element wins.
///
/// Each add tags the element with a fresh dot; a remove (the generic
/// [`OrMap`](super::OrMap) `remove`) puts the element's observed dots into
/// the causal context and deletes the element. There are no per-element
/// tombstones: removed dots live only in the compacted context, which
/// folds them into its version vector.
pub type OrSet<T> = Causal<DotMap<T, DotSet>>;

impl<T: Ord + Clone> Causal<DotMap<T, DotSet>> {
    /// True when `element` is in the set.
    pub fn contains(&self, element: &T) -> bool {
        self.store.get(element).is_some()
    }

    /// The elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &T> + '_ {
        self.store.iter().map(|(k, _)| k)
    }

    /// Adds `element` on behalf of `node`; returns the delta: the element
    /// with a fresh dot, with a context covering the dots it replaces.
    pub fn add(&mut self, node: NodeId, element: T) -> OrSet<T> {
        let dot = self.context.next_dot(node);
        let mut context = self.store.get(&element).map(|s| s.dots()).unwrap_or_default();
        context.insert(dot);
        let delta = Causal { store: DotMap::single(element, DotSet::single(dot)), context };
        self.merge(&delta);
        delta
    }
}
