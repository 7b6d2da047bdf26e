//! `DotSet` (Almeida et al. 2018, §6.2).

use super::DotStore;
use crate::causality::{CausalContext, Dot};
use std::collections::BTreeSet;

/// A set of dots: the store of an enable-wins [`Flag`](super::Flag) and of
/// each element of an [`OrSet`](super::OrSet).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DotSet {
    dots: BTreeSet<Dot>,
}

impl DotSet {
    /// The set holding one dot.
    pub fn single(dot: Dot) -> DotSet {
        DotSet { dots: BTreeSet::from([dot]) }
    }

    /// The dots, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Dot> + '_ {
        self.dots.iter()
    }
}

impl DotStore for DotSet {
    fn is_empty(&self) -> bool {
        self.dots.is_empty()
    }

    fn collect_dots(&self, out: &mut Vec<Dot>) {
        out.extend(self.dots.iter().copied());
    }

    // (s ∩ s') ∪ (s \ c') ∪ (s' \ c)
    fn join(&mut self, cx: &CausalContext, other: &DotSet, other_cx: &CausalContext) {
        self.dots.retain(|d| other.dots.contains(d) || !other_cx.contains(d));
        for d in &other.dots {
            if !cx.contains(d) {
                self.dots.insert(*d);
            }
        }
    }

    fn rename_dots(&mut self, rename: &dyn Fn(Dot) -> Dot) {
        self.dots = std::mem::take(&mut self.dots).into_iter().map(rename).collect();
    }
}
