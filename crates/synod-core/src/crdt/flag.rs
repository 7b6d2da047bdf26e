//! Enable-wins flag (Almeida et al. 2018, Fig. 6 "EWFlag").

use super::{Causal, Crdt, DotSet, DotStore};
use crate::NodeId;

/// A boolean where a concurrent enable beats a disable: enabling adds a
/// fresh dot, disabling removes only the dots it has observed, so an
/// enable the disabler had not seen survives.
pub type Flag = Causal<DotSet>;

impl Causal<DotSet> {
    /// True when some enable has not been followed by a disable that saw it.
    pub fn is_enabled(&self) -> bool {
        !self.store.is_empty()
    }

    /// Enables on behalf of `node`; returns the delta: the fresh dot, with a
    /// context that also covers the dots it replaces.
    pub fn enable(&mut self, node: NodeId) -> Flag {
        let dot = self.context.next_dot(node);
        let mut context = self.store.dots();
        context.insert(dot);
        let delta = Causal { store: DotSet::single(dot), context };
        self.merge(&delta);
        delta
    }

    /// Disables every enable observed so far; returns the delta.
    pub fn disable(&mut self) -> Flag {
        self.clear()
    }
}
