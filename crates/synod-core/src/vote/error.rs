//! Why the vote book refused a command.

use super::Participant;
use super::{Outcome, ProposalId};
use crate::Time;

/// Why a command of the [`VoteBook`](super::VoteBook) or the
/// [`Registry`](super::Registry) was refused.
///
/// **No refusal changes any state**: the book checks everything before it
/// records anything, so every replica that applies the same refused
/// command stays exactly where it was. The messages name the offending
/// value and the bound it broke, so that the node can pass them to the
/// client verbatim.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    /// The proposal id is empty.
    #[error("proposal id must not be empty")]
    EmptyId,
    /// The proposal kind is empty or only whitespace.
    #[error("proposal kind must not be empty")]
    EmptyKind,
    /// A text field is longer than its bound in [`Config`](super::Config).
    #[error("{field} of {bytes} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Which field: `id`, `kind`, `payload`, `algorithm name`,
        /// `custom params`, `reason` or `metadata`.
        field: &'static str,
        /// Its size.
        bytes: usize,
        /// The bound.
        max: usize,
    },
    /// The participant list is empty: nobody could ever decide.
    #[error("a proposal needs at least one participant")]
    NoParticipants,
    /// More participants than `Config::participants_max`.
    #[error("{count} participants exceed the limit of {max}")]
    TooManyParticipants {
        /// How many were listed.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A participant's (or the proposer's, or a voter's) name is not a
    /// valid name (see [`Participant::check`]).
    #[error("participant name {participant:?} {reason}")]
    InvalidParticipant {
        /// The name given.
        participant: Participant,
        /// What is wrong with it.
        reason: String,
    },
    /// A participant is listed twice; its vote would count once, so the
    /// list is almost certainly a mistake.
    #[error("participant {participant} is listed more than once")]
    DuplicateParticipant {
        /// The repeated participant.
        participant: Participant,
    },
    /// The deadline is 0 ms: the proposal would expire as it is created.
    #[error("deadline must be positive")]
    DeadlineZero,
    /// The deadline is above `Config::deadline_ms_max`.
    #[error("deadline of {deadline_ms} ms exceeds the maximum of {max_ms} ms")]
    DeadlineTooLong {
        /// The requested deadline.
        deadline_ms: u64,
        /// The bound.
        max_ms: u64,
    },
    /// A proposal with this id exists (open or decided).
    #[error("proposal {id} already exists")]
    DuplicateProposal {
        /// The id.
        id: ProposalId,
    },
    /// `Config::open_proposals_max` proposals are open already.
    #[error("{max} proposals are open already; wait for one to be decided")]
    TooManyOpen {
        /// The bound.
        max: usize,
    },
    /// No algorithm of this name is registered.
    #[error("unknown algorithm `{name}`")]
    UnknownAlgorithm {
        /// The name asked for.
        name: String,
    },
    /// An algorithm name is empty (registration).
    #[error("algorithm name must not be empty")]
    EmptyAlgorithmName,
    /// An algorithm of this name is registered already; built-ins cannot
    /// be replaced either, so that `quorum` means the same on every node.
    #[error("algorithm `{name}` is already registered")]
    AlgorithmExists {
        /// The name.
        name: String,
    },
    /// A numeric parameter is outside its range.
    #[error("{algorithm}: {param} must be between {min} and {max}, got {value}")]
    ParamOutOfRange {
        /// The algorithm.
        algorithm: String,
        /// The parameter.
        param: &'static str,
        /// The value given.
        value: u8,
        /// Smallest allowed value.
        min: u8,
        /// Largest allowed value.
        max: u8,
    },
    /// A parameter was given that the algorithm does not read; refused
    /// rather than ignored, because the client plainly meant something by it.
    #[error("{algorithm}: parameter `{param}` does not apply to this algorithm")]
    ParamNotApplicable {
        /// The algorithm.
        algorithm: String,
        /// The parameter.
        param: String,
    },
    /// `weighted`: a participant has no weight.
    #[error("weighted: participant {participant} has no weight")]
    WeightMissing {
        /// The participant.
        participant: Participant,
    },
    /// `weighted`: a weight is given for a node that is not a participant.
    #[error("weighted: {node} has a weight but is not a participant")]
    WeightForNonParticipant {
        /// The weighted name.
        node: Participant,
    },
    /// `weighted`: all weights are 0, so no share could be computed.
    #[error("weighted: the total weight must be positive")]
    ZeroTotalWeight,
    /// A custom algorithm refused the proposal's parameters.
    #[error("{algorithm}: {reason}")]
    InvalidParams {
        /// The algorithm.
        algorithm: String,
        /// Its explanation.
        reason: String,
    },
    /// No proposal has this id.
    #[error("unknown proposal {id}")]
    UnknownProposal {
        /// The id.
        id: ProposalId,
    },
    /// The proposal is decided; it accepts no vote and no expiry, and its
    /// decision is never reversed.
    #[error("proposal {id} is already decided ({outcome})")]
    AlreadyDecided {
        /// The id.
        id: ProposalId,
        /// Its decision.
        outcome: Outcome,
    },
    /// The vote is stamped at or after the proposal's deadline. The
    /// proposal is not expired by this: that is the leader's
    /// `expire` command, which will follow.
    #[error("proposal {id} closed for votes at {deadline}; vote stamped {now}")]
    DeadlinePassed {
        /// The id.
        id: ProposalId,
        /// The deadline.
        deadline: Time,
        /// The vote's time.
        now: Time,
    },
    /// An expiry stamped before the proposal's deadline.
    #[error("proposal {id} has its deadline at {deadline}, not reached at {now}")]
    DeadlineNotReached {
        /// The id.
        id: ProposalId,
        /// The deadline.
        deadline: Time,
        /// The command's time.
        now: Time,
    },
    /// The voter is not a participant of the proposal.
    #[error("{participant} is not a participant of proposal {id}")]
    NotParticipant {
        /// The id.
        id: ProposalId,
        /// The would-be voter.
        participant: Participant,
    },
    /// The participant voted already. A vote counts once and is never
    /// replaced: if a second vote replaced the first, the decision would
    /// depend on which of two commands reached the log first.
    #[error("{participant} has already voted on proposal {id}")]
    AlreadyVoted {
        /// The id.
        id: ProposalId,
        /// The participant.
        participant: Participant,
    },
    /// A score above 100.
    #[error("score must be between 0 and 100, got {score}")]
    ScoreOutOfRange {
        /// The score given.
        score: u8,
    },
    /// `score`: a vote for or against carries no score.
    #[error("score: a vote for or against proposal {id} must carry a score")]
    ScoreRequired {
        /// The id.
        id: ProposalId,
    },
    /// A custom algorithm refused the vote.
    #[error("{algorithm}: {reason}")]
    InvalidVote {
        /// The algorithm.
        algorithm: String,
        /// Its explanation.
        reason: String,
    },
}
