//! The gossip simulation loop: nodes run anti-entropy rounds through the
//! simulated network while the workload writes; checkers run after every
//! change, and the run ends when every replica holds every update.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::antientropy::{Effect, Message, SessionError};
use synod_core::causality::HlcTimestamp;
use synod_core::merkle::MerkleTree;

use super::checker::{Checker, Violation};
use super::network::{Event, EventQueue, Network};
use super::node::{node_id, GossipNode, Received, Step};
use super::params::GossipParams;
use super::replica::Store;
use super::report::{Report, Traffic};
use super::workload::{plan, sample, Plan};

/// One seeded gossip run.
#[derive(Debug)]
pub struct Simulation {
    params: GossipParams,
    rng: ChaCha8Rng,
    now: u64,
    queue: EventQueue,
    network: Network,
    nodes: Vec<GossipNode>,
    checker: Checker,
    plan: Plan,
    /// Whether each node's Merkle root equals the truth's.
    converged: Vec<bool>,
    converged_count: usize,
    /// Writes and the heal still to come; the measurement starts at 0.
    milestones_left: usize,
    /// When the measurement started, with the traffic until then.
    window_start: Option<(u64, Traffic)>,
    traffic: Traffic,
}

impl Simulation {
    /// Builds the run of `params`: every node starts with the same
    /// baseline keys.
    pub fn new(params: GossipParams) -> Result<Simulation, Violation> {
        params.validate().map_err(|e| Violation { property: "params", detail: e.0 })?;
        let plan = plan(&params);
        let new_store = || Store::new(params.tree_depth, params.bug).expect("validated depth");
        let mut baseline = new_store();
        let mut checker =
            Checker::new(MerkleTree::new(params.tree_depth).expect("validated depth"));
        for (key, op) in &plan.baseline {
            let ts = HlcTimestamp { wall_ms: 0, logical: 0, node: node_id(0) };
            let delta =
                baseline.write(key, *op, node_id(0), ts).expect("baseline keys have a kind");
            checker.record_update(key, &delta);
        }
        baseline.take_changes();
        let nodes = (0..params.nodes).map(|i| GossipNode::new(i, baseline.clone())).collect();
        let network =
            Network::new(params.loss_permille, params.duplicate_permille, params.delay_ms);
        let milestones_left = plan.writes.len() + usize::from(plan.heal_at.is_some());
        Ok(Simulation {
            rng: ChaCha8Rng::seed_from_u64(params.seed.wrapping_add(0x0060_551b)),
            now: 0,
            queue: EventQueue::default(),
            network,
            converged: vec![true; params.nodes],
            converged_count: params.nodes,
            nodes,
            checker,
            plan,
            milestones_left,
            window_start: None,
            traffic: Traffic::default(),
            params,
        })
    }

    /// Runs until every replica holds every update, or fails.
    pub fn run(mut self) -> Result<Report, Violation> {
        self.schedule();
        let interval = self.params.interval_ms;
        while let Some((at, event)) = self.queue.pop() {
            self.now = at;
            self.handle(event)?;
            let Some((start, _)) = self.window_start else { continue };
            if self.converged_count == self.nodes.len() {
                return self.finish(start);
            }
            if self.now > start + self.params.rounds_max * interval {
                let context =
                    format!("{} rounds after the last write or heal", self.params.rounds_max);
                self.check_converged(&context)?;
                return Err(Violation {
                    property: "convergence",
                    detail: format!("{context}: replicas hold the truth but Merkle roots differ"),
                });
            }
        }
        unreachable!("rounds reschedule themselves, the queue never empties")
    }

    fn schedule(&mut self) {
        for n in 0..self.nodes.len() {
            // Unsynchronized gossip timers: each node has its own phase.
            let phase = self.rng.random_range(0..self.params.interval_ms);
            self.queue.push(phase, Event::Round(n));
        }
        for (i, w) in self.plan.writes.iter().enumerate() {
            self.queue.push(w.at, Event::Write(i));
        }
        if let Some((at, _)) = &self.plan.split {
            self.queue.push(*at, Event::Split);
        }
        if let Some(at) = self.plan.heal_at {
            self.queue.push(at, Event::Heal);
        }
        if self.milestones_left == 0 {
            self.window_start = Some((0, self.traffic));
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
            Event::Timer { node, peer, session } => {
                if let Some(step) = self.nodes[node].timeout(peer, session, self.now) {
                    self.process(node, peer, session, step)?;
                }
                Ok(())
            }
            Event::Round(n) => self.round(n),
            Event::Write(i) => self.write(i),
            Event::Split => {
                let (_, sides) = self.plan.split.clone().expect("split planned");
                self.network.split(sides);
                Ok(())
            }
            Event::Heal => {
                self.network.heal();
                self.milestone();
                Ok(())
            }
        }
    }

    /// Counts down the writes and the heal; the last one starts the
    /// measurement.
    fn milestone(&mut self) {
        self.milestones_left -= 1;
        if self.milestones_left == 0 {
            self.window_start = Some((self.now, self.traffic));
        }
    }

