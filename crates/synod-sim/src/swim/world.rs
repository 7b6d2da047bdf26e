//! The SWIM simulation loop: members' timers, datagrams and push-pull
//! exchanges through the simulated network, starvation of the slow
//! member, crashes, and the checkers fed with every membership event.
//! The scenarios themselves are in `scenario.rs`, what members' events
//! tell the checkers in `observe.rs`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::swim::{Effect, MemberInfo, MemberState, Message, PushPull};
use synod_core::Time;

use super::checker::{Views, Violation};
use super::network::{
    addr, index_of, index_of_id, node_id, push_pull_bytes, Event, EventQueue, Network,
};
use super::node::{metadata, SimNode};
use super::params::{SimBug, SwimParams};
use super::report::{FalseDead, Traffic};

/// Members introduced to every member per feed step of the bootstrap.
pub(super) const FEED_CHUNK: usize = 10;
/// Time between two feed steps.
pub(super) const FEED_INTERVAL_MS: u64 = 1_000;

/// The partition scenario's phases, for counting deaths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PartitionPhase {
    /// No partition in this run (or not yet).
    None,
    /// The cluster is split.
    Split,
    /// Healed: deaths now still stem from the partition — the far side's
    /// fresh "dead" verdicts crossing over, lone suspicions raised during
    /// the split that nobody heard and that expire after it.
    Healed,
}

/// Which observers know the metadata update being spread.
#[derive(Debug)]
pub(super) struct SpreadWatch {
    pub(super) subject: usize,
    pub(super) version: u64,
    pub(super) known: Vec<bool>,
    pub(super) count: usize,
}

/// The crash being detected.
#[derive(Debug)]
pub(super) struct CrashWatch {
    pub(super) node: usize,
    pub(super) at: u64,
    pub(super) first_suspect: Option<u64>,
    pub(super) first_dead: Option<u64>,
}

/// One seeded SWIM run.
#[derive(Debug)]
pub struct Simulation {
    pub(super) params: SwimParams,
    pub(super) rng: ChaCha8Rng,
    /// Lateness of the starved member's timers: its own stream, so the
    /// starvation does not depend on the protocol variant's traffic.
    starve_rng: ChaCha8Rng,
    pub(super) now: u64,
    queue: EventQueue,
    pub(super) network: Network,
    pub(super) nodes: Vec<SimNode>,
    pub(super) views: Views,
    pub(super) traffic: Traffic,
    pub(super) false_dead: FalseDead,
    /// Whether false deads and suspicions are counted (after the warm-up).
    pub(super) counting: bool,
    /// Where the partition scenario is: deaths are counted by phase.
    pub(super) partition: PartitionPhase,
    pub(super) last_gossip_at: u64,
    /// The bootstrap feed is still introducing members: push-pull is
    /// refused meanwhile, or it would introduce them all at once.
    feeding: bool,
    pub(super) spread: Option<SpreadWatch>,
    pub(super) crash: Option<CrashWatch>,
    /// The first violation seen while handling an event.
    pub(super) violation: Option<Violation>,
}

impl Simulation {
    /// Builds the run of `params`: `nodes` members that know nobody yet.
    pub fn new(params: SwimParams) -> Result<Simulation, Violation> {
        params.validate().map_err(|e| Violation { property: "params", detail: e.0 })?;
        let n = params.nodes;
        let nodes = (0..n).map(|i| SimNode::new(i, &params.config, params.seed)).collect();
        Ok(Simulation {
            rng: ChaCha8Rng::seed_from_u64(params.seed.wrapping_add(0x51A1_0001)),
            starve_rng: ChaCha8Rng::seed_from_u64(params.seed.wrapping_add(0x51A1_0002)),
            now: 0,
            queue: EventQueue::default(),
            network: Network::new(params.delay_ms),
            nodes,
            views: Views::new(n),
            traffic: Traffic::default(),
            false_dead: FalseDead::default(),
            counting: false,
            partition: PartitionPhase::None,
            last_gossip_at: 0,
            feeding: true,
            spread: None,
            crash: None,
            violation: None,
            params,
        })
    }

    /// Starts every member knowing only itself, and schedules the feed
    /// that introduces the cluster to every member, [`FEED_CHUNK`] members
    /// per [`FEED_INTERVAL_MS`], through push-pull merges — as a cluster
    /// growing by ten members a second would see it. Each member learned
    /// queues one `Alive` broadcast; fed gradually, the queues stay short.
    /// (One full-view merge per member would be as legal, but would queue
    /// N broadcasts at every member at once, and the core scans its queue
    /// once per datagram, which makes a 1,000-member warm-up cost minutes.)
    /// Push-pull is refused until the feed is done, or the members'
    /// first exchanges would introduce everyone at once.
    pub(super) fn bootstrap(&mut self) {
        let n = self.nodes.len();
        for node in &mut self.nodes {
            node.swim.join(&[], Time(0));
        }
        for i in 0..n {
            self.schedule_timer(i);
        }
        for chunk in 0..n.div_ceil(FEED_CHUNK) {
            self.queue.push(chunk as u64 * FEED_INTERVAL_MS, Event::Feed(chunk));
        }
    }

