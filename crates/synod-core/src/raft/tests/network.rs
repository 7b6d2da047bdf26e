//! The test network and clock: delivery, partitions and timers.

use super::{n, Cluster};
use crate::raft::{Message, Raft};
use crate::{Term, Time};

/// Upper bound on deliveries in one `deliver_all`, to catch livelocks.
const DELIVERIES_MAX: usize = 100_000;

impl Cluster {
    fn passes(&self, msg: &Message) -> bool {
        self.nodes.contains_key(&msg.to)
            && !self.cut.contains(&(msg.from, msg.to))
            && self.filter.as_ref().is_none_or(|f| f(msg))
    }

    /// Delivers (or drops) the oldest queued message; false if none.
    pub fn step(&mut self) -> bool {
        let Some(msg) = self.queue.pop_front() else {
            return false;
        };
        if self.passes(&msg) {
            let (to, now) = (msg.to.0, self.now);
            self.node_mut(to).handle_message(msg, now);
            self.collect(to);
        }
        true
    }

    /// Delivers queued messages, and those they cause, until none is left.
    pub fn deliver_all(&mut self) {
        for _ in 0..DELIVERIES_MAX {
            if !self.step() {
                return;
            }
        }
        panic!("messages still flowing after {DELIVERIES_MAX} deliveries");
    }

    /// Advances time to `id`'s next deadline (not firing anyone else's)
    /// and fires it.
    pub fn fire(&mut self, id: u64) {
        let at = self.node(id).next_deadline().expect("node has a timer");
        self.now = self.now.max(at);
        let now = self.now;
        self.node_mut(id).handle_timeout(now);
        self.collect(id);
    }

    /// Fires `id`'s election timer until it leads; returns its term.
    pub fn elect(&mut self, id: u64) -> Term {
        for _ in 0..5 {
            self.fire(id);
            self.deliver_all();
            if self.node(id).is_leader() {
                return self.node(id).term();
            }
        }
        panic!("n{id} did not become leader");
    }

    /// Runs the whole cluster for `ms`: every due timer fires, messages
    /// are delivered instantly in between.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now.plus_ms(ms);
        self.run_until(end, |_| false);
    }

    /// Runs until `done` holds (checked after every firing) or `end`;
    /// returns whether `done` held.
    pub fn run_until(&mut self, end: Time, done: impl Fn(&Cluster) -> bool) -> bool {
        loop {
            self.deliver_all();
            if done(self) {
                return true;
            }
            let next = self.nodes.values().filter_map(Raft::next_deadline).min();
            match next {
                Some(at) if at <= end => self.now = self.now.max(at),
                _ => {
                    self.now = self.now.max(end);
                    return false;
                }
            }
            let due: Vec<u64> = (self.nodes.iter())
                .filter(|(_, r)| r.next_deadline().is_some_and(|at| at <= self.now))
                .map(|(id, _)| id.0)
                .collect();
            for id in due {
                let now = self.now;
                self.node_mut(id).handle_timeout(now);
                self.collect(id);
            }
        }
    }

    /// Cuts both directions between `a` and `b`.
    pub fn cut(&mut self, a: u64, b: u64) {
        self.cut.insert((n(a), n(b)));
        self.cut.insert((n(b), n(a)));
    }

    /// Cuts `id` off from every other node.
    pub fn isolate(&mut self, id: u64) {
        let others: Vec<u64> = self.configs.keys().map(|p| p.0).filter(|p| *p != id).collect();
        for other in others {
            self.cut(id, other);
        }
    }

    /// Restores every link and removes the filter.
    pub fn heal(&mut self) {
        self.cut.clear();
        self.filter = None;
    }
}
