//! Throughput and latency of three Raft cores in one thread.
//!
//! Three cores are connected by an in-memory network (a queue per node,
//! delivered in rounds: each node handles everything addressed to it, then
//! drains its effects once, as a node's driver does); persists are
//! confirmed at once (no storage cost) and proposals carry empty payloads.
//! Every node does all of its protocol work: followers store and
//! acknowledge every entry and apply it once they learn it is committed;
//! the leader commits on a majority of acknowledgements.
//!
//! Two workloads, each reported by criterion in entries committed per
//! second (one element = one entry applied on the leader):
//!
//! * `in_flight/1`: propose, run until the leader applies the entry, repeat;
//! * `in_flight/256`: keep 256 proposals outstanding, topping up as entries
//!   apply.
//!
//! After each workload the mean and p99 time from `propose` to the leader's
//! `Apply` are printed. Run with
//! `cargo bench -p synod-sim --bench raft_throughput`.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use synod_core::raft::{Config, Effect, Message, Raft};
use synod_core::{LogIndex, NodeId, Time};

const NODES: u64 = 3;
/// Appends in flight per follower: enough to keep the pipe full, few enough
/// that a full pipe batches the proposals that arrive meanwhile. Override
/// with `SYNOD_BENCH_INFLIGHT_MSGS_MAX`.
const INFLIGHT_MSGS_MAX: usize = 4;
/// Rounds without progress before the harness declares the cluster stuck.
const IDLE_ROUNDS_MAX: usize = 1_000;

fn config(id: NodeId) -> Config {
    let mut config = Config::new(id);
    config.inflight_msgs_max = std::env::var("SYNOD_BENCH_INFLIGHT_MSGS_MAX")
        .ok()
        .map(|v| v.parse().expect("SYNOD_BENCH_INFLIGHT_MSGS_MAX is a number"))
        .unwrap_or(INFLIGHT_MSGS_MAX);
    config.batch_bytes_max = 1 << 20;
    config.validate().expect("bench config is valid");
    config
}

/// Three cores, their inboxes, and what the leader has applied.
struct Cluster {
    nodes: Vec<Raft>,
    inboxes: Vec<VecDeque<Message>>,
    now: Time,
    leader: usize,
    /// Index of the last entry applied on the leader.
    leader_applied: LogIndex,
    /// Entries applied on followers (so their work is visibly done).
    follower_applied: u64,
}

impl Cluster {
    /// Builds the cluster and elects node 1 (its election timer fires first).
    fn elected() -> Cluster {
        let ids: Vec<NodeId> = (1..=NODES).map(NodeId).collect();
        let nodes = ids.iter().map(|id| Raft::new(config(*id), &ids)).collect();
        let inboxes = (0..NODES).map(|_| VecDeque::new()).collect();
        let mut cluster = Cluster {
            nodes,
            inboxes,
            now: Time(0),
            leader: 0,
            leader_applied: LogIndex(0),
            follower_applied: 0,
        };
        for node in 0..cluster.nodes.len() {
            cluster.nodes[node].handle_timeout(cluster.now);
            cluster.drain(node);
        }
        let deadline = cluster.nodes[0].next_deadline().expect("a follower has an election timer");
        cluster.now = deadline;
        cluster.nodes[0].handle_timeout(cluster.now);
        cluster.drain(0);
        for _ in 0..IDLE_ROUNDS_MAX {
            if cluster.nodes[0].is_leader() && cluster.leader_applied > LogIndex(0) {
                return cluster;
            }
            cluster.round();
        }
        panic!("no leader elected");
    }

    /// Drains one node's effects until it is quiet: persists are confirmed
    /// at once, messages queued, applies counted.
    fn drain(&mut self, node: usize) {
        loop {
            let effects = self.nodes[node].take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Persist(req) => self.nodes[node].on_persisted(req.seq, self.now),
                    Effect::Send(msg) => self.inboxes[msg.to.0 as usize - 1].push_back(msg),
                    Effect::Apply(entries) => {
                        let last = entries.last().map(|e| e.index);
                        if node == self.leader {
                            self.leader_applied = last.unwrap_or(self.leader_applied);
                        } else {
                            self.follower_applied += entries.len() as u64;
                        }
                        black_box(entries);
                    }
                    _ => {}
                }
            }
        }
    }

    /// One round: every node handles its whole inbox, then drains once.
    /// Returns whether any message was delivered.
    fn round(&mut self) -> bool {
        let mut delivered = false;
        for node in 0..self.nodes.len() {
            let inbox = std::mem::take(&mut self.inboxes[node]);
            delivered |= !inbox.is_empty();
            for msg in inbox {
                self.nodes[node].handle_message(msg, self.now);
            }
            self.drain(node);
        }
        delivered
    }

    fn propose(&mut self) -> LogIndex {
        let index = self.nodes[self.leader].propose(Bytes::new()).expect("the leader accepts");
        self.drain(self.leader);
        index
    }
}

/// Latencies from propose to the leader's apply, across all samples.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn report(&mut self, name: &str) {
        self.0.sort_unstable();
        let n = self.0.len().max(1) as u32;
        let mean = self.0.iter().sum::<Duration>() / n;
        let p99 = self.0.get(self.0.len() * 99 / 100).copied().unwrap_or_default();
        println!("{name}: {} proposals, latency mean {mean:.2?}, p99 {p99:.2?}", self.0.len());
        self.0.clear();
    }
}

/// Commits `count` entries with `window` proposals outstanding; returns the
/// elapsed time and records each proposal's latency.
fn run(cluster: &mut Cluster, count: u64, window: usize, latencies: &mut Latencies) -> Duration {
    let target = LogIndex(cluster.leader_applied.0 + count);
    let mut outstanding: VecDeque<(LogIndex, Instant)> = VecDeque::with_capacity(window);
    let mut proposed = 0;
    let mut idle_rounds = 0;
    let started = Instant::now();
    while cluster.leader_applied < target {
        while outstanding.len() < window && proposed < count {
            let at = Instant::now();
            outstanding.push_back((cluster.propose(), at));
            proposed += 1;
        }
        let delivered = cluster.round();
        let now = Instant::now();
        while outstanding.front().is_some_and(|(index, _)| *index <= cluster.leader_applied) {
            let (_, at) = outstanding.pop_front().unwrap();
            latencies.0.push(now - at);
        }
        idle_rounds = if delivered { 0 } else { idle_rounds + 1 };
        assert!(idle_rounds < IDLE_ROUNDS_MAX, "cluster made no progress");
    }
    started.elapsed()
}

fn bench_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("raft_3_nodes");
    group.throughput(Throughput::Elements(1));
    for window in [1usize, 256] {
        let mut latencies = Latencies::default();
        group.bench_with_input(BenchmarkId::new("in_flight", window), &window, |b, &window| {
            b.iter_custom(|iters| {
                let mut cluster = Cluster::elected();
                let elapsed = run(&mut cluster, iters, window, &mut latencies);
                assert!(cluster.follower_applied > 0 || iters < 2, "followers applied nothing");
                elapsed
            });
        });
        latencies.report(&format!("raft_3_nodes/in_flight/{window}"));
    }
    group.finish();
}

criterion_group!(benches, bench_throughput);
criterion_main!(benches);
