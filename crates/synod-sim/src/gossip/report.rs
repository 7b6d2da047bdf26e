//! What a gossip run measured, and a summary over many seeds.

use super::params::Workload;

/// Counters kept over a whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages put on the wire (resends and "busy" answers included,
    /// network duplicates not).
    pub messages: u64,
    /// Their estimated size, from `Message::size_bytes`.
    pub bytes: u64,
    /// Messages the network lost or the partition cut.
    pub messages_lost: u64,
    /// Sessions started.
    pub sessions_started: u64,
    /// Session ends in failure (timeouts, aborts), counted on each side
    /// that saw its session fail.
    pub sessions_failed: u64,
    /// Sessions refused because the peer had `sessions_max` running.
    pub sessions_busy: u64,
}

impl Traffic {
    /// The counts accumulated since `earlier`.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            messages: self.messages - earlier.messages,
            bytes: self.bytes - earlier.bytes,
            messages_lost: self.messages_lost - earlier.messages_lost,
            sessions_started: self.sessions_started - earlier.sessions_started,
            sessions_failed: self.sessions_failed - earlier.sessions_failed,
            sessions_busy: self.sessions_busy - earlier.sessions_busy,
        }
    }
}

/// The result of one run that converged.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Nodes.
    pub nodes: usize,
    /// Peers contacted per round.
    pub fanout: usize,
    /// Message loss in per-mille.
    pub loss_permille: u32,
    /// The workload.
    pub workload: Workload,
    /// The gossip interval.
    pub interval_ms: u64,
    /// Updates made (baseline included).
    pub updates: u64,
    /// Gossip rounds from the last write (or the heal) until every replica
    /// held every update: `ceil(converge_ms / interval_ms)`.
    pub rounds: u64,
    /// Simulated ms from the last write (or the heal) to convergence.
    pub converge_ms: u64,
    /// Simulated ms of the whole run.
    pub sim_ms: u64,
    /// Traffic from the last write (or the heal) to convergence.
    pub window: Traffic,
    /// Traffic of the whole run.
    pub total: Traffic,
}

impl Report {
    /// Bytes each node sent per round while converging.
    pub fn bytes_per_node_round(&self) -> f64 {
        self.window.bytes as f64 / (self.nodes as f64 * self.rounds.max(1) as f64)
    }
}

/// Several seeds of one configuration, summarized.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Runs summarized.
    pub runs: usize,
    /// Fewest rounds to convergence.
    pub rounds_min: u64,
    /// Median rounds.
    pub rounds_median: u64,
    /// Most rounds.
    pub rounds_max: u64,
    /// Mean simulated ms to convergence.
    pub converge_ms_mean: f64,
    /// Mean bytes sent while converging.
    pub bytes_mean: f64,
    /// Mean messages sent while converging.
    pub messages_mean: f64,
    /// Mean bytes per node per round while converging.
    pub bytes_per_node_round_mean: f64,
    /// Mean sessions failed (timeouts, busy peers) over whole runs.
    pub sessions_failed_mean: f64,
}

impl Summary {
    /// Summarizes `reports` (`None` when empty).
    pub fn of(reports: &[Report]) -> Option<Summary> {
        if reports.is_empty() {
            return None;
        }
        let mut rounds: Vec<u64> = reports.iter().map(|r| r.rounds).collect();
        rounds.sort_unstable();
        let mean =
            |f: &dyn Fn(&Report) -> f64| reports.iter().map(f).sum::<f64>() / reports.len() as f64;
        Some(Summary {
            runs: reports.len(),
            rounds_min: rounds[0],
            rounds_median: rounds[rounds.len() / 2],
            rounds_max: rounds[rounds.len() - 1],
            converge_ms_mean: mean(&|r| r.converge_ms as f64),
            bytes_mean: mean(&|r| r.window.bytes as f64),
            messages_mean: mean(&|r| r.window.messages as f64),
            bytes_per_node_round_mean: mean(&|r| r.bytes_per_node_round()),
            sessions_failed_mean: mean(&|r| r.total.sessions_failed as f64),
        })
    }
}

/// The header of [`table_row`]'s table.
pub fn table_header() -> String {
    format!(
        "{:<11} {:>5} {:>3} {:>5} {:>5} {:>14} {:>9} {:>11} {:>9} {:>10} {:>7}",
        "workload",
        "nodes",
        "fan",
        "loss",
        "runs",
        "rounds min/med/max",
        "conv ms",
        "bytes",
        "msgs",
        "B/node/rnd",
        "failed"
    )
}

/// One line of the summary table.
pub fn table_row(
    workload: Workload,
    nodes: usize,
    fanout: usize,
    loss_permille: u32,
    s: &Summary,
) -> String {
    let loss = format!("{:.1}%", f64::from(loss_permille) / 10.0);
    let rounds = format!("{}/{}/{}", s.rounds_min, s.rounds_median, s.rounds_max);
    format!(
        "{:<11} {:>5} {:>3} {:>5} {:>5} {:>14} {:>9.0} {:>11.0} {:>9.0} {:>10.0} {:>7.1}",
        workload.name(),
        nodes,
        fanout,
        loss,
        s.runs,
        rounds,
        s.converge_ms_mean,
        s.bytes_mean,
        s.messages_mean,
        s.bytes_per_node_round_mean,
        s.sessions_failed_mean
    )
}
