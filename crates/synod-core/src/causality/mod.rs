//! Causality: vector clocks, dots, causal contexts and hybrid logical clocks.
//!
//! These are the building blocks of the [CRDTs](crate::crdt): a [`Dot`]
//! names one event of one replica, a [`VectorClock`] summarises a
//! downward-closed set of events, a [`CausalContext`] is a vector clock plus
//! the dots that arrived out of order, and an [`Hlc`] produces timestamps
//! that follow causality and stay close to physical time (Kulkarni et al.,
//! "Logical Physical Clocks", 2014). Physical time is always passed in.
//! When a node leaves the cluster, a [`NodeFold`] renames its dots into a
//! survivor's, so causal state stops naming it.
//!
//! ```
//! use synod_core::causality::{Hlc, VectorClock};
//! use synod_core::NodeId;
//!
//! let mut a = VectorClock::new();
//! a.increment(NodeId(1));
//! let mut b = a.clone();
//! b.increment(NodeId(2));
//! assert!(a.happens_before(&b));
//!
//! let mut hlc = Hlc::new(NodeId(1));
//! let t1 = hlc.now(1_000);
//! let t2 = hlc.now(999); // the physical clock went backwards
//! assert!(t2 > t1);
//! ```

mod context;
mod dot;
mod hlc;
mod node_fold;
mod vector_clock;

#[cfg(test)]
mod proptests;

pub use context::CausalContext;
pub use dot::Dot;
pub use hlc::{Hlc, HlcTimestamp};
pub use node_fold::{NodeFold, PruneError};
pub use vector_clock::VectorClock;
