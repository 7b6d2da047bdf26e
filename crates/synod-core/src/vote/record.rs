//! Everything the book keeps about one proposal.

use std::collections::BTreeMap;

use super::Participant;
use super::{Decision, Proposal, Tally, Vote};
use crate::Time;

/// A proposal, its votes so far and, once taken, its decision.
///
/// Handed out by reference only; the book alone changes it, and only by
/// adding a vote while open or setting the decision once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProposalRecord {
    /// The proposal as created.
    pub proposal: Proposal,
    /// `created_at` plus the (default or requested) deadline: votes are
    /// accepted strictly before it, expiry at or after it.
    pub deadline: Time,
    /// The votes received, by participant.
    pub votes: BTreeMap<Participant, Vote>,
    /// The decision, once taken; never changed afterwards.
    pub decision: Option<Decision>,
}

impl ProposalRecord {
    /// Whether it still awaits a decision.
    pub fn is_open(&self) -> bool {
        self.decision.is_none()
    }

    /// The current count of its votes.
    pub fn tally(&self) -> Tally {
        Tally::count(&self.proposal, &self.votes)
    }
}
