//! Observed-remove map of nested causal CRDTs (Almeida et al. 2018, §7.3
//! "ORMap").

use super::{Causal, Crdt, DotMap, DotStore};

/// A map whose values are dot stores sharing the map's causal context, so
/// values can be [`Flag`](super::Flag), [`MvRegister`](super::MvRegister),
/// [`OrSet`](super::OrSet) stores or further maps.
///
/// Updating a key runs a mutator of the nested CRDT ([`apply`]); removing a
/// key removes the dots observed under it, so an update concurrent with the
/// remove survives (its fresh dots were not observed), and the value that
/// survives holds only the concurrent update, not the removed state.
///
/// [`apply`]: Causal::apply
pub type OrMap<K, V> = Causal<DotMap<K, V>>;

impl<K: Ord + Clone, V: DotStore> Causal<DotMap<K, V>> {
    /// The store under `key`, if present.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.store.get(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.store.iter().map(|(k, _)| k)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Runs the nested mutator `f` on the value under `key` (seen together
    /// with the map's whole context, the paper's `apply`); returns the
    /// map's delta.
    ///
    /// ```
    /// use synod_core::crdt::{DotSet, OrMap};
    /// use synod_core::NodeId;
    ///
    /// let mut map: OrMap<&str, DotSet> = OrMap::default();
    /// map.apply("feature", |flag| flag.enable(NodeId(1)));
    /// assert!(map.get(&"feature").is_some());
    /// ```
    pub fn apply<F>(&mut self, key: K, f: F) -> Self
    where
        F: FnOnce(&mut Causal<V>) -> Causal<V>,
    {
        let mut inner = Causal {
            store: self.store.get(&key).cloned().unwrap_or_default(),
            context: self.context.clone(),
        };
        let inner_delta = f(&mut inner);
        let delta =
            Causal { store: DotMap::single(key, inner_delta.store), context: inner_delta.context };
        self.merge(&delta);
        delta
    }

    /// Removes `key` (for an [`OrSet`](super::OrSet): the element) with
    /// every dot observed under it; returns the delta.
    pub fn remove(&mut self, key: &K) -> Self {
        let delta = Causal {
            store: DotMap::default(),
            context: self.store.get(key).map(|v| v.dots()).unwrap_or_default(),
        };
        self.merge(&delta);
        delta
    }
}
