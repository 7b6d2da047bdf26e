//! The node's AP state: named CRDT objects (counters, sets, registers,
//! maps) that every node accepts writes to, durable in redb, converging by
//! Merkle anti-entropy gossip between node processes.
//!
//! * [`CrdtState`] — the replica ([`CrdtReplica`]) shared by the client
//!   service and gossip, with a group-commit persister.
//! * [`CrdtService`] — the `synod.crdt.v1.Crdt` client API.
//! * [`gossip`] — sessions over `synod.gossip.v1.Gossip` streams, roots
//!   signed with each node's ed25519 key ([`keys`]).
//! * [`checkpoint`] — every N local updates the Merkle root is committed
//!   through the replicated log.

pub mod checkpoint;
mod dial;
pub mod gossip;
pub mod keys;
mod object;
mod replica;
mod service;
mod state;

pub use object::{CrdtKind, CrdtObject, CrdtOp, KindMismatch, StringMap};
pub use replica::{CrdtLimits, CrdtReplica, UpdateError};
pub use service::{kind_from_proto, kind_to_proto, value_to_proto, CrdtService};
pub use state::{CrdtError, CrdtState};
