//! The trait a replicated state machine implements.

use bytes::Bytes;
use synod_core::raft::{Entry, Snapshot};
use synod_core::LogIndex;

/// A deterministic state machine fed by the replicated log. Every replica
/// applies the same commands in the same order and must reach the same
/// state; `apply` must not depend on anything but the entries.
pub trait StateMachine: Send + 'static {
    /// What applying one command produces, handed to its proposer.
    type Output: Send + 'static;

    /// Applies committed entries in log order and returns the output of
    /// each command entry, keyed by index. Noop and membership entries only
    /// advance the applied index. An error stops the node: it means the
    /// state machine cannot keep up with the log (e.g. disk failure).
    fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, Self::Output)>, String>;

    /// The last index applied; a durable state machine reports what it
    /// recovered, and the driver skips entries at or below it.
    fn applied_index(&self) -> LogIndex;

    /// A serialized image of the whole state, at `applied_index`.
    fn snapshot(&self) -> Result<Bytes, String>;

    /// Replaces the state with a snapshot received from the leader.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), String>;
}
