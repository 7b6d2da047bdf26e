//! [`CrdtStore`]: the node's AP state (named CRDT objects), durable in its
//! own redb file.

use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{AtFile, Location, StoreError};
use crate::record;

/// Object name → sealed record of the encoded object.
const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new(OBJECTS_TABLE);
const OBJECTS_TABLE: &str = "crdt_objects";

/// How an object is named in errors: `object "visits"`.
fn object_name(name: &str) -> String {
    format!("object \"{}\"", name.escape_debug())
}

/// Named CRDT objects as opaque encoded states.
///
/// Unlike the KV store, this state is not rebuilt from the Raft log: a
/// CRDT update is acknowledged once it is here, so every
/// [`write`](Self::write) commits with an fsync. The store knows nothing
/// of CRDT types; the node encodes and merges them. Writes are whole
/// states, and states only grow (joins), so the latest write of a name is
/// always its state.
#[derive(Debug)]
pub struct CrdtStore {
    db: Database,
    path: PathBuf,
}

impl CrdtStore {
    /// Opens the store at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<CrdtStore, StoreError> {
        let db = Database::create(path).at(path)?;
        let txn = db.begin_write().at(path)?;
        txn.open_table(OBJECTS).at(path)?;
        txn.commit().at(path)?;
        Ok(CrdtStore { db, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn loc(&self) -> Location<'_> {
        Location { file: &self.path, table: OBJECTS_TABLE }
    }

    /// Every object, in name order, after checking each record's checksum.
    pub fn load(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(OBJECTS).at(&self.path)?;
        let mut out = Vec::new();
        for row in table.iter().at(&self.path)? {
            let (name, value) = row.at(&self.path)?;
            let name = name.value().to_string();
            let payload =
                record::open(self.loc(), object_name(&name), name.as_bytes(), value.value())?;
            out.push((name.clone(), payload.to_vec()));
        }
        Ok(out)
    }

    /// One object's encoded state, if stored.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(OBJECTS).at(&self.path)?;
        let Some(value) = table.get(name).at(&self.path)? else {
            return Ok(None);
        };
        let payload = record::open(self.loc(), object_name(name), name.as_bytes(), value.value())?;
        Ok(Some(payload.to_vec()))
    }

    /// Stores the states of `objects` (later entries of the same name win)
    /// in one durable transaction: all or nothing.
    pub fn write(&self, objects: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        {
            let mut table = txn.open_table(OBJECTS).at(&self.path)?;
            let mut buf = Vec::new();
            for (name, state) in objects {
                buf.clear();
                buf.extend_from_slice(&[0; record::CRC_LEN]);
                buf.extend_from_slice(state);
                record::seal(&mut buf, name.as_bytes());
                table.insert(name.as_str(), buf.as_slice()).at(&self.path)?;
            }
        }
        txn.commit().at(&self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_survive_reopen_and_later_writes_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crdt.redb");
        let store = CrdtStore::open(&path).unwrap();
        store
            .write(&[("a".into(), vec![1]), ("b".into(), vec![2]), ("a".into(), vec![3])])
            .unwrap();
        drop(store);
        let store = CrdtStore::open(&path).unwrap();
        assert_eq!(store.load().unwrap(), vec![("a".into(), vec![3]), ("b".into(), vec![2])]);
        assert_eq!(store.get("b").unwrap(), Some(vec![2]));
        assert_eq!(store.get("c").unwrap(), None);
    }

    #[test]
    fn a_corrupted_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crdt.redb");
        let store = CrdtStore::open(&path).unwrap();
        store.write(&[("visits".into(), vec![9; 16])]).unwrap();
        // Rewrite the record with a bad checksum, as a disk would.
        let txn = store.db.begin_write().unwrap();
        {
            let mut table = txn.open_table(OBJECTS).unwrap();
            table.insert("visits", [0u8; 20].as_slice()).unwrap();
        }
        txn.commit().unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("checksum mismatch") && err.contains("object \"visits\""), "{err}");
        assert!(store.get("visits").is_err());
    }
}
