//! Every parameter of a run, derived from its seed (swarm testing: each
//! seed explores a different mix of faults).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The shape of one simulated run.
#[derive(Clone, Debug)]
pub struct SimParams {
    /// The run's seed.
    pub seed: u64,
    /// Voters in the initial cluster (3 to 7).
    pub nodes: usize,
    /// Extra nodes, outside the initial configuration, that membership
    /// changes may add.
    pub spare_nodes: usize,
    /// Mean ms between membership changes (0: none).
    pub membership_every_ms: u64,
    /// Whether leaders serve reads from leases (only with tight clocks).
    pub lease_reads: bool,
    /// Per-message drop probability, in per-mille.
    pub drop_permille: u32,
    /// Per-message duplicate probability, in per-mille.
    pub duplicate_permille: u32,
    /// Network delay range in ms; random delays reorder messages.
    pub delay_ms: (u64, u64),
    /// Probability, in per-mille, that a message is delayed far longer.
    pub long_delay_permille: u32,
    /// Disk write latency range in ms.
    pub disk_ms: (u64, u64),
    /// Mean ms between partition events (0: none).
    pub partition_every_ms: u64,
    /// Mean ms between crashes (0: none).
    pub crash_every_ms: u64,
    /// Probability, in per-mille, that a node crashes right after sending a
    /// vote grant (a crash point where durability bugs show).
    pub crash_after_vote_permille: u32,
    /// Probability, in per-mille, that a crashed node restarts within 20 ms.
    pub quick_restart_permille: u32,
    /// Mean ms between leadership transfers (0: none).
    pub transfer_every_ms: u64,
    /// Clock rate of each node in per-mille of real time.
    pub clock_permille: Vec<u64>,
    /// Compact when this many entries are applied past the snapshot (0: never).
    pub compact_every: u64,
    /// Bytes per snapshot chunk (small, to force several chunks).
    pub snapshot_chunk_bytes: usize,
    /// Appends in flight per follower.
    pub inflight_max: usize,
    /// Bytes per append.
    pub batch_bytes: usize,
    /// Whether PreVote is on.
    pub pre_vote: bool,
    /// Mean ms between client writes.
    pub write_every_ms: u64,
    /// Mean ms between client reads.
    pub read_every_ms: u64,
    /// Length of the fault phase in ms.
    pub fault_phase_ms: u64,
    /// Proposals that must commit in the liveness phase.
    pub liveness_proposals: usize,
    /// Time the liveness phase may take, in ms.
    pub liveness_budget_ms: u64,
}

impl SimParams {
    /// The parameters of `seed`.
    pub fn from_seed(seed: u64) -> SimParams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nodes = rng.random_range(3..=7);
        let pick = |rng: &mut ChaCha8Rng, p: f64, range: std::ops::Range<u64>| {
            if rng.random_bool(p) {
                rng.random_range(range)
            } else {
                0
            }
        };
        let delay_min = rng.random_range(1..5);
        let delay_max = delay_min + rng.random_range(1..30);
        let clock_spread = rng.random_range(0..=100);
        let membership_every_ms = pick(&mut rng, 0.4, 300..3000);
        let spare_nodes = if membership_every_ms > 0 { rng.random_range(0..=2) } else { 0 };
        // A lease of 90% of the election timeout is safe while clock rates
        // differ by less than 1/0.9: keep to 3% spread.
        let lease_reads = clock_spread <= 30 && rng.random_bool(0.5);
        SimParams {
            seed,
            nodes,
            spare_nodes,
            membership_every_ms,
            lease_reads,
            drop_permille: pick(&mut rng, 0.7, 1..150) as u32,
            duplicate_permille: pick(&mut rng, 0.5, 1..100) as u32,
            delay_ms: (delay_min, delay_max),
            long_delay_permille: pick(&mut rng, 0.5, 1..30) as u32,
            disk_ms: (0, rng.random_range(1..10)),
            partition_every_ms: pick(&mut rng, 0.7, 200..2000),
            crash_every_ms: pick(&mut rng, 0.6, 300..3000),
            crash_after_vote_permille: pick(&mut rng, 0.3, 10..300) as u32,
            quick_restart_permille: rng.random_range(0..1000),
            transfer_every_ms: pick(&mut rng, 0.3, 300..3000),
            clock_permille: (0..nodes + spare_nodes)
                .map(|_| 1000 - clock_spread + rng.random_range(0..=2 * clock_spread))
                .collect(),
            compact_every: pick(&mut rng, 0.6, 5..100),
            snapshot_chunk_bytes: rng.random_range(16..512),
            inflight_max: rng.random_range(1..16),
            batch_bytes: rng.random_range(64..4096),
            pre_vote: rng.random_bool(0.8),
            write_every_ms: rng.random_range(5..60),
            read_every_ms: rng.random_range(10..100),
            fault_phase_ms: rng.random_range(3000..15_000),
            liveness_proposals: 5,
            liveness_budget_ms: 10_000,
        }
    }
}
