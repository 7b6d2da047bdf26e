//! [`HookRun`]: what the ledger keeps about one hook on one decision.

use serde::{Deserialize, Serialize};

/// Where a hook run stands. `Running` is written before the command
/// starts; one of the others replaces it when the command ends, or, for
/// `Interrupted`, when the ledger is reopened after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookStatus {
    /// Recorded as started; the command has not been seen to end.
    Running,
    /// Exited with code 0.
    Ok,
    /// Exited with another code, was killed by a signal, or could not start.
    Failed,
    /// Ran past its time limit and was killed with its process group.
    Timeout,
    /// Started before the node stopped, result unknown; never re-run.
    Interrupted,
}

impl HookStatus {
    /// The status as text: the `result` label of `synod_hook_runs_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::Running => "running",
            HookStatus::Ok => "ok",
            HookStatus::Failed => "failed",
            HookStatus::Timeout => "timeout",
            HookStatus::Interrupted => "interrupted",
        }
    }
}

/// One hook on one decision, as recorded in the ledger and shown by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRun {
    /// The decided proposal.
    pub proposal_id: String,
    /// The hook's name.
    pub hook: String,
    /// Order of the start among all runs of this node, from 1.
    pub seq: u64,
    /// Where the run stands.
    pub status: HookStatus,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// How long the command ran, in milliseconds (0 while running).
    pub duration_ms: u64,
    /// The exit code, when the command exited by itself.
    pub exit_code: Option<i32>,
    /// The signal that ended the command, if one did.
    pub signal: Option<i32>,
    /// Whether the time limit was reached and the command killed.
    pub timed_out: bool,
    /// Standard output, at most [`OUTPUT_BYTES_MAX`](super::OUTPUT_BYTES_MAX)
    /// (invalid UTF-8 replaced).
    pub stdout: String,
    /// Standard error, likewise.
    pub stderr: String,
    /// Bytes the command wrote to standard output, kept or not.
    pub stdout_bytes: u64,
    /// Bytes the command wrote to standard error, kept or not.
    pub stderr_bytes: u64,
    /// Why the command could not be started, if it could not.
    pub error: Option<String>,
}

impl HookRun {
    /// A run that has just been claimed, before its command starts.
    pub fn started(proposal_id: &str, hook: &str, seq: u64, started_at_ms: u64) -> HookRun {
        HookRun {
            proposal_id: proposal_id.to_owned(),
            hook: hook.to_owned(),
            seq,
            status: HookStatus::Running,
            started_at_ms,
            duration_ms: 0,
            exit_code: None,
            signal: None,
            timed_out: false,
            stdout: String::new(),
            stderr: String::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            error: None,
        }
    }

    /// Whether the run has a final status.
    pub fn is_finished(&self) -> bool {
        self.status != HookStatus::Running
    }
}
