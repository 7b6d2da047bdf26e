//! Randomized round-robin choice of probe targets (SWIM §4.3).
//!
//! Picking each target uniformly at random detects a failure within an
//! expected number of periods but with no upper bound. SWIM instead walks
//! a random permutation of the members and reshuffles after each full
//! pass; a member joining mid-pass goes to a random place in the rest of
//! the pass. Every live member is then probed by each member at least once
//! every `2N - 1` periods. The list also serves as the population for
//! random picks (gossip targets, indirect probers).

use std::collections::BTreeSet;

use rand::Rng;

use super::member::Members;
use crate::{CoreRng, NodeId};

/// The current permutation and the position in it.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProbeOrder {
    order: Vec<NodeId>,
    next: usize,
    /// Ids in `order`, so that a member is listed once per pass.
    listed: BTreeSet<NodeId>,
}

/// Shuffles `items` in place (Fisher–Yates) with the core's RNG.
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut CoreRng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

impl ProbeOrder {
    /// Lists a member that became live, at a random place among those not
    /// yet probed in this pass.
    pub(crate) fn insert(&mut self, id: NodeId, rng: &mut CoreRng) {
        if !self.listed.insert(id) {
            return;
        }
        self.order.push(id);
        let last = self.order.len() - 1;
        let place = rng.random_range(self.next.min(last)..=last);
        self.order.swap(place, last);
    }

    /// The next live member to probe, reshuffling after a full pass; `None`
    /// when no other member is live.
    pub(crate) fn next(
        &mut self,
        members: &Members,
        me: NodeId,
        rng: &mut CoreRng,
    ) -> Option<NodeId> {
        let mut reshuffled = false;
        loop {
            if self.next >= self.order.len() {
                if reshuffled {
                    return None;
                }
                self.reshuffle(members, me, rng);
                reshuffled = true;
                continue;
            }
            let id = self.order[self.next];
            self.next += 1;
            if members.info(id).is_some_and(|m| m.state.is_live()) {
                return Some(id);
            }
        }
    }

    fn reshuffle(&mut self, members: &Members, me: NodeId, rng: &mut CoreRng) {
        self.order.clear();
        self.order.extend(
            members
                .values()
                .map(|m| &m.info)
                .filter(|m| m.id != me && m.state.is_live())
                .map(|m| m.id),
        );
        shuffle(&mut self.order, rng);
        self.listed = self.order.iter().copied().collect();
        self.next = 0;
    }

    /// Up to `count` distinct random listed members that pass `keep`.
    /// Tries random draws first (cheap in large clusters), then falls back
    /// to a full scan so small or sparse lists still yield all candidates.
    pub(crate) fn sample(
        &self,
        count: usize,
        rng: &mut CoreRng,
        keep: impl Fn(NodeId) -> bool,
    ) -> Vec<NodeId> {
        let mut picked: Vec<NodeId> = Vec::with_capacity(count);
        if self.order.is_empty() || count == 0 {
            return picked;
        }
        for _ in 0..4 * count + 16 {
            if picked.len() == count {
                return picked;
            }
            let id = self.order[rng.random_range(0..self.order.len())];
            if !picked.contains(&id) && keep(id) {
                picked.push(id);
            }
        }
        let mut rest: Vec<NodeId> =
            self.order.iter().copied().filter(|id| !picked.contains(id) && keep(*id)).collect();
        shuffle(&mut rest, rng);
        rest.truncate(count - picked.len());
        picked.extend(rest);
        picked
    }
}
