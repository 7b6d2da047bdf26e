//! The decision-algorithm trait.

use std::collections::BTreeMap;
use std::fmt;

use super::params::Param;
use super::{Params, Participant, Proposal, Verdict, Vote, VoteError};

/// A rule that turns the votes on a proposal into a verdict (issue 6,
/// item 2). The built-ins are [`Quorum`](super::Quorum),
/// [`Weighted`](super::Weighted), [`Unanimous`](super::Unanimous) and
/// [`Score`](super::Score); others are added to a
/// [`Registry`](super::Registry) under a name of their own.
///
/// # Contract
///
/// The book runs inside the replicated state machine, so every replica
/// calls these methods on the same inputs and must get the same answers:
///
/// * **Pure.** The answer depends on the arguments only: no clock, no
///   randomness, no `HashMap` iteration order, no floating-point
///   comparison that could round differently. Every node must register
///   the same algorithms under the same names.
/// * **Early only when settled.** With `timed_out = false`, return
///   `Some(v)` only when *every* way the missing participants could still
///   vote leads to `v` — "the outcome can no longer change". Then the
///   order in which the same votes arrive cannot change the outcome: the
///   book stops at the first settled prefix, and any order reaches a
///   settled prefix with the same verdict.
/// * **Settle a full ballot.** Once every participant has voted, return
///   `Some`; otherwise the proposal waits for its deadline for nothing.
/// * **At the deadline** (`timed_out = true`) return the verdict the
///   votes so far justify, or `None`, which the book records as
///   [`Outcome::Timeout`](super::Outcome::Timeout) with the partial tally.
pub trait Algorithm: fmt::Debug + Send + Sync {
    /// Checks `proposal.params` (and anything else about the proposal the
    /// algorithm cares about) when the proposal is created. The proposal's
    /// generic fields are already checked. Use
    /// [`VoteError::InvalidParams`] for refusals of your own.
    fn validate(&self, proposal: &Proposal) -> Result<(), VoteError>;

    /// Checks one vote before it is recorded; the book has already checked
    /// that the voter is a participant who has not voted, and the score
    /// range. Accepts everything unless overridden; use
    /// [`VoteError::InvalidVote`] for refusals of your own.
    fn check_vote(&self, proposal: &Proposal, vote: &Vote) -> Result<(), VoteError> {
        let _ = (proposal, vote);
        Ok(())
    }

    /// The verdict on `proposal` given `votes` (one per voter, keyed by
    /// participant), or `None` while it is open. See the trait's contract.
    fn decide(
        &self,
        proposal: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        timed_out: bool,
    ) -> Option<Verdict>;
}

/// The `threshold_percent` of a share-based algorithm (`quorum`,
/// `weighted`): 0–99, default 50 (a majority).
pub(crate) fn share_threshold(proposal: &Proposal) -> Result<u8, VoteError> {
    let value = proposal.params.threshold_percent;
    Params::percent(&proposal.algorithm, Param::Threshold, value, 50, (0, 99))
}

/// The verdict of "strictly more than `threshold_percent` of `total` in
/// favour", where `yes` is in favour already and `open` could still be:
/// approved once `yes` alone is enough, rejected once even `yes + open`
/// is not, undecided in between. Integer arithmetic only.
pub(crate) fn share_verdict(
    yes: u64,
    open: u64,
    total: u64,
    threshold_percent: u8,
) -> Option<Verdict> {
    let bar = u64::from(threshold_percent) * total;
    if yes * 100 > bar {
        Some(Verdict::Approved)
    } else if (yes + open) * 100 <= bar {
        Some(Verdict::Rejected)
    } else {
        None
    }
}
