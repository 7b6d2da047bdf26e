//! [`CrdtObject`]: one named CRDT of any of the types the node serves.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use synod_core::causality::HlcTimestamp;
use synod_core::crdt::{Crdt, DotFun, LwwRegister, MvRegister, OrMap, OrSet, PnCounter};
use synod_core::merkle::{entry_digest, Digest};
use synod_core::NodeId;

/// The type of an object; fixed at its first update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrdtKind {
    /// [`PnCounter`].
    Counter,
    /// Add-wins [`OrSet`] of strings.
    Set,
    /// [`LwwRegister`] of a string, stamped by the node's HLC.
    Register,
    /// [`OrMap`] of string keys to multi-value registers.
    Map,
}

impl std::fmt::Display for CrdtKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CrdtKind::Counter => "counter",
            CrdtKind::Set => "set",
            CrdtKind::Register => "register",
            CrdtKind::Map => "map",
        })
    }
}

/// A map of string keys to multi-value string registers.
pub type StringMap = OrMap<String, DotFun<String>>;

/// One named object's state. A delta is an object too (delta CRDTs ship
/// states), so the same type travels in gossip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CrdtObject {
    /// A counter.
    Counter(PnCounter),
    /// A set.
    Set(OrSet<String>),
    /// A register.
    Register(LwwRegister<String>),
    /// A map.
    Map(StringMap),
}

/// One update from a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrdtOp {
    /// Add to (negative: subtract from) a counter.
    CounterAdd(i64),
    /// Add an element to a set.
    SetAdd(String),
    /// Remove an element from a set.
    SetRemove(String),
    /// Write a register, at the given HLC timestamp.
    RegisterSet(String, HlcTimestamp),
    /// Write one key of a map.
    MapPut(String, String),
    /// Remove one key of a map.
    MapRemove(String),
}

impl CrdtOp {
    /// The type of object the operation applies to.
    pub fn kind(&self) -> CrdtKind {
        match self {
            CrdtOp::CounterAdd(_) => CrdtKind::Counter,
            CrdtOp::SetAdd(_) | CrdtOp::SetRemove(_) => CrdtKind::Set,
            CrdtOp::RegisterSet(..) => CrdtKind::Register,
            CrdtOp::MapPut(..) | CrdtOp::MapRemove(_) => CrdtKind::Map,
        }
    }
}

/// A payload or operation that does not fit the object it targets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("object is a {actual}, not a {expected}")]
pub struct KindMismatch {
    /// The object's type.
    pub actual: CrdtKind,
    /// The type the caller assumed.
    pub expected: CrdtKind,
}

impl CrdtObject {
    /// The empty object of `kind`.
    pub fn empty(kind: CrdtKind) -> CrdtObject {
        match kind {
            CrdtKind::Counter => CrdtObject::Counter(PnCounter::new()),
            CrdtKind::Set => CrdtObject::Set(OrSet::default()),
            CrdtKind::Register => CrdtObject::Register(LwwRegister::new()),
            CrdtKind::Map => CrdtObject::Map(StringMap::default()),
        }
    }

    /// The object's type.
    pub fn kind(&self) -> CrdtKind {
        match self {
            CrdtObject::Counter(_) => CrdtKind::Counter,
            CrdtObject::Set(_) => CrdtKind::Set,
            CrdtObject::Register(_) => CrdtKind::Register,
            CrdtObject::Map(_) => CrdtKind::Map,
        }
    }

    /// Applies `op` on behalf of `node`; returns the delta.
    pub fn apply(&mut self, node: NodeId, op: CrdtOp) -> Result<CrdtObject, KindMismatch> {
        let mismatch = KindMismatch { actual: self.kind(), expected: op.kind() };
        Ok(match (self, op) {
            (CrdtObject::Counter(c), CrdtOp::CounterAdd(n)) if n >= 0 => {
                CrdtObject::Counter(c.increment(node, n.unsigned_abs()))
            }
            (CrdtObject::Counter(c), CrdtOp::CounterAdd(n)) => {
                CrdtObject::Counter(c.decrement(node, n.unsigned_abs()))
            }
            (CrdtObject::Set(s), CrdtOp::SetAdd(e)) => CrdtObject::Set(s.add(node, e)),
            (CrdtObject::Set(s), CrdtOp::SetRemove(e)) => CrdtObject::Set(s.remove(&e)),
            (CrdtObject::Register(r), CrdtOp::RegisterSet(v, ts)) => {
                CrdtObject::Register(r.set(v, ts))
            }
            (CrdtObject::Map(m), CrdtOp::MapPut(k, v)) => {
                CrdtObject::Map(m.apply(k, |reg: &mut MvRegister<String>| reg.write(node, v)))
            }
            (CrdtObject::Map(m), CrdtOp::MapRemove(k)) => CrdtObject::Map(m.remove(&k)),
            _ => return Err(mismatch),
        })
    }

