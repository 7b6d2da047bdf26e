//! Multi-value register (Shapiro et al. 2011, Spec. 10; delta version:
//! Almeida et al. 2018, Fig. 7 "MVRegister").

use super::{Causal, Crdt, DotFun, DotStore};
use crate::NodeId;

/// A register that keeps every concurrently written value: a write
/// replaces the values it has observed, and writes that did not see each
/// other all stay until a later write that saw them all.
pub type MvRegister<T> = Causal<DotFun<T>>;

impl<T: Clone + PartialEq> Causal<DotFun<T>> {
    /// The current values, one per concurrent write, in dot order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.store.iter().map(|(_, v)| v)
    }

    /// Writes `value` on behalf of `node`, replacing every value observed;
    /// returns the delta.
    pub fn write(&mut self, node: NodeId, value: T) -> MvRegister<T> {
        let dot = self.context.next_dot(node);
        let mut context = self.store.dots();
        context.insert(dot);
        let delta = Causal { store: DotFun::single(dot, value), context };
        self.merge(&delta);
        delta
    }
}
