//! The keyed CRDT store each simulated node gossips: it implements
//! [`Replica`] for the anti-entropy session.

use std::collections::BTreeMap;

use synod_core::antientropy::{ApplyError, Replica};
use synod_core::causality::HlcTimestamp;
use synod_core::merkle::{DepthError, Digest, MerkleTree};
use synod_core::NodeId;

use super::value::{Kind, Op, Value};

/// Deliberately broken merges, to show that the checkers catch them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaBug {
    /// `apply` drops every payload for a key the store already holds (only
    /// keys it lacks get in): updates to existing keys never spread.
    DropPayloadsForKnownKeys,
    /// `apply` replaces the held state with the payload instead of joining
    /// them ("newest message wins"): concurrent updates are lost.
    OverwriteInsteadOfJoin,
}

/// A change to one key, kept for the checker: the key and its state
/// before the change (`None`: the key was absent).
pub type Change = (Vec<u8>, Option<Value>);

/// A map from key to CRDT [`Value`], summarized by a [`MerkleTree`] whose
/// entry digests are [`Value::digest`].
///
/// `delta_for` ships the key's full state: the peer's entry digest cannot
/// be inverted into "what the peer has", and the simulated values are a
/// few dozen bytes. A store with large values would keep recent deltas
/// indexed by digest (Almeida et al. 2018, §4, delta-intervals).
#[derive(Clone, Debug)]
pub struct Store {
    values: BTreeMap<Vec<u8>, Value>,
    tree: MerkleTree,
    bug: Option<ReplicaBug>,
    changes: Vec<Change>,
}

impl Store {
    /// An empty store over a tree of `depth` levels.
    pub fn new(depth: u8, bug: Option<ReplicaBug>) -> Result<Store, DepthError> {
        Ok(Store {
            values: BTreeMap::new(),
            tree: MerkleTree::new(depth)?,
            bug,
            changes: Vec::new(),
        })
    }

    /// The state held for `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Value> {
        self.values.get(key)
    }

    /// Every `(key, state)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Value)> {
        self.values.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// A local write: runs `op`'s mutator on the key's state on behalf of
    /// `node` and returns the delta (what every other replica must merge).
    pub fn write(&mut self, key: &[u8], op: Op, node: NodeId, ts: HlcTimestamp) -> Option<Value> {
        let kind = Kind::of(key)?;
        let old = self.values.get(key).cloned();
        let mut value = old.clone().unwrap_or_else(|| kind.empty());
        let delta = value.apply_op(op, node, ts);
        self.store(key, old, value);
        Some(delta)
    }

    /// The changes since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Sets `key` to `value` if it differs from `old`, updating the tree
    /// and the change log; returns whether it changed.
    fn store(&mut self, key: &[u8], old: Option<Value>, value: Value) -> bool {
        if old.as_ref() == Some(&value) {
            return false;
        }
        self.tree.upsert(key, value.digest(key));
        self.values.insert(key.to_vec(), value);
        self.changes.push((key.to_vec(), old));
        true
    }

    /// The state after merging `payload` into `old`: the join, unless a
    /// bug is switched on.
    fn merged(&self, old: Option<&Value>, payload: Value) -> Result<Option<Value>, ApplyError> {
        match (self.bug, old) {
            (Some(ReplicaBug::DropPayloadsForKnownKeys), Some(_)) => Ok(None),
            (Some(ReplicaBug::OverwriteInsteadOfJoin), _) | (_, None) => Ok(Some(payload)),
            (_, Some(old)) => {
                let mut value = old.clone();
                value.merge(&payload)?;
                Ok(Some(value))
            }
        }
    }
}

impl Replica for Store {
    fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    fn delta_for(&self, key: &[u8], _peer: Option<&Digest>) -> Option<Vec<u8>> {
        self.values.get(key).map(Value::encode)
    }

    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
        let payload = Value::decode(payload)?;
        if Kind::of(key) != Some(payload.kind()) {
            return Err(ApplyError(format!("a {:?} payload for key {key:?}", payload.kind())));
        }
        let old = self.values.get(key).cloned();
        match self.merged(old.as_ref(), payload)? {
            Some(value) => Ok(self.store(key, old, value)),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(wall_ms: u64, node: u64) -> HlcTimestamp {
        HlcTimestamp { wall_ms, logical: 0, node: NodeId(node) }
    }

    #[test]
    fn payloads_round_trip_and_kinds_are_checked() {
        let mut a = Store::new(4, None).unwrap();
        a.write(b"s/x", Op::Add(3), NodeId(1), ts(1, 1)).unwrap();
        let payload = a.delta_for(b"s/x", None).unwrap();
        assert_eq!(Value::decode(&payload).unwrap(), *a.get(b"s/x").unwrap());
        let mut b = Store::new(4, None).unwrap();
        assert!(b.apply(b"c/x", &payload).is_err(), "a set payload for a counter key");
        assert!(b.apply(b"s/x", &payload[..1]).is_err(), "truncated payload");
        assert!(b.get(b"c/x").is_none() && b.take_changes().is_empty());
    }

    #[test]
    fn apply_joins_and_is_idempotent() {
        // Two replicas write the same counter and set concurrently; each
        // applies the other's state twice and both end at the join.
        let (mut a, mut b) = (Store::new(4, None).unwrap(), Store::new(4, None).unwrap());
        a.write(b"c/k", Op::Increment(2), NodeId(1), ts(1, 1));
        b.write(b"c/k", Op::Increment(5), NodeId(2), ts(1, 2));
        a.write(b"s/k", Op::Add(1), NodeId(1), ts(2, 1));
        b.write(b"s/k", Op::Add(1), NodeId(2), ts(2, 2));
        b.write(b"s/k", Op::Remove(1), NodeId(2), ts(3, 2));
        for key in [b"c/k", b"s/k"] {
            let (pa, pb) = (a.delta_for(key, None).unwrap(), b.delta_for(key, None).unwrap());
            assert!(a.apply(key, &pb).unwrap());
            assert!(!a.apply(key, &pb).unwrap(), "second apply changes nothing");
            assert!(b.apply(key, &pa).unwrap());
        }
        assert_eq!(a.tree().root(), b.tree().root());
        assert_eq!(a.get(b"c/k").unwrap().visible(), "7");
        // b removed only the add it had seen: a's concurrent add survives.
        assert_eq!(a.get(b"s/k").unwrap().visible(), "[1]");
    }
}
