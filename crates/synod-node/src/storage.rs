//! Durable storage of a Raft core's log, hard state and snapshot.

use std::sync::{Arc, Mutex};

use synod_core::raft::{DurableState, PersistRequest};

/// A storage failure. The node stops on any of these: continuing without
/// knowing what is durable would break Raft's guarantees.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("storage: {0}")]
pub struct StorageError(pub String);

/// Where a Raft core's durable state lives.
pub trait LogStorage: Send + 'static {
    /// Everything persisted so far.
    fn load(&self) -> Result<DurableState, StorageError>;

    /// Makes every request durable, in order, in one write (group commit);
    /// returns only once they are on stable storage.
    fn persist(&mut self, requests: &[PersistRequest]) -> Result<(), StorageError>;
}

/// Storage in memory, shared so a test can "restart" a node from it.
#[derive(Clone, Debug, Default)]
pub struct MemStorage {
    state: Arc<Mutex<DurableState>>,
}

impl LogStorage for MemStorage {
    fn load(&self) -> Result<DurableState, StorageError> {
        Ok(self.state.lock().expect("storage lock").clone())
    }

    fn persist(&mut self, requests: &[PersistRequest]) -> Result<(), StorageError> {
        let mut state = self.state.lock().expect("storage lock");
        for req in requests {
            state.apply(req);
        }
        Ok(())
    }
}

impl LogStorage for synod_store::RaftStore {
    fn load(&self) -> Result<DurableState, StorageError> {
        synod_store::RaftStore::load(self).map_err(|e| StorageError(e.to_string()))
    }

    fn persist(&mut self, requests: &[PersistRequest]) -> Result<(), StorageError> {
        synod_store::RaftStore::persist(self, requests).map_err(|e| StorageError(e.to_string()))
    }
}
