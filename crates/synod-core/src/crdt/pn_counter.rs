//! Positive-negative counter (Shapiro et al. 2011, Spec. 7).

use super::{Crdt, GCounter};
use crate::NodeId;

/// A counter that goes up and down: two [`GCounter`]s, value = increments
/// minus decrements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PnCounter {
    inc: GCounter,
    dec: GCounter,
}

impl PnCounter {
    /// A counter at zero.
    pub fn new() -> PnCounter {
        PnCounter::default()
    }

    /// The counter's value.
    pub fn value(&self) -> i128 {
        i128::from(self.inc.value()) - i128::from(self.dec.value())
    }

    /// Adds `amount` on behalf of `node`; returns the delta.
    pub fn increment(&mut self, node: NodeId, amount: u64) -> PnCounter {
        PnCounter { inc: self.inc.increment(node, amount), dec: GCounter::new() }
    }

    /// Subtracts `amount` on behalf of `node`; returns the delta.
    pub fn decrement(&mut self, node: NodeId, amount: u64) -> PnCounter {
        PnCounter { inc: GCounter::new(), dec: self.dec.increment(node, amount) }
    }

    /// Folds the state of `removed` into `survivor`, preserving the value.
    /// Same coordination rule as [`GCounter::prune`].
    pub fn prune(&mut self, removed: NodeId, survivor: NodeId) {
        self.inc.prune(removed, survivor);
        self.dec.prune(removed, survivor);
    }
}

impl Crdt for PnCounter {
    fn merge(&mut self, other: &PnCounter) {
        self.inc.merge(&other.inc);
        self.dec.merge(&other.dec);
    }
}
