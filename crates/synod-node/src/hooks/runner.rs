//! [`HookRunner`]: runs the matching hooks of a decision, each at most
//! once per node.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use synod_core::vote::{Decision, Proposal};

use super::exec::{code_and_signal, execute, Job};
use super::input::{decision_env, decision_json, OPTIONAL_VARS};
use super::{
    validate_hooks, HookConfig, HookConfigError, HookError, HookLedger, HookRun, HookStatus,
};

/// Runs a node's decision hooks against its [`HookLedger`].
///
/// For each decision, the matching hooks run one after the other in
/// configuration order (a later hook may rely on an earlier one, e.g.
/// pull then restart). Each run is claimed in the ledger, durably,
/// *before* its command starts: a decision delivered again — by a
/// replay, a retry or after a restart — finds the claim and skips the
/// hook, and a crash mid-run leaves a claim that reopening reports as
/// interrupted. So every hook runs at most once per node per decision.
#[derive(Clone, Debug)]
pub struct HookRunner {
    hooks: Arc<[HookConfig]>,
    ledger: HookLedger,
}

impl HookRunner {
    /// A runner for `hooks` (validated here) recording in `ledger`.
    pub fn new(hooks: Vec<HookConfig>, ledger: HookLedger) -> Result<HookRunner, HookConfigError> {
        validate_hooks(&hooks)?;
        Ok(HookRunner { hooks: hooks.into(), ledger })
    }

    /// The configured hooks.
    pub fn hooks(&self) -> &[HookConfig] {
        &self.hooks
    }

    /// The ledger, for the API: [`HookLedger::results`], [`HookLedger::recent`].
    pub fn ledger(&self) -> &HookLedger {
        &self.ledger
    }

    /// The hooks that match `decision` of `proposal`, in configuration order.
    pub fn matching<'a>(
        &'a self,
        proposal: &'a Proposal,
        decision: &'a Decision,
    ) -> impl Iterator<Item = &'a HookConfig> + 'a {
        self.hooks.iter().filter(move |h| h.matches(proposal, decision))
    }

    /// Runs every matching hook not run before on this decision and
    /// returns the runs made by this call (hooks already claimed are
    /// skipped and not returned). A ledger error stops the call: the hook
    /// at hand either did not start or stays "running" (interrupted after
    /// a restart); later hooks do not run.
    ///
    /// # Panics
    /// If `decision` is not about `proposal`.
    pub async fn on_decision(
        &self,
        proposal: &Proposal,
        decision: &Decision,
    ) -> Result<Vec<HookRun>, HookError> {
        assert_eq!(proposal.id, decision.proposal_id, "decision of another proposal");
        let mut done = Vec::new();
        for hook in self.matching(proposal, decision) {
            let ledger = self.ledger.clone();
            let (id, name) = (proposal.id.0.clone(), hook.name.clone());
            let claim = blocking(move || ledger.try_start(&id, &name, unix_ms())).await?;
            let Some(run) = claim else {
                tracing::debug!(proposal = %proposal.id, hook = %hook.name, "hook already ran on this decision; skipped");
                continue;
            };
            let run = run_hook(hook, proposal, decision, run).await;
            let ledger = self.ledger.clone();
            let record = run.clone();
            blocking(move || ledger.finish(&record)).await?;
            metrics::counter!("synod_hook_runs_total", "hook" => run.hook.clone(), "result" => run.status.as_str())
                .increment(1);
            done.push(run);
        }
        Ok(done)
    }
}

/// Runs `hook`'s command and fills in the result of `run`.
async fn run_hook(
    hook: &HookConfig,
    proposal: &Proposal,
    decision: &Decision,
    mut run: HookRun,
) -> HookRun {
    let argv = hook.argv();
    let mut env: Vec<(String, String)> =
        hook.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    env.extend(decision_env(&hook.name, proposal, decision));
    tracing::info!(proposal = %proposal.id, hook = %hook.name, outcome = %decision.outcome, "running decision hook");
    let exec = execute(Job {
        argv: &argv,
        env,
        env_remove: OPTIONAL_VARS,
        stdin: decision_json(&hook.name, proposal, decision),
        timeout: hook.timeout,
    })
    .await;
    (run.exit_code, run.signal) = code_and_signal(exec.status);
    run.timed_out = exec.timed_out;
    run.duration_ms = u64::try_from(exec.duration.as_millis()).unwrap_or(u64::MAX);
    run.stdout = String::from_utf8_lossy(&exec.stdout.head).into_owned();
    run.stderr = String::from_utf8_lossy(&exec.stderr.head).into_owned();
    (run.stdout_bytes, run.stderr_bytes) = (exec.stdout.total, exec.stderr.total);
    run.error = exec.spawn_error;
    run.status = match (run.timed_out, run.exit_code) {
        (true, _) => HookStatus::Timeout,
        (false, Some(0)) => HookStatus::Ok,
        _ => HookStatus::Failed,
    };
    log_result(&run);
    run
}

fn log_result(run: &HookRun) {
    let (p, h) = (&run.proposal_id, &run.hook);
    let (out, err) = (run.stdout_bytes, run.stderr_bytes);
    match run.status {
        HookStatus::Ok => {
            tracing::info!(proposal = %p, hook = %h, duration_ms = run.duration_ms, stdout_bytes = out, stderr_bytes = err, "decision hook succeeded")
        }
        _ => tracing::warn!(
            proposal = %p, hook = %h, status = run.status.as_str(), exit_code = ?run.exit_code,
            signal = ?run.signal, duration_ms = run.duration_ms, stdout_bytes = out, stderr_bytes = err,
            error = ?run.error, "decision hook failed"
        ),
    }
}

/// Runs a ledger operation (an fsync) off the async worker threads.
async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, HookError> + Send + 'static,
) -> Result<T, HookError> {
    tokio::task::spawn_blocking(op).await.map_err(|e| HookError::Task(e.to_string()))?
}

fn unix_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