    /// Joins `other` (a state or a delta of the same type) into `self`.
    pub fn merge(&mut self, other: &CrdtObject) -> Result<(), KindMismatch> {
        match (self, other) {
            (CrdtObject::Counter(a), CrdtObject::Counter(b)) => a.merge(b),
            (CrdtObject::Set(a), CrdtObject::Set(b)) => a.merge(b),
            (CrdtObject::Register(a), CrdtObject::Register(b)) => a.merge(b),
            (CrdtObject::Map(a), CrdtObject::Map(b)) => a.merge(b),
            (a, b) => return Err(KindMismatch { actual: a.kind(), expected: b.kind() }),
        }
        Ok(())
    }

    /// The canonical encoding (postcard over ordered maps: equal states
    /// encode to equal bytes).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("postcard encodes CRDT states into a Vec infallibly")
    }

    /// Decodes bytes from [`encode`](Self::encode); the whole input must be
    /// one object.
    pub fn decode(bytes: &[u8]) -> Result<CrdtObject, String> {
        match postcard::take_from_bytes(bytes) {
            Ok((object, [])) => Ok(object),
            Ok((_, rest)) => Err(format!("{} trailing bytes after the object", rest.len())),
            Err(e) => Err(format!("not an encoded CRDT object: {e}")),
        }
    }

    /// The object's entry digest in the Merkle tree: over its name, its
    /// type and a digest of its encoded state.
    pub fn entry_digest(name: &str, encoded: &[u8]) -> Digest {
        let value: Digest = Sha256::digest(encoded).into();
        entry_digest(name.as_bytes(), &[], &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: NodeId = NodeId(1);
    const B: NodeId = NodeId(2);

    #[test]
    fn deltas_reproduce_the_update_elsewhere() {
        let ops = [
            CrdtOp::CounterAdd(5),
            CrdtOp::CounterAdd(-2),
            CrdtOp::SetAdd("x".into()),
            CrdtOp::SetRemove("x".into()),
            CrdtOp::RegisterSet("v".into(), HlcTimestamp { wall_ms: 9, logical: 0, node: A }),
            CrdtOp::MapPut("k".into(), "v".into()),
            CrdtOp::MapRemove("k".into()),
        ];
        for op in ops {
            let mut here = CrdtObject::empty(op.kind());
            let mut there = here.clone();
            let delta = here.apply(A, op.clone()).unwrap();
            there.merge(&delta).unwrap();
            assert_eq!(here, there, "{op:?}");
            let bytes = here.encode();
            assert_eq!(CrdtObject::decode(&bytes).unwrap(), here);
        }
    }

    #[test]
    fn wrong_types_are_refused_without_change() {
        let mut counter = CrdtObject::empty(CrdtKind::Counter);
        let err = counter.apply(A, CrdtOp::SetAdd("x".into())).unwrap_err();
        assert_eq!(err.to_string(), "object is a counter, not a set");
        assert_eq!(counter, CrdtObject::empty(CrdtKind::Counter));
        let err = counter.merge(&CrdtObject::empty(CrdtKind::Map)).unwrap_err();
        assert_eq!(err.to_string(), "object is a counter, not a map");
    }

    #[test]
    fn concurrent_set_add_wins_over_remove() {
        let mut a = CrdtObject::empty(CrdtKind::Set);
        a.apply(A, CrdtOp::SetAdd("x".into())).unwrap();
        let mut b = a.clone();
        a.apply(A, CrdtOp::SetRemove("x".into())).unwrap();
        b.apply(B, CrdtOp::SetAdd("x".into())).unwrap();
        let (a2, b2) = (a.clone(), b.clone());
        a.merge(&b2).unwrap();
        b.merge(&a2).unwrap();
        assert_eq!(a, b);
        let CrdtObject::Set(s) = a else { unreachable!() };
        assert!(s.contains(&"x".to_string()));
    }

    #[test]
    fn garbage_does_not_decode() {
        assert!(CrdtObject::decode(&[]).is_err());
        assert!(CrdtObject::decode(&[200, 1, 2]).is_err());
        let mut bytes = CrdtObject::empty(CrdtKind::Counter).encode();
        bytes.push(0);
        assert_eq!(CrdtObject::decode(&bytes).unwrap_err(), "1 trailing bytes after the object");
    }
}
