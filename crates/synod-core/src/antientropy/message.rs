//! Messages of an anti-entropy session.

use crate::merkle::{Digest, SignedRoot};

/// One message of session `session`. Messages alternate strictly between
/// the two sides (stop-and-wait): every message answers the peer's previous
/// one, and `seq` counts them from 1 across both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Session id chosen by the initiator; the driver routes on `(peer, session)`.
    pub session: u64,
    /// Position in the conversation: the initiator's first message is 1,
    /// the reply to message `n` is `n + 1`.
    pub seq: u64,
    /// What the message says.
    pub body: Body,
}

/// A leaf's `(key, entry digest)` pairs, sorted by key.
pub type LeafEntries = Vec<(Vec<u8>, Digest)>;

/// The content of a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The sender's (optionally signed) Merkle root. Sent first by each side.
    Root(SignedRoot),
    /// The sender's hashes of the children of `nodes` at `level`; the
    /// receiver descends only into the children whose hashes differ.
    Children {
        /// Level of the parent nodes (0 = root).
        level: u8,
        /// `(parent index, [left child hash, right child hash])`.
        nodes: Vec<(u32, [Digest; 2])>,
    },
    /// The sender's `(key, entry digest)` pairs of leaves that differ.
    Keys {
        /// `(leaf index, entries of that leaf sorted by key)`.
        leaves: Vec<(u32, LeafEntries)>,
    },
    /// Keys the sender lacks or holds differently, with its entry digest
    /// (`None`: lacks it) as a hint for computing a delta.
    Want {
        /// `(key, the sender's entry digest)`.
        keys: Vec<(Vec<u8>, Option<Digest>)>,
    },
    /// State to merge: `(key, payload from Replica::delta_for)`. Bounded by
    /// `Config::batch_bytes_max` unless a single entry is larger. Batches
    /// are uncompressed here; the node compresses them on the wire.
    Deltas {
        /// `(key, payload)`.
        entries: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Nothing more to say at this point.
    Ack,
    /// The sender has finished; both sides agree there is nothing left.
    Done,
    /// The sender gave up on the session.
    Abort {
        /// Why, for the peer's logs.
        reason: String,
    },
}

impl Message {
    /// An estimate of the message's encoded size, used for batching and
    /// for `bytes_sent`.
    pub fn size_bytes(&self) -> usize {
        16 + self.body.size_bytes()
    }
}

impl Body {
    /// An estimate of the body's encoded size.
    pub fn size_bytes(&self) -> usize {
        match self {
            Body::Root(_) => 8 + 32 + 1 + 8 + 64,
            Body::Children { nodes, .. } => 1 + nodes.len() * CHILDREN_ENTRY_BYTES,
            Body::Keys { leaves } => leaves.iter().map(|(_, e)| leaf_size_bytes(e)).sum(),
            Body::Want { keys } => keys.iter().map(|(k, _)| want_size_bytes(k)).sum(),
            Body::Deltas { entries } => entries.iter().map(|(k, p)| delta_size_bytes(k, p)).sum(),
            Body::Ack | Body::Done => 1,
            Body::Abort { reason } => 1 + reason.len(),
        }
    }
}

pub(super) const CHILDREN_ENTRY_BYTES: usize = 4 + 64;

pub(super) fn leaf_size_bytes(entries: &[(Vec<u8>, Digest)]) -> usize {
    8 + entries.iter().map(|(k, _)| 4 + k.len() + 32).sum::<usize>()
}

pub(super) fn want_size_bytes(key: &[u8]) -> usize {
    4 + key.len() + 33
}

pub(super) fn delta_size_bytes(key: &[u8], payload: &[u8]) -> usize {
    8 + key.len() + payload.len()
}
