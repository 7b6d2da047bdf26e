//! The node's replicated state machine: the KV store, and the vote book
//! and quarantine list recorded inside it.

use std::collections::HashMap;

use bytes::Bytes;
use synod_core::raft::{Entry, EntryPayload, Snapshot};
use synod_core::vote::Registry;
use synod_core::LogIndex;
use synod_store::{KvResult, KvStore};
use tokio::sync::broadcast;

use crate::vote::{VoteCommand, VoteEvent, VoteOutput, VoteState};
use crate::StateMachine;

/// How many events a slow watcher may fall behind before it is told it
/// lost some.
pub const EVENTS_BUFFER: usize = 4096;

/// What one applied command produced.
#[derive(Debug)]
pub enum Applied {
    /// A KV command's result.
    Kv(KvResult),
    /// A vote or quarantine command's result.
    Vote(VoteOutput),
}

/// [`KvStore`] (durable, on redb) driven by the replicated log, with the
/// vote book ([`VoteState`]) kept in memory and recorded under reserved
/// keys of the same store.
///
/// A vote command is applied to the book first; what it changed becomes
/// a `KvCommand::Batch` at the same log index, applied with the KV
/// commands of the batch in one transaction. So the KV store's applied
/// index, its snapshots and its replay after a crash cover the votes too,
/// and the book is rebuilt from the store on start and after a snapshot.
#[derive(Debug)]
pub struct NodeStateMachine {
    store: KvStore,
    votes: VoteState,
    events: broadcast::Sender<VoteEvent>,
}

impl NodeStateMachine {
    /// Wraps an opened store with the built-in vote algorithms.
    pub fn new(store: KvStore) -> Result<NodeStateMachine, String> {
        NodeStateMachine::with_registry(store, Registry::new())
    }

    /// Wraps an opened store, deciding votes with `registry` (built-in and
    /// custom algorithms; every node must register the same ones). The
    /// store reports the index it had applied, and the driver replays the
    /// log from there.
    pub fn with_registry(store: KvStore, registry: Registry) -> Result<NodeStateMachine, String> {
        let mut votes = VoteState::new(registry);
        votes.load(&store)?;
        let (events, _) = broadcast::channel(EVENTS_BUFFER);
        Ok(NodeStateMachine { store, votes, events })
    }

    /// The store, for reads.
    pub fn store(&self) -> &KvStore {
        &self.store
    }

    /// The votes and the quarantine list, for reads.
    pub fn votes(&self) -> &VoteState {
        &self.votes
    }

    /// The sender of vote events; subscribe to watch.
    pub fn events(&self) -> &broadcast::Sender<VoteEvent> {
        &self.events
    }
}

impl StateMachine for NodeStateMachine {
    type Output = Applied;

    fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, Applied)>, String> {
        let applied = self.store.applied_index();
        let mut votes = HashMap::new();
        let mut events = Vec::new();
        let mut translated = Vec::with_capacity(entries.len());
        for entry in entries.iter().filter(|e| e.index > applied) {
            match &entry.payload {
                EntryPayload::Command(bytes) if VoteCommand::is_vote(bytes) => {
                    let done = self.votes.apply(entry.index.0, bytes);
                    let payload = EntryPayload::Command(Bytes::from(done.writes.encode()));
                    translated.push(Entry { payload, ..entry.clone() });
                    votes.insert(entry.index, done.output);
                    events.extend(done.events);
                }
                _ => translated.push(entry.clone()),
            }
        }
        let results = self.store.apply(&translated).map_err(|e| e.to_string())?;
        for event in events {
            let _ = self.events.send(event);
        }
        if !votes.is_empty() {
            crate::vote::metrics::record(self.votes.stats());
        }
        Ok(results
            .into_iter()
            .map(|(index, result)| match votes.remove(&index) {
                Some(vote) => (index, Applied::Vote(vote)),
                None => (index, Applied::Kv(result)),
            })
            .collect())
    }

    fn applied_index(&self) -> LogIndex {
        self.store.applied_index()
    }

    fn snapshot(&self) -> Result<Bytes, String> {
        self.store.snapshot().map(|(_, data)| Bytes::from(data)).map_err(|e| e.to_string())
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        if snapshot.data.is_empty() && snapshot.meta.index.0 == 0 {
            return Ok(());
        }
        self.store.restore(&snapshot.data).map_err(|e| e.to_string())?;
        self.votes.load(&self.store)
    }
}
