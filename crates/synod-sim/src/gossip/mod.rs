//! Simulation of gossip: N nodes (3 to 1,000) repairing each other's CRDT
//! replicas by Merkle anti-entropy at a fanout, under message loss,
//! duplication, delay and partitions.
//!
//! Every `interval_ms` each node starts an
//! [`AntiEntropySession`](synod_core::antientropy::AntiEntropySession)
//! with `fanout` peers chosen uniformly at random — push-pull
//! anti-entropy, which Demers et al. ("Epidemic algorithms for replicated
//! database maintenance", PODC 1987, §1.3) show spreads an update to all
//! `n` sites in `O(log n)` rounds. Each replica is a [`Store`] of
//! grow-only counters, add-wins sets and LWW registers whose merges are
//! the real CRDT joins of `synod_core::crdt`. A [`Checker`] compares every
//! replica with the join of every update ever made: after each change
//! (nothing lost, nothing invented) and at the end (every update visible
//! on every node).
//!
//! A run is one seed plus the cluster size, fanout, loss and workload; it
//! reports the rounds to convergence and the bytes sent:
//!
//! ```
//! use synod_sim::gossip::{run_seed, GossipParams, Workload};
//!
//! let params = GossipParams::from_seed(7, 3, 3, 0, Workload::Spread);
//! let report = run_seed(params).expect("3 nodes converge");
//! assert!(report.rounds <= 10);
//! ```
//!
//! [`Checker`]: checker::Checker

mod checker;
mod network;
mod node;
mod params;
mod replica;
mod report;
mod value;
mod workload;
mod world;

pub use checker::Violation;
pub use params::{GossipParams, ParamsError, Workload};
pub use replica::{ReplicaBug, Store};
pub use report::{table_header, table_row, Report, Summary, Traffic};
pub use value::{Kind, Op, Value};
pub use world::Simulation;

/// Runs one gossip simulation.
pub fn run_seed(params: GossipParams) -> Result<Report, Violation> {
    Simulation::new(params)?.run()
}

/// The command that replays a seed from the command line.
pub fn replay_command(params: &GossipParams) -> String {
    let partition = if params.workload == Workload::Partition { " --partition" } else { "" };
    format!(
        "cargo run -p synod-sim --release -- gossip --nodes {} --fanout {} --loss {}{partition} --seed {}",
        params.nodes,
        params.fanout,
        f64::from(params.loss_permille) / 10.0,
        params.seed
    )
}
