//! The queue of updates waiting to be disseminated (SWIM §4.1).
//!
//! Each update is sent a bounded number of times — `λ log N`, see
//! [`SwimConfig::retransmit_limit`](super::SwimConfig::retransmit_limit) —
//! piggybacked on protocol messages or sent by the gossip tick, and then
//! dropped: infection-style dissemination reaches everyone with high
//! probability after `O(log N)` rounds, and retransmitting longer only
//! costs bandwidth. The least-sent updates go first (newest first among
//! equals), so fresh news overtakes news that has already spread.
//!
//! The queue holds one update per member: a newer fact about a member
//! replaces the older one, which keeps the queue bounded by the member
//! table.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::message::Update;
use crate::NodeId;

#[derive(Clone, Debug)]
struct Queued {
    update: Update,
    transmits: u32,
    order: u64,
}

/// Pending broadcasts, at most one per member.
#[derive(Clone, Debug, Default)]
pub(crate) struct BroadcastQueue {
    by_subject: BTreeMap<NodeId, Queued>,
    /// `(transmits, newest first, subject)`: the order updates are picked in.
    priority: BTreeSet<(u32, Reverse<u64>, NodeId)>,
    next_order: u64,
}

/// The smallest update; below this much room nothing else can fit.
fn smallest_update_bytes() -> usize {
    Update::Left { id: NodeId(0), incarnation: 0 }.size_bytes()
}

impl BroadcastQueue {
    /// Queues `update`, replacing any pending update about the same member.
    pub(crate) fn push(&mut self, update: Update) {
        let subject = update.subject();
        self.remove(subject);
        let order = self.next_order;
        self.next_order += 1;
        self.priority.insert((0, Reverse(order), subject));
        self.by_subject.insert(subject, Queued { update, transmits: 0, order });
    }

    /// Drops the pending update about `subject`, if any.
    pub(crate) fn remove(&mut self, subject: NodeId) {
        if let Some(old) = self.by_subject.remove(&subject) {
            self.priority.remove(&(old.transmits, Reverse(old.order), subject));
        }
    }

    /// Whether an update about `subject` is still pending.
    pub(crate) fn contains(&self, subject: NodeId) -> bool {
        self.by_subject.contains_key(&subject)
    }

    /// The pending update about `subject`.
    #[cfg(test)]
    pub(crate) fn get(&self, subject: NodeId) -> Option<&Update> {
        self.by_subject.get(&subject).map(|q| &q.update)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_subject.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_subject.is_empty()
    }

    /// Takes the least-sent updates that fit in `budget_bytes` together,
    /// skipping `exclude`, counts one transmission for each, and drops
    /// those that reached `limit` transmissions.
    pub(crate) fn select(
        &mut self,
        budget_bytes: usize,
        limit: u32,
        exclude: Option<NodeId>,
    ) -> Vec<Update> {
        let mut room = budget_bytes;
        let mut picked = Vec::new();
        for &(transmits, order, subject) in &self.priority {
            if room < smallest_update_bytes() {
                break;
            }
            if Some(subject) == exclude {
                continue;
            }
            let size = self.by_subject[&subject].update.size_bytes();
            if size <= room {
                room -= size;
                picked.push((transmits, order, subject));
            }
        }
        let mut updates = Vec::with_capacity(picked.len());
        for key in picked {
            self.priority.remove(&key);
            let (transmits, order, subject) = key;
            let queued = self.by_subject.get_mut(&subject).expect("priority and map agree");
            updates.push(queued.update.clone());
            queued.transmits = transmits + 1;
            if queued.transmits >= limit {
                self.by_subject.remove(&subject);
            } else {
                self.priority.insert((transmits + 1, order, subject));
            }
        }
        updates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(id: u64, incarnation: u64) -> Update {
        Update::Left { id: NodeId(id), incarnation }
    }

    #[test]
    fn each_update_is_sent_at_most_limit_times() {
        let mut queue = BroadcastQueue::default();
        queue.push(left(1, 0));
        queue.push(left(2, 0));
        let mut sent = 0;
        for _ in 0..10 {
            sent += queue.select(1_000, 3, None).len();
        }
        assert_eq!(sent, 6);
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn least_sent_and_newest_go_first_within_the_budget() {
        let mut queue = BroadcastQueue::default();
        queue.push(left(1, 0));
        queue.push(left(2, 0));
        let one = left(1, 0).size_bytes();
        assert_eq!(queue.select(one, 5, None), vec![left(2, 0)], "newest first");
        assert_eq!(queue.select(one, 5, None), vec![left(1, 0)], "then the least sent");
        queue.push(left(3, 0));
        assert_eq!(queue.select(one, 5, None), vec![left(3, 0)]);
        assert_eq!(queue.select(one, 5, Some(NodeId(3))), vec![left(2, 0)], "3 is excluded");
    }

    #[test]
    fn newer_update_replaces_older_about_same_member() {
        let mut queue = BroadcastQueue::default();
        queue.push(left(1, 0));
        queue.select(1_000, 5, None);
        queue.push(left(1, 7));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.get(NodeId(1)), Some(&left(1, 7)));
        // The replacement starts over with a full retransmit budget.
        let sent: usize = (0..10).map(|_| queue.select(1_000, 5, None).len()).sum();
        assert_eq!(sent, 5);
    }
}
