//! What an anti-entropy session needs from the store it repairs.

use crate::merkle::{Digest, MerkleTree, PartialDigest};

/// A keyed store whose contents are summarized by a [`MerkleTree`].
///
/// The session never interprets payloads: the store decides what a delta
/// is (a delta-CRDT fragment, a full value, ...).
pub trait Replica {
    /// The Merkle tree over the store's keys, kept current by the store.
    fn tree(&self) -> &MerkleTree;

    /// The payload that brings a peer up to date on `key`. `peer` is the
    /// peer's entry digest for the key, or `None` when the peer lacks it —
    /// then the payload must be the key's full state. Returns `None` when
    /// the store does not hold `key` (any more).
    fn delta_for(&self, key: &[u8], peer: Option<&Digest>) -> Option<Vec<u8>>;

    /// [`delta_for`](Replica::delta_for) when the peer holds `key` but only
    /// a window of its entry digest is known (the session compares 8-byte
    /// windows while it descends, see [`crate::merkle::Window`]).
    ///
    /// The default ships the full state, which is always correct. A store
    /// that finds deltas by the peer's digest may look the window up with
    /// [`PartialDigest::matches`]: a false match (probability 2^-64) yields
    /// a delta from the wrong starting point, which the peer merges
    /// harmlessly (a join) and which leaves it behind only until the next
    /// session, since that one compares another window.
    fn delta_for_partial(&self, key: &[u8], peer: &PartialDigest) -> Option<Vec<u8>> {
        let _ = peer;
        self.delta_for(key, None)
    }

    /// Merges `payload` into `key` and updates the tree; returns whether
    /// the key's state changed.
    ///
    /// Must be idempotent and commutative (a join): the session may
    /// deliver the same state from both directions, and a payload may be
    /// older than what the store holds.
    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError>;
}

/// A payload the store could not merge (malformed, or of a different
/// type). The store's state for the key is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ApplyError(pub String);
