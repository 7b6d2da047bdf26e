//! Conversions between the vote types and `synod.vote.v1` messages.

use synod_core::vote::{Choice, Counts, Decision, Outcome, Params, Participant, Vote, VoteStats};
use synod_proto::vote::v1 as pb;
use tonic::Status;

use super::{EventBody, QuarantineEntry, StoredProposal, VoteEvent};
use crate::hooks::HookRun;

/// A percentage or score field of a request as the byte the core checks;
/// values past 255 cannot be in range for any of them.
fn small(field: &str, value: Option<u32>) -> Result<Option<u8>, Status> {
    value
        .map(|v| {
            u8::try_from(v).map_err(|_| {
                Status::invalid_argument(format!("{field} is {v}; it must be between 0 and 100"))
            })
        })
        .transpose()
}

/// The algorithm parameters of a request.
pub fn params_from_pb(p: Option<pb::Params>) -> Result<Params, Status> {
    let Some(p) = p else { return Ok(Params::default()) };
    Ok(Params {
        threshold_percent: small("threshold_percent", p.threshold_percent)?,
        weights: p.weights.into_iter().map(|(k, w)| (Participant(k), w)).collect(),
        min_average_score: small("min_average_score", p.min_average_score)?,
        min_approval_percent: small("min_approval_percent", p.min_approval_percent)?,
        custom: p.custom.into_iter().collect(),
    })
}

fn params_to_pb(p: &Params) -> pb::Params {
    pb::Params {
        threshold_percent: p.threshold_percent.map(u32::from),
        weights: p.weights.iter().map(|(k, w)| (k.0.clone(), *w)).collect(),
        min_average_score: p.min_average_score.map(u32::from),
        min_approval_percent: p.min_approval_percent.map(u32::from),
        custom: p.custom.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// The choice of a cast request.
pub fn choice_from_pb(choice: i32) -> Result<Choice, Status> {
    match pb::Choice::try_from(choice) {
        Ok(pb::Choice::For) => Ok(Choice::For),
        Ok(pb::Choice::Against) => Ok(Choice::Against),
        Ok(pb::Choice::Abstain) => Ok(Choice::Abstain),
        _ => Err(Status::invalid_argument("choice is not set: vote for, against or abstain")),
    }
}

fn choice_to_pb(choice: Choice) -> pb::Choice {
    match choice {
        Choice::For => pb::Choice::For,
        Choice::Against => pb::Choice::Against,
        Choice::Abstain => pb::Choice::Abstain,
    }
}

/// A vote as sent.
pub fn vote_to_pb(v: &Vote) -> pb::Vote {
    pb::Vote {
        participant: v.participant.0.clone(),
        choice: choice_to_pb(v.choice).into(),
        score: v.score.map(u32::from),
        reason: v.reason.clone().unwrap_or_default(),
        metadata: v.metadata.clone().unwrap_or_default(),
    }
}

/// A decision as sent.
pub fn decision_to_pb(d: &Decision) -> pb::Decision {
    let outcome = match d.outcome {
        Outcome::Approved => pb::Outcome::Approved,
        Outcome::Rejected => pb::Outcome::Rejected,
        Outcome::Timeout => pb::Outcome::Timeout,
    };
    pb::Decision {
        proposal_id: d.proposal_id.0.clone(),
        outcome: outcome.into(),
        algorithm: d.algorithm.clone(),
        tally: Some(pb::Tally {
            in_favor: d.tally.in_favor,
            against: d.tally.against,
            abstain: d.tally.abstain,
            missing: d.tally.missing,
            weight_for: d.tally.weight_for,
            weight_total: d.tally.weight_total,
        }),
        voters: d.voters.iter().map(|p| p.0.clone()).collect(),
        decided_at_ms: d.decided_at.0,
        duration_ms: d.duration_ms,
        average_score: d.average_score(),
        approval_percent: d.approval_percent(),
        weighted_approval_percent: d.weighted_approval_percent(),
    }
}

/// A proposal with its votes and decision, as sent.
pub fn proposal_to_pb(s: &StoredProposal) -> pb::ProposalInfo {
    let (record, p) = (&s.record, &s.record.proposal);
    pb::ProposalInfo {
        id: p.id.0.clone(),
        proposer: p.proposer.0.clone(),
        kind: p.kind.clone(),
        payload: p.payload.clone(),
        algorithm: p.algorithm.clone(),
        params: Some(params_to_pb(&p.params)),
        participants: p.participants.iter().map(|x| x.0.clone()).collect(),
        created_at_ms: p.created_at.0,
        deadline_ms: record.deadline.0,
        votes: record.votes.values().map(vote_to_pb).collect(),
        decision: record.decision.as_ref().map(decision_to_pb),
        quarantine_id: s.quarantine_id.clone().unwrap_or_default(),
    }
}

/// An event as sent by node `node_id`.
pub fn event_to_pb(node_id: u64, e: &VoteEvent) -> pb::Event {
    use pb::event::Event as E;
    let event = match &e.body {
        EventBody::ProposalCreated { record, quarantine_id } => {
            E::ProposalCreated(proposal_to_pb(&StoredProposal {
                record: (**record).clone(),
                quarantine_id: quarantine_id.clone(),
                created_index: e.revision,
                decided_index: None,
            }))
        }
        EventBody::VoteCast { id, vote } => {
            E::VoteCast(pb::VoteCast { proposal_id: id.0.clone(), vote: Some(vote_to_pb(vote)) })
        }
        EventBody::DecisionReached(d) => E::DecisionReached(decision_to_pb(d)),
        EventBody::QuarantineChanged { id, quarantined, reason } => {
            E::QuarantineChanged(pb::QuarantineChanged {
                id: id.clone(),
                quarantined: *quarantined,
                reason: reason.clone(),
            })
        }
    };
    pb::Event {
        node_id,
        at_ms: e.at.0,
        revision: e.revision,
        event: Some(event),
        kind: e.kind.clone(),
    }
}

fn counts_to_pb(c: &Counts) -> pb::Counts {
    pb::Counts {
        proposals: c.proposals,
        approved: c.approved,
        rejected: c.rejected,
        timeouts: c.timeouts,
        open: c.open(),
        approval_rate: c.approval_rate(),
        average_duration_ms: c.average_duration_ms(),
    }
}

/// The statistics as sent.
pub fn stats_to_pb(s: &VoteStats) -> pb::StatsResponse {
    pb::StatsResponse {
        total: Some(counts_to_pb(&s.total)),
        by_algorithm: s.by_algorithm.iter().map(|(k, c)| (k.clone(), counts_to_pb(c))).collect(),
    }
}

/// A quarantine entry as sent.
pub fn quarantine_to_pb(q: &QuarantineEntry) -> pb::QuarantineEntry {
    pb::QuarantineEntry {
        id: q.id.clone(),
        reason: q.reason.clone(),
        added_at_ms: q.added_at.0,
        proposal_id: q.proposal_id.clone().unwrap_or_default(),
    }
}

/// A hook run as sent.
pub fn hook_run_to_pb(r: &HookRun) -> pb::HookRun {
    pb::HookRun {
        proposal_id: r.proposal_id.clone(),
        hook: r.hook.clone(),
        status: r.status.as_str().to_owned(),
        exit_code: r.exit_code,
        signal: r.signal,
        timed_out: r.timed_out,
        started_at_ms: r.started_at_ms,
        duration_ms: r.duration_ms,
        stdout: r.stdout.clone(),
        stderr: r.stderr.clone(),
        error: r.error.clone().unwrap_or_default(),
    }
}
