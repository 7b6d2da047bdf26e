//! [`CrdtState`]: the node's replica shared by the client service and the
//! gossip tasks, with its persister.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use synod_core::causality::{Hlc, HlcTimestamp};
use synod_core::merkle::Digest;
use synod_core::NodeId;
use synod_store::CrdtStore;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::object::{CrdtObject, CrdtOp};
use super::replica::{CrdtLimits, CrdtReplica, UpdateError};

/// A request to make every change so far durable.
type FlushRequest = oneshot::Sender<Result<(), String>>;

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
pub enum CrdtError {
    /// Refused; nothing changed.
    #[error(transparent)]
    Refused(#[from] UpdateError),
    /// Applied in memory but not made durable: the outcome after a crash is
    /// unknown.
    #[error("update not durable: {0}")]
    Storage(String),
}

struct Inner {
    me: NodeId,
    replica: Mutex<CrdtReplica>,
    hlc: Mutex<Hlc>,
    flush: mpsc::Sender<FlushRequest>,
    updates: AtomicU64,
    checkpoint_every: u64,
    checkpoint_due: Notify,
}

/// The node's CRDT objects: updated by clients, merged by gossip, written
/// to redb by a persister task that commits every change made before each
/// flush request in one transaction (group commit).
#[derive(Clone)]
pub struct CrdtState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CrdtState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdtState").field("me", &self.inner.me).finish()
    }
}

impl CrdtState {
    /// Loads every object from `store` (a corrupt record fails with the
    /// store's error naming it) and starts the persister.
    pub fn open(
        me: NodeId,
        store: CrdtStore,
        limits: CrdtLimits,
        checkpoint_every: u64,
    ) -> Result<(CrdtState, JoinHandle<()>), String> {
        let mut replica = CrdtReplica::new(me, limits);
        for (name, bytes) in store.load().map_err(|e| e.to_string())? {
            let object = CrdtObject::decode(&bytes).map_err(|e| {
                format!("invalid record in {}, object \"{name}\": {e}", store.path().display())
            })?;
            replica.load(name, &object);
        }
        metrics::gauge!("synod_crdt_objects").set(replica.len() as f64);
        let (flush, requests) = mpsc::channel(1024);
        let inner = Arc::new(Inner {
            me,
            replica: Mutex::new(replica),
            hlc: Mutex::new(Hlc::new(me)),
            flush,
            updates: AtomicU64::new(0),
            checkpoint_every,
            checkpoint_due: Notify::new(),
        });
        let state = CrdtState { inner };
        let persister = tokio::spawn(persist_loop(state.clone(), Arc::new(store), requests));
        Ok((state, persister))
    }

    /// This node.
    pub fn me(&self) -> NodeId {
        self.inner.me
    }

    /// Locks the replica (briefly: never across an await).
    pub fn replica(&self) -> MutexGuard<'_, CrdtReplica> {
        self.inner.replica.lock().expect("CRDT replica lock")
    }

    /// A fresh HLC timestamp for a register write.
    pub fn timestamp(&self) -> HlcTimestamp {
        let physical =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.inner.hlc.lock().expect("HLC lock").now(physical)
    }

    /// Applies a client update and waits until it is durable; returns the
    /// object after it.
    pub async fn update(&self, name: &str, op: CrdtOp) -> Result<CrdtObject, CrdtError> {
        let (object, objects) = {
            let mut replica = self.replica();
            let object = replica.update(name, op)?;
            (object, replica.len())
        };
        metrics::gauge!("synod_crdt_objects").set(objects as f64);
        metrics::counter!("synod_crdt_updates_total").increment(1);
        self.flush().await.map_err(CrdtError::Storage)?;
        let updates = self.inner.updates.fetch_add(1, Ordering::Relaxed) + 1;
        let every = self.inner.checkpoint_every;
        if every > 0 && updates.is_multiple_of(every) {
            self.inner.checkpoint_due.notify_one();
        }
        Ok(object)
    }

    /// Local updates since start.
    pub fn updates(&self) -> u64 {
        self.inner.updates.load(Ordering::Relaxed)
    }

    /// Resolves when a checkpoint is due.
    pub async fn checkpoint_due(&self) {
        self.inner.checkpoint_due.notified().await;
    }

    /// The object `name`, if held.
    pub fn get(&self, name: &str) -> Option<CrdtObject> {
        self.replica().get(name)
    }

    /// The Merkle root.
    pub fn root(&self) -> Digest {
        self.replica().root()
    }

    /// Makes every change made so far durable.
    pub async fn flush(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        let stopped = || "the CRDT persister stopped".to_string();
        self.inner.flush.send(tx).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// Serves flush requests: everything dirty when a batch of requests is
/// taken goes into one durable transaction, then the batch is answered.
async fn persist_loop(
    state: CrdtState,
    store: Arc<CrdtStore>,
    mut requests: mpsc::Receiver<FlushRequest>,
) {
    while let Some(first) = requests.recv().await {
        let mut waiting = vec![first];
        while let Ok(more) = requests.try_recv() {
            waiting.push(more);
        }
        let dirty = state.replica().take_dirty();
        let result = if dirty.is_empty() {
            Ok(())
        } else {
            let store = store.clone();
            let names: Vec<String> = dirty.iter().map(|(n, _)| n.clone()).collect();
            let written = tokio::task::spawn_blocking(move || store.write(&dirty))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            if let Err(err) = &written {
                tracing::error!(%err, "cannot persist CRDT objects");
                state.replica().mark_dirty(names);
            }
            written
        };
        for reply in waiting {
            let _ = reply.send(result.clone());
        }
    }
}
