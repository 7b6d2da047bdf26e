//! Effects a Raft core asks its driver to carry out.

use super::{Entry, HardState, Message, Snapshot};
use crate::{LogIndex, NodeId, Term};

/// One thing the driver must do. See the module docs of [`super`] for the
/// contract of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Write durably, in `seq` order, then call `Raft::on_persisted(seq)`.
    Persist(PersistRequest),
    /// Send a message; it depends on no unpersisted state.
    Send(Message),
    /// Apply committed entries to the state machine, in order.
    Apply(Vec<Entry>),
    /// Replace the state machine's state with this snapshot.
    ApplySnapshot(Snapshot),
    /// The read registered with `ctx` may be served once the state machine
    /// has applied `index`.
    ReadReady {
        /// The caller's read context.
        ctx: u64,
        /// The read index (thesis §6.4).
        index: LogIndex,
    },
    /// The read registered with `ctx` cannot be confirmed (leadership lost);
    /// retry on the current leader.
    ReadFailed {
        /// The caller's read context.
        ctx: u64,
        /// The leader, if known.
        leader_hint: Option<NodeId>,
    },
    /// The known leader or term changed.
    LeaderChanged {
        /// The current term.
        term: Term,
        /// The leader of that term, if known.
        leader: Option<NodeId>,
    },
}

/// One group-commit write: everything one round changed, applied in the
/// order of the fields below, in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistRequest {
    /// Confirm with `Raft::on_persisted(seq)` once durable. Requests must be
    /// made durable in increasing `seq` order.
    pub seq: u64,
    /// New hard state, if it changed.
    pub hard_state: Option<HardState>,
    /// A snapshot to store; then discard durable entries at or below its index.
    pub snapshot: Option<Snapshot>,
    /// Discard durable entries at or after this index before appending.
    pub truncate_from: Option<LogIndex>,
    /// Entries to append.
    pub entries: Vec<Entry>,
}

/// What a node recovers from its storage after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DurableState {
    /// The last persisted hard state.
    pub hard_state: HardState,
    /// The last persisted snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// The persisted entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
}

impl DurableState {
    /// Applies a confirmed persist request, exactly as a storage engine must.
    pub fn apply(&mut self, req: &PersistRequest) {
        if let Some(hs) = req.hard_state {
            self.hard_state = hs;
        }
        if let Some(snap) = &req.snapshot {
            self.entries.retain(|e| e.index > snap.meta.index);
            self.snapshot = Some(snap.clone());
        }
        if let Some(from) = req.truncate_from {
            self.entries.retain(|e| e.index < from);
        }
        self.entries.extend(req.entries.iter().cloned());
    }
}
