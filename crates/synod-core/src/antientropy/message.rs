//! Messages of an anti-entropy session.

use crate::merkle::{Digest, SignedRoot, Window, WINDOW_BYTES};

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

/// A subtree's `(key, window of the entry digest)` pairs, sorted by key.
pub type SubtreeEntries = Vec<(Vec<u8>, Window)>;

/// The content of a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The sender's (optionally signed) Merkle root. Sent first by each side.
    Root(SignedRoot),
    /// Windows of the sender's hashes of the children of `nodes` at
    /// `level`; the receiver descends only into the children whose windows
    /// differ. `level` may lie below the stored leaves
    /// ([`MerkleTree::subtree`](crate::merkle::MerkleTree::subtree)).
    Children {
        /// Level of the parent nodes (0 = root).
        level: u8,
        /// `(parent index, [left child window, right child window])`.
        nodes: Vec<(u32, [Window; 2])>,
    },
    /// The sender's keys below subtrees that differ, each with a window of
    /// its entry digest: sent instead of descending further when listing
    /// the keys is cheaper.
    Keys {
        /// `(level, index, entries sorted by key)` of each subtree's root.
        nodes: Vec<(u8, u32, SubtreeEntries)>,
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
            Body::Keys { nodes } => nodes.iter().map(|(_, _, e)| subtree_size_bytes(e)).sum(),
            Body::Want { keys } => keys.iter().map(|(k, _)| want_size_bytes(k)).sum(),
            Body::Deltas { entries } => entries.iter().map(|(k, p)| delta_size_bytes(k, p)).sum(),
            Body::Ack | Body::Done => 1,
            Body::Abort { reason } => 1 + reason.len(),
        }
    }
}

pub(super) const CHILDREN_ENTRY_BYTES: usize = 4 + 2 * WINDOW_BYTES;

pub(super) fn subtree_size_bytes(entries: &[(Vec<u8>, Window)]) -> usize {
    8 + entries.iter().map(|(k, _)| key_size_bytes(k)).sum::<usize>()
}

/// One `(key, window)` pair of a `Keys` message.
pub(super) fn key_size_bytes(key: &[u8]) -> usize {
    2 + key.len() + WINDOW_BYTES
}

pub(super) fn want_size_bytes(key: &[u8]) -> usize {
    4 + key.len() + 33
}

pub(super) fn delta_size_bytes(key: &[u8], payload: &[u8]) -> usize {
    8 + key.len() + payload.len()
}
