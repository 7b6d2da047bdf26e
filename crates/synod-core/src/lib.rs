//! Sans-IO protocol cores of synod.
//!
//! Every protocol in this crate is a plain struct driven by three kinds of
//! input — `handle_message(msg, now)`, `handle_timeout(now)` and protocol
//! commands such as `propose(..)` — and drained of effects with
//! `take_effects()`. A core never reads a clock, never draws unseeded
//! randomness and never touches the network or the disk: time is passed in
//! as [`Time`], randomness comes from a seed in the core's config, and
//! sending, persisting and applying are [effects](raft::Effect) the driver
//! carries out. The same code therefore runs in the node, in the simulator
//! and under a model checker.
//!
//! ```
//! use synod_core::raft::{Config, Effect, Raft};
//! use synod_core::{NodeId, Time};
//!
//! // A single-voter cluster elects itself and commits a proposal.
//! let mut raft = Raft::new(Config::new(NodeId(1)), &[NodeId(1)]);
//! let mut now = Time(0);
//! while !raft.is_leader() {
//!     now = raft.next_deadline().unwrap();
//!     raft.handle_timeout(now);
//!     for effect in raft.take_effects() {
//!         if let Effect::Persist(p) = effect {
//!             raft.on_persisted(p.seq, now);
//!         }
//!     }
//! }
//! let index = raft.propose(bytes::Bytes::from_static(b"x")).unwrap();
//! let mut applied = Vec::new();
//! for _ in 0..3 {
//!     for effect in raft.take_effects() {
//!         match effect {
//!             Effect::Persist(p) => raft.on_persisted(p.seq, now),
//!             Effect::Apply(entries) => applied.extend(entries.into_iter().map(|e| e.index)),
//!             _ => {}
//!         }
//!     }
//! }
//! assert!(applied.contains(&index));
//! ```
#![warn(missing_docs)]

pub mod antientropy;
pub mod causality;
pub mod crdt;
pub mod failure;
pub mod merkle;
pub mod raft;
mod rng;
pub mod swim;
mod timer;
mod types;
pub mod vote;

pub use rng::CoreRng;
pub use timer::{TimerKind, TimerTable};
pub use types::{LogIndex, NodeId, Term, Time};
