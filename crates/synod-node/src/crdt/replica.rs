//! [`CrdtReplica`]: this node's named CRDT objects, summarized by a Merkle
//! tree, as the anti-entropy session's [`Replica`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use synod_core::antientropy::{ApplyError, Replica};
use synod_core::merkle::{Digest, MerkleTree, PartialDigest, DEPTH_DEFAULT};
use synod_core::NodeId;

use super::object::{CrdtKind, CrdtObject, CrdtOp, KindMismatch};

/// How many recent deltas each object remembers, to answer a peer that is
/// only a few updates behind with those deltas instead of the full state.
const HISTORY_LEN: usize = 4;

/// Objects smaller than this are shipped whole: a delta would save a few
/// bytes on the wire and cost more than that in memory.
const DELTA_STATE_BYTES_MIN: usize = 256;

/// Limits on what the replica accepts, from clients and from peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrdtLimits {
    /// Longest object name, in bytes.
    pub name_bytes_max: usize,
    /// Longest set element, register value, map key or map value, in bytes.
    pub element_bytes_max: usize,
    /// Largest encoded object, in bytes; an update or merge that would grow
    /// an object past it is refused.
    pub object_bytes_max: usize,
}

impl Default for CrdtLimits {
    fn default() -> Self {
        CrdtLimits { name_bytes_max: 256, element_bytes_max: 64 * 1024, object_bytes_max: 4 << 20 }
    }
}

