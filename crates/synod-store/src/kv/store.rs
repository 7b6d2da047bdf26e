//! [`KvStore`]: the KV state machine, durable in its own redb file.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition};
use synod_core::raft::{Entry, EntryPayload};
use synod_core::LogIndex;

use super::command::{Expect, KvCommand};
use super::result::{KeyValue, KvResult, StoredValue};
use super::snapshot::{SnapshotReader, SnapshotWriter};
use crate::error::{AtFile, Location, StoreError};
use crate::record;

/// Keys and their [`StoredValue`]s.
pub(crate) const DATA: TableDefinition<&[u8], &[u8]> = TableDefinition::new(DATA_TABLE);
pub(crate) const DATA_TABLE: &str = "kv_data";
/// The applied index, under [`APPLIED`].
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);
pub(crate) const META_TABLE: &str = "kv_meta";
pub(crate) const APPLIED: &str = "applied_index";

/// The most keys one [`KvStore::range`] returns, whatever the limit asked.
pub const RANGE_LIMIT_MAX: usize = 10_000;

/// How a KV record is named in errors: `key "a/b"`.
fn key_name(key: &[u8]) -> String {
    format!("key \"{}\"", key.escape_ascii())
}

/// Tuning of a [`KvStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvOptions {
    /// Every this many [`KvStore::apply`] batches, the batch is committed
    /// with an fsync, bounding how much log a restart replays; the others
    /// commit without one. 0 = only [`KvStore::sync`] and
    /// [`KvStore::restore`] fsync.
    pub sync_every_batches: u32,
}

impl Default for KvOptions {
    fn default() -> KvOptions {
        KvOptions { sync_every_batches: 256 }
    }
}

/// The KV state machine: keys with values and etcd-style revisions, kept in
/// one redb file.
///
/// The Raft log is the source of truth, so [`apply`](Self::apply) commits
/// without fsync (except every [`KvOptions::sync_every_batches`]): a crash
/// may lose the latest batches, and [`applied_index`](Self::applied_index)
/// then says where the store really is. On restart the driver restores the
/// Raft snapshot if it is newer than `applied_index()` and replays the log
/// from `applied_index() + 1`; entries at or below the applied index are
/// skipped, so replaying more than needed is harmless.
#[derive(Debug)]
pub struct KvStore {
    db: Database,
    path: PathBuf,
    applied: LogIndex,
    options: KvOptions,
    batches_since_sync: u32,
}

impl KvStore {
    /// Opens the store at `path` with default options, creating it if missing.
    pub fn open(path: &Path) -> Result<KvStore, StoreError> {
        KvStore::open_with(path, KvOptions::default())
    }

    /// Opens the store at `path`, creating it if missing.
    pub fn open_with(path: &Path, options: KvOptions) -> Result<KvStore, StoreError> {
        let db = Database::create(path).at(path)?;
        let txn = db.begin_write().at(path)?;
        txn.open_table(DATA).at(path)?;
        txn.open_table(META).at(path)?;
        txn.commit().at(path)?;
        let mut store = KvStore {
            db,
            path: path.to_path_buf(),
            applied: LogIndex(0),
            options,
            batches_since_sync: 0,
        };
        let txn = store.db.begin_read().at(path)?;
        store.applied = read_applied(store.loc(META_TABLE), &txn.open_table(META).at(path)?)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of the last entry applied (0 for an empty store).
    pub fn applied_index(&self) -> LogIndex {
        self.applied
    }

    /// Applies a batch of committed entries, in log order, in one write
    /// transaction that also records the new applied index. Entries at or
    /// below [`applied_index`](Self::applied_index) are skipped (replay);
    /// the rest must continue it without a gap, or the call is
    /// [`StoreError::Rejected`] and nothing changes.
    ///
    /// Returns one result per command entry (`Noop` and `Membership` entries
    /// only advance the applied index). Bytes that do not decode as a
    /// [`KvCommand`] give [`KvResult::Invalid`] and are applied as no-ops.
    pub fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, KvResult)>, StoreError> {
        let skip = entries.iter().take_while(|e| e.index <= self.applied).count();
        let fresh = &entries[skip..];
        let Some(last) = fresh.last() else { return Ok(Vec::new()) };
        for (i, entry) in fresh.iter().enumerate() {
            let expected = self.applied.0 + 1 + i as u64;
            if entry.index.0 != expected {
                return Err(StoreError::Rejected {
                    file: self.path.clone(),
                    reason: format!(
                        "applying index {} where {expected} was expected",
                        entry.index.0
                    ),
                });
            }
        }
        let sync = self.options.sync_every_batches != 0
            && self.batches_since_sync + 1 >= self.options.sync_every_batches;
        let mut txn = self.db.begin_write().at(&self.path)?;
        let durability = if sync { Durability::Immediate } else { Durability::None };
        txn.set_durability(durability).at(&self.path)?;
        let mut results = Vec::new();
        {
            let mut table = txn.open_table(DATA).at(&self.path)?;
            for entry in fresh {
                if let EntryPayload::Command(bytes) = &entry.payload {
                    let result = self.apply_command(&mut table, entry.index.0, bytes)?;
                    results.push((entry.index, result));
                }
            }
            let mut meta = txn.open_table(META).at(&self.path)?;
            meta.insert(APPLIED, record::encode(APPLIED.as_bytes(), &last.index.0).as_slice())
                .at(&self.path)?;
        }
        txn.commit().at(&self.path)?;
        self.applied = last.index;
        self.batches_since_sync = if sync { 0 } else { self.batches_since_sync + 1 };
        Ok(results)
    }

