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

/// A [`GossipFrame`](crate::gossip::v1::GossipFrame) that is well-formed
/// protobuf but not a valid anti-entropy message. Decoding is pure: when it
/// fails, nothing has been merged, and the peer's stream should be closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GossipDecodeError {
    /// The frame's `oneof body` was not set.
    #[error("GossipFrame.body is not set")]
    MissingBody,
    /// A node id field was 0; node ids are never 0.
    #[error("{0} is 0, but node ids are never 0")]
    ZeroNodeId(&'static str),
    /// A digest field did not hold exactly 32 bytes.
    #[error("{field} holds {len} bytes, but a SHA-256 digest is 32")]
    DigestLength {
        /// The field, e.g. `"Root.root"`.
        field: &'static str,
        /// The length received.
        len: usize,
    },
    /// A field of concatenated 8-byte digest windows did not hold exactly
    /// one window per item it describes.
    #[error("{field} holds {len} bytes, but {count} windows of 8 bytes are {}", count * 8)]
    WindowsLength {
        /// The field, e.g. `"Children.windows"`.
        field: &'static str,
        /// The length received.
        len: usize,
        /// The number of windows it must hold.
        count: usize,
    },
    /// A root signature was neither empty (unsigned) nor 64 bytes.
    #[error("Root.signature holds {0} bytes, but an ed25519 signature is 64 (or 0: unsigned)")]
    SignatureLength(usize),
    /// A tree depth or level did not fit in 8 bits.
    #[error("{field} is {value}, above 255")]
    OutOfRange {
        /// `"Root.depth"`, `"Children.level"` or `"Keys.level"`.
        field: &'static str,
        /// The value received.
        value: u32,
    },
    /// `Deltas.compression` named a method this node does not know.
    #[error("Deltas.compression is {0}, an unknown method")]
    UnknownCompression(i32),
    /// A declared uncompressed length (`Deltas.raw_len` or
    /// `Compressed.raw_len`) exceeded the receiver's limit; nothing was
    /// decompressed or allocated for it.
    #[error("{field} is {declared} bytes, above this node's limit of {max}")]
    TooLarge {
        /// The field, e.g. `"Deltas.raw_len"`.
        field: &'static str,
        /// The length the sender declared.
        declared: u64,
        /// The receiver's `GossipCodec::decoded_bytes_max`.
        max: usize,
    },
    /// The bytes, after decompression if any, were not as long as the
    /// sender declared (a truncated or padded blob).
    #[error("{field} is {declared}, but the data holds {actual} bytes")]
    LengthMismatch {
        /// The field that declared the length, e.g. `"Deltas.raw_len"`.
        field: &'static str,
        /// The length the sender declared.
        declared: u64,
        /// The length found.
        actual: usize,
    },
    /// A zstd blob was corrupt, truncated, or decompressed to more than its
    /// declared length (decompression stopped at that bound).
    #[error("{field} does not decompress: {reason}")]
    Decompress {
        /// The field, `"Deltas.data"` or `"Compressed.data"`.
        field: &'static str,
        /// zstd's error.
        reason: String,
    },
    /// A compressed body held another compressed body (refused rather
    /// than unpacked level after level).
    #[error("Compressed.data holds another compressed body")]
    NestedCompression,
    /// A compressed body's bytes were not a valid encoded `GossipFrame`.
    #[error("Compressed.data does not hold a GossipFrame: {0}")]
    CompressedBody(prost::DecodeError),
    /// The batch's key and payload columns differ in length.
    #[error("DeltaEntries holds {keys} keys but {payloads} payloads")]
    ColumnsMismatch {
        /// Keys in the batch.
        keys: usize,
        /// Payloads in the batch.
        payloads: usize,
    },
    /// The batch's bytes were not a valid encoded `DeltaEntries`.
    #[error("Deltas.data does not hold DeltaEntries: {0}")]
    Entries(#[from] prost::DecodeError),
}
