//! Tests of the Merkle tree: unit tests, then property tests.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

fn d(byte: u8) -> Digest {
    [byte; 32]
}

#[test]
fn empty_tree_has_empty_root_and_rejects_bad_depths() {
    let tree = MerkleTree::default();
    assert_eq!(tree.depth(), DEPTH_DEFAULT);
    assert_eq!(tree.leaf_count(), 4096);
    assert_eq!(tree.root(), EMPTY);
    assert!(tree.is_empty());
    assert_eq!(MerkleTree::new(0), Err(DepthError(0)));
    assert_eq!(MerkleTree::new(DEPTH_MAX + 1), Err(DepthError(DEPTH_MAX + 1)));
}

#[test]
fn upsert_and_remove_change_root_and_report_changes() {
    let mut tree = MerkleTree::new(6).unwrap();
    assert!(tree.upsert(b"a", d(1)));
    let root_a = tree.root();
    assert_ne!(root_a, EMPTY);
    assert!(!tree.upsert(b"a", d(1)), "same digest is no change");
    assert_eq!(tree.root(), root_a);
    assert!(tree.upsert(b"a", d(2)));
    assert_ne!(tree.root(), root_a);
    assert_eq!(tree.get(b"a"), Some(&d(2)));
    assert!(tree.remove(b"a"));
    assert!(!tree.remove(b"a"));
    assert_eq!(tree.root(), EMPTY, "removing the last key empties the tree");
    assert_eq!(tree.len(), 0);
}

#[test]
fn node_layout_matches_leaf_of() {
    let mut tree = MerkleTree::new(3).unwrap();
    tree.upsert(b"k", d(9));
    let leaf = tree.leaf_of(b"k");
    assert_ne!(tree.node(3, leaf), EMPTY);
    for other in (0..8).filter(|&l| l != leaf) {
        assert_eq!(tree.node(3, other), EMPTY);
    }
    let [left, right] = tree.children(2, leaf / 2);
    assert_eq!(if leaf.is_multiple_of(2) { left } else { right }, tree.node(3, leaf));
    assert_eq!(tree.leaf_entries(leaf).get(b"k".as_slice()), Some(&d(9)));
}

#[test]
fn differing_children_points_only_at_changed_subtrees() {
    let mut a = MerkleTree::new(4).unwrap();
    let b = a.clone();
    a.upsert(b"only-in-a", d(1));
    let leaf = a.leaf_of(b"only-in-a");
    // Walk down from the root: exactly one child differs at each level,
    // and it is the ancestor of the changed leaf.
    let mut index = 0;
    for level in 0..4u8 {
        let differing = a.differing_children(level, index, &b.children(level, index));
        let ancestor = leaf >> (4 - level - 1);
        assert_eq!(differing, vec![ancestor]);
        index = ancestor;
    }
}

#[test]
fn entry_digest_separates_fields() {
    let v = d(5);
    assert_ne!(entry_digest(b"ab", b"c", &v), entry_digest(b"a", b"bc", &v));
    assert_eq!(entry_digest(b"a", b"1", &v), entry_digest(b"a", b"1", &v));
}

#[test]
fn a_window_is_a_quarter_of_the_digest_chosen_by_the_session() {
    let digest: Digest = std::array::from_fn(|i| i as u8);
    for session in 0..64 {
        let partial = PartialDigest::of(&digest, session);
        let at = partial.offset();
        assert!(at.is_multiple_of(WINDOW_BYTES) && at < 32);
        assert_eq!(partial.window(), &digest[at..at + WINDOW_BYTES]);
        assert_eq!(window_of(&digest, session), *partial.window());
        assert!(partial.matches(&digest));
        // Another digest matches only if it agrees inside the window.
        let mut other = digest;
        other[(at + 8) % 32] ^= 1;
        assert!(partial.matches(&other), "a change outside the window is not seen");
        other[at] ^= 1;
        assert!(!partial.matches(&other));
    }
}

fn entries() -> impl Strategy<Value = BTreeMap<Vec<u8>, u8>> {
    prop::collection::btree_map(prop::collection::vec(any::<u8>(), 0..6), 0u8..4, 0..60)
}

fn build(depth: u8, entries: &BTreeMap<Vec<u8>, u8>) -> MerkleTree {
    let mut tree = MerkleTree::new(depth).unwrap();
    for (key, version) in entries {
        tree.upsert(key, d(*version));
    }
    tree
}

proptest! {
    // The property: the diff returns exactly the differing keys —
    // those only one side holds, plus those both hold with different digests.
    #[test]
    fn diff_returns_exactly_the_differing_keys(a in entries(), b in entries(), depth in 1u8..8) {
        let (ta, tb) = (build(depth, &a), build(depth, &b));
        let expected: BTreeSet<Vec<u8>> = a.keys().chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect();
        let diff = ta.diff(&tb);
        prop_assert_eq!(diff.iter().cloned().collect::<BTreeSet<_>>(), expected);
        prop_assert_eq!(diff.len(), diff.iter().collect::<BTreeSet<_>>().len(), "no duplicates");
        prop_assert_eq!(tb.diff(&ta), diff, "diff is symmetric");
        prop_assert_eq!(ta.root() == tb.root(), a == b);
    }

    // Incremental maintenance (upserts, overwrites, removals in any order)
    // yields the same tree as building the final contents from scratch.
    #[test]
    fn incremental_update_equals_rebuild(
        ops in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..4), prop::option::of(0u8..4)), 0..120),
        depth in 1u8..8,
    ) {
        let mut tree = MerkleTree::new(depth).unwrap();
        let mut model = BTreeMap::new();
        for (key, op) in &ops {
            match op {
                Some(version) => { tree.upsert(key, d(*version)); model.insert(key.clone(), d(*version)); }
                None => { tree.remove(key); model.remove(key); }
            }
        }
        let rebuilt = MerkleTree::from_entries(depth, model.clone()).unwrap();
        prop_assert_eq!(tree.root(), rebuilt.root());
        prop_assert_eq!(&tree, &rebuilt);
        prop_assert_eq!(tree.len(), model.len());
    }
}
