//! Proposals and votes: the vote core of issue 6.
//!
//! Agents and services put a [`Proposal`] (a commit to adopt, a deploy, a
//! rollback) to a list of participants; each participant casts one
//! [`Vote`] — for, against or abstain, with an optional score 0–100 — and
//! a decision algorithm turns the votes into a [`Decision`]: approved,
//! rejected or, when the deadline comes first, timeout.
//!
//! The [`VoteBook`] is the state machine the node runs inside its
//! replicated log, so it is deterministic to the bit: ordered maps,
//! integer threshold comparisons, time passed in as [`Time`](crate::Time).
//! The deadline is measured by the leader and arrives as a command,
//! [`VoteBook::expire`]. The rules:
//!
//! * **A vote counts once.** A second vote by the same participant is
//!   refused, not substituted: a replicated decision must not depend on
//!   the arrival order of two votes.
//! * **Only participants vote, only before the deadline, only while
//!   undecided**; a decision is never reversed; a refused command changes
//!   nothing.
//! * **A decision is taken as soon as the outcome can no longer change**,
//!   i.e. when every way the missing participants could still vote leads
//!   to the same verdict. Hence, given the same votes (one per
//!   participant), any arrival order gives the same outcome.
//! * **At the deadline** the algorithm judges the votes so far; what it
//!   cannot settle is a timeout, reported with the partial tally.
//!
//! Built-in algorithms ([`Registry::new`]): [`Quorum`] (`quorum`, more than
//! a threshold of the participants in favour), [`Weighted`] (`weighted`,
//! the same by weight), [`Unanimous`] (`unanimous`, nobody against,
//! abstentions allowed) and [`Score`] (`score`, average score and share of
//! approvals, the commit-adoption rule). Custom ones implement
//! [`Algorithm`] and are registered by name.
//!
//! Limits ([`Config`], defaults): deadline 30 s by default, at most 300 s;
//! 1 024 participants; 10 000 open proposals; id 128 bytes, kind 64,
//! payload 64 KiB, algorithm name 64, custom parameters 4 KiB, vote
//! reason 1 KiB, vote metadata 4 KiB.
//!
//! ```
//! use synod_core::vote::{Config, Outcome, Proposal, Vote, VoteBook};
//! use synod_core::{NodeId, Time};
//! // Nodes take part as `n<id>` (like their certificates); agents by name.
//!
//! let mut book = VoteBook::new(Config::default()).unwrap();
//! let voters = vec![NodeId(1), NodeId(2), NodeId(3)];
//! let proposal = Proposal::new("c-42", NodeId(1), "commit", "quorum", voters, Time(0))
//!     .with_payload(r#"{"sha":"9fceb02"}"#);
//! let id = proposal.id.clone();
//! assert_eq!(book.create(proposal), Ok(None));
//!
//! // Two of three in favour is more than 50 %: settled at the second vote.
//! assert_eq!(book.cast(&id, Vote::approve(NodeId(1)), Time(100)), Ok(None));
//! let decision = book.cast(&id, Vote::approve(NodeId(2)), Time(250)).unwrap().unwrap();
//! assert_eq!(decision.outcome, Outcome::Approved);
//! assert_eq!((decision.tally.in_favor, decision.tally.missing), (2, 1));
//! assert_eq!(decision.duration_ms, 250);
//!
//! // Late votes are refused, and the decision stands.
//! assert!(book.cast(&id, Vote::reject(NodeId(3)), Time(300)).is_err());
//! assert_eq!(book.stats().total.approval_rate(), Some(1.0));
//! ```

mod algorithm;
mod ballot;
mod book;
mod checks;
mod config;
mod decision;
mod error;
mod params;
mod participant;
mod proposal;
mod quorum;
mod record;
mod registry;
mod score;
mod state;
mod stats;
mod tally;
mod unanimous;
mod weighted;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_book;
#[cfg(test)]
mod tests_custom;
#[cfg(all(test, feature = "serde"))]
mod tests_serde;
#[cfg(test)]
mod tests_tables;
#[cfg(test)]
mod tests_validation;

pub use algorithm::Algorithm;
pub use ballot::{Choice, Vote};
pub use book::VoteBook;
pub use config::{Config, ConfigError};
pub use decision::{Decision, Outcome, Verdict};
pub use error::VoteError;
pub use params::Params;
pub use participant::{Participant, PARTICIPANT_BYTES_MAX};
pub use proposal::{Proposal, ProposalId};
pub use quorum::{Quorum, QUORUM};
pub use record::ProposalRecord;
pub use registry::Registry;
pub use score::{Score, SCORE};
pub use state::BookState;
pub use stats::{Counts, VoteStats};
pub use tally::Tally;
pub use unanimous::{Unanimous, UNANIMOUS};
pub use weighted::{Weighted, WEIGHTED};
