//! Errors a node returns to its callers.

use synod_core::raft::{MembershipError, ProposeError, ReadError, TransferError};
use synod_core::NodeId;

/// Why a request to the node failed. None of these is an ambiguous
/// success: a request either took effect and returned `Ok`, or failed
/// with one of these, or (for [`NodeError::Timeout`]) its fate is unknown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// This node is not the leader; retry on `leader_hint`. Nothing changed.
    #[error("not the leader (leader: {})", display_leader(.leader_hint))]
    NotLeader {
        /// The leader, if known.
        leader_hint: Option<NodeId>,
    },
    /// The proposal was appended but overwritten by a new leader: it did
    /// not and will not take effect; safe to retry.
    #[error("proposal lost to a leader change; it did not take effect, retry")]
    ProposalDropped,
    /// The leader is handing over leadership. Nothing changed.
    #[error("leadership transfer in progress")]
    TransferInProgress,
    /// A membership change was refused. Nothing changed.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// The target of a leadership transfer is invalid. Nothing changed.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// No answer in time; the request may or may not take effect.
    #[error("timed out waiting for the cluster; the request may or may not have taken effect")]
    Timeout,
    /// The node is shutting down or its driver failed.
    #[error("node stopped: {0}")]
    Stopped(String),
}

fn display_leader(leader: &Option<NodeId>) -> String {
    leader.map_or_else(|| "unknown".to_string(), |id| id.to_string())
}

impl From<ProposeError> for NodeError {
    fn from(err: ProposeError) -> Self {
        match err {
            ProposeError::NotLeader { leader_hint } => NodeError::NotLeader { leader_hint },
            ProposeError::TransferInProgress(_) => NodeError::TransferInProgress,
            ProposeError::Membership(m) => NodeError::Membership(m),
        }
    }
}

impl From<ReadError> for NodeError {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::NotLeader { leader_hint } => NodeError::NotLeader { leader_hint },
        }
    }
}
