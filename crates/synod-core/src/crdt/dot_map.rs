//! `DotMap` (Almeida et al. 2018, §6.2).

use super::DotStore;
use crate::causality::{CausalContext, Dot};
use std::collections::BTreeMap;

/// A map from keys to dot stores that never holds an empty store: the store
/// of an [`OrSet`](super::OrSet) (values are [`DotSet`](super::DotSet)s)
/// and of an [`OrMap`](super::OrMap) (values are any dot store, so maps
/// nest).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DotMap<K: Ord, V> {
    entries: BTreeMap<K, V>,
}

impl<K: Ord, V> Default for DotMap<K, V> {
    fn default() -> Self {
        DotMap { entries: BTreeMap::new() }
    }
}

impl<K: Ord, V: DotStore> DotMap<K, V> {
    /// The map with one entry (left empty when `value` is empty).
    pub fn single(key: K, value: V) -> Self {
        let mut map = DotMap::default();
        if !value.is_empty() {
            map.entries.insert(key, value);
        }
        map
    }

    /// The store under `key`, if not empty.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// The `(key, store)` entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.entries.iter()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Ord + Clone, V: DotStore> DotStore for DotMap<K, V> {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn collect_dots(&self, out: &mut Vec<Dot>) {
        for v in self.entries.values() {
            v.collect_dots(out);
        }
    }

    fn join(&mut self, cx: &CausalContext, other: &Self, other_cx: &CausalContext) {
        let empty = V::default();
        // Keys only we hold: their dots may have been removed on the other side.
        self.entries.retain(|k, v| {
            if !other.entries.contains_key(k) {
                v.join(cx, &empty, other_cx);
            }
            !v.is_empty()
        });
        for (k, theirs) in &other.entries {
            let mut v = self.entries.remove(k).unwrap_or_default();
            v.join(cx, theirs, other_cx);
            if !v.is_empty() {
                self.entries.insert(k.clone(), v);
            }
        }
    }

    fn rename_dots(&mut self, rename: &dyn Fn(Dot) -> Dot) {
        for v in self.entries.values_mut() {
            v.rename_dots(rename);
        }
    }
}
