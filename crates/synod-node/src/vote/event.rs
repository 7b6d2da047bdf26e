//! [`VoteEvent`]: what a node tells watchers as it applies vote commands.

use synod_core::vote::{Decision, ProposalId, ProposalRecord, Vote};
use synod_core::Time;

/// One event, emitted by every node as it applies the command, so a
/// watcher of any node sees the whole history from the moment it
/// subscribes, in log order.
#[derive(Clone, Debug, PartialEq)]
pub struct VoteEvent {
    /// The time the leader stamped on the command.
    pub at: Time,
    /// Log index of the command.
    pub revision: u64,
    /// Kind of the proposal concerned; empty for quarantine changes.
    pub kind: String,
    /// What happened.
    pub body: EventBody,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventBody {
    /// A proposal was opened (the consensus request).
    ProposalCreated {
        /// The proposal as recorded.
        record: Box<ProposalRecord>,
        /// What a rejection would quarantine.
        quarantine_id: Option<String>,
    },
    /// A vote was recorded.
    VoteCast {
        /// The proposal.
        id: ProposalId,
        /// The vote.
        vote: Vote,
    },
    /// A proposal was decided (the consensus result).
    DecisionReached(Decision),
    /// The quarantine list changed.
    QuarantineChanged {
        /// The identifier.
        id: String,
        /// In (true) or out (false) of quarantine now.
        quarantined: bool,
        /// Why it was added; empty on removal.
        reason: String,
    },
}

impl EventBody {
    /// The event's name, as in the API.
    pub fn name(&self) -> &'static str {
        match self {
            EventBody::ProposalCreated { .. } => "ProposalCreated",
            EventBody::VoteCast { .. } => "VoteCast",
            EventBody::DecisionReached(_) => "DecisionReached",
            EventBody::QuarantineChanged { .. } => "QuarantineChanged",
        }
    }
}