    fn apply_command(
        &self,
        table: &mut Table<'_, &'static [u8], &'static [u8]>,
        revision: u64,
        bytes: &[u8],
    ) -> Result<KvResult, StoreError> {
        let command = match KvCommand::decode(bytes) {
            Ok(command) => command,
            Err(e) => return Ok(KvResult::Invalid(e.to_string())),
        };
        let command = match command {
            KvCommand::Batch { puts, deletes } => {
                for key in deletes {
                    table.remove(key.as_slice()).at(&self.path)?;
                }
                for (key, value) in puts {
                    let prev = self.read(table, &key)?;
                    self.write(table, &key, value, prev.as_ref(), revision)?;
                }
                return Ok(KvResult::Batch { revision });
            }
            other => other,
        };
        let prev = match command.key() {
            Some(key) => self.read(table, key)?,
            None => None,
        };
        Ok(match command {
            KvCommand::Put { key, value } => {
                self.write(table, &key, value, prev.as_ref(), revision)?;
                KvResult::Put { revision, prev: prev.map(|p| p.into_key_value(key)) }
            }
            KvCommand::Delete { key } => {
                if prev.is_some() {
                    table.remove(key.as_slice()).at(&self.path)?;
                }
                KvResult::Delete { revision, prev: prev.map(|p| p.into_key_value(key)) }
            }
            KvCommand::CompareAndSwap { key, expect, value } => {
                let succeeded = match &expect {
                    Expect::Value(v) => prev.as_ref().is_some_and(|p| p.value == *v),
                    Expect::Revision(r) => prev.as_ref().map_or(0, |p| p.mod_revision) == *r,
                    Expect::Absent => prev.is_none(),
                };
                if succeeded {
                    self.write(table, &key, value, prev.as_ref(), revision)?;
                }
                KvResult::CompareAndSwap {
                    revision,
                    succeeded,
                    prev: prev.map(|p| p.into_key_value(key)),
                }
            }
            KvCommand::Batch { .. } => unreachable!("batches were applied above"),
        })
    }

    /// Writes `value` at `revision` over `prev`.
    fn write(
        &self,
        table: &mut Table<'_, &'static [u8], &'static [u8]>,
        key: &[u8],
        value: Vec<u8>,
        prev: Option<&StoredValue>,
        revision: u64,
    ) -> Result<(), StoreError> {
        let stored = StoredValue {
            value,
            create_revision: prev.map_or(revision, |p| p.create_revision),
            mod_revision: revision,
            version: prev.map_or(1, |p| p.version + 1),
        };
        table.insert(key, record::encode(key, &stored).as_slice()).at(&self.path)?;
        Ok(())
    }

    fn read(
        &self,
        table: &impl ReadableTable<&'static [u8], &'static [u8]>,
        key: &[u8],
    ) -> Result<Option<StoredValue>, StoreError> {
        match table.get(key).at(&self.path)? {
            Some(raw) => {
                Ok(Some(record::decode(self.loc(DATA_TABLE), key_name(key), key, raw.value())?))
            }
            None => Ok(None),
        }
    }

