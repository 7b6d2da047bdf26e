//! What a hook command receives: the decision as environment variables
//! (for one-line scripts) and as one JSON object on standard input (for
//! programs that want every field).

use serde_json::json;
use synod_core::vote::{Decision, Proposal};

/// Decision variables that may be absent: they are removed from
/// the inherited environment when absent, so a stale value from the
/// node's own environment never passes for this decision's.
pub(crate) const OPTIONAL_VARS: &[&str] = &["SYNOD_AVERAGE_SCORE"];

/// `SYNOD_*` variables describing `decision` of `proposal` to `hook`.
/// Numbers are decimal; percentages and the average score have two
/// decimals; the proposer is its name (`n7` for node 7).
pub(crate) fn decision_env(
    hook: &str,
    proposal: &Proposal,
    decision: &Decision,
) -> Vec<(String, String)> {
    let t = &decision.tally;
    let mut vars = vec![
        ("SYNOD_HOOK", hook.to_owned()),
        ("SYNOD_PROPOSAL_ID", decision.proposal_id.0.clone()),
        ("SYNOD_KIND", proposal.kind.clone()),
        ("SYNOD_OUTCOME", decision.outcome.to_string()),
        ("SYNOD_ALGORITHM", decision.algorithm.clone()),
        ("SYNOD_PROPOSER", proposal.proposer.0.to_string()),
        ("SYNOD_VOTES_FOR", t.in_favor.to_string()),
        ("SYNOD_VOTES_AGAINST", t.against.to_string()),
        ("SYNOD_VOTES_ABSTAIN", t.abstain.to_string()),
        ("SYNOD_VOTES_MISSING", t.missing.to_string()),
        ("SYNOD_APPROVAL_PERCENT", format!("{:.2}", decision.approval_percent())),
        ("SYNOD_DECIDED_AT_MS", decision.decided_at.0.to_string()),
        ("SYNOD_DURATION_MS", decision.duration_ms.to_string()),
        ("SYNOD_PAYLOAD", proposal.payload.clone()),
    ];
    if let Some(score) = decision.average_score() {
        vars.push(("SYNOD_AVERAGE_SCORE", format!("{score:.2}")));
    }
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The JSON document written to the hook's standard input:
/// `{"hook", "proposal", "decision", "payload"}`, where `payload` is the
/// proposal's payload parsed (a string if it is not JSON, `null` if empty).
pub(crate) fn decision_json(hook: &str, proposal: &Proposal, decision: &Decision) -> Vec<u8> {
    let payload = if proposal.payload.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&proposal.payload).unwrap_or_else(|_| proposal.payload.clone().into())
    };
    let doc = json!({
        "hook": hook,
        "proposal": proposal,
        "decision": decision,
        "payload": payload,
    });
    let mut bytes = serde_json::to_vec(&doc).expect("decision JSON always serializes");
    bytes.push(b'\n');
    bytes
}