    /// Hands every member the views of the members of `chunk`.
    fn feed(&mut self, chunk: usize) {
        let n = self.nodes.len();
        self.feeding = (chunk + 1) * FEED_CHUNK < n;
        let members: Vec<MemberInfo> = (chunk * FEED_CHUNK..((chunk + 1) * FEED_CHUNK).min(n))
            .map(|i| MemberInfo {
                id: node_id(i),
                addr: addr(i),
                state: MemberState::Alive,
                incarnation: 0,
                meta: metadata(i, 0),
            })
            .collect();
        for i in 0..n {
            let Some(from) = members.iter().map(|m| index_of_id(m.id)).find(|&f| f != i) else {
                continue;
            };
            let view = PushPull { from: node_id(from), members: members.clone() };
            self.nodes[i].swim.merge_push_pull(addr(from), view, Time(self.now));
            self.process_effects(i);
        }
    }

    /// When the feed has introduced every member to every member.
    pub(super) fn feed_end_ms(&self) -> u64 {
        (self.nodes.len().div_ceil(FEED_CHUNK) as u64 - 1) * FEED_INTERVAL_MS
    }

    /// Processes events until `done` holds or the next event is after
    /// `deadline` (then time moves to the deadline). Returns whether
    /// `done` holds; fails at the first violation.
    pub(super) fn run_until(
        &mut self,
        deadline: u64,
        done: impl Fn(&Simulation) -> bool,
    ) -> Result<bool, Violation> {
        loop {
            if done(self) {
                return Ok(true);
            }
            match self.queue.peek_at() {
                Some(at) if at <= deadline => {
                    let (at, event) = self.queue.pop().expect("peeked");
                    self.now = at;
                    self.handle(event);
                    if let Some(v) = self.violation.take() {
                        return Err(v);
                    }
                }
                _ => {
                    self.now = self.now.max(deadline);
                    return Ok(done(self));
                }
            }
        }
    }