    /// Makes everything applied so far durable (one fsync).
    pub fn sync(&mut self) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        txn.commit().at(&self.path)?;
        self.batches_since_sync = 0;
        Ok(())
    }

    /// The key's current state, if it exists.
    pub fn get(&self, key: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(DATA).at(&self.path)?;
        Ok(self.read(&table, key)?.map(|v| v.into_key_value(key.to_vec())))
    }

    /// The keys starting with `prefix`, in key order, at most `limit` of
    /// them; `limit` 0 means "all", and either way at most
    /// [`RANGE_LIMIT_MAX`] are returned.
    pub fn range(&self, prefix: &[u8], limit: usize) -> Result<Vec<KeyValue>, StoreError> {
        self.range_after(prefix, &[], limit)
    }

    /// Like [`range`](Self::range), but only keys greater than
    /// `start_after` (ignored when empty): pass the last key of one page to
    /// get the next.
    pub fn range_after(
        &self,
        prefix: &[u8],
        start_after: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let limit = if limit == 0 { RANGE_LIMIT_MAX } else { limit.min(RANGE_LIMIT_MAX) };
        let start = if !start_after.is_empty() && start_after >= prefix {
            Bound::Excluded(start_after)
        } else {
            Bound::Included(prefix)
        };
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(DATA).at(&self.path)?;
        let mut out = Vec::new();
        for item in table.range::<&[u8]>((start, Bound::Unbounded)).at(&self.path)? {
            let (key, raw) = item.at(&self.path)?;
            let key = key.value();
            if !key.starts_with(prefix) || out.len() == limit {
                break;
            }
            let stored: StoredValue =
                record::decode(self.loc(DATA_TABLE), key_name(key), key, raw.value())?;
            out.push(stored.into_key_value(key.to_vec()));
        }
        Ok(out)
    }

    /// The whole state and the index it was applied up to, read in one
    /// consistent read transaction; every record's checksum is checked.
    /// Hand the bytes to the Raft core as snapshot data for that index.
    pub fn snapshot(&self) -> Result<(LogIndex, Vec<u8>), StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let applied = read_applied(self.loc(META_TABLE), &txn.open_table(META).at(&self.path)?)?;
        let table = txn.open_table(DATA).at(&self.path)?;
        let mut writer = SnapshotWriter::new(applied.0);
        for item in table.iter().at(&self.path)? {
            let (key, raw) = item.at(&self.path)?;
            let key = key.value();
            let stored: StoredValue =
                record::decode(self.loc(DATA_TABLE), key_name(key), key, raw.value())?;
            writer.push(key, &stored);
        }
        Ok((applied, writer.finish()))
    }

    /// Replaces the whole state with a snapshot made by
    /// [`snapshot`](Self::snapshot), in one transaction (with fsync). Data
    /// that is not such a snapshot is [`StoreError::InvalidSnapshot`] and
    /// leaves the state unchanged.
    pub fn restore(&mut self, data: &[u8]) -> Result<(), StoreError> {
        let invalid =
            |reason: String| StoreError::InvalidSnapshot { file: self.path.clone(), reason };
        let mut reader = SnapshotReader::new(data).map_err(invalid)?;
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        txn.delete_table(DATA).at(&self.path)?;
        {
            let mut table = txn.open_table(DATA).at(&self.path)?;
            let mut buf = Vec::new();
            // An error returns early and drops `txn`, which aborts it.
            while let Some((key, value)) = reader.next_pair().map_err(invalid)? {
                record::encode_into(&mut buf, &key, &value);
                table.insert(key.as_slice(), buf.as_slice()).at(&self.path)?;
            }
            let mut meta = txn.open_table(META).at(&self.path)?;
            meta.insert(APPLIED, record::encode(APPLIED.as_bytes(), &reader.applied).as_slice())
                .at(&self.path)?;
        }
        txn.commit().at(&self.path)?;
        self.applied = LogIndex(reader.applied);
        self.batches_since_sync = 0;
        Ok(())
    }

    fn loc(&self, table: &'static str) -> Location<'_> {
        Location { file: &self.path, table }
    }

    /// Test-only: stores `raw` under `key`, bypassing framing, to simulate
    /// corruption.
    #[cfg(test)]
    pub(crate) fn put_raw(&self, key: &[u8], raw: &[u8]) {
        let txn = self.db.begin_write().unwrap();
        txn.open_table(DATA).unwrap().insert(key, raw).unwrap();
        txn.commit().unwrap();
    }
}

fn read_applied(
    loc: Location<'_>,
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<LogIndex, StoreError> {
    match table.get(APPLIED).at(loc.file)? {
        Some(raw) => Ok(LogIndex(record::decode(loc, APPLIED, APPLIED.as_bytes(), raw.value())?)),
        None => Ok(LogIndex(0)),
    }
}
