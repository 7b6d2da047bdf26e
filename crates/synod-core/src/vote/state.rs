//! The replicated state of the vote book, as a snapshot.

use std::collections::BTreeMap;

use super::{ProposalId, ProposalRecord, VoteStats};

/// Everything the [`VoteBook`](super::VoteBook) knows that is not code:
/// the records and the statistics. The registry of algorithms is code and
/// is not part of it; every node builds its own, identically.
///
/// The node serializes this (with the `serde` feature) into its Raft
/// snapshots and hands it back to
/// [`VoteBook::restore`](super::VoteBook::restore) on recovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BookState {
    /// Every proposal, open or decided, by id.
    pub records: BTreeMap<ProposalId, ProposalRecord>,
    /// Running statistics.
    pub stats: VoteStats,
}