    /// Runs until `deadline` whatever happens.
    pub(super) fn run_for(&mut self, ms: u64) -> Result<(), Violation> {
        self.run_until(self.now + ms, |_| false).map(|_| ())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Event::Feed(chunk) => self.feed(chunk),
            Event::Timer(n) => self.timer(n),
            Event::LateTimer(n) => {
                self.nodes[n].late_timer = false;
                self.fire_timers(n);
            }
            Event::StarveStart { node, until } => {
                self.nodes[node].starved_until = Some(until);
                self.queue.push(until, Event::StarveEnd(node));
            }
            Event::StarveEnd(n) => self.end_starvation(n),
            Event::PushPullRequest { from, to, state } => self.push_pull_request(from, to, state),
            Event::PushPullResponse { from, to, state } => {
                if self.network.is_cut(from, to) || !self.nodes[to].is_responsive(self.now) {
                    self.traffic.push_pulls_failed += 1;
                    return;
                }
                self.nodes[to].swim.merge_push_pull(addr(from), state, Time(self.now));
                self.process_effects(to);
            }
        }
    }

    fn timer(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if node.crashed || node.timer_at != Some(Time(self.now)) {
            return; // crashed, or superseded by an earlier deadline
        }
        node.timer_at = None;
        if node.is_starved(self.now) {
            // Starved: the timer still fires, a little late.
            let lag = self.starve_rng.random_range(0..=self.params.starvation.timer_lag_ms_max);
            node.late_timer = true;
            self.queue.push(self.now + lag, Event::LateTimer(n));
            return;
        }
        self.fire_timers(n);
    }

    fn fire_timers(&mut self, n: usize) {
        if self.nodes[n].crashed {
            return;
        }
        self.nodes[n].swim.handle_timeout(Time(self.now));
        self.process_effects(n);
    }

    /// Schedules a `Timer` event at member `n`'s next deadline unless one
    /// at that time or earlier is pending.
    fn schedule_timer(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if node.crashed || node.late_timer {
            return;
        }
        let Some(deadline) = node.swim.next_deadline() else { return };
        let at = Time(deadline.0.max(self.now));
        if node.timer_at.is_none_or(|t| at < t) {
            node.timer_at = Some(at);
            self.queue.push(at.0, Event::Timer(n));
        }
    }

    fn deliver(&mut self, from: usize, to: usize, msg: Message) {
        if self.network.is_cut(from, to) {
            self.traffic.lost += 1;
            return;
        }
        let node = &mut self.nodes[to];
        if node.crashed {
            return;
        }
        if node.is_starved(self.now) {
            node.inbox.push((addr(from), msg));
            return;
        }
        node.swim.handle_message(addr(from), msg, Time(self.now));
        self.process_effects(to);
    }

    /// The episode is over: the member handles what queued up, in order.
    fn end_starvation(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if node.starved_until != Some(self.now) {
            return;
        }
        node.starved_until = None;
        let inbox = std::mem::take(&mut node.inbox);
        if node.crashed {
            return;
        }
        for (from, msg) in inbox {
            self.nodes[n].swim.handle_message(from, msg, Time(self.now));
            self.process_effects(n);
        }
    }

    /// Carries out member `n`'s effects and reschedules its timer.
    pub(super) fn process_effects(&mut self, n: usize) {
        for effect in self.nodes[n].swim.take_effects() {
            match effect {
                Effect::Send { to, msg } => self.send(n, index_of(to), msg),
                Effect::PushPull { to } => self.start_push_pull(n, index_of(to)),
                Effect::Event(event) => self.on_event(n, &event),
                Effect::LeaveDone => {}
            }
        }
        self.schedule_timer(n);
    }

    /// Whether everything member `n` sends vanishes ([`SimBug::Mute`]).
    fn is_mute(&self, n: usize) -> bool {
        n == 0 && self.params.bug == Some(SimBug::Mute)
    }

    fn send(&mut self, from: usize, to: usize, msg: Message) {
        let size = msg.size_bytes();
        let max = self.params.config.datagram_bytes_max;
        if size > max && self.violation.is_none() {
            self.violation = Some(Violation {
                property: "datagram size",
                detail: format!("node {from} sent {size} bytes (> {max}) to node {to}: {msg:?}"),
            });
        }
        if to >= self.nodes.len() || self.is_mute(from) {
            return;
        }
        self.traffic.messages += 1;
        self.traffic.bytes += size as u64;
        if matches!(msg, Message::Gossip { .. }) {
            self.traffic.gossip += 1;
            self.last_gossip_at = self.now;
        }
        match self.network.transmit(&mut self.rng, from, to) {
            Some(delay) => self.queue.push(self.now + delay, Event::Deliver { from, to, msg }),
            None => self.traffic.lost += 1,
        }
    }

    fn start_push_pull(&mut self, from: usize, to: usize) {
        self.traffic.push_pulls += 1;
        let fails = to >= self.nodes.len()
            || self.feeding
            || self.is_mute(from)
            || self.network.is_cut(from, to)
            || !self.nodes[from].is_responsive(self.now)
            || !self.nodes[to].is_responsive(self.now);
        if fails {
            self.traffic.push_pulls_failed += 1;
            return;
        }
        let state = self.nodes[from].swim.push_pull_state();
        self.traffic.push_pull_bytes += push_pull_bytes(&state);
        let at = self.now + self.network.delay(&mut self.rng);
        self.queue.push(at, Event::PushPullRequest { from, to, state });
    }

    /// The responder answers with its view as it was, then merges.
    fn push_pull_request(&mut self, from: usize, to: usize, state: PushPull) {
        let fails = self.network.is_cut(from, to)
            || !self.nodes[to].is_responsive(self.now)
            || self.nodes[from].crashed;
        if fails {
            self.traffic.push_pulls_failed += 1;
            return;
        }
        let answer = self.nodes[to].swim.push_pull_state();
        self.nodes[to].swim.merge_push_pull(addr(from), state, Time(self.now));
        self.process_effects(to);
        if self.is_mute(to) {
            self.traffic.push_pulls_failed += 1;
            return;
        }
        self.traffic.push_pull_bytes += push_pull_bytes(&answer);
        let at = self.now + self.network.delay(&mut self.rng);
        self.queue.push(at, Event::PushPullResponse { from: to, to: from, state: answer });
    }

    /// Crashes member `n`: it stops handling everything, for good.
    pub(super) fn crash_node(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.crashed = true;
        node.inbox.clear();
        self.views.crash(n);
    }

    /// Schedules the slow member's starvation episodes from now on.
    pub(super) fn schedule_starvation(&mut self) {
        let node = self.params.starvation.node;
        for &(offset, length) in &self.params.starvation.episodes {
            let start = self.now + offset;
            self.queue.push(start, Event::StarveStart { node, until: start + length });
        }
    }
}
