//! Decision hooks (issue 6, item 5): per node, configured commands run
//! when a vote decision matches a proposal kind and an outcome — e.g. on
//! an approved `commit`, `git -C /srv/agents pull --ff-only`.
//!
//! * [`HookConfig`] says which decisions start which command (an argv, or
//!   a script for `sh -c`), its time limit and extra environment;
//!   [`validate_hooks`] checks a node's list.
//! * [`HookRunner::on_decision`] runs the matching hooks in order. The
//!   command gets the decision as `SYNOD_*` environment variables and as
//!   one JSON object on standard input; it runs in its own process group,
//!   killed as a whole at the time limit.
//! * [`HookLedger`] (`hooks.redb` in the data directory) records each run
//!   before it starts and its result after: exit code, the first
//!   [`OUTPUT_BYTES_MAX`] bytes of each output stream, duration, whether
//!   it timed out. The record is what makes a hook run **at most once per
//!   node per decision**, across redeliveries and restarts; a run found
//!   unfinished on restart is reported interrupted, never repeated (its
//!   command may have done its work). `results` and `recent` serve the API.
//!
//! Metric: `synod_hook_runs_total{hook, result=ok|failed|timeout|interrupted}`.
//!
//! ```no_run
//! # async fn demo(data_dir: &std::path::Path, proposal: &synod_core::vote::Proposal,
//! #               decision: &synod_core::vote::Decision) -> Result<(), Box<dyn std::error::Error>> {
//! use synod_node::hooks::{HookConfig, HookLedger, HookRunner, OutcomeFilter};
//!
//! let pull = HookConfig::command(
//!     "pull-agents", "commit", OutcomeFilter::Approved,
//!     ["git", "-C", "/srv/agents", "pull", "--ff-only"].map(String::from).to_vec(),
//! );
//! let runner = HookRunner::new(vec![pull], HookLedger::open_in(data_dir)?)?;
//! for run in runner.on_decision(proposal, decision).await? {
//!     println!("{} -> {:?} (exit {:?})", run.hook, run.status, run.exit_code);
//! }
//! # Ok(()) }
//! ```

mod config;
mod error;
mod exec;
mod input;
mod ledger;
mod run;
mod runner;

#[cfg(test)]
mod tests;

pub use config::{
    validate_hooks, HookConfig, OutcomeFilter, ANY_KIND, HOOKS_MAX, HOOK_KIND_BYTES_MAX,
    HOOK_NAME_BYTES_MAX, HOOK_TIMEOUT_DEFAULT, HOOK_TIMEOUT_MAX,
};
pub use error::{HookConfigError, HookError};
pub use exec::OUTPUT_BYTES_MAX;
pub use ledger::{HookLedger, RECENT_MAX};
pub use run::{HookRun, HookStatus};
pub use runner::HookRunner;
