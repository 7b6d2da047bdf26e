//! `DotFun` (Almeida et al. 2018, §6.2).

use super::DotStore;
use crate::causality::{CausalContext, Dot};
use std::collections::BTreeMap;

/// A map from dots to immutable values: the store of a
/// [`MvRegister`](super::MvRegister). A value never changes under its dot,
/// so joining keeps either side's copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DotFun<T> {
    entries: BTreeMap<Dot, T>,
}

impl<T> Default for DotFun<T> {
    fn default() -> Self {
        DotFun { entries: BTreeMap::new() }
    }
}

impl<T> DotFun<T> {
    /// The function mapping one dot to `value`.
    pub fn single(dot: Dot, value: T) -> Self {
        DotFun { entries: BTreeMap::from([(dot, value)]) }
    }

    /// The `(dot, value)` entries, in dot order.
    pub fn iter(&self) -> impl Iterator<Item = (&Dot, &T)> + '_ {
        self.entries.iter()
    }
}

impl<T: Clone + PartialEq> DotStore for DotFun<T> {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn collect_dots(&self, out: &mut Vec<Dot>) {
        out.extend(self.entries.keys().copied());
    }

    fn join(&mut self, cx: &CausalContext, other: &Self, other_cx: &CausalContext) {
        self.entries.retain(|d, _| other.entries.contains_key(d) || !other_cx.contains(d));
        for (d, v) in &other.entries {
            if !cx.contains(d) {
                self.entries.entry(*d).or_insert_with(|| v.clone());
            }
        }
    }

    fn rename_dots(&mut self, rename: &dyn Fn(Dot) -> Dot) {
        let entries = std::mem::take(&mut self.entries);
        self.entries = entries.into_iter().map(|(d, v)| (rename(d), v)).collect();
    }
}
