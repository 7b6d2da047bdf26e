//! One participant's vote.

use std::fmt;

use super::Participant;

/// What a participant says about a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Choice {
    /// In favour.
    For,
    /// Opposed.
    Against,
    /// Takes part without taking a side. How an abstention weighs is the
    /// algorithm's business: it never counts in favour, it never vetoes
    /// a unanimous vote.
    Abstain,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::For => "for",
            Choice::Against => "against",
            Choice::Abstain => "abstain",
        })
    }
}

/// A participant's vote (issue 6, item 1). Votes are final: the book
/// refuses a second one from the same participant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Vote {
    /// Who votes; must be a participant of the proposal.
    pub participant: Participant,
    /// For, against or abstain.
    pub choice: Choice,
    /// A grade from 0 to 100, e.g. a reviewer's confidence in a commit.
    /// Required for and against by the `score` algorithm.
    pub score: Option<u8>,
    /// Why, in the voter's words; bounded by `Config::reason_bytes_max`.
    pub reason: Option<String>,
    /// Opaque data for the application (e.g. JSON); bounded by
    /// `Config::metadata_bytes_max`.
    pub metadata: Option<String>,
}

impl Vote {
    /// A plain vote without score, reason or metadata.
    pub fn new(participant: impl Into<Participant>, choice: Choice) -> Vote {
        Vote { participant: participant.into(), choice, score: None, reason: None, metadata: None }
    }

    /// A vote in favour by `participant`.
    pub fn approve(participant: impl Into<Participant>) -> Vote {
        Vote::new(participant, Choice::For)
    }

    /// A vote against by `participant`.
    pub fn reject(participant: impl Into<Participant>) -> Vote {
        Vote::new(participant, Choice::Against)
    }

    /// An abstention by `participant`.
    pub fn abstain(participant: impl Into<Participant>) -> Vote {
        Vote::new(participant, Choice::Abstain)
    }

    /// This vote with `score`.
    pub fn with_score(mut self, score: u8) -> Vote {
        self.score = Some(score);
        self
    }

    /// This vote with `reason`.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Vote {
        self.reason = Some(reason.into());
        self
    }

    /// This vote with `metadata`.
    pub fn with_metadata(mut self, metadata: impl Into<String>) -> Vote {
        self.metadata = Some(metadata.into());
        self
    }
}
