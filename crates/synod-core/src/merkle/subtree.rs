//! Nodes at any level of a [`MerkleTree`], including levels below the
//! stored leaves, which are computed when asked for and never stored.
//!
//! Why: a remote diff that reaches a differing leaf must list the leaf's
//! keys, and at the default depth a leaf of a 100,000-key store holds ~24
//! of them, of which typically one differs. Storing a deeper tree costs
//! memory for every key; descending a few more levels *inside* the few
//! differing leaves costs a cheap hash per key of those leaves. Below leaf
//! `l`, the node at level `depth + v` and index `l * 2^v + s` holds the
//! keys of `l` whose *sub-position* — the top `v` bits of a fixed 64-bit
//! hash of the key, independent of the SHA-256 bits that chose the leaf —
//! is `s`; its hash is the leaf hash of those keys alone.

use super::tree::{hash_entries, sub_position};
use super::{Digest, MerkleTree};

/// How many levels below its stored leaves a tree can be descended into:
/// 16 splits a leaf of up to ~65,000 keys into buckets of about one key.
pub const SUB_LEVELS_MAX: u8 = 16;

/// The deepest level a node can be addressed at, so that indexes fit in
/// a `u32` (a tree of [`DEPTH_MAX`](super::DEPTH_MAX) gets 11 levels below
/// its leaves).
pub const LEVEL_MAX: u8 = 31;

/// One node of a [`MerkleTree`], at a stored level or below the leaves;
/// see [`MerkleTree::subtree`].
#[derive(Debug)]
pub struct Subtree<'a> {
    tree: &'a MerkleTree,
    level: u8,
    index: u32,
    /// At or below the leaves: the node's entries in key order, each with
    /// its key's sub-position. `None` above the leaves.
    entries: Option<Vec<(u64, &'a [u8], &'a Digest)>>,
}

impl MerkleTree {
    /// The deepest level [`subtree`](MerkleTree::subtree) accepts:
    /// [`SUB_LEVELS_MAX`] below the leaves, at most [`LEVEL_MAX`].
    pub fn level_max(&self) -> u8 {
        (self.depth() + SUB_LEVELS_MAX).min(LEVEL_MAX)
    }

    /// Node `index` at `level`, where `level` may lie below the leaves (up
    /// to [`level_max`](MerkleTree::level_max)). At or below the leaves
    /// this hashes every key of the leaf once (a fast, non-cryptographic
    /// hash), to find its sub-position.
    ///
    /// # Panics
    /// If `level > level_max()` or `index >= 2^level`.
    pub fn subtree(&self, level: u8, index: u32) -> Subtree<'_> {
        assert!(level <= self.level_max(), "level {level} below level_max");
        assert!(u64::from(index) >> level == 0, "index {index} outside level {level}");
        let entries = (level >= self.depth()).then(|| {
            let below = level - self.depth();
            let (leaf, bucket) = (index >> below, u64::from(index) & low_mask(below));
            self.leaf_entries(leaf)
                .iter()
                .map(|(key, digest)| (sub_position(key), key.as_slice(), digest))
                .filter(|(sub, _, _)| top_bits(*sub, below) == bucket)
                .collect()
        });
        Subtree { tree: self, level, index, entries }
    }
}

impl<'a> Subtree<'a> {
    /// The node's level (0 = root).
    pub fn level(&self) -> u8 {
        self.level
    }

    /// The node's index at its level.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many keys lie below the node: exact at and below the leaves;
    /// above them, the tree's keys spread evenly over the level, rounded up
    /// (an estimate for deciding whether to list or descend, never used to
    /// decide what differs).
    pub fn len_estimate(&self) -> usize {
        match &self.entries {
            Some(entries) => entries.len(),
            None => self.tree.len().div_ceil(1usize << self.level),
        }
    }

    /// The node's hash: the stored one down to the leaves, the leaf hash of
    /// its keys below them.
    pub fn hash(&self) -> Digest {
        match &self.entries {
            Some(entries) if self.level > self.tree.depth() => {
                hash_entries(entries.iter().map(|(_, key, digest)| (*key, *digest)))
            }
            _ => self.tree.node(self.level.min(self.tree.depth()), self.index),
        }
    }

    /// The hashes of the node's two children.
    ///
    /// # Panics
    /// At [`MerkleTree::level_max`], which has no children.
    pub fn children(&self) -> [Digest; 2] {
        assert!(self.level < self.tree.level_max(), "level_max has no children");
        let Some(entries) = &self.entries else {
            return self.tree.children(self.level, self.index);
        };
        let below = self.level - self.tree.depth() + 1;
        let side = |child: u64| {
            let mine = entries.iter().filter(move |(sub, _, _)| top_bits(*sub, below) & 1 == child);
            hash_entries(mine.map(|(_, key, digest)| (*key, *digest)))
        };
        [side(0), side(1)]
    }

    /// The node's left (`right == false`) or right child. Below the leaves
    /// it is cut from this node's entries, without hashing any key again.
    ///
    /// # Panics
    /// At [`MerkleTree::level_max`], which has no children.
    pub fn child(&self, right: bool) -> Subtree<'a> {
        assert!(self.level < self.tree.level_max(), "level_max has no children");
        let (level, index) = (self.level + 1, 2 * self.index + u32::from(right));
        let Some(entries) = &self.entries else {
            return self.tree.subtree(level, index);
        };
        let below = level - self.tree.depth();
        let side = u64::from(right);
        let entries = entries.iter().filter(|(sub, _, _)| top_bits(*sub, below) & 1 == side);
        Subtree { tree: self.tree, level, index, entries: Some(entries.copied().collect()) }
    }

    /// The `(key, entry digest)` pairs below the node, sorted by key.
    pub fn entries(&self) -> Vec<(&'a [u8], &'a Digest)> {
        if let Some(entries) = &self.entries {
            return entries.iter().map(|(_, key, digest)| (*key, *digest)).collect();
        }
        let span = self.tree.depth() - self.level;
        let first = self.index << span;
        let mut all: Vec<_> = (first..first + (1 << span))
            .flat_map(|leaf| self.tree.leaf_entries(leaf).iter())
            .map(|(key, digest)| (key.as_slice(), digest))
            .collect();
        all.sort_unstable_by(|x, y| x.0.cmp(y.0));
        all
    }
}

/// The top `bits` bits of `sub` (0 for no bits).
fn top_bits(sub: u64, bits: u8) -> u64 {
    match bits {
        0 => 0,
        bits => sub >> (64 - u32::from(bits)),
    }
}

fn low_mask(bits: u8) -> u64 {
    (1u64 << bits) - 1
}
