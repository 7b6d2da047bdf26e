//! Hands the decisions this node applies to its hook runner, in log
//! order, each exactly once across restarts.

use std::time::Duration;

use tokio::sync::broadcast;

use super::{EventBody, VoteEvent};
use crate::hooks::{HookError, HookRunner};
use crate::machine::NodeStateMachine;
use crate::NodeHandle;

/// Decisions handled per look at the state.
const BATCH: usize = 64;
/// How long to wait before trying again after a ledger error, and the
/// longest wait for a new decision before looking anyway.
const RETRY: Duration = Duration::from_secs(1);

/// Runs until the node stops.
///
/// The ledger's watermark is the log index of the last decision whose
/// hooks are done; it moves forward only after the runner has handled
/// the decision. A crash before that hands the decision over again on
/// restart, and the ledger's claim makes the runner skip the hooks that
/// had started — so each hook runs once per decision. Decisions taken
/// (by the leader's clock) before the ledger was created are history:
/// a node that joins, or comes back with an empty data directory and
/// replays the log, does not run hooks for them.
pub async fn run(node: NodeHandle<NodeStateMachine>, runner: HookRunner) {
    let Ok(mut events) = node.read(false, |sm| sm.events().subscribe()).await else { return };
    let (mut mark, epoch) = match start(&runner).await {
        Ok(start) => start,
        Err(err) => {
            tracing::error!(%err, "decision hooks disabled: cannot read the hook ledger");
            return;
        }
    };
    loop {
        let Ok(batch) = node.read(false, move |sm| sm.votes().decided_after(mark, BATCH)).await
        else {
            return;
        };
        if batch.is_empty() {
            wait_for_decision(&mut events).await;
            continue;
        }
        let mut stored_mark = mark;
        for (index, stored) in batch {
            let record = &stored.record;
            let decision = record.decision.as_ref().expect("decided_after returns decided ones");
            if decision.decided_at.0 < epoch {
                tracing::debug!(proposal = %record.proposal.id, "decided before the hook ledger existed; hooks not run");
                mark = index;
                continue;
            }
            if let Err(err) = runner.on_decision(&record.proposal, decision).await {
                let proposal = &record.proposal.id;
                tracing::error!(%err, %proposal, "decision hooks failed; retrying");
                tokio::time::sleep(RETRY).await;
                break;
            }
            if let Err(err) = set_mark(&runner, index).await {
                tracing::error!(%err, "cannot record the hook watermark; retrying");
                tokio::time::sleep(RETRY).await;
                break;
            }
            (mark, stored_mark) = (index, index);
        }
        if mark > stored_mark {
            if let Err(err) = set_mark(&runner, mark).await {
                tracing::error!(%err, "cannot record the hook watermark; retrying");
            }
        }
    }
}

/// The watermark (0 for a new ledger) and the ledger's creation time.
async fn start(runner: &HookRunner) -> Result<(u64, u64), HookError> {
    let ledger = runner.ledger().clone();
    tokio::task::spawn_blocking(move || {
        Ok((ledger.watermark()?.unwrap_or(0), ledger.created_at_ms()?))
    })
    .await
    .map_err(|e| HookError::Task(e.to_string()))?
}

async fn set_mark(runner: &HookRunner, index: u64) -> Result<(), HookError> {
    let ledger = runner.ledger().clone();
    tokio::task::spawn_blocking(move || ledger.set_watermark(index))
        .await
        .map_err(|e| HookError::Task(e.to_string()))?
}

/// Returns at the next decision, or after [`RETRY`] at the latest.
async fn wait_for_decision(events: &mut broadcast::Receiver<VoteEvent>) {
    let _ = tokio::time::timeout(RETRY, async {
        loop {
            match events.recv().await {
                Ok(VoteEvent { body: EventBody::DecisionReached(_), .. }) => return,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await;
                }
            }
        }
    })
    .await;
}
