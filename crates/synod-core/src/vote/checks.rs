//! The checks every proposal and vote passes, whatever the algorithm.

use std::collections::BTreeSet;

use super::{Config, Participant, Proposal, Vote, VoteError};
use crate::Time;

/// Refuses `len` bytes of `field` above `max`.
fn bounded(field: &'static str, len: usize, max: usize) -> Result<(), VoteError> {
    if len > max {
        return Err(VoteError::TooLarge { field, bytes: len, max });
    }
    Ok(())
}

/// Checks the algorithm-independent fields of `proposal` and returns its
/// deadline.
pub(crate) fn check_proposal(config: &Config, proposal: &Proposal) -> Result<Time, VoteError> {
    if proposal.id.0.is_empty() {
        return Err(VoteError::EmptyId);
    }
    bounded("id", proposal.id.0.len(), config.id_bytes_max)?;
    if proposal.kind.trim().is_empty() {
        return Err(VoteError::EmptyKind);
    }
    bounded("kind", proposal.kind.len(), config.kind_bytes_max)?;
    bounded("payload", proposal.payload.len(), config.payload_bytes_max)?;
    bounded("algorithm name", proposal.algorithm.len(), config.algorithm_name_bytes_max)?;
    let custom = proposal.params.custom_bytes();
    bounded("custom params", custom, config.custom_params_bytes_max)?;
    check_participants(config, proposal)?;
    check_deadline(config, proposal)
}

fn check_participants(config: &Config, proposal: &Proposal) -> Result<(), VoteError> {
    let count = proposal.participants.len();
    if count == 0 {
        return Err(VoteError::NoParticipants);
    }
    if count > config.participants_max {
        return Err(VoteError::TooManyParticipants { count, max: config.participants_max });
    }
    check_name(&proposal.proposer)?;
    let mut seen = BTreeSet::new();
    for participant in &proposal.participants {
        check_name(participant)?;
        if !seen.insert(participant) {
            let participant = participant.clone();
            return Err(VoteError::DuplicateParticipant { participant });
        }
    }
    Ok(())
}

fn check_name(participant: &Participant) -> Result<(), VoteError> {
    participant.check().map_err(|reason| VoteError::InvalidParticipant {
        participant: participant.clone(),
        reason,
    })
}

fn check_deadline(config: &Config, proposal: &Proposal) -> Result<Time, VoteError> {
    let deadline_ms = proposal.deadline_ms.unwrap_or(config.deadline_ms_default);
    if deadline_ms == 0 {
        return Err(VoteError::DeadlineZero);
    }
    if deadline_ms > config.deadline_ms_max {
        return Err(VoteError::DeadlineTooLong { deadline_ms, max_ms: config.deadline_ms_max });
    }
    Ok(proposal.created_at.plus_ms(deadline_ms))
}

/// Checks the algorithm-independent fields of `vote`.
pub(crate) fn check_vote(config: &Config, vote: &Vote) -> Result<(), VoteError> {
    if let Some(score) = vote.score.filter(|s| *s > 100) {
        return Err(VoteError::ScoreOutOfRange { score });
    }
    let reason = vote.reason.as_ref().map_or(0, String::len);
    bounded("reason", reason, config.reason_bytes_max)?;
    let metadata = vote.metadata.as_ref().map_or(0, String::len);
    bounded("metadata", metadata, config.metadata_bytes_max)
}
