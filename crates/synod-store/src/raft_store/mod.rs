//! [`RaftStore`]: the durable state of one Raft core in one redb file.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction,
};
use synod_core::raft::{DurableState, Entry, HardState, PersistRequest, Snapshot, SnapshotMeta};

use crate::error::{AtFile, Location, StoreError};
use crate::record;

#[cfg(test)]
mod tests;

/// Log entries, keyed by index.
pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new(LOG_TABLE);
pub(crate) const LOG_TABLE: &str = "raft_log";
/// The hard state, under [`HARD_STATE`].
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
pub(crate) const META_TABLE: &str = "raft_meta";
/// The snapshot: [`SNAPSHOT_META`] and [`SNAPSHOT_DATA`].
pub(crate) const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new(SNAPSHOT_TABLE);
pub(crate) const SNAPSHOT_TABLE: &str = "raft_snapshot";

pub(crate) const HARD_STATE: &str = "hard_state";
pub(crate) const SNAPSHOT_META: &str = "meta";
pub(crate) const SNAPSHOT_DATA: &str = "data";

/// How a log record is named in errors: `index 42`.
fn log_name(index: u64) -> String {
    format!("index {index}")
}

/// The durable state of one Raft core — hard state, snapshot and log — in
/// one redb file, written by group commit.
///
/// Drive it from the node's Raft driver: [`load`](Self::load) once at start
/// and pass the result to `Raft::restart`; then, each round, hand every
/// [`PersistRequest`] the core emitted to [`persist`](Self::persist) in one
/// call and confirm them with `Raft::on_persisted` once it returns `Ok`.
#[derive(Debug)]
pub struct RaftStore {
    db: Database,
    path: PathBuf,
}

