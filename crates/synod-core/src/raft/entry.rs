//! Log entries, snapshots and the hard state a node must persist.

use bytes::Bytes;

use super::Membership;
use crate::{LogIndex, NodeId, Term};

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// The term of the leader that created it.
    pub term: Term,
    /// Its position in the log.
    pub index: LogIndex,
    /// What it carries.
    pub payload: EntryPayload,
}

/// What an entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EntryPayload {
    /// Appended by a new leader to commit an entry of its term (§5.4.2, §8).
    Noop,
    /// An opaque command for the state machine.
    Command(Bytes),
    /// A new cluster configuration, effective once in the log (thesis §4.1).
    Membership(Membership),
}

impl Entry {
    /// Approximate size in bytes, used for batching.
    pub fn size_bytes(&self) -> usize {
        let payload = match &self.payload {
            EntryPayload::Noop => 0,
            EntryPayload::Command(data) => data.len(),
            EntryPayload::Membership(m) => 8 * (m.voters.len() + m.learners.len()),
        };
        24 + payload
    }
}

/// The state a node must persist before answering votes (§5, Figure 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HardState {
    /// The latest term this node has seen.
    pub term: Term,
    /// The candidate this node voted for in `term`.
    pub vote: Option<NodeId>,
    /// A lower bound on the commit index (lets a restart re-apply sooner).
    pub commit: LogIndex,
}

/// Where a snapshot ends and the configuration it includes (§7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SnapshotMeta {
    /// The last log index the snapshot covers.
    pub index: LogIndex,
    /// The term of that entry.
    pub term: Term,
    /// The configuration in force at `index`.
    pub membership: Membership,
}

/// A state-machine snapshot: metadata and the opaque state bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Snapshot {
    /// Where the snapshot ends.
    pub meta: SnapshotMeta,
    /// The state machine's serialized state.
    pub data: Bytes,
}
