//! Merkle trees over a key space, for anti-entropy between replicas.
//!
//! * [`MerkleTree`] — a fixed-depth SHA-256 tree (default depth
//!   [`DEPTH_DEFAULT`], 4,096 leaves). Each key maps to leaf
//!   `hash(key) mod leaves`; a leaf hashes the keys' *entry digests*
//!   (see [`entry_digest`]), never whole values. Updates cost one leaf
//!   rehash plus `depth` node hashes; [`MerkleTree::diff`] and
//!   [`MerkleTree::differing_children`] descend only into subtrees whose
//!   hashes differ.
//! * [`MerkleTree::subtree`] — a node at any level, down to
//!   [`SUB_LEVELS_MAX`] levels *below* the stored leaves, computed on
//!   demand from a leaf's keys, so that a remote diff can narrow a busy
//!   leaf down to its differing keys without a deeper tree in memory.
//! * [`Window`] — the 8 bytes of a digest a session compares while it
//!   descends (the root stays whole); `window.rs` argues why that is sound.
//! * [`SignedRoot`] — a root signed with ed25519 by the node that
//!   announces it; a receiver verifies it against the sender's known public
//!   key before merging, and the error names the peer.
//!
//! The remote, message-driven form of the diff is
//! [`crate::antientropy::AntiEntropySession`].

mod signed;
mod subtree;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_subtree;
mod tree;
mod window;

use sha2::{Digest as _, Sha256};

pub use signed::{SignedRoot, VerifyError};
pub use subtree::{Subtree, LEVEL_MAX, SUB_LEVELS_MAX};
pub(crate) use tree::merge_by_key;
pub use tree::{leaf_diff, DepthError, Digest, MerkleTree, DEPTH_DEFAULT, DEPTH_MAX, EMPTY};
pub use window::{window_of, PartialDigest, Window, WINDOW_BYTES};

/// The entry digest of a key: SHA-256 over the key, its version (for
/// example encoded dots or a version vector) and a digest of its value.
///
/// Any 32-byte digest works as an entry digest, as long as every replica
/// computes it the same way; this is the recommended one.
pub fn entry_digest(key: &[u8], version: &[u8], value_digest: &Digest) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update((key.len() as u64).to_be_bytes());
    hasher.update(key);
    hasher.update((version.len() as u64).to_be_bytes());
    hasher.update(version);
    hasher.update(value_digest);
    hasher.finalize().into()
}
