//! Why a message received from the wire was rejected.

use synod_core::NodeId;

/// A protobuf message that is well-formed protobuf but not a valid synod
/// message. Conversions are pure: when one fails, nothing has changed
/// anywhere, and the input can simply be dropped (and the peer reported).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// A required message field or `oneof` was not set.
    #[error("{0} is not set")]
    MissingField(&'static str),
    /// A node id field was 0; node ids are never 0.
    #[error("{0} is 0, but node ids are never 0")]
    ZeroNodeId(&'static str),
    /// A log entry had index 0; the log starts at index 1.
    #[error("Entry.index is 0, but log entries start at index 1")]
    ZeroEntryIndex,
    /// A node id appeared twice in one list of a membership.
    #[error("node {id} appears twice in Membership.{list}")]
    DuplicateMember {
        /// The repeated id.
        id: NodeId,
        /// `"voters"` or `"learners"`.
        list: &'static str,
    },
    /// A node was listed both as a voter and as a learner.
    #[error("node {0} is both a voter and a learner in Membership")]
    VoterAndLearner(NodeId),
    /// The entries of an AppendEntries did not follow on from
    /// `prev_log_index` without gaps.
    #[error(
        "AppendEntries.entries[{position}].index is {index}, but with prev_log_index \
         {prev_log_index} it must be prev_log_index + {}",
        position + 1
    )]
    EntryOutOfSequence {
        /// Position of the offending entry in `entries`.
        position: usize,
        /// The message's `prev_log_index`.
        prev_log_index: u64,
        /// The index the entry carried.
        index: u64,
    },
    /// An entry of an AppendEntries was invalid.
    #[error("AppendEntries.entries[{position}]: {error}")]
    InEntry {
        /// Position of the entry in `entries`.
        position: usize,
        /// What was wrong with it.
        error: Box<ProtoError>,
    },
    /// A batch was sent by a node of another cluster.
    #[error("MessageBatch.cluster_id is {found}, but this node belongs to cluster {expected}")]
    ClusterMismatch {
        /// The receiver's cluster id.
        expected: u64,
        /// The id the batch carried.
        found: u64,
    },
    /// A message in a batch named another sender or recipient than the
    /// batch itself.
    #[error("MessageBatch.messages[{position}].{field} is {message}, but the batch's {field} is {batch}")]
    BatchAddressMismatch {
        /// Position of the message in the batch.
        position: usize,
        /// `"from"` or `"to"`.
        field: &'static str,
        /// The batch's value.
        batch: u64,
        /// The message's value.
        message: u64,
    },
    /// A message of a batch was invalid.
    #[error("MessageBatch.messages[{position}]: {error}")]
    InBatch {
        /// Position of the message in the batch.
        position: usize,
        /// What was wrong with it.
        error: Box<ProtoError>,
    },
}
