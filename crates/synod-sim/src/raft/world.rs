//! The simulation loop: a fault phase with safety checks after every step,
//! then a liveness phase in which faults heal and proposals must commit.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::raft::{Body, Bugs, Config, Effect, MembershipChange, Message};
use synod_core::{LogIndex, NodeId};

use super::checker::{Checker, Violation};
use super::network::{Event, EventQueue, Partitions};
use super::node::SimNode;
use super::params::SimParams;
use super::state_machine::Write;

/// Proposals a leader takes while this many entries are uncommitted.
const UNCOMMITTED_ENTRIES_MAX: u64 = 64;

/// A client retries a required write after this long without seeing it applied.
const RETRY_AFTER_MS: u64 = 1000;

/// Counts of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Distinct client writes applied.
    pub proposals_committed: u64,
    /// Reads confirmed by ReadIndex.
    pub reads_served: u64,
    /// Messages sent.
    pub messages: u64,
    /// Events processed.
    pub events: u64,
    /// Crashes injected.
    pub crashes: u64,
    /// Partitions injected.
    pub partitions: u64,
    /// Terms that had a leader.
    pub leaders: u64,
    /// Snapshots installed from a leader.
    pub snapshots_installed: u64,
    /// Membership changes accepted by a leader.
    pub membership_changes: u64,
    /// Simulated milliseconds the liveness phase took.
    pub liveness_ms: u64,
}

/// A read in progress.
#[derive(Debug)]
struct PendingRead {
    node: usize,
    min_index: LogIndex,
}

/// A write the liveness phase requires to commit.
#[derive(Debug)]
struct RequiredWrite {
    write: Write,
    last_try: Option<u64>,
}

/// One seeded run.
#[derive(Debug)]
pub struct Simulation {
    params: SimParams,
    rng: ChaCha8Rng,
    now: u64,
    queue: EventQueue,
    partitions: Partitions,
    nodes: Vec<SimNode>,
    checker: Checker,
    faults_on: bool,
    next_op: u64,
    reads: HashMap<u64, PendingRead>,
    applied_ops: HashSet<u64>,
    required: Vec<RequiredWrite>,
    stats: RunStats,
    /// Print every delivery from this simulated time on (SYNOD_SIM_TRACE_FROM_MS).
    trace_from: Option<u64>,
}

/// A message body without its entries and snapshot bytes, for traces.
fn brief(body: &Body) -> String {
    match body {
        Body::AppendEntries { prev_log_index, prev_log_term, entries, leader_commit, .. } => {
            format!(
                "Append prev=({prev_log_index},{prev_log_term}) n={} commit={leader_commit}",
                entries.len()
            )
        }
        Body::InstallSnapshot { meta, offset, data, done, .. } => {
            format!("Snapshot idx={} off={offset} len={} done={done}", meta.index, data.len())
        }
        other => format!("{other:?}"),
    }
}

impl Simulation {
    /// Builds the run of `params`, with `bugs` switched on in every core.
    pub fn new(params: SimParams, bugs: Bugs) -> Simulation {
        let voters: Vec<NodeId> = (1..=params.nodes as u64).map(NodeId).collect();
        let all = (params.nodes + params.spare_nodes) as u64;
        let nodes = (1..=all)
            .map(NodeId)
            .map(|id| {
                let config = node_config(&params, id, bugs.clone());
                let clock = params.clock_permille[id.0 as usize - 1];
                // Spares start with the initial configuration, outside it.
                SimNode::new(config, &voters, clock)
            })
            .collect();
        Simulation {
            rng: ChaCha8Rng::seed_from_u64(params.seed.wrapping_add(0x5EED)),
            params,
            now: 0,
            queue: EventQueue::default(),
            partitions: Partitions::default(),
            nodes,
            checker: Checker::default(),
            faults_on: true,
            next_op: 1,
            reads: HashMap::new(),
            applied_ops: HashSet::new(),
            required: Vec::new(),
            stats: RunStats::default(),
            trace_from: std::env::var("SYNOD_SIM_TRACE_FROM_MS").ok().and_then(|v| v.parse().ok()),
        }
    }

