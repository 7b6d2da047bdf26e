//! Safety checkers run after every simulation step.
//!
//! * Election safety (§5.2): at most one leader per term.
//! * Log matching (§5.3): an (index, term) pair names one entry, whose
//!   predecessor has one term, on every node, ever.
//! * Durability: an entry once committed is never lost or changed; every
//!   leader's log holds every committed entry (Leader Completeness, §5.4).
//! * State machine safety (§5.4.3): every replica applies the same entry
//!   at each index, so all replicas pass through the same states.
//! * Linearizable reads: a read's index is at least every commit index
//!   reached anywhere before the read was invoked.

use std::collections::HashMap;

use synod_core::raft::{Entry, Raft};
use synod_core::{LogIndex, NodeId, Term};

use super::state_machine::entry_digest;

/// A broken safety property, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which property.
    pub property: &'static str,
    /// What was observed.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

fn violation(property: &'static str, detail: String) -> Result<(), Violation> {
    Err(Violation { property, detail })
}

/// Global knowledge accumulated over a run.
#[derive(Debug, Default)]
pub struct Checker {
    leaders: HashMap<Term, NodeId>,
    /// (index, term) → (entry digest, term of the previous entry).
    entries: HashMap<(LogIndex, Term), (u64, Option<Term>)>,
    /// index → (term, digest) of committed entries.
    committed: HashMap<LogIndex, (Term, u64)>,
    /// index → the earliest term in which some node knew it committed (an
    /// upper bound of the term of the leader that committed it).
    commit_terms: HashMap<LogIndex, Term>,
    /// index → chain hash of the state after applying it.
    chain: HashMap<LogIndex, u64>,
    /// Highest commit index reached on any node.
    pub max_commit: LogIndex,
}

impl Checker {
    /// Election safety for `raft` as it is now.
    pub fn check_leader(&mut self, raft: &Raft) -> Result<(), Violation> {
        if !raft.is_leader() {
            return Ok(());
        }
        let leader = *self.leaders.entry(raft.term()).or_insert(raft.id());
        if leader != raft.id() {
            return violation(
                "election safety",
                format!("{} and {} both lead {}", leader, raft.id(), raft.term()),
            );
        }
        Ok(())
    }

    /// Log matching for entries a node just wrote (its persist request).
    pub fn check_written(&mut self, raft: &Raft, entries: &[Entry]) -> Result<(), Violation> {
        for entry in entries {
            let prev_term = raft.term_at(entry.index.prev());
            let seen = (entry_digest(entry), prev_term);
            let recorded = *self.entries.entry((entry.index, entry.term)).or_insert(seen);
            let prev_differs = match (recorded.1, seen.1) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            };
            if recorded.0 != seen.0 || prev_differs {
                return violation(
                    "log matching",
                    format!(
                        "{} holds a different entry at ({}, {}) or before it",
                        raft.id(),
                        entry.index,
                        entry.term
                    ),
                );
            }
        }
        Ok(())
    }

    /// Records the node's newly committed entries and checks they agree
    /// with what was committed before (committed entries never change).
    pub fn check_commit(
        &mut self,
        raft: &Raft,
        checked_to: &mut LogIndex,
    ) -> Result<(), Violation> {
        let commit = raft.commit_index();
        let from = checked_to.next().max(raft.snapshot_meta().index.next());
        let mut i = from;
        while i <= commit {
            let Some(entry) = raft.entry(i) else { break };
            let seen = (entry.term, entry_digest(entry));
            let recorded = *self.committed.entry(i).or_insert(seen);
            let term = raft.term();
            self.commit_terms.entry(i).and_modify(|t| *t = (*t).min(term)).or_insert(term);
            if recorded != seen {
                return violation(
                    "committed entry changed",
                    format!(
                        "{} committed ({}, {}) but {} was committed there",
                        raft.id(),
                        i,
                        entry.term,
                        recorded.0
                    ),
                );
            }
            i = i.next();
        }
        *checked_to = (*checked_to).max(commit);
        self.max_commit = self.max_commit.max(commit);
        Ok(())
    }

    /// Leader Completeness (§5.4): a leader holds every entry committed in
    /// an earlier term, above its snapshot. (A leader of an older term may be
    /// elected late, its votes delayed in the network, after a newer term
    /// committed entries it lacks; that is allowed.)
    pub fn check_leader_completeness(&self, raft: &Raft) -> Result<(), Violation> {
        let first = raft.snapshot_meta().index.next();
        let mut i = first;
        while i <= self.max_commit {
            let earlier = self.commit_terms.get(&i).is_some_and(|t| *t < raft.term());
            let Some((term, _)) = self.committed.get(&i).filter(|_| earlier) else {
                i = i.next();
                continue;
            };
            if raft.term_at(i) != Some(*term) {
                return violation(
                    "committed entry lost",
                    format!(
                        "leader {} of {} lacks committed ({}, {})",
                        raft.id(),
                        raft.term(),
                        i,
                        term
                    ),
                );
            }
            i = i.next();
        }
        if raft.snapshot_meta().index > self.max_commit {
            return violation("committed entry lost", "snapshot beyond any commit".into());
        }
        Ok(())
    }

    /// State machine safety: the entry applied at each index is the one
    /// committed there, and replicas agree on the state after it.
    pub fn check_applied(
        &mut self,
        node: NodeId,
        entry: &Entry,
        chain: u64,
    ) -> Result<(), Violation> {
        let seen = (entry.term, entry_digest(entry));
        let recorded = *self.committed.entry(entry.index).or_insert(seen);
        if recorded != seen {
            return violation(
                "state machine safety",
                format!(
                    "{} applied ({}, {}) but ({}, {}) is committed",
                    node, entry.index, entry.term, entry.index, recorded.0
                ),
            );
        }
        self.check_chain(node, entry.index, chain)
    }

    /// Replicas agree on the state at `index` (after a snapshot install too).
    pub fn check_chain(
        &mut self,
        node: NodeId,
        index: LogIndex,
        chain: u64,
    ) -> Result<(), Violation> {
        let recorded = *self.chain.entry(index).or_insert(chain);
        if recorded != chain {
            return violation("state machine safety", format!("{node} diverged at {index}"));
        }
        Ok(())
    }

    /// A read invoked when the highest commit anywhere was `min_index` was
    /// given read index `index`.
    pub fn check_read(
        &self,
        node: NodeId,
        ctx: u64,
        index: LogIndex,
        min_index: LogIndex,
    ) -> Result<(), Violation> {
        if index < min_index {
            return violation(
                "linearizable read",
                format!("{node} served read {ctx} at {index}, but {min_index} was committed before it began"),
            );
        }
        Ok(())
    }
}
