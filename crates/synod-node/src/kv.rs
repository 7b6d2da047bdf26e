//! The KV store as the node's replicated state machine.

use bytes::Bytes;
use synod_core::raft::{Entry, Snapshot};
use synod_core::LogIndex;
use synod_store::{KvResult, KvStore};

use crate::StateMachine;

/// [`KvStore`] (durable, on redb) driven by the replicated log.
#[derive(Debug)]
pub struct KvStateMachine {
    store: KvStore,
}

impl KvStateMachine {
    /// Wraps an opened store; it reports the index it had applied, and the
    /// driver replays the log from there.
    pub fn new(store: KvStore) -> KvStateMachine {
        KvStateMachine { store }
    }

    /// The store, for reads.
    pub fn store(&self) -> &KvStore {
        &self.store
    }
}

impl StateMachine for KvStateMachine {
    type Output = KvResult;

    fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, KvResult)>, String> {
        self.store.apply(entries).map_err(|e| e.to_string())
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
        self.store.restore(&snapshot.data).map_err(|e| e.to_string())
    }
}