    /// A node's gossip round: sessions with `fanout` distinct peers drawn
    /// uniformly from all other nodes (Demers et al. 1987 §1.3, uniform
    /// partner choice). A node cannot see the partition, so it also picks
    /// peers it cannot reach; those sessions time out. A peer it is
    /// already in session with is skipped this round, and no session
    /// starts beyond `sessions_max`.
    fn round(&mut self, n: usize) -> Result<(), Violation> {
        self.queue.push(self.now + self.params.interval_ms, Event::Round(n));
        let config = &self.params.session;
        let linger_ms = config.retry_ms * u64::from(config.attempts_max + 1);
        self.nodes[n].collect_finished(self.now, linger_ms);
        let others = sample(&mut self.rng, self.nodes.len() - 1, self.params.effective_fanout());
        for other in others {
            let peer = if other >= n { other + 1 } else { other };
            let node = &mut self.nodes[n];
            if node.active_sessions() >= self.params.sessions_max {
                break;
            }
            if node.is_talking_to(peer) {
                continue;
            }
            let (session, step) = node.initiate(peer, &self.params.session, self.now);
            self.traffic.sessions_started += 1;
            self.process(n, peer, session, step)?;
        }
        Ok(())
    }

    fn deliver(&mut self, from: usize, to: usize, msg: Message) -> Result<(), Violation> {
        if self.network.is_cut(from, to) {
            self.traffic.messages_lost += 1;
            return Ok(());
        }
        let p = &self.params;
        match self.nodes[to].receive(from, msg, &p.session, p.sessions_max, self.now) {
            Received::Handled { session, step } => self.process(to, from, session, step)?,
            Received::Busy(answer) => {
                self.traffic.sessions_busy += 1;
                self.send(to, from, answer);
            }
            Received::Stale => {}
        }
        self.check_node(to)
    }

    /// Carries out a session's effects and schedules its timer.
    fn process(
        &mut self,
        n: usize,
        peer: usize,
        session: u64,
        step: Step,
    ) -> Result<(), Violation> {
        for effect in step.effects {
            match effect {
                Effect::Send { to, msg } => self.send(n, to.0 as usize - 1, msg),
                Effect::Done(_) => {}
                Effect::Failed(SessionError::Timeout { .. } | SessionError::Aborted { .. }) => {
                    // Loss, partitions and busy peers: expected, retried next round.
                    self.traffic.sessions_failed += 1;
                }
                Effect::Failed(error) => {
                    return Err(Violation {
                        property: "session error",
                        detail: format!("{} in session {session:#x}: {error}", node_id(n)),
                    })
                }
            }
        }
        if let Some(at) = step.timer_at {
            self.queue.push(at, Event::Timer { node: n, peer, session });
        }
        Ok(())
    }

    fn send(&mut self, from: usize, to: usize, msg: Message) {
        self.traffic.messages += 1;
        self.traffic.bytes += msg.size_bytes() as u64;
        let delays = self.network.transmit(&mut self.rng, from, to);
        if delays.is_empty() {
            self.traffic.messages_lost += 1;
        }
        for delay in delays {
            self.queue.push(self.now + delay, Event::Deliver { from, to, msg: msg.clone() });
        }
    }

    fn write(&mut self, i: usize) -> Result<(), Violation> {
        let w = self.plan.writes[i].clone();
        let node = &mut self.nodes[w.node];
        let ts = node.hlc.now(self.now);
        let delta = node.store.write(&w.key, w.op, node.id, ts).expect("planned keys have a kind");
        self.checker.record_update(&w.key, &delta);
        self.check_node(w.node)?;
        // The truth moved: every node's status may have changed.
        for n in 0..self.nodes.len() {
            self.update_converged(n);
        }
        self.milestone();
        Ok(())
    }

    /// Runs the safety checks on node `n`'s changes and updates its status.
    fn check_node(&mut self, n: usize) -> Result<(), Violation> {
        let changes = self.nodes[n].store.take_changes();
        if changes.is_empty() {
            return Ok(());
        }
        let node = &self.nodes[n];
        self.checker.check_changes(node.id, &node.store, &changes)?;
        self.update_converged(n);
        Ok(())
    }

    fn update_converged(&mut self, n: usize) {
        let now = self.checker.is_converged(&self.nodes[n].store);
        if now != self.converged[n] {
            self.converged[n] = now;
            if now {
                self.converged_count += 1;
            } else {
                self.converged_count -= 1;
            }
        }
    }

    fn check_converged(&self, context: &str) -> Result<(), Violation> {
        self.checker.check_converged(self.nodes.iter().map(|n| (n.id, &n.store)), context)
    }

    fn finish(self, start: u64) -> Result<Report, Violation> {
        self.check_converged("converged by Merkle root")?;
        let p = &self.params;
        let converge_ms = self.now - start;
        let window_traffic = self.window_start.map(|(_, t)| t).unwrap_or_default();
        Ok(Report {
            seed: p.seed,
            nodes: p.nodes,
            fanout: p.effective_fanout(),
            loss_permille: p.loss_permille,
            workload: p.workload,
            interval_ms: p.interval_ms,
            updates: self.checker.updates(),
            rounds: converge_ms.div_ceil(p.interval_ms),
            converge_ms,
            sim_ms: self.now,
            window: self.traffic.since(&window_traffic),
            total: self.traffic,
        })
    }
}
