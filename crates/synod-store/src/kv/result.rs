//! What the KV state machine holds per key ([`KeyValue`]) and answers per
//! command ([`KvResult`]).

use serde::{Deserialize, Serialize};

/// A key and its state, as etcd reports it. Revisions are log indexes: the
/// revision of a write is the index of the Raft entry that carried it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// The current value.
    pub value: Vec<u8>,
    /// The revision (log index) that created the key, since its last deletion.
    pub create_revision: u64,
    /// The revision (log index) of the last write to the key.
    pub mod_revision: u64,
    /// Writes since creation: 1 after the creating write.
    pub version: u64,
}

/// The outcome of one applied command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvResult {
    /// A `Put` wrote the key.
    Put {
        /// The log index of the command: the key's new `mod_revision`.
        revision: u64,
        /// The key before the write, if it existed.
        prev: Option<KeyValue>,
    },
    /// A `Delete` ran; `prev` is `None` when the key did not exist.
    Delete {
        /// The log index of the command.
        revision: u64,
        /// The key as it was before the delete, if it existed.
        prev: Option<KeyValue>,
    },
    /// A `CompareAndSwap` ran.
    CompareAndSwap {
        /// The log index of the command: the key's new `mod_revision` if
        /// the swap succeeded.
        revision: u64,
        /// Whether the condition held and the value was written.
        succeeded: bool,
        /// The key before the command (the state the condition was checked
        /// against), if it existed.
        prev: Option<KeyValue>,
    },
    /// A `Batch` wrote its keys.
    Batch {
        /// The log index of the command: the written keys' `mod_revision`.
        revision: u64,
    },
    /// The entry's bytes are not a [`KvCommand`](crate::KvCommand); nothing
    /// was written but the applied index advanced past it.
    Invalid(String),
}

impl KvResult {
    /// The log index of the command, or `None` for [`KvResult::Invalid`].
    pub fn revision(&self) -> Option<u64> {
        match self {
            KvResult::Put { revision, .. }
            | KvResult::Delete { revision, .. }
            | KvResult::CompareAndSwap { revision, .. }
            | KvResult::Batch { revision } => Some(*revision),
            KvResult::Invalid(_) => None,
        }
    }

    /// Whether the command took effect: always for `Put` and `Delete`, when
    /// the condition held for `CompareAndSwap`, never for `Invalid`.
    pub fn is_success(&self) -> bool {
        match self {
            KvResult::Put { .. } | KvResult::Delete { .. } | KvResult::Batch { .. } => true,
            KvResult::CompareAndSwap { succeeded, .. } => *succeeded,
            KvResult::Invalid(_) => false,
        }
    }
}

/// What is stored per key (the key itself is the record's key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredValue {
    pub value: Vec<u8>,
    pub create_revision: u64,
    pub mod_revision: u64,
    pub version: u64,
}

impl StoredValue {
    /// The public view of this value under `key`.
    pub fn into_key_value(self, key: Vec<u8>) -> KeyValue {
        KeyValue {
            key,
            value: self.value,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
        }
    }

    /// Whether the revisions can belong to a store that applied up to `applied`.
    pub fn is_consistent(&self, applied: u64) -> bool {
        self.version >= 1
            && 1 <= self.create_revision
            && self.create_revision <= self.mod_revision
            && self.mod_revision <= applied
    }
}