    /// Runs both phases; the first violation ends the run.
    pub fn run(mut self) -> Result<RunStats, Violation> {
        for n in 0..self.nodes.len() {
            self.reschedule_timer(n);
        }
        self.schedule_faults();
        self.queue.push(1, Event::ClientWrite);
        self.queue.push(1, Event::ClientRead);
        let fault_end = self.params.fault_phase_ms;
        self.run_until(fault_end)?;
        self.heal();
        let budget_end = self.now + self.params.liveness_budget_ms;
        let start = self.now;
        while !self.liveness_done() {
            if self.now >= budget_end {
                let missing = self
                    .required
                    .iter()
                    .filter(|r| !self.applied_ops.contains(&r.write.op))
                    .count();
                return Err(Violation {
                    property: "liveness",
                    detail: format!(
                        "{missing} of {} proposals not committed {} ms after faults healed; nodes: {}",
                        self.required.len(),
                        self.params.liveness_budget_ms,
                        self.describe_nodes()
                    ),
                });
            }
            let step_end = (self.now + 10).min(budget_end);
            self.run_until(step_end)?;
        }
        self.stats.liveness_ms = self.now - start;
        self.stats.proposals_committed = self.applied_ops.len() as u64;
        Ok(self.stats)
    }

    fn liveness_done(&self) -> bool {
        !self.required.is_empty()
            && self.required.iter().all(|r| self.applied_ops.contains(&r.write.op))
    }

