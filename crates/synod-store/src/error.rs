//! The one error type of this crate.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong in [`RaftStore`](crate::RaftStore) and
/// [`KvStore`](crate::KvStore). Each variant says whether state changed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed: an I/O error, a full disk, a file already opened by
    /// another process, a file redb does not recognise.
    ///
    /// State: a failure before the commit leaves state unchanged (the
    /// transaction is dropped, which aborts it). A failure of the commit
    /// itself (fsync) leaves the outcome unknown: the write may or may not
    /// be on disk. Stop using the store, reopen it and reload.
    #[error("database error in {}: {source}", file.display())]
    Database {
        /// The database file.
        file: PathBuf,
        /// What redb reported.
        #[source]
        source: Box<redb::Error>,
    },
    /// A file-system operation outside redb failed (creating the data
    /// directory). State unchanged.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What the OS reported.
        #[source]
        source: std::io::Error,
    },
    /// A record's checksum does not match its key and payload: the bytes on
    /// disk are not the bytes that were written. Nothing is skipped or
    /// repaired; the read (or the write that read it) fails and state is
    /// unchanged.
    #[error("checksum mismatch in {}, table {table}, record {key}", file.display())]
    Corrupt {
        /// The database file.
        file: PathBuf,
        /// The table holding the record.
        table: &'static str,
        /// The record, e.g. `index 42` or `key "a/b"`.
        key: String,
    },
    /// A record passed its checksum but is not what this crate writes: it
    /// does not decode, it sits under the wrong key, a record it needs is
    /// missing, or the log has a gap. A file from an incompatible version or
    /// a bug. State unchanged.
    #[error("invalid record in {}, table {table}, record {key}: {reason}", file.display())]
    Invalid {
        /// The database file.
        file: PathBuf,
        /// The table holding the record.
        table: &'static str,
        /// The record.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller broke the contract of a write (a persist request that
    /// would leave a gap in the log, requests out of `seq` order, entries
    /// applied out of order). The whole call was refused: state unchanged.
    #[error("write to {} refused: {reason}", file.display())]
    Rejected {
        /// The database file.
        file: PathBuf,
        /// Which rule the call broke.
        reason: String,
    },
    /// Bytes that are not an encoded [`KvCommand`](crate::KvCommand). No
    /// state is involved.
    #[error("malformed command: {0}")]
    MalformedCommand(String),
    /// [`KvStore::restore`](crate::KvStore::restore) was given bytes that are
    /// not a snapshot made by [`KvStore::snapshot`](crate::KvStore::snapshot).
    /// State unchanged.
    #[error("invalid snapshot for {}: {reason}", file.display())]
    InvalidSnapshot {
        /// The database file that was to be restored.
        file: PathBuf,
        /// What is wrong with the data.
        reason: String,
    },
}

/// Attaches the database file to redb errors.
pub(crate) trait AtFile<T> {
    /// Converts a redb error into [`StoreError::Database`] naming `file`.
    fn at(self, file: &Path) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> AtFile<T> for Result<T, E> {
    fn at(self, file: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database {
            file: file.to_path_buf(),
            source: Box::new(e.into()),
        })
    }
}

/// Names one table of one file, to build errors about its records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Location<'a> {
    pub file: &'a Path,
    pub table: &'static str,
}

impl Location<'_> {
    /// A checksum mismatch on `key`.
    pub fn corrupt(&self, key: impl fmt::Display) -> StoreError {
        StoreError::Corrupt {
            file: self.file.to_path_buf(),
            table: self.table,
            key: key.to_string(),
        }
    }

    /// A well-checksummed but invalid record `key`.
    pub fn invalid(&self, key: impl fmt::Display, reason: impl fmt::Display) -> StoreError {
        StoreError::Invalid {
            file: self.file.to_path_buf(),
            table: self.table,
            key: key.to_string(),
            reason: reason.to_string(),
        }
    }
}
