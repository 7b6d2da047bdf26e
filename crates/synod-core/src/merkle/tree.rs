//! A fixed-depth SHA-256 Merkle tree over a key space.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// The hash of an empty leaf or of a subtree holding no key.
///
/// Empty subtrees hash to zeros so that a sparse tree costs nothing to
/// build and two empty subtrees compare equal without hashing.
pub const EMPTY: Digest = [0; 32];

/// The depth used when the caller has no reason to choose: 4,096 leaves.
pub const DEPTH_DEFAULT: u8 = 12;

/// The deepest tree accepted: 2^20 leaves, 64 MiB of node hashes.
pub const DEPTH_MAX: u8 = 20;

const LEAF_TAG: u8 = 0x00;
const NODE_TAG: u8 = 0x01;

/// A depth outside `1..=DEPTH_MAX` was requested. No tree was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("merkle tree depth {0} is outside 1..={DEPTH_MAX}")]
pub struct DepthError(pub u8);

/// A Merkle tree of fixed depth over a key space.
///
/// Level 0 is the root; level `depth` holds `2^depth` leaves. A key lives
/// in leaf `hash(key) mod 2^depth` ([`MerkleTree::leaf_of`]). The tree
/// does not know what a key's value is: the caller supplies a 32-byte
/// *entry digest* per key (typically the hash of key, version or dots and
/// a digest of the value), so whole values are never hashed here.
///
/// A leaf hashes the sorted `(key, entry digest)` pairs it holds; an inner
/// node hashes its two children. [`upsert`](MerkleTree::upsert) and
/// [`remove`](MerkleTree::remove) rehash the one leaf and the `depth`
/// nodes above it.
///
/// ```
/// use synod_core::merkle::MerkleTree;
///
/// let mut a = MerkleTree::new(4).unwrap();
/// let mut b = MerkleTree::new(4).unwrap();
/// a.upsert(b"x", [1; 32]);
/// b.upsert(b"x", [1; 32]);
/// assert_eq!(a.root(), b.root());
/// b.upsert(b"y", [2; 32]);
/// assert_eq!(a.diff(&b), vec![b"y".to_vec()]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    depth: u8,
    /// Implicit binary heap: node `(level, index)` is at `(1 << level) + index`;
    /// slot 0 is unused.
    nodes: Vec<Digest>,
    leaves: Vec<BTreeMap<Vec<u8>, Digest>>,
    len: usize,
}

impl Default for MerkleTree {
    fn default() -> Self {
        MerkleTree::new(DEPTH_DEFAULT).expect("default depth is valid")
    }
}

impl MerkleTree {
    /// An empty tree of `depth` levels below the root (`2^depth` leaves).
    pub fn new(depth: u8) -> Result<MerkleTree, DepthError> {
        if depth == 0 || depth > DEPTH_MAX {
            return Err(DepthError(depth));
        }
        let leaf_count = 1usize << depth;
        Ok(MerkleTree {
            depth,
            nodes: vec![EMPTY; 2 * leaf_count],
            leaves: vec![BTreeMap::new(); leaf_count],
            len: 0,
        })
    }

    /// Builds a tree from scratch, hashing every node once, bottom up.
    pub fn from_entries<I, K>(depth: u8, entries: I) -> Result<MerkleTree, DepthError>
    where
        I: IntoIterator<Item = (K, Digest)>,
        K: Into<Vec<u8>>,
    {
        let mut tree = MerkleTree::new(depth)?;
        for (key, digest) in entries {
            let key = key.into();
            let leaf = tree.leaf_of(&key) as usize;
            tree.leaves[leaf].insert(key, digest);
        }
        tree.len = tree.leaves.iter().map(BTreeMap::len).sum();
        let leaf_base = tree.leaf_count() as usize;
        for leaf in 0..leaf_base {
            tree.nodes[leaf_base + leaf] = hash_leaf(&tree.leaves[leaf]);
        }
        for slot in (1..leaf_base).rev() {
            tree.nodes[slot] = hash_node(&tree.nodes[2 * slot], &tree.nodes[2 * slot + 1]);
        }
        Ok(tree)
    }

