//! Lists, wants and deltas that a session holds back until they fill a
//! batch or nothing else is left to send.
//!
//! Why: the descent finds differing keys a few at a time — every level
//! lists some subtrees, and every list answered yields some wants and
//! deltas. Sent as found, they made dozens of small messages; held back,
//! they travel in a few full ones, which take fewer turns of the
//! stop-and-wait exchange and compress far better on the wire (zstd shares
//! context within a message only).

use super::super::message::{delta_size_bytes, subtree_size_bytes, want_size_bytes, Body};
use super::super::SubtreeEntries;
use super::AntiEntropySession;
use crate::merkle::Digest;

/// Items of one kind held back, with their estimated encoded size.
#[derive(Debug)]
struct Queue<T> {
    items: Vec<T>,
    bytes: usize,
    size: fn(&T) -> usize,
}

impl<T> Queue<T> {
    fn new(size: fn(&T) -> usize) -> Queue<T> {
        Queue { items: Vec::new(), bytes: 0, size }
    }

    fn extend(&mut self, items: Vec<T>) {
        self.bytes += items.iter().map(self.size).sum::<usize>();
        self.items.extend(items);
    }

    /// The held items in batches of at most `bytes_max` — all of them when
    /// `all`, else only the full batches (the rest stays held).
    fn take_batches(
        &mut self,
        all: bool,
        bytes_max: usize,
        order: impl FnOnce(&mut [T]),
    ) -> Vec<Vec<T>> {
        if !all && self.bytes < bytes_max {
            return Vec::new();
        }
        order(&mut self.items);
        let mut batches = chunk(std::mem::take(&mut self.items), bytes_max, self.size);
        self.bytes = 0;
        if !all {
            if let Some(last) = batches.pop() {
                self.extend(last);
            }
        }
        batches
    }
}

/// Everything a session holds back; see the module documentation.
#[derive(Debug)]
pub(super) struct Held {
    /// `(level, index, entries)` of subtrees to list to the peer.
    lists: Queue<(u8, u32, SubtreeEntries)>,
    /// `(key, this replica's digest)` of keys to ask the peer for.
    wants: Queue<(Vec<u8>, Option<Digest>)>,
    /// `(key, payload)` to ship to the peer.
    deltas: Queue<(Vec<u8>, Vec<u8>)>,
}

impl Default for Held {
    fn default() -> Held {
        Held {
            lists: Queue::new(|(_, _, entries)| subtree_size_bytes(entries)),
            wants: Queue::new(|(key, _)| want_size_bytes(key)),
            deltas: Queue::new(|(key, payload)| delta_size_bytes(key, payload)),
        }
    }
}

impl AntiEntropySession {
    pub(super) fn hold_lists(&mut self, lists: Vec<(u8, u32, SubtreeEntries)>) {
        self.held.lists.extend(lists);
        self.release_held(false);
    }

    pub(super) fn hold_wants(&mut self, wants: Vec<(Vec<u8>, Option<Digest>)>) {
        self.held.wants.extend(wants);
        self.release_held(false);
    }

    pub(super) fn hold_deltas(&mut self, deltas: Vec<(Vec<u8>, Vec<u8>)>) {
        self.held.deltas.extend(deltas);
        self.release_held(false);
    }

    /// Moves held items to the outbox: full batches only, or everything
    /// when `all` (when the outbox has run dry) — except that deltas wait
    /// while there are lists or wants to send: the peer answers those with
    /// wants of its own, and the deltas for them then join the same batch.
    ///
    /// Wants and deltas are sorted by key first: keys that share a prefix
    /// tend to hold values of one type and shape, so zstd finds more to
    /// share between neighbours than in the hash order of the tree. The
    /// order is free: every entry is one key, and `apply` is a join.
    pub(super) fn release_held(&mut self, all: bool) {
        let bytes_max = self.config.batch_bytes_max;
        for nodes in self.held.lists.take_batches(all, bytes_max, |_| ()) {
            self.outbox.push_back(Body::Keys { nodes });
        }
        for keys in self.held.wants.take_batches(all, bytes_max, |w| w.sort_unstable()) {
            self.outbox.push_back(Body::Want { keys });
        }
        let all = all && self.outbox.is_empty();
        let by_key = |d: &mut [(Vec<u8>, Vec<u8>)]| d.sort_unstable_by(|x, y| x.0.cmp(&y.0));
        for entries in self.held.deltas.take_batches(all, bytes_max, by_key) {
            self.outbox.push_back(Body::Deltas { entries });
        }
    }
}

/// Splits `items` into runs whose sizes sum to at most `bytes_max` (an
/// item larger than that travels alone).
pub(super) fn chunk<T>(items: Vec<T>, bytes_max: usize, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let item_bytes = size(&item);
        match chunks.last_mut() {
            Some(last) if bytes + item_bytes <= bytes_max => {
                last.push(item);
                bytes += item_bytes;
            }
            _ => {
                chunks.push(vec![item]);
                bytes = item_bytes;
            }
        }
    }
    chunks
}
