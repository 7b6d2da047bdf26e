//! The Raft core: leader election, log replication, compaction, reads,
//! leadership transfer and membership change, as a sans-IO state machine.
//!
//! It follows the Raft paper (Ongaro & Ousterhout, 2014; cited as §N) and
//! Ongaro's dissertation (2014; cited as "thesis §N"). Extensions: PreVote
//! and CheckQuorum (thesis §9.6), leadership transfer (thesis §3.10),
//! ReadIndex and lease reads (thesis §6.4), single-server membership
//! changes with learners (thesis §4.1–4.2).
//!
//! # Driving the core
//!
//! Feed it [`Raft::handle_message`], [`Raft::handle_timeout`] (at
//! [`Raft::next_deadline`]) and commands ([`Raft::propose`],
//! [`Raft::read_index`], ...); after each, drain [`Raft::take_effects`]:
//!
//! * [`Effect::Persist`] — write it durably (in order), then call
//!   [`Raft::on_persisted`] with its `seq`. Messages that must not leave
//!   before the write (vote grants, append acknowledgements) are held inside
//!   the core and only come out as [`Effect::Send`] after that call: the
//!   durability rule is enforced by the core, not trusted to the driver.
//! * [`Effect::Send`] — may be sent at once, in any order, or lost.
//! * [`Effect::Apply`] / [`Effect::ApplySnapshot`] — committed, durable
//!   entries for the state machine, in log order.
//! * [`Effect::ReadReady`] — a linearizable read may be served once the
//!   state machine has applied up to its index.
//!
//! # Membership changes
//!
//! synod changes membership one server at a time (thesis §4.1) rather than
//! by joint consensus: every change alters the voter set by at most one, so
//! any two majorities of the old and new configuration overlap, and the
//! code needs no joint quorums. A configuration takes effect on each server
//! as soon as it is in its log; a leader proposes one only after an entry of
//! its own term has committed and while no other change is uncommitted
//! (the fix to the single-server algorithm published by Ongaro in 2015).
//! Voters are added as learners first and promoted once caught up.

mod config;
mod effect;
mod election;
mod entry;
mod error;
mod log;
mod membership;
mod message;
mod node;
mod progress;
mod read;
mod replication;
mod snapshot;
#[cfg(test)]
mod tests;

#[cfg(feature = "bug-injection")]
pub use config::Bugs;
pub use config::{Config, ConfigError};
pub use effect::{DurableState, Effect, PersistRequest};
pub use entry::{Entry, EntryPayload, HardState, Snapshot, SnapshotMeta};
pub use error::{MembershipError, ProposeError, ReadError, TransferError};
pub use membership::{Membership, MembershipChange};
pub use message::{Body, Message};
pub use node::{Raft, Role};
