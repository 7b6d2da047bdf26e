//! The simulated state machine: a small KV map with a hash chain over the
//! applied entries, so replicas can be compared at any index.

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use synod_core::raft::{Entry, EntryPayload};
use synod_core::LogIndex;

/// A write command: set `key` to `value`; `op` identifies the client op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    /// Unique client operation id.
    pub op: u64,
    /// Key, from a small key space.
    pub key: u8,
    /// The value written.
    pub value: u64,
}

impl Write {
    /// Encodes the command.
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(17);
        buf.put_u64(self.op);
        buf.put_u8(self.key);
        buf.put_u64(self.value);
        buf.freeze()
    }

    /// Decodes a command.
    pub fn decode(data: &[u8]) -> Option<Write> {
        if data.len() != 17 {
            return None;
        }
        let op = u64::from_be_bytes(data[0..8].try_into().ok()?);
        let value = u64::from_be_bytes(data[9..17].try_into().ok()?);
        Some(Write { op, key: data[8], value })
    }
}

/// Replica state: what has been applied, folded into a chain hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStateMachine {
    /// Last applied index.
    pub applied: LogIndex,
    /// Hash of every entry applied so far, in order.
    pub chain: u64,
    /// The map.
    pub kv: BTreeMap<u8, u64>,
}

/// FNV-1a step: cheap, deterministic, good enough to tell sequences apart.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Hash of one entry's identity and content.
pub fn entry_digest(entry: &Entry) -> u64 {
    let mut h = fnv(0xcbf2_9ce4_8422_2325, &entry.term.0.to_be_bytes());
    h = fnv(h, &entry.index.0.to_be_bytes());
    match &entry.payload {
        EntryPayload::Noop => fnv(h, b"noop"),
        EntryPayload::Command(data) => fnv(h, data),
        EntryPayload::Membership(m) => {
            m.members().fold(fnv(h, b"membership"), |h, id| fnv(h, &id.0.to_be_bytes()))
        }
    }
}

impl KvStateMachine {
    /// Applies the next entry; panics if it is not the next index.
    pub fn apply(&mut self, entry: &Entry) {
        assert_eq!(entry.index, self.applied.next(), "entries applied out of order");
        self.applied = entry.index;
        self.chain = fnv(self.chain, &entry_digest(entry).to_be_bytes());
        if let EntryPayload::Command(data) = &entry.payload {
            if let Some(w) = Write::decode(data) {
                self.kv.insert(w.key, w.value);
            }
        }
    }

    /// Serializes the state for a snapshot.
    pub fn snapshot(&self) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_u64(self.applied.0);
        buf.put_u64(self.chain);
        for (k, v) in &self.kv {
            buf.put_u8(*k);
            buf.put_u64(*v);
        }
        buf.freeze()
    }

    /// Restores from [`KvStateMachine::snapshot`] output.
    pub fn restore(data: &[u8]) -> KvStateMachine {
        if data.is_empty() {
            return KvStateMachine::default();
        }
        let applied = LogIndex(u64::from_be_bytes(data[0..8].try_into().unwrap()));
        let chain = u64::from_be_bytes(data[8..16].try_into().unwrap());
        let kv = data[16..]
            .chunks(9)
            .map(|c| (c[0], u64::from_be_bytes(c[1..9].try_into().unwrap())))
            .collect();
        KvStateMachine { applied, chain, kv }
    }
}
