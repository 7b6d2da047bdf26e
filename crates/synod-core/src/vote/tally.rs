//! Counting the votes of one proposal.

use std::collections::BTreeMap;

use super::{Choice, Participant, Proposal, Vote};

/// The votes of one proposal, counted: by choice, by score and by weight.
///
/// Everything is an integer so that algorithms compare exactly
/// (`in_favor * 100 > threshold * participants`, never `0.5 < x`) and
/// every replica decides alike; the floating-point views are for reports
/// only. Weights are [`Proposal::weight_of`]: the `weights` parameter when
/// given, 1 per participant otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tally {
    /// Votes for.
    pub in_favor: u32,
    /// Votes against.
    pub against: u32,
    /// Abstentions.
    pub abstain: u32,
    /// Participants who have not voted.
    pub missing: u32,
    /// Sum of the scores carried by votes (of any choice).
    pub score_sum: u64,
    /// How many votes carry a score.
    pub scored: u32,
    /// Total weight of the votes for.
    pub weight_for: u64,
    /// Total weight of the participants who have not voted.
    pub weight_missing: u64,
    /// Total weight of all participants.
    pub weight_total: u64,
}

impl Tally {
    /// Counts `votes` on `proposal`. Only participants count; the book
    /// never holds a vote from anybody else.
    pub fn count(proposal: &Proposal, votes: &BTreeMap<Participant, Vote>) -> Tally {
        let mut t = Tally::default();
        for p in &proposal.participants {
            let weight = proposal.weight_of(p);
            t.weight_total += weight;
            let Some(vote) = votes.get(p) else {
                t.missing += 1;
                t.weight_missing += weight;
                continue;
            };
            match vote.choice {
                Choice::For => {
                    t.in_favor += 1;
                    t.weight_for += weight;
                }
                Choice::Against => t.against += 1,
                Choice::Abstain => t.abstain += 1,
            }
            if let Some(score) = vote.score {
                t.score_sum += u64::from(score);
                t.scored += 1;
            }
        }
        t
    }

    /// All participants, voted or not.
    pub fn participants(&self) -> u32 {
        self.in_favor + self.against + self.abstain + self.missing
    }

    /// Participants who voted.
    pub fn voted(&self) -> u32 {
        self.in_favor + self.against + self.abstain
    }

    /// Mean of the scores carried, if any (report only).
    pub fn average_score(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum as f64 / f64::from(self.scored))
    }

    /// Votes for, as a percentage of all participants (report only).
    pub fn approval_percent(&self) -> f64 {
        percent(u64::from(self.in_favor), u64::from(self.participants()))
    }

    /// Weight for, as a percentage of the total weight (report only).
    pub fn weighted_approval_percent(&self) -> f64 {
        percent(self.weight_for, self.weight_total)
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
