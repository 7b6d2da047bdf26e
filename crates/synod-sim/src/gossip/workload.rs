//! The writes of a run, planned from the seed before it starts: who
//! writes what, when, and when the partition forms and heals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::params::{GossipParams, Workload};
use super::value::{Element, Kind, Op};

/// Set elements are drawn from `0..ELEMENTS`: few, so adds and removes of
/// the same element collide.
const ELEMENTS: Element = 8;

/// One client write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedWrite {
    /// When, in ms.
    pub at: u64,
    /// The node written to (index).
    pub node: usize,
    /// The key.
    pub key: Vec<u8>,
    /// The write.
    pub op: Op,
}

/// Everything the clients and the partition do in one run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Writes made at node 0 before the run, then copied to every node, so
    /// every replica starts with the same non-empty tree.
    pub baseline: Vec<(Vec<u8>, Op)>,
    /// The workload's writes, in time order.
    pub writes: Vec<PlannedWrite>,
    /// When the partition forms, and each node's side.
    pub split: Option<(u64, Vec<bool>)>,
    /// When the partition heals.
    pub heal_at: Option<u64>,
}

/// A random write of the kind `key` names.
fn random_op(rng: &mut ChaCha8Rng, key: &[u8]) -> Op {
    match Kind::of(key).expect("planned keys have a kind") {
        Kind::Counter => Op::Increment(rng.random_range(1..=5)),
        Kind::Set if rng.random_bool(0.7) => Op::Add(rng.random_range(0..ELEMENTS)),
        Kind::Set => Op::Remove(rng.random_range(0..ELEMENTS)),
        Kind::Register => Op::Write(rng.random()),
    }
}

/// `count` distinct indexes of `0..n`, in random order.
pub fn sample(rng: &mut ChaCha8Rng, n: usize, count: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    let count = count.min(n);
    for i in 0..count {
        let j = rng.random_range(i..n);
        all.swap(i, j);
    }
    all.truncate(count);
    all
}

/// The keys concurrent writers share: one of each kind.
fn hot_keys() -> Vec<Vec<u8>> {
    Kind::ALL.iter().map(|k| k.key("hot")).collect()
}

/// The plan of `params`'s run.
pub fn plan(params: &GossipParams) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ 0x9055_1b00);
    let baseline = (0..params.keys_base)
        .map(|i| {
            let key = Kind::ALL[i % 3].key(&format!("base{i}"));
            let op = random_op(&mut rng, &key);
            (key, op)
        })
        .collect();
    let interval = params.interval_ms;
    // Two quiet rounds first, so sessions run in their steady state.
    let start = 2 * interval + rng.random_range(0..interval);
    let mut writes = Vec::new();
    let (mut split, mut heal_at) = (None, None);
    match params.workload {
        Workload::Spread => {
            let node = rng.random_range(0..params.nodes);
            let key = if params.keys_base > 0 && rng.random_bool(0.5) {
                Kind::ALL[0].key("base0")
            } else {
                Kind::ALL[rng.random_range(0..3)].key("fresh")
            };
            let op = random_op(&mut rng, &key);
            writes.push(PlannedWrite { at: start, node, key, op });
        }
        Workload::Concurrent => {
            let hot = hot_keys();
            for node in sample(&mut rng, params.nodes, params.writers) {
                for j in 0..params.writes_per_writer {
                    let key = if rng.random_bool(0.5) {
                        hot[rng.random_range(0..hot.len())].clone()
                    } else {
                        Kind::ALL[rng.random_range(0..3)].key(&format!("w{node}-{j}"))
                    };
                    let op = random_op(&mut rng, &key);
                    let at = start + rng.random_range(0..interval);
                    writes.push(PlannedWrite { at, node, key, op });
                }
            }
        }
        Workload::Partition => {
            let side_a = sample(&mut rng, params.nodes, params.side_a_nodes);
            let mut sides = vec![false; params.nodes];
            side_a.iter().for_each(|&n| sides[n] = true);
            let end = start + params.partition_ms;
            writes = partition_writes(&mut rng, params, &sides, start..end);
            split = Some((start, sides));
            heal_at = Some(end);
        }
    }
    writes.sort_by_key(|w| w.at);
    Plan { baseline, writes, split, heal_at }
}

/// Writes on both sides of a partition lasting `during`, to the same hot
/// keys, by writers taken from each side (at least one per side).
fn partition_writes(
    rng: &mut ChaCha8Rng,
    params: &GossipParams,
    sides: &[bool],
    during: std::ops::Range<u64>,
) -> Vec<PlannedWrite> {
    let side: [Vec<usize>; 2] =
        [true, false].map(|s| (0..params.nodes).filter(|&n| sides[n] == s).collect());
    let on_a = (params.writers / 2).clamp(1, side[0].len());
    let on_b = (params.writers - on_a).clamp(1, side[1].len());
    let writers: Vec<usize> = sample(rng, side[0].len(), on_a)
        .into_iter()
        .map(|i| side[0][i])
        .chain(sample(rng, side[1].len(), on_b).into_iter().map(|i| side[1][i]))
        .collect();
    let mut keys = hot_keys();
    keys.extend((0..params.keys_base.min(3)).map(|i| Kind::ALL[i % 3].key(&format!("base{i}"))));
    let mut writes = Vec::new();
    for node in writers {
        for _ in 0..params.writes_per_writer.max(2) {
            let key = keys[rng.random_range(0..keys.len())].clone();
            let op = random_op(rng, &key);
            // Strictly inside the partition: after it forms, before it heals.
            let at = rng.random_range(during.start + 1..during.end);
            writes.push(PlannedWrite { at, node, key, op });
        }
    }
    writes
}