/// Why an update was refused; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The name is empty or too long.
    #[error("object name must be 1 to {max} bytes, got {len}")]
    BadName {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An element, value or key is too long.
    #[error("{what} is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A counter update of 0.
    #[error("counter_add must not be 0")]
    ZeroAdd,
    /// The object exists with another type.
    #[error("\"{name}\": {mismatch}")]
    WrongKind {
        /// The object.
        name: String,
        /// The types involved.
        mismatch: KindMismatch,
    },
    /// The update would grow the object past the size limit.
    #[error("\"{name}\" would grow to {len} bytes, over the limit of {max} bytes")]
    ObjectTooLarge {
        /// The object.
        name: String,
        /// Its encoded size after the update.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// `(digest before, encoded delta)` pairs of one object.
type History = VecDeque<(Digest, Vec<u8>)>;

/// One object, kept encoded: decoded CRDT states take about three times
/// the memory of their encoding (every nested set or map allocates), and
/// each update encodes anyway for the digest.
/// Its entry digest lives in the Merkle tree only.
#[derive(Clone, Debug)]
struct Slot {
    kind: CrdtKind,
    encoded: Vec<u8>,
    /// `(digest before, encoded delta that moved the object on from it)`,
    /// oldest first; boxed, as most objects never need one.
    history: Option<Box<History>>,
}

impl Slot {
    fn object(&self) -> CrdtObject {
        CrdtObject::decode(&self.encoded).expect("a slot holds an encoding it made")
    }
}

/// Named CRDT objects with their Merkle tree.
///
/// A change (local update or merged payload) to an object of at least
/// [`DELTA_STATE_BYTES_MIN`] is recorded as a delta after the digest it
/// started from, when the delta is at most half the state; a peer whose
/// digest for the object is one of those gets the join of the deltas since,
/// which merged into its state gives ours (each change is a join with its
/// delta). A peer with any other digest gets the full state. Changed names are collected
/// until the caller persists them ([`take_dirty`](Self::take_dirty)).
#[derive(Clone, Debug)]
pub struct CrdtReplica {
    me: NodeId,
    limits: CrdtLimits,
    slots: BTreeMap<String, Slot>,
    tree: MerkleTree,
    dirty: BTreeSet<String>,
}

impl CrdtReplica {
    /// An empty replica of node `me`.
    pub fn new(me: NodeId, limits: CrdtLimits) -> CrdtReplica {
        CrdtReplica {
            me,
            limits,
            slots: BTreeMap::new(),
            tree: MerkleTree::new(DEPTH_DEFAULT).expect("the default depth is valid"),
            dirty: BTreeSet::new(),
        }
    }

    /// Loads a stored object (at start-up); not marked dirty.
    pub fn load(&mut self, name: String, object: &CrdtObject) {
        let encoded = object.encode();
        let digest = CrdtObject::entry_digest(&name, &encoded);
        self.tree.upsert(name.as_bytes(), digest);
        self.slots.insert(name, Slot { kind: object.kind(), encoded, history: None });
    }

    /// The object named `name`, decoded.
    pub fn get(&self, name: &str) -> Option<CrdtObject> {
        self.slots.get(name).map(Slot::object)
    }

    /// Every object's name and type, in name order.
    pub fn list(&self) -> impl Iterator<Item = (&str, CrdtKind)> + '_ {
        self.slots.iter().map(|(n, s)| (n.as_str(), s.kind))
    }

    /// How many objects there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there is no object.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The Merkle root over every object.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// Names changed since the last call, with their encoded states, for
    /// the caller to make durable.
    pub fn take_dirty(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|name| {
                let encoded = self.slots.get(&name)?.encoded.clone();
                Some((name, encoded))
            })
            .collect()
    }

    /// Marks names dirty again (their write failed).
    pub fn mark_dirty(&mut self, names: impl IntoIterator<Item = String>) {
        self.dirty.extend(names);
    }

    /// Applies a client's update to `name` (created when absent); returns
    /// the object after it. Refused updates change nothing.
    pub fn update(&mut self, name: &str, op: CrdtOp) -> Result<CrdtObject, UpdateError> {
        self.check_update(name, &op)?;
        let mut object = match self.slots.get(name) {
            Some(slot) => slot.object(),
            None => CrdtObject::empty(op.kind()),
        };
        let delta = object
            .apply(self.me, op)
            .map_err(|mismatch| UpdateError::WrongKind { name: name.to_string(), mismatch })?;
        let encoded = object.encode();
        if encoded.len() > self.limits.object_bytes_max {
            return Err(UpdateError::ObjectTooLarge {
                name: name.to_string(),
                len: encoded.len(),
                max: self.limits.object_bytes_max,
            });
        }
        self.store(name, object.kind(), encoded, delta.encode());
        Ok(object)
    }

    fn check_update(&self, name: &str, op: &CrdtOp) -> Result<(), UpdateError> {
        let max = self.limits.name_bytes_max;
        if name.is_empty() || name.len() > max {
            return Err(UpdateError::BadName { len: name.len(), max });
        }
        let check = |what: &'static str, text: &str| {
            let max = self.limits.element_bytes_max;
            if text.len() > max {
                return Err(UpdateError::TooLarge { what, len: text.len(), max });
            }
            Ok(())
        };
        match op {
            CrdtOp::CounterAdd(0) => return Err(UpdateError::ZeroAdd),
            CrdtOp::CounterAdd(_) => {}
            CrdtOp::SetAdd(e) | CrdtOp::SetRemove(e) => check("set element", e)?,
            CrdtOp::RegisterSet(v, _) => check("register value", v)?,
            CrdtOp::MapPut(k, v) => {
                check("map key", k)?;
                check("map value", v)?;
            }
            CrdtOp::MapRemove(k) => check("map key", k)?,
        }
        if let Some(slot) = self.slots.get(name) {
            if slot.kind != op.kind() {
                let mismatch = KindMismatch { actual: slot.kind, expected: op.kind() };
                return Err(UpdateError::WrongKind { name: name.to_string(), mismatch });
            }
        }
        Ok(())
    }

    /// Installs `encoded` as the new state of `name`, reached by `delta`.
    fn store(&mut self, name: &str, kind: CrdtKind, encoded: Vec<u8>, delta: Vec<u8>) {
        let digest = CrdtObject::entry_digest(name, &encoded);
        let before = self.tree.get(name.as_bytes()).copied();
        if before == Some(digest) {
            return;
        }
        match (self.slots.get_mut(name), before) {
            (Some(slot), Some(before)) => {
                if encoded.len() < DELTA_STATE_BYTES_MIN || delta.len() * 2 > encoded.len() {
                    // Shipping the state costs about as much: no peer gains
                    // from remembering the delta.
                    slot.history = None;
                } else {
                    let history = slot.history.get_or_insert_with(Default::default);
                    history.push_back((before, delta));
                    if history.len() > HISTORY_LEN {
                        history.pop_front();
                    }
                }
                slot.encoded = encoded;
            }
            _ => {
                self.slots.insert(name.to_string(), Slot { kind, encoded, history: None });
            }
        }
        self.tree.upsert(name.as_bytes(), digest);
        self.dirty.insert(name.to_string());
    }
}

