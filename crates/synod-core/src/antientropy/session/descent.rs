//! The descent of a session: compare windows of child hashes level by
//! level, list a subtree's keys once that is cheaper than descending
//! further, and answer a list with wants and deltas.

use std::collections::BTreeMap;

use super::super::message::{key_size_bytes, Body, SubtreeEntries, CHILDREN_ENTRY_BYTES};
use super::held::chunk;
use super::{AntiEntropySession, SessionError};
use crate::antientropy::Replica;
use crate::merkle::{merge_by_key, window_of, MerkleTree, PartialDigest, Subtree, Window};

/// Subtrees of more keys than this are never listed: counting the bytes of
/// a list needs the keys themselves, so only small subtrees are weighed.
const LIST_KEYS_MAX: usize = 4;

/// Whether the peer should get `node`'s keys rather than its children.
///
/// The model: one of the node's `n` keys differs (the common case at the
/// bottom of a descent), listing costs `k` bytes per key, a `Children`
/// entry `C` bytes. Descending costs `C` and leads to listing the differing
/// key's child, which holds that key and on average half of the others:
/// `C + k (n + 1) / 2`, against `n k` for listing now. So list when
/// `(n - 1) k <= 2 C`: always a single key, two keys unless they are long.
/// Above the leaves the count is only an estimate, and a list is chosen
/// there only for an (estimated) single key — the list itself is exact.
fn list_is_cheaper(tree: &MerkleTree, node: &Subtree<'_>) -> bool {
    let keys = node.len_estimate();
    if keys <= 1 {
        return true;
    }
    if node.level() < tree.depth() || keys > LIST_KEYS_MAX {
        return false;
    }
    let list_bytes: usize = node.entries().iter().map(|(key, _)| key_size_bytes(key)).sum();
    // (n - 1) k <= 2 C, with k the mean of the keys' sizes.
    list_bytes * (keys - 1) <= 2 * CHILDREN_ENTRY_BYTES * keys
}

impl AntiEntropySession {
    /// Queues what the peer needs to compare `nodes`, all at `level`: the
    /// windows of each node's child hashes, or its keys when listing them
    /// is cheaper (always at the deepest level).
    pub(super) fn open(&mut self, tree: &MerkleTree, level: u8, nodes: Vec<Subtree<'_>>) {
        let session = self.session;
        let mut children = Vec::new();
        let mut lists: Vec<(u8, u32, SubtreeEntries)> = Vec::new();
        for node in nodes {
            assert_eq!(node.level(), level, "nodes opened together share a level");
            if level == tree.level_max() || list_is_cheaper(tree, &node) {
                let entries = node.entries().into_iter();
                let entries = entries.map(|(k, d)| (k.to_vec(), window_of(d, session))).collect();
                lists.push((level, node.index(), entries));
            } else {
                let [left, right] = node.children();
                children
                    .push((node.index(), [window_of(&left, session), window_of(&right, session)]));
            }
        }
        let bytes_max = self.config.batch_bytes_max;
        for nodes in chunk(children, bytes_max, |_| CHILDREN_ENTRY_BYTES) {
            self.outbox.push_back(Body::Children { level, nodes });
        }
        self.hold_lists(lists);
    }

    /// The peer's child windows of `nodes` at `level`: open the children
    /// whose windows differ from this replica's.
    pub(super) fn step_children(
        &mut self,
        tree: &MerkleTree,
        level: u8,
        nodes: Vec<(u32, [Window; 2])>,
    ) -> Result<(), SessionError> {
        if level >= tree.level_max() || nodes.iter().any(|(i, _)| u64::from(*i) >> level != 0) {
            return Err(self.violation(&format!("bad node at level {level}")));
        }
        let session = self.session;
        let mut differing = Vec::new();
        for (index, theirs) in nodes {
            let node = tree.subtree(level, index);
            let mine = node.children();
            for (right, (mine, theirs)) in [false, true].into_iter().zip(mine.iter().zip(theirs)) {
                if window_of(mine, session) != theirs {
                    differing.push(node.child(right));
                }
            }
        }
        self.open(tree, level + 1, differing);
        Ok(())
    }

    /// The peer's keys below `nodes` at `level`: ship this replica's state
    /// for every key the peer lacks or shows another window for, and want
    /// the peer's state for every key this replica lacks or holds
    /// differently (with its full entry digest, so that the peer can find
    /// a delta).
    pub(super) fn step_keys<R: Replica>(
        &mut self,
        replica: &R,
        nodes: Vec<(u8, u32, SubtreeEntries)>,
    ) -> Result<(), SessionError> {
        let tree = replica.tree();
        if let Some((level, index, _)) =
            nodes.iter().find(|(l, i, _)| *l > tree.level_max() || u64::from(*i) >> *l != 0)
        {
            return Err(self.violation(&format!("bad subtree {index} at level {level}")));
        }
        let session = self.session;
        let mut want = Vec::new();
        let mut ship = Vec::new();
        for (level, index, theirs) in nodes {
            // Sorted, and a key listed twice by a faulty peer counts once.
            let theirs: BTreeMap<Vec<u8>, Window> = theirs.into_iter().collect();
            let mine = tree.subtree(level, index).entries();
            let theirs = theirs.iter().map(|(key, window)| (key.as_slice(), window));
            merge_by_key(mine, theirs, |key, mine, theirs| match (mine, theirs) {
                (Some(_), None) => {
                    ship.extend(replica.delta_for(key, None).map(|p| (key.to_vec(), p)))
                }
                (None, Some(_)) => want.push((key.to_vec(), None)),
                (Some(digest), Some(window)) if window_of(digest, session) != *window => {
                    let peer = PartialDigest::new(session, *window);
                    ship.extend(replica.delta_for_partial(key, &peer).map(|p| (key.to_vec(), p)));
                    want.push((key.to_vec(), Some(*digest)));
                }
                _ => {}
            });
        }
        self.hold_wants(want);
        self.hold_deltas(ship);
        Ok(())
    }
}
