//! `quorum`: more than a threshold of all participants in favour.

use std::collections::BTreeMap;

use super::algorithm::{share_threshold, share_verdict};
use super::params::Param;
use super::{Algorithm, Participant, Proposal, Tally, Verdict, Vote, VoteError};

/// Registry name of [`Quorum`].
pub const QUORUM: &str = "quorum";

/// Approve when the votes in favour are **strictly more than
/// `threshold_percent`** (0–99, default 50: a majority) **of all
/// participants**.
///
/// The share is of participants, not of votes cast: a proposal needs the
/// positive support of that share of everybody asked, so an abstention
/// weighs like a vote against or a missing vote (it is counted apart only
/// in the tally).
///
/// Settled early, with `f` votes for, `m` missing, `n` participants and
/// threshold `t`:
///
/// * approved as soon as `100·f > t·n` — more votes can only add to `f`;
/// * rejected as soon as `100·(f + m) ≤ t·n` — even if every missing vote
///   came in favour the bar would not be passed.
///
/// With everybody voted `m = 0` and one of the two holds. At the deadline
/// a quorum already reached has been approved the moment it was reached,
/// so what remains is [`Outcome::Timeout`](super::Outcome::Timeout).
#[derive(Clone, Copy, Debug, Default)]
pub struct Quorum;

impl Algorithm for Quorum {
    fn validate(&self, proposal: &Proposal) -> Result<(), VoteError> {
        proposal.params.allow_only(&proposal.algorithm, &[Param::Threshold])?;
        share_threshold(proposal).map(drop)
    }

    fn decide(
        &self,
        proposal: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        _timed_out: bool,
    ) -> Option<Verdict> {
        let threshold = share_threshold(proposal).ok()?;
        let t = Tally::count(proposal, votes);
        let (f, m, n) = (t.in_favor.into(), t.missing.into(), t.participants().into());
        share_verdict(f, m, n, threshold)
    }
}