    /// Levels below the root.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Number of leaves, `2^depth`.
    pub fn leaf_count(&self) -> u32 {
        1u32 << self.depth
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The leaf that holds `key`: the first 8 bytes of SHA-256(key), big
    /// endian, modulo the leaf count.
    pub fn leaf_of(&self, key: &[u8]) -> u32 {
        (key_position(key) % u64::from(self.leaf_count())) as u32
    }

    /// The root hash; [`EMPTY`] for an empty tree.
    pub fn root(&self) -> Digest {
        self.nodes[1]
    }

    /// The hash of node `index` at `level` (0 = root, `depth` = leaves).
    ///
    /// # Panics
    /// If `level > depth` or `index >= 2^level`.
    pub fn node(&self, level: u8, index: u32) -> Digest {
        self.nodes[self.slot(level, index)]
    }

    /// The hashes of the two children of node `index` at `level < depth`.
    pub fn children(&self, level: u8, index: u32) -> [Digest; 2] {
        assert!(level < self.depth, "leaves have no children");
        let slot = self.slot(level, index);
        [self.nodes[2 * slot], self.nodes[2 * slot + 1]]
    }

    /// Which children of node `index` at `level` differ from a peer's
    /// hashes of the same children, as indexes at `level + 1`. This is the
    /// step of a diff: only these subtrees need to be descended into.
    pub fn differing_children(&self, level: u8, index: u32, peer: &[Digest; 2]) -> Vec<u32> {
        let mine = self.children(level, index);
        (0..2u32).filter(|&c| mine[c as usize] != peer[c as usize]).map(|c| 2 * index + c).collect()
    }

    /// The entry digest held for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Digest> {
        self.leaves[self.leaf_of(key) as usize].get(key)
    }

    /// The `(key, entry digest)` pairs of `leaf`, sorted by key.
    pub fn leaf_entries(&self, leaf: u32) -> &BTreeMap<Vec<u8>, Digest> {
        &self.leaves[leaf as usize]
    }

    /// Every `(key, entry digest)` pair, leaf by leaf.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Digest)> {
        self.leaves.iter().flat_map(|leaf| leaf.iter().map(|(k, d)| (k.as_slice(), d)))
    }

    /// Sets the entry digest of `key` and rehashes its path to the root.
    /// Returns whether anything changed.
    pub fn upsert(&mut self, key: &[u8], digest: Digest) -> bool {
        let leaf = self.leaf_of(key);
        let entries = &mut self.leaves[leaf as usize];
        match entries.get_mut(key) {
            Some(old) if *old == digest => return false,
            Some(old) => *old = digest,
            None => {
                entries.insert(key.to_vec(), digest);
                self.len += 1;
            }
        }
        self.rehash_path(leaf);
        true
    }

    /// Removes `key` and rehashes its path. Returns whether it was present.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let leaf = self.leaf_of(key);
        if self.leaves[leaf as usize].remove(key).is_none() {
            return false;
        }
        self.len -= 1;
        self.rehash_path(leaf);
        true
    }

    /// The keys whose entry digests differ between `self` and `other`,
    /// including keys only one of them holds, sorted. Descends only into
    /// subtrees whose hashes differ.
    ///
    /// # Panics
    /// If the depths differ.
    pub fn diff(&self, other: &MerkleTree) -> Vec<Vec<u8>> {
        assert_eq!(self.depth, other.depth, "diff needs trees of equal depth");
        let mut frontier = if self.root() == other.root() { vec![] } else { vec![0u32] };
        for level in 0..self.depth {
            frontier = frontier
                .into_iter()
                .flat_map(|index| {
                    self.differing_children(level, index, &other.children(level, index))
                })
                .collect();
        }
        let mut keys: Vec<Vec<u8>> = frontier
            .into_iter()
            .flat_map(|leaf| leaf_diff(self.leaf_entries(leaf), other.leaf_entries(leaf)))
            .collect();
        keys.sort();
        keys
    }

    fn slot(&self, level: u8, index: u32) -> usize {
        assert!(level <= self.depth, "level {level} below the leaves");
        assert!(index < (1u32 << level), "index {index} outside level {level}");
        (1usize << level) + index as usize
    }

    fn rehash_path(&mut self, leaf: u32) {
        let mut slot = self.slot(self.depth, leaf);
        self.nodes[slot] = hash_leaf(&self.leaves[leaf as usize]);
        while slot > 1 {
            slot /= 2;
            self.nodes[slot] = hash_node(&self.nodes[2 * slot], &self.nodes[2 * slot + 1]);
        }
    }
}