    /// One line per node: role, term, log and commit state.
    fn describe_nodes(&self) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            let Some(r) = node.raft.as_ref() else {
                out.push_str(&format!("\n  {} down", node.id));
                continue;
            };
            out.push_str(&format!(
                "\n  {} {:?} {} leader={:?} last={} commit={} applied={} persisted={} snap={}",
                r.id(),
                r.role(),
                r.term(),
                r.leader(),
                r.last_index(),
                r.commit_index(),
                r.applied_index(),
                r.persisted_index(),
                r.snapshot_meta().index
            ));
            if r.is_leader() {
                for peer in self.nodes.iter().map(|n| n.id) {
                    if let Some((m, next)) = r.progress_of(peer) {
                        out.push_str(&format!(" [{peer} match={m} next={next}]"));
                    }
                }
            }
        }
        out
    }

    fn run_until(&mut self, end: u64) -> Result<(), Violation> {
        while let Some((at, event)) = self.queue.pop() {
            if at > end {
                self.queue.push(at, event);
                break;
            }
            self.now = at;
            self.stats.events += 1;
            self.handle(event)?;
        }
        self.now = self.now.max(end);
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Deliver(msg) => self.deliver(msg),
            Event::Timer { node, generation } => self.fire_timer(node, generation),
            Event::PersistDone { node, incarnation, seq } => {
                self.persist_done(node, incarnation, seq)
            }
            Event::ClientWrite => self.client_write(),
            Event::ClientRead => self.client_read(),
            Event::Partition => {
                self.partition();
                Ok(())
            }
            Event::Crash => {
                self.crash();
                Ok(())
            }
            Event::Restart(node) => self.restart(node),
            Event::Transfer => self.transfer(),
            Event::Membership => self.change_membership(),
        }
    }

    // ----- node inputs ---------------------------------------------------------

    fn deliver(&mut self, msg: Message) -> Result<(), Violation> {
        let n = msg.to.0 as usize - 1;
        if self.trace_from.is_some_and(|t| self.now >= t) {
            eprintln!(
                "{:>6}ms {} -> {} {} {:?}",
                self.now,
                msg.from,
                msg.to,
                msg.term,
                brief(&msg.body)
            );
        }
        let now = self.nodes[n].local_time(self.now);
        let Some(raft) = self.nodes[n].raft.as_mut() else {
            return Ok(());
        };
        raft.handle_message(msg, now);
        self.drain(n)
    }

    fn fire_timer(&mut self, n: usize, generation: u64) -> Result<(), Violation> {
        let node = &mut self.nodes[n];
        if node.timer_generation != generation {
            return Ok(());
        }
        node.timer_at = None;
        let now = node.local_time(self.now);
        let Some(raft) = node.raft.as_mut() else {
            return Ok(());
        };
        raft.handle_timeout(now);
        self.drain(n)
    }

    fn persist_done(&mut self, n: usize, incarnation: u64, seq: u64) -> Result<(), Violation> {
        let node = &mut self.nodes[n];
        if node.incarnation != incarnation || !node.is_up() {
            return Ok(());
        }
        while node.disk_queue.front().is_some_and(|r| r.seq <= seq) {
            let req = node.disk_queue.pop_front().unwrap();
            node.durable.apply(&req);
        }
        let now = node.local_time(self.now);
        node.raft.as_mut().unwrap().on_persisted(seq, now);
        self.drain(n)
    }

    /// Carries out a node's effects until it has none, then checks safety.
    fn drain(&mut self, n: usize) -> Result<(), Violation> {
        let mut outbox = Vec::new();
        loop {
            let node = &mut self.nodes[n];
            let raft = node.raft.as_mut().unwrap();
            let effects = raft.take_effects();
            if effects.is_empty() {
                break;
            }
            for effect in effects {
                self.carry_out(n, effect, &mut outbox)?;
            }
            self.maybe_compact(n);
        }
        let granted_vote = outbox.iter().any(|m| {
            matches!(m.body, Body::RequestVoteResponse { granted: true, pre_vote: false })
        });
        for msg in outbox {
            self.transmit(msg);
        }
        self.check_node(n)?;
        self.reschedule_timer(n);
        if granted_vote && self.faults_on && self.chance(self.params.crash_after_vote_permille) {
            self.crash_node(n);
        }
        Ok(())
    }

    fn carry_out(
        &mut self,
        n: usize,
        effect: Effect,
        outbox: &mut Vec<Message>,
    ) -> Result<(), Violation> {
        let node = &mut self.nodes[n];
        let id = node.id;
        match effect {
            Effect::Persist(req) => {
                self.checker.check_written(node.raft.as_ref().unwrap(), &req.entries)?;
                let (lo, hi) = self.params.disk_ms;
                let done = node.disk_free_at.max(self.now) + self.rng.random_range(lo..=hi);
                node.disk_free_at = done;
                let seq = req.seq;
                node.disk_queue.push_back(req);
                let incarnation = node.incarnation;
                self.queue.push(done, Event::PersistDone { node: n, incarnation, seq });
            }
            Effect::Send(msg) => outbox.push(msg),
            Effect::Apply(entries) => {
                for entry in &entries {
                    node.sm.apply(entry);
                    self.checker.check_applied(id, entry, node.sm.chain)?;
                    if let synod_core::raft::EntryPayload::Command(data) = &entry.payload {
                        if let Some(w) = Write::decode(data) {
                            self.applied_ops.insert(w.op);
                        }
                    }
                }
            }
            Effect::ApplySnapshot(snapshot) => {
                node.sm = super::state_machine::KvStateMachine::restore(&snapshot.data);
                assert_eq!(
                    node.sm.applied, snapshot.meta.index,
                    "snapshot data and metadata disagree"
                );
                self.stats.snapshots_installed += 1;
                self.checker.check_chain(id, snapshot.meta.index, node.sm.chain)?;
            }
            Effect::ReadReady { ctx, index } => {
                if let Some(read) = self.reads.remove(&ctx) {
                    self.checker.check_read(id, ctx, index, read.min_index)?;
                    self.stats.reads_served += 1;
                }
            }
            Effect::ReadFailed { ctx, .. } => {
                self.reads.remove(&ctx);
            }
            Effect::LeaderChanged { .. } => {}
        }
        Ok(())
    }

    fn maybe_compact(&mut self, n: usize) {
        let every = self.params.compact_every;
        let node = &mut self.nodes[n];
        let raft = node.raft.as_mut().unwrap();
        if every > 0 && node.sm.applied.0 >= raft.snapshot_meta().index.0 + every {
            raft.compact(node.sm.applied, node.sm.snapshot());
        }
    }

    fn check_node(&mut self, n: usize) -> Result<(), Violation> {
        let node = &mut self.nodes[n];
        let raft = node.raft.as_ref().unwrap();
        self.checker.check_leader(raft)?;
        self.checker.check_commit(raft, &mut node.commit_checked)?;
        if raft.is_leader() && node.led_term != Some(raft.term()) {
            node.led_term = Some(raft.term());
            self.stats.leaders += 1;
            self.checker.check_leader_completeness(raft)?;
        }
        Ok(())
    }

    fn reschedule_timer(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        let Some(deadline) = node.raft.as_ref().and_then(|r| r.next_deadline()) else {
            return;
        };
        let at = node.global_time(deadline).max(self.now);
        if node.timer_at == Some(at) {
            return;
        }
        node.timer_generation += 1;
        node.timer_at = Some(at);
        let generation = node.timer_generation;
        self.queue.push(at, Event::Timer { node: n, generation });
    }

    /// Puts a message on the wire: partitions cut it, faults drop,
    /// duplicate and delay it.
    fn transmit(&mut self, msg: Message) {
        self.stats.messages += 1;
        if self.partitions.is_cut(msg.from, msg.to) {
            return;
        }
        let p = &self.params;
        if self.faults_on && self.rng.random_range(0..1000) < p.drop_permille {
            return;
        }
        if self.faults_on && self.rng.random_range(0..1000) < p.duplicate_permille {
            let at = self.now + self.delay();
            self.queue.push(at, Event::Deliver(msg.clone()));
        }
        let at = self.now + self.delay();
        self.queue.push(at, Event::Deliver(msg));
    }

    fn delay(&mut self) -> u64 {
        let (lo, hi) = self.params.delay_ms;
        let mut delay = self.rng.random_range(lo..=hi);
        if self.faults_on && self.rng.random_range(0..1000) < self.params.long_delay_permille {
            delay += self.rng.random_range(100..1000);
        }
        delay
    }

    // ----- clients -------------------------------------------------------------

    fn up_leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].raft.as_ref().is_some_and(|r| r.is_leader()))
            .collect()
    }

    fn pick_leader(&mut self) -> Option<usize> {
        let leaders = self.up_leaders();
        if leaders.is_empty() {
            return None;
        }
        Some(leaders[self.rng.random_range(0..leaders.len())])
    }

    fn new_write(&mut self) -> Write {
        let op = self.next_op;
        self.next_op += 1;
        Write { op, key: self.rng.random_range(0..8), value: self.rng.random() }
    }

    fn client_write(&mut self) -> Result<(), Violation> {
        let every = self.params.write_every_ms;
        let next = self.now + self.rng.random_range(1..=2 * every);
        self.queue.push(next, Event::ClientWrite);
        if self.faults_on {
            let write = self.new_write();
            return self.propose(write);
        }
        if self.required.is_empty() {
            for _ in 0..self.params.liveness_proposals {
                let write = self.new_write();
                self.required.push(RequiredWrite { write, last_try: None });
            }
        }
        // Liveness phase: retry every required write until it is applied.
        for i in 0..self.required.len() {
            let r = &self.required[i];
            let due = r.last_try.is_none_or(|t| self.now >= t + RETRY_AFTER_MS);
            if !self.applied_ops.contains(&r.write.op) && due {
                self.required[i].last_try = Some(self.now);
                let write = self.required[i].write;
                self.propose(write)?;
            }
        }
        Ok(())
    }

    fn propose(&mut self, write: Write) -> Result<(), Violation> {
        let Some(n) = self.pick_leader() else {
            return Ok(());
        };
        let raft = self.nodes[n].raft.as_mut().unwrap();
        // Clients back off while the leader has a backlog of uncommitted
        // entries, as a node's bounded proposal queue would make them.
        if raft.last_index().0 - raft.commit_index().0 >= UNCOMMITTED_ENTRIES_MAX {
            return Ok(());
        }
        if raft.propose(write.encode()).is_ok() {
            self.drain(n)?;
        }
        Ok(())
    }

    fn client_read(&mut self) -> Result<(), Violation> {
        let next = self.now + self.rng.random_range(1..=2 * self.params.read_every_ms);
        self.queue.push(next, Event::ClientRead);
        let Some(n) = self.pick_leader() else {
            return Ok(());
        };
        let ctx = self.next_op;
        self.next_op += 1;
        let raft = self.nodes[n].raft.as_mut().unwrap();
        if raft.read_index(ctx).is_ok() {
            self.reads.insert(ctx, PendingRead { node: n, min_index: self.checker.max_commit });
            self.drain(n)?;
        }
        Ok(())
    }

    // ----- faults --------------------------------------------------------------

    fn schedule_faults(&mut self) {
        let p = self.params.clone();
        for (every, event) in [
            (p.partition_every_ms, Event::Partition),
            (p.crash_every_ms, Event::Crash),
            (p.transfer_every_ms, Event::Transfer),
            (p.membership_every_ms, Event::Membership),
        ] {
            if every > 0 {
                let at = self.rng.random_range(1..=every);
                self.queue.push(at, event);
            }
        }
    }

    fn reschedule_fault(&mut self, every: u64, event: Event) {
        if self.faults_on && every > 0 {
            let at = self.now + self.rng.random_range(every / 2..=every * 3 / 2);
            self.queue.push(at, event);
        }
    }

    fn partition(&mut self) {
        if !self.faults_on {
            return;
        }
        self.reschedule_fault(self.params.partition_every_ms, Event::Partition);
        if self.partitions.is_active() {
            self.partitions.heal();
            return;
        }
        self.stats.partitions += 1;
        let ids: Vec<NodeId> = self.nodes.iter().map(|n| n.id).collect();
        let leader = self.up_leaders().first().map(|n| self.nodes[*n].id);
        match self.rng.random_range(0..4) {
            0 => {
                // Isolate the leader (or anyone) from everyone else.
                let victim = leader.unwrap_or(ids[self.rng.random_range(0..ids.len())]);
                let rest: Vec<NodeId> = ids.iter().copied().filter(|i| *i != victim).collect();
                self.partitions.split(&[victim], &rest);
            }
            1 => {
                // A random minority/majority split.
                let mut shuffled = ids.clone();
                for i in (1..shuffled.len()).rev() {
                    let j = self.rng.random_range(0..=i);
                    shuffled.swap(i, j);
                }
                let cut = self.rng.random_range(1..=ids.len() / 2);
                self.partitions.split(&shuffled[..cut], &shuffled[cut..]);
            }
            2 => {
                // Asymmetric: the leader can send but not receive.
                let victim = leader.unwrap_or(ids[0]);
                for other in ids.iter().filter(|i| **i != victim) {
                    self.partitions.cut(*other, victim);
                }
            }
            _ => {
                // Asymmetric, random one-way links.
                for _ in 0..ids.len() {
                    let a = ids[self.rng.random_range(0..ids.len())];
                    let b = ids[self.rng.random_range(0..ids.len())];
                    if a != b {
                        self.partitions.cut(a, b);
                    }
                }
            }
        }
    }

    fn crash(&mut self) {
        if !self.faults_on {
            return;
        }
        self.reschedule_fault(self.params.crash_every_ms, Event::Crash);
        let up: Vec<usize> = (0..self.nodes.len()).filter(|n| self.nodes[*n].is_up()).collect();
        if up.is_empty() {
            return;
        }
        let n = up[self.rng.random_range(0..up.len())];
        self.crash_node(n);
    }

    fn crash_node(&mut self, n: usize) {
        self.nodes[n].crash();
        self.reads.retain(|_, r| r.node != n);
        self.stats.crashes += 1;
        let down_ms = if self.chance(self.params.quick_restart_permille) {
            self.rng.random_range(1..20)
        } else {
            self.rng.random_range(50..2000)
        };
        self.queue.push(self.now + down_ms, Event::Restart(n));
    }

    fn chance(&mut self, permille: u32) -> bool {
        permille > 0 && self.rng.random_range(0..1000) < permille
    }

    fn restart(&mut self, n: usize) -> Result<(), Violation> {
        if self.nodes[n].is_up() {
            return Ok(());
        }
        self.nodes[n].restart();
        let node = &self.nodes[n];
        let index = node.raft.as_ref().unwrap().snapshot_meta().index;
        self.checker.check_chain(node.id, index, node.sm.chain)?;
        self.drain(n)
    }

    fn transfer(&mut self) -> Result<(), Violation> {
        if !self.faults_on {
            return Ok(());
        }
        self.reschedule_fault(self.params.transfer_every_ms, Event::Transfer);
        let Some(n) = self.pick_leader() else {
            return Ok(());
        };
        let target = NodeId(self.rng.random_range(1..=self.nodes.len() as u64));
        let raft = self.nodes[n].raft.as_mut().unwrap();
        if raft.transfer_leader(target).is_ok() {
            self.drain(n)?;
        }
        Ok(())
    }

    /// Asks the leader for a random single-server change: add a node that
    /// is not a member as learner, promote a learner, or remove a voter
    /// (possibly the leader itself). Refusals are part of the test.
    fn change_membership(&mut self) -> Result<(), Violation> {
        if !self.faults_on {
            return Ok(());
        }
        self.reschedule_fault(self.params.membership_every_ms, Event::Membership);
        let Some(n) = self.pick_leader() else { return Ok(()) };
        let all: Vec<NodeId> = self.nodes.iter().map(|node| node.id).collect();
        let raft = self.nodes[n].raft.as_ref().unwrap();
        let m = raft.membership().clone();
        let outsiders: Vec<NodeId> = all.iter().copied().filter(|id| !m.contains(*id)).collect();
        let learners: Vec<NodeId> = m.learners.iter().copied().collect();
        let voters: Vec<NodeId> = m.voters.iter().copied().collect();
        let change = match self.rng.random_range(0..3) {
            0 if !outsiders.is_empty() => {
                MembershipChange::AddLearner(outsiders[self.rng.random_range(0..outsiders.len())])
            }
            1 if !learners.is_empty() => {
                MembershipChange::PromoteLearner(learners[self.rng.random_range(0..learners.len())])
            }
            2 if voters.len() > 3 => {
                MembershipChange::Remove(voters[self.rng.random_range(0..voters.len())])
            }
            _ => return Ok(()),
        };
        let raft = self.nodes[n].raft.as_mut().unwrap();
        if raft.propose_membership(change).is_ok() {
            self.stats.membership_changes += 1;
            self.drain(n)?;
        }
        Ok(())
    }

    /// Ends the fault phase: links heal, crashed nodes restart, the network
    /// stops losing messages.
    fn heal(&mut self) {
        self.faults_on = false;
        self.partitions.heal();
        for n in 0..self.nodes.len() {
            if !self.nodes[n].is_up() {
                self.queue.push(self.now, Event::Restart(n));
            }
        }
    }
}

fn node_config(params: &SimParams, id: NodeId, bugs: Bugs) -> Config {
    let mut config = Config::new(id);
    config.election_timeout_ms_min = 150;
    config.election_timeout_ms_max = 300;
    config.heartbeat_interval_ms = 40;
    config.pre_vote = params.pre_vote;
    config.inflight_msgs_max = params.inflight_max;
    config.batch_bytes_max = params.batch_bytes;
    config.snapshot_chunk_bytes_max = params.snapshot_chunk_bytes;
    config.rng_seed = params.seed;
    config.lease_reads = params.lease_reads;
    config.bugs = bugs;
    config.validate().expect("simulator config is valid");
    config
}
