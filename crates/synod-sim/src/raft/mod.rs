//! Simulation of Raft clusters: [`Simulation`] runs one seed; [`run_seed`]
//! is the entry point used by the CLI and the tests.

mod checker;
mod network;
mod node;
mod params;
mod state_machine;
mod world;

pub use checker::Violation;
pub use params::SimParams;
pub use world::{RunStats, Simulation};

use synod_core::raft::Bugs;

/// Runs one seed with the given deliberate bugs (none for a real check).
pub fn run_seed(seed: u64, bugs: &Bugs) -> Result<RunStats, Violation> {
    Simulation::new(SimParams::from_seed(seed), bugs.clone()).run()
}
