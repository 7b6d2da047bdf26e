//! Durable state of a synod node, on [redb](https://docs.rs/redb).
//!
//! `synod-core` never touches the disk: its Raft core emits
//! `Effect::Persist(PersistRequest)` and `Effect::Apply(entries)` and waits
//! for the driver. This crate is what the driver writes to:
//!
//! * [`RaftStore`] — the Raft hard state, snapshot and log in one file.
//!   [`RaftStore::persist`] is a *group commit*: all the persist requests of
//!   one driver round go into one write transaction with one fsync, applied
//!   with exactly the semantics of `DurableState::apply`.
//!   [`RaftStore::load`] gives back the `DurableState` for `Raft::restart`.
//! * [`KvStore`] — the KV state machine (etcd-like revisions, compare-and-swap,
//!   prefix ranges, snapshots). [`KvStore::apply`] writes one batch of
//!   committed entries per transaction without fsync: the Raft log is the
//!   source of truth and a restart replays it from
//!   [`KvStore::applied_index`]` + 1`.
//! * [`CrdtStore`] — named CRDT objects (the AP state), each write durable.
//! * [`Store`] opens all three from one data directory.
//!
//! Every stored value is `[crc32 | payload]`, the CRC covering the record's
//! key and payload. It is computed on write and checked on every read; a
//! mismatch is [`StoreError::Corrupt`], naming the file, table and record —
//! nothing is ever skipped silently.
//!
//! # Two files, not one
//!
//! [`Store`] keeps the Raft state in `raft.redb` and the state machine in
//! `kv.redb`. redb admits one write transaction at a time per file, and a
//! commit's durability covers the whole file: in one file, every fsync'd
//! Raft group commit would wait for state-machine writes and flush their
//! pages too. In two files the Raft driver and the apply loop write
//! independently, each with its own durability. Nothing needs to be atomic
//! across them: the state machine only applies committed entries, which are
//! already durable in the log, so after a crash it is at or behind the log
//! and catches up by replay (see [`KvStore`]).
//!
//! # Example
//!
//! ```
//! use synod_core::raft::{Entry, EntryPayload, HardState, PersistRequest};
//! use synod_core::{LogIndex, NodeId, Term};
//! use synod_store::{KvCommand, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(dir.path())?;
//!
//! // One driver round: the core asked to persist a vote and an entry.
//! let put = KvCommand::Put { key: b"greeting".to_vec(), value: b"hello".to_vec() };
//! let entry = Entry {
//!     term: Term(1),
//!     index: LogIndex(1),
//!     payload: EntryPayload::Command(put.encode().into()),
//! };
//! let hard_state = HardState { term: Term(1), vote: Some(NodeId(1)), commit: LogIndex(0) };
//! store.raft.persist(&[PersistRequest {
//!     seq: 1,
//!     hard_state: Some(hard_state),
//!     snapshot: None,
//!     truncate_from: None,
//!     entries: vec![entry.clone()],
//! }])?;
//! // Durable: now `raft.on_persisted(1, now)`. Once committed, apply it.
//! let results = store.kv.apply(&[entry])?;
//! assert!(results[0].1.is_success());
//! assert_eq!(store.kv.get(b"greeting")?.unwrap().value, b"hello");
//!
//! // After a restart the log comes back for `Raft::restart`.
//! drop(store);
//! let store = Store::open(dir.path())?;
//! let durable = store.raft.load()?;
//! assert_eq!(durable.hard_state, hard_state);
//! assert_eq!(durable.entries.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Restarting
//!
//! 1. `let durable = store.raft.load()?` and `Raft::restart(config, durable.clone())`.
//! 2. If `durable.snapshot` is newer than `store.kv.applied_index()`, call
//!    `store.kv.restore(&snapshot.data)` (the initial snapshot at index 0,
//!    with empty data, never is).
//! 3. Apply what the core emits as `Effect::Apply`: it re-emits committed
//!    entries from the snapshot on, and [`KvStore::apply`] skips those at or
//!    below its applied index.
#![warn(missing_docs)]

mod crdt;
mod error;
mod kv;
mod raft_store;
mod record;
#[cfg(test)]
mod test_util;

use std::path::Path;

pub use crdt::CrdtStore;
pub use error::StoreError;
pub use kv::{Expect, KeyValue, KvCommand, KvOptions, KvResult, KvStore, RANGE_LIMIT_MAX};
pub use raft_store::RaftStore;

/// The Raft store and the KV store of one node, opened from one data
/// directory (see the crate docs for why these are two files).
#[derive(Debug)]
pub struct Store {
    /// Hard state, snapshot and log, in [`Store::RAFT_FILE`].
    pub raft: RaftStore,
    /// The KV state machine, in [`Store::KV_FILE`].
    pub kv: KvStore,
    /// Named CRDT objects, in [`Store::CRDT_FILE`].
    pub crdt: CrdtStore,
}

impl Store {
    /// The Raft store's file name inside the data directory.
    pub const RAFT_FILE: &'static str = "raft.redb";
    /// The KV store's file name inside the data directory.
    pub const KV_FILE: &'static str = "kv.redb";
    /// The CRDT store's file name inside the data directory.
    pub const CRDT_FILE: &'static str = "crdt.redb";

    /// Opens (creating if missing) the data directory `dir` and both stores.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, KvOptions::default())
    }

    /// Like [`open`](Self::open), with options for the KV store.
    pub fn open_with(dir: &Path, kv_options: KvOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::Io { path: dir.to_path_buf(), source })?;
        let raft = RaftStore::open(&dir.join(Store::RAFT_FILE))?;
        let kv = KvStore::open_with(&dir.join(Store::KV_FILE), kv_options)?;
        let crdt = CrdtStore::open(&dir.join(Store::CRDT_FILE))?;
        Ok(Store { raft, kv, crdt })
    }
}
