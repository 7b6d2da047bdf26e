//! Tests of [`MerkleTree::subtree`]: nodes at stored levels are the stored
//! ones, and nodes below the leaves form a consistent tree of their own.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn tree_of(depth: u8, keys: impl IntoIterator<Item = u32>) -> MerkleTree {
    MerkleTree::from_entries(depth, keys.into_iter().map(|k| (k.to_be_bytes(), [k as u8; 32])))
        .unwrap()
}

#[test]
fn stored_levels_are_the_stored_nodes() {
    let tree = tree_of(5, 0..200);
    for level in 0..5u8 {
        for index in 0..(1u32 << level) {
            let node = tree.subtree(level, index);
            assert_eq!(node.hash(), tree.node(level, index));
            assert_eq!(node.children(), tree.children(level, index));
        }
    }
    for leaf in 0..32 {
        let node = tree.subtree(5, leaf);
        assert_eq!(node.hash(), tree.node(5, leaf));
        assert_eq!(node.len_estimate(), tree.leaf_entries(leaf).len());
        let entries: Vec<_> =
            tree.leaf_entries(leaf).iter().map(|(k, d)| (k.as_slice(), d)).collect();
        assert_eq!(node.entries(), entries);
    }
    assert_eq!(tree.subtree(0, 0).entries().len(), 200);
    assert_eq!(tree.subtree(0, 0).len_estimate(), 200);
}

#[test]
fn levels_below_the_leaves_split_a_leaf_down_to_single_keys() {
    // One leaf of 300 keys.
    let tree = tree_of(1, 0..600);
    let busiest = (0..2).max_by_key(|&l| tree.leaf_entries(l).len()).unwrap();
    let mut level = 1;
    let mut index = busiest;
    // Follow the bigger child down: it shrinks roughly by half each level.
    while tree.subtree(level, index).len_estimate() > 1 {
        let [left, right] = [2 * index, 2 * index + 1].map(|c| tree.subtree(level + 1, c));
        index =
            if left.len_estimate() >= right.len_estimate() { left.index() } else { right.index() };
        level += 1;
        assert!(level <= tree.level_max());
    }
    assert!(level >= 9, "300 keys need ~9 halvings, took {}", level - 1);
    assert_eq!(tree.level_max(), 1 + SUB_LEVELS_MAX);
    assert_eq!(MerkleTree::new(DEPTH_MAX).unwrap().level_max(), LEVEL_MAX);
}

fn entries() -> impl Strategy<Value = BTreeMap<Vec<u8>, u8>> {
    prop::collection::btree_map(prop::collection::vec(any::<u8>(), 0..6), 0u8..4, 0..80)
}

proptest! {
    // Every node, stored or computed, is its children's union: the
    // children's hashes are the hashes of the child nodes, and its entries
    // are theirs, sorted. Down to 4 levels below the leaves.
    #[test]
    fn every_node_is_the_union_of_its_children(contents in entries(), depth in 1u8..5) {
        let tree = MerkleTree::from_entries(depth, contents.iter().map(|(k, v)| (k.clone(), [*v; 32]))).unwrap();
        for level in 0..depth + 4 {
            for index in 0..(1u32 << level) {
                let node = tree.subtree(level, index);
                let kids = [2 * index, 2 * index + 1].map(|c| tree.subtree(level + 1, c));
                prop_assert_eq!(node.children(), [kids[0].hash(), kids[1].hash()]);
                for (kid, right) in kids.iter().zip([false, true]) {
                    let cut = node.child(right);
                    prop_assert_eq!((cut.level(), cut.index()), (kid.level(), kid.index()));
                    prop_assert_eq!(cut.entries(), kid.entries());
                    prop_assert_eq!(cut.hash(), kid.hash());
                }
                let mut union: Vec<_> = kids.iter().flat_map(|k| k.entries()).collect();
                union.sort_unstable();
                prop_assert_eq!(node.entries(), union);
                if level >= depth {
                    prop_assert_eq!(node.len_estimate(), node.entries().len());
                    prop_assert_eq!(node.hash() == EMPTY, node.entries().is_empty());
                }
            }
        }
    }
}
