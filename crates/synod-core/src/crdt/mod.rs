//! Delta-state CRDTs (Almeida, Shoker, Baquero: "Delta State Replicated
//! Data Types", 2018; Shapiro, Preguiça, Baquero, Zawirski: "Conflict-free
//! Replicated Data Types", 2011).
//!
//! Every type here is a join-semilattice: [`Crdt::merge`] is commutative,
//! associative and idempotent, so replicas that have merged the same
//! states hold the same value whatever the order, duplication or grouping
//! of the merges. Each mutator applies itself to the replica and returns a
//! *delta*, a (usually tiny) state of the same type; shipping deltas instead
//! of full states is the point of delta CRDTs, and merging a delta has the
//! same effect as merging the full state it came from.
//!
//! Two families:
//! - plain lattices: [`GCounter`], [`PnCounter`], [`LwwRegister`];
//! - causal CRDTs, a [`DotStore`] paired with a
//!   [`CausalContext`](crate::causality::CausalContext) in [`Causal`]
//!   (paper §6): [`Flag`] (enable-wins), [`MvRegister`], [`OrSet`]
//!   (add-wins) and [`OrMap`], whose values are themselves dot stores, so
//!   maps nest flags, registers, sets and maps; [`PatternRegister`] is a
//!   multi-value register of [`PatternRecord`]s read through a
//!   [`Resolver`] (last-writer-wins or confidence voting).
//!
//! When a node leaves the cluster, [`GCounter::prune`],
//! [`PnCounter::prune`] and [`Causal::prune`] fold its state into a
//! survivor's so the state stops naming it; they must be applied at an
//! agreed point, after the node's updates have reached every replica.
//!
//! ```
//! use synod_core::crdt::{Crdt, OrSet};
//! use synod_core::NodeId;
//!
//! let mut a: OrSet<&str> = OrSet::default();
//! let mut b = a.clone();
//! let delta = a.add(NodeId(1), "x");
//! b.merge(&delta);
//! b.remove(&"x");
//! a.add(NodeId(1), "y");
//! a.merge(&b);
//! assert_eq!(a.elements().collect::<Vec<_>>(), vec![&"y"]);
//! ```

mod causal;
mod dot_fun;
mod dot_map;
mod dot_set;
mod flag;
mod g_counter;
mod lww_register;
mod mv_register;
mod or_map;
mod or_set;
mod pattern;
mod pattern_record;
mod pattern_resolver;
mod pn_counter;

#[cfg(test)]
mod proptests_causal;
#[cfg(test)]
mod proptests_lattice;
#[cfg(test)]
mod proptests_pattern;
#[cfg(test)]
mod proptests_prune;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pattern;
#[cfg(test)]
mod tests_prune;

pub use causal::{Causal, DotStore};
pub use dot_fun::DotFun;
pub use dot_map::DotMap;
pub use dot_set::DotSet;
pub use flag::Flag;
pub use g_counter::GCounter;
pub use lww_register::LwwRegister;
pub use mv_register::MvRegister;
pub use or_map::OrMap;
pub use or_set::OrSet;
pub use pattern::PatternRegister;
pub use pattern_record::PatternRecord;
pub use pattern_resolver::Resolver;
pub use pn_counter::PnCounter;

/// A state-based CRDT: a join-semilattice.
///
/// Deltas are states of the same type (paper §2), so one `merge` serves
/// both full-state anti-entropy and delta propagation.
pub trait Crdt: Clone {
    /// Joins `other` into `self` (least upper bound). Commutative,
    /// associative and idempotent.
    fn merge(&mut self, other: &Self);

    /// Joins a delta produced by a mutator of another replica. The same
    /// as [`merge`](Crdt::merge): a delta is a state.
    fn merge_delta(&mut self, delta: &Self) {
        self.merge(delta);
    }
}
