//! Running statistics of the vote book.

use std::collections::BTreeMap;

use super::{Decision, Outcome};

/// Counters for a set of proposals: all of them, or one algorithm's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counts {
    /// Proposals created.
    pub proposals: u64,
    /// Decided approved.
    pub approved: u64,
    /// Decided rejected.
    pub rejected: u64,
    /// Ended by their deadline.
    pub timeouts: u64,
    /// Sum of the decided proposals' durations.
    pub duration_ms_sum: u64,
}

impl Counts {
    /// Proposals with a decision (approved, rejected or timeout).
    pub fn decided(&self) -> u64 {
        self.approved + self.rejected + self.timeouts
    }

    /// Proposals still open.
    pub fn open(&self) -> u64 {
        self.proposals - self.decided()
    }

    /// Approved among the decided, from 0 to 1; a timeout counts as not
    /// approved, an open proposal not at all. `None` before any decision.
    pub fn approval_rate(&self) -> Option<f64> {
        let decided = self.decided();
        (decided > 0).then(|| self.approved as f64 / decided as f64)
    }

    /// Mean time from creation to decision, over decided proposals.
    pub fn average_duration_ms(&self) -> Option<f64> {
        let decided = self.decided();
        (decided > 0).then(|| self.duration_ms_sum as f64 / decided as f64)
    }

    fn add(&mut self, decision: &Decision) {
        match decision.outcome {
            Outcome::Approved => self.approved += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Timeout => self.timeouts += 1,
        }
        self.duration_ms_sum = self.duration_ms_sum.saturating_add(decision.duration_ms);
    }
}

/// Statistics of the book: totals and per algorithm.
///
/// Kept as running counters, updated at each create and decision, rather
/// than recomputed from the records: they cost nothing to read and stay
/// right if the node one day prunes old decided proposals. Integers only;
/// rates and averages are computed when read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VoteStats {
    /// All proposals.
    pub total: Counts,
    /// Per algorithm name, for the algorithms that have had a proposal.
    pub by_algorithm: BTreeMap<String, Counts>,
}

impl VoteStats {
    pub(crate) fn on_create(&mut self, algorithm: &str) {
        self.total.proposals += 1;
        self.by_algorithm.entry(algorithm.to_owned()).or_default().proposals += 1;
    }

    pub(crate) fn on_decision(&mut self, decision: &Decision) {
        self.total.add(decision);
        self.by_algorithm.entry(decision.algorithm.clone()).or_default().add(decision);
    }
}
