//! Messages exchanged between Raft cores.

use bytes::Bytes;

use super::{Entry, SnapshotMeta};
use crate::{LogIndex, NodeId, Term};

/// A message from one core to another. Every message carries the sender's
/// term (§5.1); what it asks or answers is in `body`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// The sender.
    pub from: NodeId,
    /// The recipient.
    pub to: NodeId,
    /// The sender's term; for a PreVote request, the term it would campaign in.
    pub term: Term,
    /// The request or response.
    pub body: Body,
}

/// The request or response a [`Message`] carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// RequestVote RPC (§5.2), or its PreVote probe (thesis §9.6).
    RequestVote {
        /// Index of the candidate's last log entry (§5.4.1).
        last_log_index: LogIndex,
        /// Term of the candidate's last log entry.
        last_log_term: Term,
        /// A PreVote probe: the receiver changes no state.
        pre_vote: bool,
        /// Sent after TimeoutNow: receivers skip the leader-stickiness check.
        transfer: bool,
    },
    /// Answer to [`Body::RequestVote`].
    RequestVoteResponse {
        /// Whether the vote (or pre-vote) was granted.
        granted: bool,
        /// Answers a PreVote probe.
        pre_vote: bool,
    },
    /// AppendEntries RPC (§5.3); with no entries it is a heartbeat.
    AppendEntries {
        /// Index of the entry before `entries`.
        prev_log_index: LogIndex,
        /// Term of that entry.
        prev_log_term: Term,
        /// Entries to store, possibly none.
        entries: Vec<Entry>,
        /// The leader's commit index.
        leader_commit: LogIndex,
        /// Read round this message belongs to (thesis §6.4), echoed back.
        read_seq: u64,
    },
    /// Answer to [`Body::AppendEntries`].
    AppendEntriesResponse {
        /// Whether the follower's log matched and now holds the entries.
        success: bool,
        /// On success, the follower's log matches the leader's up to here;
        /// on rejection, the `prev_log_index` that was rejected.
        index: LogIndex,
        /// On rejection, the term of the follower's entry at the rejected
        /// index, if it has one (fast backtracking, §5.3).
        conflict_term: Option<Term>,
        /// On rejection, the first index the leader should try: the first
        /// entry of `conflict_term`, or the follower's last index plus one.
        conflict_index: LogIndex,
        /// Echo of the request's `read_seq`.
        read_seq: u64,
    },
    /// InstallSnapshot RPC (§7), one chunk of at most
    /// `snapshot_chunk_bytes_max` bytes.
    InstallSnapshot {
        /// Where the snapshot ends and its configuration.
        meta: SnapshotMeta,
        /// Byte offset of this chunk.
        offset: u64,
        /// The chunk.
        data: Bytes,
        /// Whether this is the last chunk.
        done: bool,
        /// Read round this message belongs to, echoed back.
        read_seq: u64,
    },
    /// Answer to [`Body::InstallSnapshot`].
    InstallSnapshotResponse {
        /// The snapshot's last index.
        snapshot_index: LogIndex,
        /// The offset the follower expects next.
        next_offset: u64,
        /// The follower holds the whole snapshot (or newer committed state).
        done: bool,
        /// Echo of the request's `read_seq`.
        read_seq: u64,
    },
    /// Tells a caught-up follower to start an election now (thesis §3.10).
    TimeoutNow,
}
