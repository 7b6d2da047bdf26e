//! Memory of a node's CRDT replica (objects kept encoded, Merkle tree,
//! delta history) for N objects: `cargo run --release -p synod-node
//! --example crdt_memory -- 100000`.
//!
//! Reports the growth of the process's resident set (`VmRSS` in
//! `/proc/self/status`) while the replica is built — an upper bound, since
//! the allocator may keep freed pages. The objects are a mix: counters
//! updated by three nodes, sets of four elements, registers and maps of two
//! keys; a quarter also merge a peer's counter state, the way gossip does.

use synod_core::antientropy::Replica;
use synod_core::causality::HlcTimestamp;
use synod_core::NodeId;
use synod_node::crdt::{CrdtLimits, CrdtOp, CrdtReplica};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    // The peer's states, made before measuring.
    let mut peer = CrdtReplica::new(NodeId(2), CrdtLimits::default());
    let mut from_peer = Vec::new();
    for i in (0..n).step_by(4) {
        let name = format!("object/{i:08}");
        peer.update(&name, CrdtOp::CounterAdd(7)).unwrap();
        from_peer.push(peer.delta_for(name.as_bytes(), None).unwrap());
    }
    drop(peer);
    let mut from_peer = from_peer.into_iter();
    let before = rss_bytes();
    let mut replica = CrdtReplica::new(NodeId(1), CrdtLimits::default());
    for i in 0..n {
        let name = format!("object/{i:08}");
        let ts =
            |k: u64| HlcTimestamp { wall_ms: 1_700_000_000_000 + k, logical: 0, node: NodeId(1) };
        let ops: Vec<CrdtOp> = match i % 4 {
            0 => vec![CrdtOp::CounterAdd(3), CrdtOp::CounterAdd(-1)],
            1 => (0..4).map(|e| CrdtOp::SetAdd(format!("agent-{e}"))).collect(),
            2 => vec![CrdtOp::RegisterSet(format!("value of {i}"), ts(i as u64))],
            _ => vec![
                CrdtOp::MapPut("mode".into(), "fast".into()),
                CrdtOp::MapPut("owner".into(), format!("n{}", i % 7)),
            ],
        };
        for op in ops {
            replica.update(&name, op).unwrap();
        }
        if i % 4 == 0 {
            let payload = from_peer.next().unwrap();
            replica.apply(name.as_bytes(), &payload).unwrap();
        }
        if i % 1024 == 0 {
            replica.take_dirty(); // as the persister does
        }
    }
    replica.take_dirty();
    let grown = rss_bytes().saturating_sub(before);
    println!(
        "{n} objects: resident set grew {:.1} MB ({:.0} bytes per object)",
        grown as f64 / 1e6,
        grown as f64 / n as f64
    );
}
