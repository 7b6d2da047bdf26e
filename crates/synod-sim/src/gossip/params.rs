//! The shape of one gossip run: the cluster size, fanout and loss come from
//! the caller; everything else (delays, duplication, tree depth, round
//! phases, writers, partition sides and length) is derived from the seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::antientropy::Config;

use super::replica::ReplicaBug;

/// What the clients do during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One node writes one update; rounds are counted until every node
    /// has it (epidemic spread, Demers et al. 1987 §1.4).
    Spread,
    /// Many nodes write concurrently, to shared and to fresh keys, within
    /// one gossip interval; rounds are counted from the last write.
    Concurrent,
    /// The cluster splits in two; both sides keep writing to the same keys;
    /// the partition heals; rounds are counted from the heal.
    Partition,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 3] = [Workload::Spread, Workload::Concurrent, Workload::Partition];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Spread => "spread",
            Workload::Concurrent => "concurrent",
            Workload::Partition => "partition",
        }
    }
}

/// Every parameter of one run.
#[derive(Clone, Debug)]
pub struct GossipParams {
    /// The run's seed.
    pub seed: u64,
    /// Nodes in the cluster (3 to 1,000 in the targets; at least 2).
    pub nodes: usize,
    /// Peers each node starts a session with per round (capped at
    /// `nodes - 1`).
    pub fanout: usize,
    /// Per-message loss probability, in per-mille.
    pub loss_permille: u32,
    /// Per-message duplication probability, in per-mille.
    pub duplicate_permille: u32,
    /// One-way network delay range in ms; random delays reorder messages.
    pub delay_ms: (u64, u64),
    /// Gossip period of every node (each node has its own seeded phase).
    pub interval_ms: u64,
    /// Sessions a node takes part in at once, initiated and answered; a
    /// peer asking beyond it gets an `Abort` ("busy").
    pub sessions_max: usize,
    /// Depth of every replica's Merkle tree.
    pub tree_depth: u8,
    /// Keys every node holds, identically, before the workload starts.
    pub keys_base: usize,
    /// What the clients do.
    pub workload: Workload,
    /// Nodes that write (1 for [`Workload::Spread`]).
    pub writers: usize,
    /// Writes per writer.
    pub writes_per_writer: usize,
    /// Nodes on the first side of the partition ([`Workload::Partition`]).
    pub side_a_nodes: usize,
    /// How long the partition lasts, in ms.
    pub partition_ms: u64,
    /// Rounds after the last write (or the heal) within which every
    /// replica must hold every update.
    pub rounds_max: u64,
    /// The anti-entropy sessions' limits.
    pub session: Config,
    /// A deliberately broken replica merge, to test the checkers.
    pub bug: Option<ReplicaBug>,
}

/// A parameter combination that cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsError(pub String);

impl std::fmt::Display for ParamsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl GossipParams {
    /// The run of `seed` for `nodes` nodes gossiping at `fanout` with
    /// `loss_permille` message loss, under `workload`.
    pub fn from_seed(
        seed: u64,
        nodes: usize,
        fanout: usize,
        loss_permille: u32,
        workload: Workload,
    ) -> GossipParams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let delay_min = rng.random_range(1..=5);
        let delay_max = delay_min + rng.random_range(1..=20);
        let interval_ms = [500, 1000][rng.random_range(0..2)];
        let writers = match workload {
            Workload::Spread => 1,
            // "Many": a tenth to a third of the cluster, at least two, at
            // most 100 (the cost of a run grows with keys times nodes).
            Workload::Concurrent => {
                rng.random_range((nodes / 10).clamp(2, 100)..=(nodes / 3).clamp(2, 100))
            }
            Workload::Partition => rng.random_range(2..=(nodes / 4).max(2)),
        };
        GossipParams {
            seed,
            nodes,
            fanout,
            loss_permille,
            duplicate_permille: if rng.random_bool(0.5) { rng.random_range(1..=50) } else { 0 },
            delay_ms: (delay_min, delay_max),
            interval_ms,
            sessions_max: (4 * fanout).max(8),
            tree_depth: rng.random_range(4..=7),
            keys_base: rng.random_range(8..=64),
            workload,
            writers: writers.min(nodes),
            writes_per_writer: rng.random_range(1..=4),
            side_a_nodes: rng.random_range(1..nodes.max(2)),
            partition_ms: rng.random_range(3..=8) * interval_ms,
            rounds_max: 60,
            session: Config {
                // Resend after a round trip at the longest delay, plus slack.
                retry_ms: 2 * delay_max + 10,
                attempts_max: 5,
                batch_bytes_max: rng.random_range(512..=8192),
            },
            bug: None,
        }
    }

    /// Rejects combinations that cannot run.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let err = |s: String| Err(ParamsError(s));
        if self.nodes < 2 {
            return err(format!("{} nodes: gossip needs at least 2", self.nodes));
        }
        if self.fanout == 0 {
            return err("fanout must be positive".into());
        }
        if self.loss_permille >= 1000 {
            return err(format!("loss {}‰ loses every message", self.loss_permille));
        }
        if self.delay_ms.0 == 0 || self.delay_ms.0 > self.delay_ms.1 {
            return err(format!("delay range {:?} is empty or zero", self.delay_ms));
        }
        if self.interval_ms == 0 {
            return err("interval_ms must be positive".into());
        }
        if self.sessions_max < self.fanout {
            return err(format!("sessions_max {} < fanout {}", self.sessions_max, self.fanout));
        }
        if self.workload == Workload::Partition && !(1..self.nodes).contains(&self.side_a_nodes) {
            return err(format!("side of {} nodes out of {}", self.side_a_nodes, self.nodes));
        }
        self.session.validate().map_err(|e| ParamsError(e.to_string()))
    }

    /// Peers a node contacts per round.
    pub fn effective_fanout(&self) -> usize {
        self.fanout.min(self.nodes - 1)
    }
}