impl CrdtReplica {
    /// The join of the deltas since the first remembered digest that
    /// `is_peer` accepts, or else the full state.
    fn delta_since(&self, key: &[u8], is_peer: impl Fn(&Digest) -> bool) -> Option<Vec<u8>> {
        let slot = self.slots.get(std::str::from_utf8(key).ok()?)?;
        if let Some(history) = &slot.history {
            if let Some(start) = history.iter().position(|(before, _)| is_peer(before)) {
                let mut deltas = history.iter().skip(start).map(|(_, d)| d);
                let first = deltas.next().expect("position found an entry");
                if start + 1 == history.len() {
                    return Some(first.clone());
                }
                let decode = |d: &Vec<u8>| CrdtObject::decode(d).expect("a delta it encoded");
                let mut joined = decode(first);
                for delta in deltas {
                    joined.merge(&decode(delta)).expect("an object's deltas share its type");
                }
                return Some(joined.encode());
            }
        }
        Some(slot.encoded.clone())
    }
}

impl Replica for CrdtReplica {
    fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    fn delta_for(&self, key: &[u8], peer: Option<&Digest>) -> Option<Vec<u8>> {
        self.delta_since(key, |before| peer == Some(before))
    }

    fn delta_for_partial(&self, key: &[u8], peer: &PartialDigest) -> Option<Vec<u8>> {
        self.delta_since(key, |before| peer.matches(before))
    }

    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
        let name = std::str::from_utf8(key)
            .map_err(|_| ApplyError("object name is not UTF-8".into()))?
            .to_string();
        if name.is_empty() || name.len() > self.limits.name_bytes_max {
            return Err(ApplyError(format!("object name of {} bytes", name.len())));
        }
        if payload.len() > self.limits.object_bytes_max {
            return Err(ApplyError(format!(
                "payload of {} bytes is over the limit of {} bytes",
                payload.len(),
                self.limits.object_bytes_max
            )));
        }
        let incoming = CrdtObject::decode(payload).map_err(ApplyError)?;
        let mut object = match self.slots.get(&name) {
            Some(slot) => slot.object(),
            None => CrdtObject::empty(incoming.kind()),
        };
        object.merge(&incoming).map_err(|m| ApplyError(format!("\"{name}\": {m}")))?;
        let encoded = object.encode();
        if encoded.len() > self.limits.object_bytes_max {
            return Err(ApplyError(format!("\"{name}\" would grow to {} bytes", encoded.len())));
        }
        let before = self.tree.get(key).copied();
        self.store(&name, object.kind(), encoded, payload.to_vec());
        Ok(before != self.tree.get(key).copied())
    }
}

#[cfg(test)]
mod tests {
    use synod_core::antientropy::{AntiEntropySession, Auth, Config, Effect};
    use synod_core::Time;

    use super::*;

    fn replica(id: u64) -> CrdtReplica {
        CrdtReplica::new(NodeId(id), CrdtLimits::default())
    }

