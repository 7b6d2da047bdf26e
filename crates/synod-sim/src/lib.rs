//! Seeded deterministic simulation of synod's protocol cores.
//!
//! A run is one `u64` seed: it derives the cluster size, fault rates,
//! partitions, crashes and clock rates, then drives real cores through a
//! simulated network and disk while safety checkers run after every step.
//! A failing run prints its seed and the command that replays it.
#![warn(missing_docs)]

mod event_queue;
pub mod gossip;
pub mod model;
pub mod raft;
pub mod swim;
