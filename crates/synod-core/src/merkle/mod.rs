//! Merkle trees over a key space, for anti-entropy between replicas.
//!
//! * [`MerkleTree`] — a fixed-depth SHA-256 tree (default depth
//!   [`DEPTH_DEFAULT`], 4,096 leaves). Each key maps to leaf
//!   `hash(key) mod leaves`; a leaf hashes the keys' *entry digests*
//!   (see [`entry_digest`]), never whole values. Updates cost one leaf
//!   rehash plus `depth` node hashes; [`MerkleTree::diff`] and
//!   [`MerkleTree::differing_children`] descend only into subtrees whose
//!   hashes differ.
//! * [`SignedRoot`] — a root signed with ed25519 by the node that
//!   announces it; a receiver verifies it against the sender's known public
//!   key before merging, and the error names the peer.
//!
//! The remote, message-driven form of the diff is
//! [`crate::antientropy::AntiEntropySession`].

mod signed;
#[cfg(test)]
mod tests;
mod tree;

use sha2::{Digest as _, Sha256};

pub use signed::{SignedRoot, VerifyError};
pub use tree::{leaf_diff, DepthError, Digest, MerkleTree, DEPTH_DEFAULT, DEPTH_MAX, EMPTY};

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