/// Keys whose digests differ between two leaves' entries, or that only one
/// of them holds, in key order.
///
/// Both leaves are sorted maps, so one merge walk over the two finds every
/// difference in `O(|a| + |b|)` comparisons; looking each key up in the
/// other map cost a B-tree search (and its `memcmp`s) per key, both ways.
pub fn leaf_diff(a: &BTreeMap<Vec<u8>, Digest>, b: &BTreeMap<Vec<u8>, Digest>) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    merge_by_key(a.iter(), b.iter(), |key, x, y| {
        if x != y {
            keys.push(key.clone());
        }
    });
    keys
}

/// Walks two iterators sorted by key (no key twice in one of them) in step,
/// calling `visit(key, a's value, b's value)` once per key either holds,
/// in key order.
pub(crate) fn merge_by_key<K: Ord, A, B>(
    a: impl IntoIterator<Item = (K, A)>,
    b: impl IntoIterator<Item = (K, B)>,
    mut visit: impl FnMut(K, Option<A>, Option<B>),
) {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        match order {
            Ordering::Less => {
                let (key, x) = a.next().expect("peeked");
                visit(key, Some(x), None);
            }
            Ordering::Greater => {
                let (key, y) = b.next().expect("peeked");
                visit(key, None, Some(y));
            }
            Ordering::Equal => {
                let ((key, x), (_, y)) = (a.next().expect("peeked"), b.next().expect("peeked"));
                visit(key, Some(x), Some(y));
            }
        }
    }
}

fn hash_leaf(entries: &BTreeMap<Vec<u8>, Digest>) -> Digest {
    hash_entries(entries)
}

/// The hash of a leaf, or of a part of one, from its `(key, entry digest)`
/// pairs in key order; [`EMPTY`] when there are none.
pub(super) fn hash_entries<'a, K: AsRef<[u8]> + 'a>(
    entries: impl IntoIterator<Item = (K, &'a Digest)>,
) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_TAG]);
    let mut any = false;
    for (key, digest) in entries {
        let key = key.as_ref();
        hasher.update((key.len() as u64).to_be_bytes());
        hasher.update(key);
        hasher.update(digest);
        any = true;
    }
    if any {
        hasher.finalize().into()
    } else {
        EMPTY
    }
}

/// The first 8 bytes of SHA-256(key), big endian: chooses the key's leaf
/// (modulo the leaf count).
fn key_position(key: &[u8]) -> u64 {
    let hash = Sha256::digest(key);
    u64::from_be_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// Where a key sits below its leaf (see
/// [`MerkleTree::subtree`](super::MerkleTree::subtree)): FNV-1a over the
/// key, then MurmurHash3's 64-bit finalizer so that the top bits, which are
/// used first, depend on every byte. Fixed, so every replica and every
/// version agrees.
///
/// Not cryptographic, on purpose: a session computes it for every key of
/// every differing leaf at every level below the leaves, and SHA-256 there
/// cost about a quarter of a session's time (100,000 keys, 1 % differing,
/// depth 12: 46 ms against 34 ms). A position only decides which keys a
/// session compares together; keys crafted to share one merely make a
/// session list more keys at once (at most [`SUB_LEVELS_MAX`] levels
/// down), never hide a difference.
///
/// [`SUB_LEVELS_MAX`]: super::SUB_LEVELS_MAX
pub(super) fn sub_position(key: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in key {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

fn hash_node(left: &Digest, right: &Digest) -> Digest {
    if *left == EMPTY && *right == EMPTY {
        return EMPTY;
    }
    let mut hasher = Sha256::new();
    hasher.update([NODE_TAG]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}
