//! `weighted`: more than a threshold of the total weight in favour.

use std::collections::BTreeMap;

use super::algorithm::{share_threshold, share_verdict};
use super::params::Param;
use super::{Algorithm, Participant, Proposal, Tally, Verdict, Vote, VoteError};

/// Registry name of [`Weighted`].
pub const WEIGHTED: &str = "weighted";

/// Approve when the weight in favour is **strictly more than
/// `threshold_percent`** (0–99, default 50) **of the participants' total
/// weight**. Each participant's weight comes from `params.weights`, which
/// must name every participant and nobody else; a weight may be 0 (the
/// participant votes for the record but does not count), the total may
/// not.
///
/// It is [`Quorum`](super::Quorum) with weights: with `w_f` the weight
/// for, `w_m` the weight of those missing and `W` the total,
///
/// * approved as soon as `100·w_f > t·W`;
/// * rejected as soon as `100·(w_f + w_m) ≤ t·W` — this can happen before
///   everybody voted, e.g. when only weight-0 participants are missing.
///
/// Abstentions and votes against both leave `w_f` unchanged. At the
/// deadline what is not settled is a timeout.
#[derive(Clone, Copy, Debug, Default)]
pub struct Weighted;

impl Weighted {
    fn check_weights(proposal: &Proposal) -> Result<(), VoteError> {
        let weights = &proposal.params.weights;
        if let Some(participant) = proposal.participants.iter().find(|p| !weights.contains_key(p)) {
            return Err(VoteError::WeightMissing { participant: participant.clone() });
        }
        if let Some(node) = weights.keys().find(|n| !proposal.is_participant(n)) {
            return Err(VoteError::WeightForNonParticipant { node: node.clone() });
        }
        if proposal.total_weight() == 0 {
            return Err(VoteError::ZeroTotalWeight);
        }
        Ok(())
    }
}

impl Algorithm for Weighted {
    fn validate(&self, proposal: &Proposal) -> Result<(), VoteError> {
        let allowed = [Param::Threshold, Param::Weights];
        proposal.params.allow_only(&proposal.algorithm, &allowed)?;
        share_threshold(proposal)?;
        Weighted::check_weights(proposal)
    }

    fn decide(
        &self,
        proposal: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        _timed_out: bool,
    ) -> Option<Verdict> {
        let threshold = share_threshold(proposal).ok()?;
        let t = Tally::count(proposal, votes);
        share_verdict(t.weight_for, t.weight_missing, t.weight_total, threshold)
    }
}
