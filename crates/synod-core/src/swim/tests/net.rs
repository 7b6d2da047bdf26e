//! A tiny deterministic network of [`Swim`] members for the tests.
//!
//! Node `i` has id `i + 1` and address [`addr(i)`]. Datagrams are
//! delivered after a latency drawn from `latency_ms` (seeded), unless the
//! directed link is cut, an end is down, `filter` drops (or rewrites)
//! them, or they fall into the random `loss_percent`. Push-pull exchanges complete at once when both directions of the
//! link work. Time moves only through [`Net::run_until`] / [`Net::run_for`].
//! Every datagram is checked against `datagram_bytes_max`.

use crate::swim::Address;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::{Rng, SeedableRng};

use super::super::{
    Effect, MemberEvent, MemberInfo, MemberState, Message, Metadata, Swim, SwimConfig,
};
use crate::{CoreRng, NodeId, Time};

/// Decides the fate of a datagram `(from, to, msg)`: `false` drops it; it
/// may also rewrite the message.
pub(crate) type Filter = Box<dyn FnMut(usize, usize, &mut Message) -> bool>;

/// The address of node `i`.
pub(crate) fn addr(i: usize) -> Address {
    let n = i + 1;
    Address::from_ipv4([10, 0, (n >> 8) as u8, (n & 0xff) as u8], 7946)
}

/// The id of node `i`.
pub(crate) fn id(i: usize) -> NodeId {
    NodeId(i as u64 + 1)
}

fn index_of(addr: Address) -> Option<usize> {
    let [_, _, hi, lo] = addr.ipv4()?;
    (usize::from(hi) << 8 | usize::from(lo)).checked_sub(1)
}

/// One member and what it did.
pub(crate) struct Node {
    pub(crate) swim: Swim,
    pub(crate) up: bool,
    pub(crate) events: Vec<(Time, MemberEvent)>,
    /// Every datagram it sent: `(time, destination, message)`.
    pub(crate) sent: Vec<(Time, usize, Message)>,
    pub(crate) leave_done: Option<Time>,
}

/// The network.
pub(crate) struct Net {
    pub(crate) nodes: Vec<Node>,
    pub(crate) now: Time,
    /// Directed links that drop everything.
    pub(crate) cut: BTreeSet<(usize, usize)>,
    /// Inclusive range of one-way latencies.
    pub(crate) latency_ms: (u64, u64),
    /// Percentage of datagrams lost at random.
    pub(crate) loss_percent: u32,
    pub(crate) filter: Option<Filter>,
    queue: BTreeMap<(Time, u64), (usize, usize, Message)>,
    sequence: u64,
    rng: CoreRng,
    work: VecDeque<usize>,
}

impl Net {
    /// `n` members with `config` and seed `seed`; nobody has joined yet.
    pub(crate) fn new(n: usize, config: &SwimConfig, seed: u64) -> Net {
        let nodes = (0..n)
            .map(|i| {
                let meta = Metadata::new(format!("node-{i}").into_bytes());
                Node {
                    swim: Swim::new(config.clone(), id(i), addr(i), meta, seed),
                    up: true,
                    events: Vec::new(),
                    sent: Vec::new(),
                    leave_done: None,
                }
            })
            .collect();
        Net {
            nodes,
            now: Time(0),
            cut: BTreeSet::new(),
            latency_ms: (1, 1),
            loss_percent: 0,
            filter: None,
            queue: BTreeMap::new(),
            sequence: 0,
            rng: CoreRng::seed_from_u64(seed),
            work: VecDeque::new(),
        }
    }

    /// `n` members that joined through node 0, ran until every member
    /// knows every other alive (gossip, then push-pull at the latest),
    /// and then at least `settle_ms` in all.
    pub(crate) fn joined(n: usize, config: &SwimConfig, seed: u64, settle_ms: u64) -> Net {
        let mut net = Net::new(n, config, seed);
        net.join_all();
        let limit = Time(2 * config.push_pull_interval_ms);
        assert!(net.run_until_cond(limit, Net::converged), "seed {seed}: no convergence");
        net.run_until(Time(settle_ms));
        net
    }

    /// Whether every up member sees every up member alive.
    pub(crate) fn converged(&self) -> bool {
        let up: Vec<usize> = (0..self.nodes.len()).filter(|i| self.nodes[*i].up).collect();
        up.iter().all(|i| up.iter().all(|j| self.state(*i, *j) == Some(MemberState::Alive)))
    }

    /// Node 0 starts the cluster; every other node joins through it.
    pub(crate) fn join_all(&mut self) {
        let now = self.now;
        self.nodes[0].swim.join(&[], now);
        self.pump(0);
        for i in 1..self.nodes.len() {
            self.nodes[i].swim.join(&[addr(0)], now);
            self.pump(i);
        }
    }

    /// Runs for `ms` milliseconds.
    pub(crate) fn run_for(&mut self, ms: u64) {
        self.run_until(self.now.plus_ms(ms));
    }

    /// Delivers datagrams and fires timers in time order up to `end`.
    pub(crate) fn run_until(&mut self, end: Time) {
        loop {
            let next_msg = self.queue.keys().next().map(|(at, _)| *at);
            let next_timer =
                self.nodes.iter().filter(|n| n.up).filter_map(|n| n.swim.next_deadline()).min();
            let Some(next) = next_msg.into_iter().chain(next_timer).min() else { break };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            self.step();
        }
        self.now = self.now.max(end);
    }

