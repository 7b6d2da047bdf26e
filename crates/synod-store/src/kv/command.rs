//! [`KvCommand`]: what a client proposes to the KV state machine.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// The first byte of every encoded command: the encoding's version, so the
/// format can change while old entries stay in the log.
const FORMAT_V1: u8 = 1;

/// A write to the KV state machine, carried by a Raft log entry
/// (`EntryPayload::Command(cmd.encode())`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvCommand {
    /// Set `key` to `value`, creating it if absent.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Remove `key`; removing an absent key is not an error.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
    /// Set `key` to `value` only if its current state matches `expect`.
    CompareAndSwap {
        /// The key.
        key: Vec<u8>,
        /// The condition on the key's current state.
        expect: Expect,
        /// The value to write if the condition holds.
        value: Vec<u8>,
    },
    /// Several unconditional writes at one revision, all or nothing: how
    /// the node records the effects of a command of another state machine
    /// (the vote book) in the same file, transaction and snapshot.
    Batch {
        /// Keys to set, with their values.
        puts: Vec<(Vec<u8>, Vec<u8>)>,
        /// Keys to remove (absent ones are ignored).
        deletes: Vec<Vec<u8>>,
    },
}

/// The condition of a [`KvCommand::CompareAndSwap`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expect {
    /// The key exists and holds exactly this value.
    Value(Vec<u8>),
    /// The key's `mod_revision` is this one. As in etcd, an absent key has
    /// `mod_revision` 0, so `Revision(0)` means "absent".
    Revision(u64),
    /// The key does not exist (create-if-absent).
    Absent,
}

impl KvCommand {
    /// The bytes to propose: a format byte, then postcard.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_extend(self, vec![FORMAT_V1])
            .expect("postcard serializes a KvCommand into a Vec infallibly")
    }

    /// Decodes bytes made by [`encode`](Self::encode). Anything else —
    /// another format byte, truncated or trailing bytes — is
    /// [`StoreError::MalformedCommand`].
    pub fn decode(bytes: &[u8]) -> Result<KvCommand, StoreError> {
        let malformed = |reason: String| StoreError::MalformedCommand(reason);
        let (&format, body) = bytes.split_first().ok_or_else(|| malformed("empty".into()))?;
        if format != FORMAT_V1 {
            return Err(malformed(format!("unknown format byte {format}")));
        }
        match postcard::take_from_bytes(body) {
            Ok((cmd, [])) => Ok(cmd),
            Ok((_, rest)) => Err(malformed(format!("{} trailing bytes", rest.len()))),
            Err(e) => Err(malformed(e.to_string())),
        }
    }

    /// The key the command writes; `None` for a batch.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            KvCommand::Put { key, .. }
            | KvCommand::Delete { key }
            | KvCommand::CompareAndSwap { key, .. } => Some(key),
            KvCommand::Batch { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cmds = [
            KvCommand::Put { key: b"a".to_vec(), value: b"1".to_vec() },
            KvCommand::Delete { key: b"a".to_vec() },
            KvCommand::CompareAndSwap { key: b"a".to_vec(), expect: Expect::Absent, value: vec![] },
            KvCommand::CompareAndSwap {
                key: vec![],
                expect: Expect::Revision(7),
                value: vec![0; 300],
            },
            KvCommand::CompareAndSwap {
                key: vec![0xff],
                expect: Expect::Value(b"x".to_vec()),
                value: b"y".to_vec(),
            },
            KvCommand::Batch {
                puts: vec![(b"a".to_vec(), b"1".to_vec())],
                deletes: vec![b"b".to_vec()],
            },
        ];
        for cmd in cmds {
            assert_eq!(KvCommand::decode(&cmd.encode()).unwrap(), cmd);
        }
    }

    #[test]
    fn garbage_is_malformed() {
        let good = KvCommand::Put { key: b"k".to_vec(), value: b"v".to_vec() }.encode();
        let mut trailing = good.clone();
        trailing.push(0);
        let mut other_format = good.clone();
        other_format[0] = 2;
        for bad in [&[][..], &good[..good.len() - 1], &trailing, &other_format, &[1, 9, 9, 9]] {
            let err = KvCommand::decode(bad).unwrap_err();
            assert!(matches!(err, StoreError::MalformedCommand(_)), "{bad:?}: {err}");
        }
    }
}