    fn sync(a: &mut CrdtReplica, b: &mut CrdtReplica) -> (u64, u64) {
        let now = Time(0);
        let (ia, ib) = (a.me, b.me);
        let mut sa =
            AntiEntropySession::initiate(Config::default(), ia, ib, 1, Auth::default(), a, now);
        let mut sb = AntiEntropySession::respond(Config::default(), ib, ia, 1, Auth::default());
        let mut bytes = (0, 0);
        while !(sa.is_finished() && sb.is_finished()) {
            for effect in sa.take_effects() {
                if let Effect::Send { msg, .. } = effect {
                    bytes.0 += msg.size_bytes() as u64;
                    sb.handle_message(b, ia, msg, now);
                }
            }
            for effect in sb.take_effects() {
                if let Effect::Send { msg, .. } = effect {
                    bytes.1 += msg.size_bytes() as u64;
                    sa.handle_message(a, ib, msg, now);
                }
            }
        }
        bytes
    }

    #[test]
    fn both_sides_converge_after_concurrent_updates() {
        let (mut a, mut b) = (replica(1), replica(2));
        a.update("hits", CrdtOp::CounterAdd(3)).unwrap();
        b.update("hits", CrdtOp::CounterAdd(-1)).unwrap();
        a.update("tags", CrdtOp::SetAdd("x".into())).unwrap();
        b.update("cfg", CrdtOp::MapPut("k".into(), "v".into())).unwrap();
        sync(&mut a, &mut b);
        assert_eq!(a.root(), b.root());
        let CrdtObject::Counter(c) = b.get("hits").unwrap() else { panic!() };
        assert_eq!(c.value(), 2);
        assert!(b.get("tags").is_some() && a.get("cfg").is_some());
        assert_eq!(b.take_dirty().len(), 3);
    }

    #[test]
    fn a_peer_a_few_updates_behind_gets_deltas_not_the_full_state() {
        let (mut a, mut b) = (replica(1), replica(2));
        for i in 0..200 {
            a.update("big", CrdtOp::SetAdd(format!("element-{i:04}"))).unwrap();
        }
        sync(&mut a, &mut b);
        let full = a.get("big").unwrap().encode().len();
        assert_eq!(full, a.delta_for(b"big", None).unwrap().len());
        a.update("big", CrdtOp::SetAdd("one-more".into())).unwrap();
        let delta = a.delta_for(b"big", b.tree.get(b"big")).unwrap();
        assert!(delta.len() * 20 < full, "delta {} bytes vs full {full}", delta.len());
        sync(&mut a, &mut b);
        assert_eq!(a.root(), b.root());
    }

    #[test]
    fn refused_updates_change_nothing() {
        let mut a = replica(1);
        a.update("hits", CrdtOp::CounterAdd(1)).unwrap();
        a.take_dirty();
        let root = a.root();
        let errors = [
            a.update("hits", CrdtOp::SetAdd("x".into())).unwrap_err().to_string(),
            a.update("", CrdtOp::CounterAdd(1)).unwrap_err().to_string(),
            a.update("hits", CrdtOp::CounterAdd(0)).unwrap_err().to_string(),
            a.update("s", CrdtOp::SetAdd("x".repeat(70_000))).unwrap_err().to_string(),
        ];
        assert_eq!(errors[0], "\"hits\": object is a counter, not a set");
        assert_eq!(errors[1], "object name must be 1 to 256 bytes, got 0");
        assert_eq!(errors[2], "counter_add must not be 0");
        assert_eq!(errors[3], "set element is 70000 bytes, over the limit of 65536 bytes");
        assert_eq!(a.root(), root);
        assert!(a.take_dirty().is_empty() && a.get("s").is_none());
    }

    #[test]
    fn hostile_payloads_are_refused_without_change() {
        let mut a = replica(1);
        a.update("hits", CrdtOp::CounterAdd(1)).unwrap();
        let root = a.root();
        let set = CrdtObject::empty(CrdtKind::Set).encode();
        assert!(a.apply(b"hits", &set).unwrap_err().0.contains("not a set"));
        assert!(a.apply(b"hits", &[0xff; 9]).is_err());
        assert!(a.apply(&[0xff, 0xfe], &set).is_err());
        assert!(a.apply(&[b'x'; 300], &set).is_err());
        assert_eq!(a.root(), root);
    }
}
