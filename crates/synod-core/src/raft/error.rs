//! Errors of the Raft core's commands. None of them changes any state.

use crate::{LogIndex, NodeId};

/// Why a proposal was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// Only the leader accepts proposals; forward to `leader_hint`.
    #[error("not the leader (leader: {leader_hint:?})")]
    NotLeader {
        /// The leader this node knows of, if any.
        leader_hint: Option<NodeId>,
    },
    /// The leader is handing over leadership and accepts nothing new.
    #[error("leadership transfer to {0} in progress")]
    TransferInProgress(NodeId),
    /// A membership change was refused.
    #[error(transparent)]
    Membership(#[from] MembershipError),
}

/// Why a membership change was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// An earlier change has not committed yet (thesis §4.1).
    #[error("membership change at {0} is not committed yet")]
    ChangePending(LogIndex),
    /// The leader has not yet committed an entry of its term (Ongaro, 2015).
    #[error("leader has not committed an entry of its term yet")]
    LeaderNotReady,
    /// The node is already a member.
    #[error("{0} is already a member")]
    AlreadyMember(NodeId),
    /// The node is not a learner.
    #[error("{0} is not a learner")]
    NotLearner(NodeId),
    /// The node is not a member.
    #[error("{0} is not a member")]
    NotMember(NodeId),
    /// The learner is too far behind to be promoted (thesis §4.2.1).
    #[error("{id} is {lag} entries behind; promote once caught up")]
    NotCaughtUp {
        /// The learner.
        id: NodeId,
        /// How many entries it lacks.
        lag: u64,
    },
    /// Removing the last voter would leave no one to elect a leader.
    #[error("cannot remove the last voter {0}")]
    LastVoter(NodeId),
}

/// Why a read could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Only the leader serves linearizable reads; forward to `leader_hint`.
    #[error("not the leader (leader: {leader_hint:?})")]
    NotLeader {
        /// The leader this node knows of, if any.
        leader_hint: Option<NodeId>,
    },
}

/// Why a leadership transfer could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Only the leader can transfer leadership.
    #[error("not the leader (leader: {leader_hint:?})")]
    NotLeader {
        /// The leader this node knows of, if any.
        leader_hint: Option<NodeId>,
    },
    /// The target is not a voter of the current configuration.
    #[error("{0} is not a voter")]
    NotVoter(NodeId),
    /// The target is this leader.
    #[error("{0} is already the leader")]
    AlreadyLeader(NodeId),
}
