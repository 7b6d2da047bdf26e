//! Simulation of SWIM membership with Lifeguard: 10 to 1,000 real
//! [`Swim`](synod_core::swim::Swim) cores exchanging datagrams through a
//! simulated network with per-datagram delay, loss and two-sided
//! partitions, push-pull exchanges over a reliable channel, crashes, and a
//! CPU-starved member whose packet handling runs late.
//!
//! A run follows SWIM (Das, Gupta & Motivala, "SWIM: Scalable
//! Weakly-consistent Infection-style Process Group Membership Protocol",
//! DSN 2002) and Lifeguard (Dadgar, Phillips & Currey, "Lifeguard: Local
//! Health Awareness for More Accurate Failure Detection", 2018):
//!
//! 1. **Bootstrap and warm-up**: every member merges a full view of the
//!    cluster, then runs on a perfect network until the resulting
//!    broadcasts are drained and every member did its first push-pull.
//! 2. **Scenario** ([`Scenario`]), with the run's datagram loss:
//!    a metadata update to spread, crashes to detect, a starved member,
//!    a partition, or nothing (load).
//! 3. **Settling**: every fault stops; every live member must come to
//!    hold every running member alive and every crashed one dead.
//!
//! The [checkers](checker) can fail: "dead" about a running member in a
//! run without loss, starvation or partition; a crash not detected
//! everywhere; no agreement after a partition heals or after settling;
//! events that disagree with a member's table; an oversized datagram.
//!
//! Everything is derived from the seed, and plain SWIM and Lifeguard runs
//! of one seed face the same network, victims and starvation schedule:
//!
//! ```
//! use synod_sim::swim::{run_seed, Scenario, SwimParams};
//!
//! let params = SwimParams::from_seed(7, 10, 0, Scenario::Spread, true);
//! let report = run_seed(params).expect("10 members spread an update");
//! assert!(report.spread.unwrap().rounds <= 10);
//! ```

pub mod checker;
mod network;
mod node;
mod observe;
mod params;
mod report;
mod scenario;
mod world;

pub use checker::Violation;
pub use network::{addr, index_of, node_id, push_pull_bytes};
pub use params::{
    ParamsError, Scenario, SimBug, Starvation, SwimParams, EPISODE_GAP_MS, EPISODE_MS,
};
pub use report::{quantile, table_header, Detection, FalseDead, Report, Spread, Summary, Traffic};
pub use world::Simulation;

/// Runs one SWIM simulation.
pub fn run_seed(params: SwimParams) -> Result<Report, Violation> {
    Simulation::new(params)?.run()
}

/// The command that replays a run from the command line.
pub fn replay_command(params: &SwimParams) -> String {
    let variant = if params.lifeguard() { " --lifeguard" } else { " --plain" };
    let default = synod_core::swim::SwimConfig::default();
    let mult = if params.config.suspicion_mult == default.suspicion_mult {
        String::new()
    } else {
        format!(" --suspicion-mult {}", params.config.suspicion_mult)
    };
    format!(
        "cargo run -p synod-sim --release -- swim --scenario {} --nodes {} --loss {}{variant}{mult} --seed {}",
        params.scenario.name(),
        params.nodes,
        f64::from(params.loss_permille) / 10.0,
        params.seed
    )
}
