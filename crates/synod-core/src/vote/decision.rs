//! The decision on a proposal.

use std::fmt;

use super::Participant;
use super::{ProposalId, Tally};
use crate::Time;

/// What an [`Algorithm`](super::Algorithm) concludes: the outcome is
/// settled one way or the other. "Not settled" is `None`, and at the
/// deadline `None` becomes [`Outcome::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Verdict {
    /// The proposal is adopted.
    Approved,
    /// The proposal is turned down.
    Rejected,
}

/// How a proposal ended (issue 6, item 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Outcome {
    /// Adopted.
    Approved,
    /// Turned down.
    Rejected,
    /// The deadline came before the votes settled it either way.
    Timeout,
}

impl From<Verdict> for Outcome {
    fn from(v: Verdict) -> Outcome {
        match v {
            Verdict::Approved => Outcome::Approved,
            Verdict::Rejected => Outcome::Rejected,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::Timeout => "timeout",
        })
    }
}

/// The final word on a proposal, taken once and never reversed.
///
/// The algorithm only says approved or rejected; everything else here is
/// counted by the book, the same way for every algorithm, so that a
/// custom algorithm cannot report figures that disagree with the votes.
/// The tally is the one at the moment of the decision: votes that would
/// have come later are refused and do not appear.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Decision {
    /// The proposal decided.
    pub proposal_id: ProposalId,
    /// Approved, rejected or timeout.
    pub outcome: Outcome,
    /// Name of the algorithm that decided.
    pub algorithm: String,
    /// The votes counted at the decision; `missing` are the participants
    /// who had not voted.
    pub tally: Tally,
    /// Who voted, in id order.
    pub voters: Vec<Participant>,
    /// When it was decided: the time of the deciding vote, or of the
    /// expiry command.
    pub decided_at: Time,
    /// Milliseconds from the proposal's creation to the decision.
    pub duration_ms: u64,
}

impl Decision {
    /// Whether the proposal was approved.
    pub fn is_approved(&self) -> bool {
        self.outcome == Outcome::Approved
    }

    /// Mean score of the votes that carried one (report only).
    pub fn average_score(&self) -> Option<f64> {
        self.tally.average_score()
    }

    /// Votes for, as a percentage of the participants (report only).
    pub fn approval_percent(&self) -> f64 {
        self.tally.approval_percent()
    }

    /// Weight for, as a percentage of the total weight; equal to
    /// [`Decision::approval_percent`] when the proposal has no weights.
    pub fn weighted_approval_percent(&self) -> f64 {
        self.tally.weighted_approval_percent()
    }
}
