//! Cluster configurations: voters and non-voting learners.

use std::collections::BTreeSet;

use crate::NodeId;

/// A cluster configuration. Voters elect leaders and form commit quorums;
/// learners only receive the log (thesis §4.2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Membership {
    /// Members that vote and count towards quorums.
    pub voters: BTreeSet<NodeId>,
    /// Members that receive the log but do not vote.
    pub learners: BTreeSet<NodeId>,
}

/// One single-server change (thesis §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MembershipChange {
    /// Add a new node as a learner.
    AddLearner(NodeId),
    /// Promote a caught-up learner to voter.
    PromoteLearner(NodeId),
    /// Remove a voter or learner.
    Remove(NodeId),
}

impl Membership {
    /// A configuration of the given voters and no learners.
    pub fn with_voters(voters: impl IntoIterator<Item = NodeId>) -> Membership {
        Membership { voters: voters.into_iter().collect(), learners: BTreeSet::new() }
    }

    /// Whether `id` votes.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id)
    }

    /// Whether `id` is a voter or learner.
    pub fn contains(&self, id: NodeId) -> bool {
        self.voters.contains(&id) || self.learners.contains(&id)
    }

    /// Voters and learners, in id order.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().chain(self.learners.iter()).copied()
    }

    /// Votes needed for a majority of the voters.
    pub fn quorum(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    /// Whether the voters in `granted` form a majority.
    pub fn has_quorum<'a>(&self, granted: impl IntoIterator<Item = &'a NodeId>) -> bool {
        granted.into_iter().filter(|id| self.is_voter(**id)).count() >= self.quorum()
    }

    /// The configuration after `change`; structural checks only.
    pub fn apply(&self, change: MembershipChange) -> Membership {
        let mut next = self.clone();
        match change {
            MembershipChange::AddLearner(id) => {
                next.learners.insert(id);
            }
            MembershipChange::PromoteLearner(id) => {
                next.learners.remove(&id);
                next.voters.insert(id);
            }
            MembershipChange::Remove(id) => {
                next.voters.remove(&id);
                next.learners.remove(&id);
            }
        }
        next
    }
}