    /// Runs until `done` holds (checked after every step) or `limit` passes;
    /// returns whether it held.
    pub(crate) fn run_until_cond(&mut self, limit: Time, done: impl Fn(&Net) -> bool) -> bool {
        while self.now < limit {
            if done(self) {
                return true;
            }
            let next = self.now.plus_ms(1);
            self.run_until(next);
        }
        done(self)
    }

    fn step(&mut self) {
        let now = self.now;
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (from, to, msg) = entry.remove();
            if self.nodes[to].up {
                self.nodes[to].swim.handle_message(addr(from), msg, now);
                self.pump(to);
            }
        }
        for i in 0..self.nodes.len() {
            let node = &mut self.nodes[i];
            if node.up && node.swim.next_deadline().is_some_and(|at| at <= now) {
                node.swim.handle_timeout(now);
                self.pump(i);
            }
        }
    }

    /// Carries out the effects of node `i` and of every node they reach.
    pub(crate) fn pump(&mut self, i: usize) {
        self.work.push_back(i);
        while let Some(i) = self.work.pop_front() {
            for effect in self.nodes[i].swim.take_effects() {
                self.carry_out(i, effect);
            }
        }
    }

    fn carry_out(&mut self, i: usize, effect: Effect) {
        let now = self.now;
        match effect {
            Effect::Send { to, mut msg } => {
                let max = self.nodes[i].swim.config().datagram_bytes_max;
                assert!(msg.size_bytes() <= max, "oversized datagram {msg:?}");
                let Some(j) = index_of(to).filter(|j| *j < self.nodes.len()) else { return };
                self.nodes[i].sent.push((now, j, msg.clone()));
                let passes = self.filter.as_mut().is_none_or(|f| f(i, j, &mut msg));
                let lost =
                    self.loss_percent > 0 && self.rng.random_range(0..100) < self.loss_percent;
                if self.nodes[i].up && !self.cut.contains(&(i, j)) && passes && !lost {
                    let latency = self.rng.random_range(self.latency_ms.0..=self.latency_ms.1);
                    self.sequence += 1;
                    self.queue.insert((now.plus_ms(latency), self.sequence), (i, j, msg));
                }
            }
            Effect::PushPull { to } => {
                let Some(j) = index_of(to).filter(|j| *j < self.nodes.len()) else { return };
                let reachable = !self.cut.contains(&(i, j)) && !self.cut.contains(&(j, i));
                if j == i || !self.nodes[j].up || !reachable {
                    return;
                }
                let request = self.nodes[i].swim.push_pull_state();
                self.nodes[j].swim.merge_push_pull(addr(i), request, now);
                let answer = self.nodes[j].swim.push_pull_state();
                self.nodes[i].swim.merge_push_pull(addr(j), answer, now);
                self.work.push_back(j);
                self.work.push_back(i);
            }
            Effect::Event(event) => self.nodes[i].events.push((now, event)),
            Effect::LeaveDone => self.nodes[i].leave_done = Some(now),
        }
    }

    /// Node `i` stops: it neither receives nor fires timers.
    pub(crate) fn crash(&mut self, i: usize) {
        self.nodes[i].up = false;
    }

    /// Cuts both directions between `a` and `b`.
    pub(crate) fn cut_link(&mut self, a: usize, b: usize) {
        self.cut.insert((a, b));
        self.cut.insert((b, a));
    }

    /// Cuts every link into `i`.
    pub(crate) fn cut_inbound(&mut self, i: usize) {
        for j in 0..self.nodes.len() {
            self.cut.insert((j, i));
        }
    }

    /// Restores every link and removes the filter.
    pub(crate) fn heal(&mut self) {
        self.cut.clear();
        self.filter = None;
    }

    /// Node `observer`'s view of node `subject`.
    pub(crate) fn view(&self, observer: usize, subject: usize) -> Option<&MemberInfo> {
        self.nodes[observer].swim.member(id(subject))
    }

    /// Node `observer`'s view of node `subject`'s state.
    pub(crate) fn state(&self, observer: usize, subject: usize) -> Option<MemberState> {
        self.view(observer, subject).map(|m| m.state)
    }

    /// Times at which `observer` reported an event about `subject` that
    /// `pick` selects.
    pub(crate) fn event_times(
        &self,
        observer: usize,
        subject: usize,
        pick: impl Fn(&MemberEvent) -> bool,
    ) -> Vec<Time> {
        let events = &self.nodes[observer].events;
        events
            .iter()
            .filter(|(_, e)| e.member().id == id(subject) && pick(e))
            .map(|e| e.0)
            .collect()
    }

    /// Every event of kind `pick` reported by any node.
    pub(crate) fn all_events(
        &self,
        pick: impl Fn(&MemberEvent) -> bool,
    ) -> Vec<(usize, Time, &MemberEvent)> {
        let mut found = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for (at, event) in &node.events {
                if pick(event) {
                    found.push((i, *at, event));
                }
            }
        }
        found
    }
}