impl RaftStore {
    /// Opens the store at `path`, creating the file and its tables if missing.
    pub fn open(path: &Path) -> Result<RaftStore, StoreError> {
        let db = Database::create(path).at(path)?;
        let txn = db.begin_write().at(path)?;
        txn.open_table(LOG).at(path)?;
        txn.open_table(META).at(path)?;
        txn.open_table(SNAPSHOT).at(path)?;
        txn.commit().at(path)?;
        Ok(RaftStore { db, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads back everything persisted: the hard state, the snapshot and the
    /// entries after it. Every record's checksum is checked, and the entries
    /// must run contiguously from the snapshot's index + 1 (from 1 without a
    /// snapshot), as `Raft::restart` requires.
    pub fn load(&self) -> Result<DurableState, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let meta = txn.open_table(META).at(&self.path)?;
        let hard_state = match meta.get(HARD_STATE).at(&self.path)? {
            Some(raw) => record::decode(
                self.loc(META_TABLE),
                HARD_STATE,
                HARD_STATE.as_bytes(),
                raw.value(),
            )?,
            None => HardState::default(),
        };
        let snapshots = txn.open_table(SNAPSHOT).at(&self.path)?;
        let snapshot = read_snapshot(self.loc(SNAPSHOT_TABLE), &snapshots)?;
        let log = txn.open_table(LOG).at(&self.path)?;
        let after = snapshot.as_ref().map_or(0, |s| s.meta.index.0);
        let entries = read_log(self.loc(LOG_TABLE), &log, after)?;
        Ok(DurableState { hard_state, snapshot, entries })
    }

    /// Makes `reqs` durable — all of them or none — in one write transaction
    /// with one fsync (group commit). Each request is applied in order with
    /// the semantics of [`DurableState::apply`]: hard state, then snapshot
    /// (discarding entries at or below its index), then `truncate_from`
    /// (discarding entries at or after it), then the new entries.
    ///
    /// Requests that would leave a state [`load`](Self::load) cannot return
    /// (a gap in the log, entries at or below the snapshot) or that are not
    /// in increasing `seq` order are refused with [`StoreError::Rejected`]
    /// and nothing is written. When this returns `Ok`, every request is on
    /// disk and may be confirmed to the core.
    pub fn persist(&self, reqs: &[PersistRequest]) -> Result<(), StoreError> {
        if reqs.is_empty() {
            return Ok(());
        }
        if let Some(pair) = reqs.windows(2).find(|pair| pair[1].seq <= pair[0].seq) {
            return Err(self.rejected(format!(
                "persist requests out of order: seq {} after seq {}",
                pair[1].seq, pair[0].seq
            )));
        }
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        self.write_requests(&txn, reqs)?;
        txn.commit().at(&self.path)
    }

    /// Applies every request inside `txn`; an error leaves `txn` to be
    /// dropped, which aborts it.
    fn write_requests(
        &self,
        txn: &WriteTransaction,
        reqs: &[PersistRequest],
    ) -> Result<(), StoreError> {
        let mut writer = Writer {
            store: self,
            log: txn.open_table(LOG).at(&self.path)?,
            meta: txn.open_table(META).at(&self.path)?,
            snapshots: txn.open_table(SNAPSHOT).at(&self.path)?,
            snapshot_index: 0,
            buf: Vec::new(),
        };
        writer.snapshot_index = match writer.snapshots.get(SNAPSHOT_META).at(&self.path)? {
            Some(raw) => {
                let meta: SnapshotMeta = record::decode(
                    self.loc(SNAPSHOT_TABLE),
                    "meta",
                    SNAPSHOT_META.as_bytes(),
                    raw.value(),
                )?;
                meta.index.0
            }
            None => 0,
        };
        for req in reqs {
            writer.apply(req)?;
        }
        Ok(())
    }

    fn loc(&self, table: &'static str) -> Location<'_> {
        Location { file: &self.path, table }
    }

    fn rejected(&self, reason: String) -> StoreError {
        StoreError::Rejected { file: self.path.clone(), reason }
    }

    /// Test-only: stores `raw` as the record of log `index`, bypassing
    /// framing, to simulate corruption.
    #[cfg(test)]
    pub(crate) fn put_raw_log_record(&self, index: u64, raw: &[u8]) {
        let txn = self.db.begin_write().unwrap();
        txn.open_table(LOG).unwrap().insert(index, raw).unwrap();
        txn.commit().unwrap();
    }
}

fn read_snapshot(
    loc: Location<'_>,
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<Snapshot>, StoreError> {
    let meta = table.get(SNAPSHOT_META).at(loc.file)?;
    let data = table.get(SNAPSHOT_DATA).at(loc.file)?;
    match (meta, data) {
        (None, None) => Ok(None),
        (Some(meta), Some(data)) => {
            let meta: SnapshotMeta =
                record::decode(loc, "meta", SNAPSHOT_META.as_bytes(), meta.value())?;
            let data = record::open(loc, "data", SNAPSHOT_DATA.as_bytes(), data.value())?;
            Ok(Some(Snapshot { meta, data: Bytes::copy_from_slice(data) }))
        }
        (Some(_), None) => Err(loc.invalid("data", "missing while the snapshot meta exists")),
        (None, Some(_)) => Err(loc.invalid("meta", "missing while the snapshot data exists")),
    }
}

/// All entries of the log, checked to run contiguously from `after + 1`.
fn read_log(
    loc: Location<'_>,
    table: &impl ReadableTable<u64, &'static [u8]>,
    after: u64,
) -> Result<Vec<Entry>, StoreError> {
    let mut entries = Vec::new();
    for (expected, item) in (after + 1..).zip(table.iter().at(loc.file)?) {
        let (key, raw) = item.at(loc.file)?;
        let index = key.value();
        let entry: Entry = record::decode(loc, log_name(index), &index.to_be_bytes(), raw.value())?;
        if entry.index.0 != index {
            return Err(loc.invalid(log_name(index), format!("holds the entry of {}", entry.index)));
        }
        if index != expected {
            return Err(loc.invalid(log_name(index), format!("gap: expected index {expected}")));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The open tables of one persist transaction.
struct Writer<'t> {
    store: &'t RaftStore,
    log: Table<'t, u64, &'static [u8]>,
    meta: Table<'t, &'static str, &'static [u8]>,
    snapshots: Table<'t, &'static str, &'static [u8]>,
    /// The snapshot index as of the requests applied so far.
    snapshot_index: u64,
    /// Reused encoding buffer.
    buf: Vec<u8>,
}

impl Writer<'_> {
    /// One request, in the order of [`DurableState::apply`].
    fn apply(&mut self, req: &PersistRequest) -> Result<(), StoreError> {
        let path = &self.store.path;
        if let Some(hs) = &req.hard_state {
            record::encode_into(&mut self.buf, HARD_STATE.as_bytes(), hs);
            self.meta.insert(HARD_STATE, self.buf.as_slice()).at(path)?;
        }
        if let Some(snap) = &req.snapshot {
            self.write_snapshot(snap)?;
            let index = snap.meta.index.0;
            self.log.retain_in(..=index, |_, _| false).at(path)?;
        }
        if let Some(from) = req.truncate_from {
            self.log.retain_in(from.0.., |_, _| false).at(path)?;
        }
        if req.snapshot.is_some() {
            self.check_log_starts_after_snapshot(req.seq)?;
        }
        self.append(req.seq, &req.entries)
    }

    fn write_snapshot(&mut self, snap: &Snapshot) -> Result<(), StoreError> {
        let path = &self.store.path;
        record::encode_into(&mut self.buf, SNAPSHOT_META.as_bytes(), &snap.meta);
        self.snapshots.insert(SNAPSHOT_META, self.buf.as_slice()).at(path)?;
        // The data may be megabytes: write it straight into the page.
        let len = record::CRC_LEN + snap.data.len();
        let mut slot = self.snapshots.insert_reserve(SNAPSHOT_DATA, len).at(path)?;
        let out = slot.as_mut();
        out[record::CRC_LEN..].copy_from_slice(&snap.data);
        record::seal(out, SNAPSHOT_DATA.as_bytes());
        self.snapshot_index = snap.meta.index.0;
        Ok(())
    }

    /// After a snapshot, what is left of the log must follow it directly.
    fn check_log_starts_after_snapshot(&self, seq: u64) -> Result<(), StoreError> {
        let first = self.log.first().at(&self.store.path)?.map(|(k, _)| k.value());
        match first {
            Some(first) if first != self.snapshot_index + 1 => Err(self.store.rejected(format!(
                "request seq {seq}: snapshot at index {} leaves the log starting at index {first}",
                self.snapshot_index
            ))),
            _ => Ok(()),
        }
    }

    fn append(&mut self, seq: u64, entries: &[Entry]) -> Result<(), StoreError> {
        let path = &self.store.path;
        let Some(first) = entries.first() else { return Ok(()) };
        let last = self.log.last().at(path)?.map(|(k, _)| k.value());
        let next = last.unwrap_or(self.snapshot_index) + 1;
        if first.index.0 != next {
            return Err(self.store.rejected(format!(
                "request seq {seq}: entries start at index {} but the log continues at index {next}",
                first.index.0
            )));
        }
        for (expected, entry) in (next..).zip(entries) {
            if entry.index.0 != expected {
                return Err(self.store.rejected(format!(
                    "request seq {seq}: entry index {} where {expected} was expected",
                    entry.index.0
                )));
            }
            record::encode_into(&mut self.buf, &expected.to_be_bytes(), entry);
            self.log.insert(expected, self.buf.as_slice()).at(path)?;
        }
        Ok(())
    }
}
