//! `score`: a high enough average score and enough approvals — the
//! commit-adoption rule.

use std::collections::BTreeMap;

use super::params::Param;
use super::{Algorithm, Choice, Params, Participant, Proposal, Tally, Verdict, Vote, VoteError};

/// Registry name of [`Score`].
pub const SCORE: &str = "score";

/// Approve when **the average score is at least `min_average_score`**
/// (0–100, default 70) **and the votes in favour are at least
/// `min_approval_percent` of all participants** (0–100, default 50).
///
/// Votes for and against must carry a score (a reviewer who approves says
/// how confident they are); an abstention may carry one or not. The
/// average is over every vote that carries a score, whatever its choice,
/// so that the figure compared is the figure reported. No score at all
/// means no average, which never reaches the bar.
///
/// # When the outcome is settled
///
/// With `f` votes for, `m` missing, `n` participants, `s` the sum of the
/// `k` scores so far, `a` = `min_average_score`, `p` =
/// `min_approval_percent` (all integers, "average ≥ a" being `s ≥ a·k`):
///
/// * **approved** early once `100·f ≥ p·n` *and* the average can no longer
///   fall below `a`: the worst the missing can do is each add a score of
///   0, so that needs `k ≥ 1` and `s ≥ a·(k + m)`. Approvals only grow,
///   but the average can fall with every later low score, which is why a
///   high average alone is not enough while anybody is missing;
/// * **rejected** early once even the best completion fails — every
///   missing participant voting for with a score of 100, which maximises
///   both conditions at once: `100·(f + m) < p·n`, or
///   `s + 100·m < a·(k + m)`, or nobody can score at all (`k + m = 0`).
///
/// Once everybody has voted (`m = 0`) both checks are exact and one of
/// them holds. At the deadline the votes so far are judged as they stand:
/// approved when `100·f ≥ p·n`, `k ≥ 1` and `s ≥ a·k`, a timeout
/// otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct Score;

/// The two bars, as integers.
struct Bars {
    min_average: u64,
    min_approval: u64,
}

impl Score {
    fn bars(proposal: &Proposal) -> Result<Bars, VoteError> {
        let (name, params) = (&proposal.algorithm, &proposal.params);
        let avg =
            Params::percent(name, Param::MinAverageScore, params.min_average_score, 70, (0, 100))?;
        let approval =
            Params::percent(name, Param::MinApproval, params.min_approval_percent, 50, (0, 100))?;
        Ok(Bars { min_average: avg.into(), min_approval: approval.into() })
    }
}

impl Algorithm for Score {
    fn validate(&self, proposal: &Proposal) -> Result<(), VoteError> {
        let allowed = [Param::MinAverageScore, Param::MinApproval];
        proposal.params.allow_only(&proposal.algorithm, &allowed)?;
        Score::bars(proposal).map(drop)
    }

    fn check_vote(&self, proposal: &Proposal, vote: &Vote) -> Result<(), VoteError> {
        if vote.choice != Choice::Abstain && vote.score.is_none() {
            return Err(VoteError::ScoreRequired { id: proposal.id.clone() });
        }
        Ok(())
    }

    fn decide(
        &self,
        proposal: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        timed_out: bool,
    ) -> Option<Verdict> {
        let Bars { min_average: a, min_approval: p } = Score::bars(proposal).ok()?;
        let t = Tally::count(proposal, votes);
        let (f, m, n) = (u64::from(t.in_favor), u64::from(t.missing), u64::from(t.participants()));
        let (s, k) = (t.score_sum, u64::from(t.scored));

        let approval_now = 100 * f >= p * n;
        let approval_possible = 100 * (f + m) >= p * n;
        let average_now = k >= 1 && s >= a * k;
        let average_sure = k >= 1 && s >= a * (k + m);
        let average_possible = k + m >= 1 && s + 100 * m >= a * (k + m);

        if approval_now && average_sure {
            Some(Verdict::Approved)
        } else if !approval_possible || !average_possible {
            Some(Verdict::Rejected)
        } else if timed_out && approval_now && average_now {
            Some(Verdict::Approved)
        } else {
            None
        }
    }
}
