//! `unanimous`: nobody against, everybody voted, somebody for.

use std::collections::BTreeMap;

use super::{Algorithm, Participant, Proposal, Tally, Verdict, Vote, VoteError};

/// Registry name of [`Unanimous`].
pub const UNANIMOUS: &str = "unanimous";

/// Approve when **every participant has voted, none against, and at least
/// one in favour**.
///
/// Abstaining does not veto: it is how a participant says "not my call"
/// without blocking the others (the Security Council's convention). A
/// ballot of abstentions only is rejected — nobody supported it.
///
/// Settled early:
///
/// * rejected at the first vote against — nothing can undo a veto;
/// * approved only when the last participant has voted, since any
///   missing participant could still vote against.
///
/// At the deadline a participant is missing by definition (a full ballot
/// is settled), and silence is not consent: the outcome is a timeout.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unanimous;

impl Algorithm for Unanimous {
    fn validate(&self, proposal: &Proposal) -> Result<(), VoteError> {
        proposal.params.allow_only(&proposal.algorithm, &[])
    }

    fn decide(
        &self,
        proposal: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        _timed_out: bool,
    ) -> Option<Verdict> {
        let t = Tally::count(proposal, votes);
        if t.against > 0 {
            Some(Verdict::Rejected)
        } else if t.missing > 0 {
            None
        } else if t.in_favor > 0 {
            Some(Verdict::Approved)
        } else {
            Some(Verdict::Rejected)
        }
    }
}
