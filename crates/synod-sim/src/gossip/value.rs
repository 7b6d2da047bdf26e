//! The value of one key: a CRDT whose type the key's prefix names, its
//! wire encoding, and the writes the workload makes to it.
//!
//! Three types cover the three kinds of join: a grow-only counter
//! (pointwise maximum), an add-wins set (dots and causal context, where a
//! remove must not undo a concurrent add) and a last-writer-wins register
//! (a total order on HLC timestamps). If any of them spread as "newest
//! payload wins" instead of a join, the checker sees it.

use sha2::{Digest as _, Sha256};
use synod_core::antientropy::ApplyError;
use synod_core::causality::HlcTimestamp;
use synod_core::crdt::{Crdt, GCounter, LwwRegister, OrSet};
use synod_core::merkle::{entry_digest, Digest};
use synod_core::NodeId;

/// Elements of the simulated sets are small integers, so concurrent adds
/// and removes of the same element are common.
pub type Element = u32;

/// The CRDT held under one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Key prefix `c/`: a grow-only counter.
    Counter(GCounter),
    /// Key prefix `s/`: an add-wins observed-remove set.
    Set(OrSet<Element>),
    /// Key prefix `r/`: a last-writer-wins register.
    Register(LwwRegister<u64>),
}

/// The CRDT types, as named by a key's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`Value::Counter`].
    Counter,
    /// [`Value::Set`].
    Set,
    /// [`Value::Register`].
    Register,
}

impl Kind {
    /// All kinds, for round-robin key generation.
    pub const ALL: [Kind; 3] = [Kind::Counter, Kind::Set, Kind::Register];

    /// The kind a key names, from its prefix.
    pub fn of(key: &[u8]) -> Option<Kind> {
        match key.get(..2)? {
            b"c/" => Some(Kind::Counter),
            b"s/" => Some(Kind::Set),
            b"r/" => Some(Kind::Register),
            _ => None,
        }
    }

    /// The key `name` of this kind.
    pub fn key(self, name: &str) -> Vec<u8> {
        let prefix = match self {
            Kind::Counter => "c/",
            Kind::Set => "s/",
            Kind::Register => "r/",
        };
        format!("{prefix}{name}").into_bytes()
    }

    fn tag(self) -> u8 {
        self as u8
    }

    /// The bottom of this kind's lattice.
    pub fn empty(self) -> Value {
        match self {
            Kind::Counter => Value::Counter(GCounter::new()),
            Kind::Set => Value::Set(OrSet::new()),
            Kind::Register => Value::Register(LwwRegister::new()),
        }
    }
}

/// One write a client makes at a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Adds to a counter.
    Increment(u64),
    /// Adds an element to a set.
    Add(Element),
    /// Removes an element (the dots the writer has observed) from a set.
    Remove(Element),
    /// Writes a register.
    Write(u64),
}

impl Value {
    /// Which kind of CRDT this is.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Counter(_) => Kind::Counter,
            Value::Set(_) => Kind::Set,
            Value::Register(_) => Kind::Register,
        }
    }

    /// Joins `other` into `self` (the CRDT's merge).
    pub fn merge(&mut self, other: &Value) -> Result<(), ApplyError> {
        match (self, other) {
            (Value::Counter(a), Value::Counter(b)) => a.merge(b),
            (Value::Set(a), Value::Set(b)) => a.merge(b),
            (Value::Register(a), Value::Register(b)) => a.merge(b),
            (a, b) => {
                return Err(ApplyError(format!("cannot merge {:?} into {:?}", b.kind(), a.kind())))
            }
        }
        Ok(())
    }

    /// Whether `self ≤ other` in the lattice: joining `self` into `other`
    /// changes nothing.
    pub fn is_below(&self, other: &Value) -> bool {
        let mut joined = other.clone();
        joined.merge(self).is_ok() && joined == *other
    }

    /// Runs the mutator of `op` on behalf of `node` (register writes are
    /// stamped `ts`); returns the delta, as delta-CRDT mutators do (Almeida
    /// et al. 2018, §2). An op of the wrong kind changes nothing.
    pub fn apply_op(&mut self, op: Op, node: NodeId, ts: HlcTimestamp) -> Value {
        match (self, op) {
            (Value::Counter(c), Op::Increment(n)) => Value::Counter(c.increment(node, n)),
            (Value::Set(s), Op::Add(e)) => Value::Set(s.add(node, e)),
            (Value::Set(s), Op::Remove(e)) => Value::Set(s.remove(&e)),
            (Value::Register(r), Op::Write(v)) => Value::Register(r.set(v, ts)),
            (this, _) => this.kind().empty(),
        }
    }

    /// The wire form: one tag byte, then the CRDT's postcard encoding.
    /// Every structure inside is ordered (B-tree maps, compacted causal
    /// contexts), so equal states encode to equal bytes and every replica
    /// computes the same entry digest for the same state.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.kind().tag()];
        let encoded = match self {
            Value::Counter(c) => postcard::to_extend(c, out),
            Value::Set(s) => postcard::to_extend(s, out),
            Value::Register(r) => postcard::to_extend(r, out),
        };
        out = encoded.expect("postcard encodes CRDTs into a Vec infallibly");
        out
    }

    /// Decodes [`encode`](Self::encode)'s output.
    pub fn decode(bytes: &[u8]) -> Result<Value, ApplyError> {
        let bad = |e: postcard::Error| ApplyError(format!("undecodable payload: {e}"));
        let (&tag, rest) = bytes.split_first().ok_or_else(|| ApplyError("empty payload".into()))?;
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.tag() == tag)
            .ok_or_else(|| ApplyError(format!("unknown tag {tag}")))?;
        Ok(match kind {
            Kind::Counter => Value::Counter(postcard::from_bytes(rest).map_err(bad)?),
            Kind::Set => Value::Set(postcard::from_bytes(rest).map_err(bad)?),
            Kind::Register => Value::Register(postcard::from_bytes(rest).map_err(bad)?),
        })
    }

    /// The entry digest of `key` holding this state. For a state-based
    /// CRDT the state is its own version, so the version part is empty and
    /// the value digest covers the whole encoded state.
    pub fn digest(&self, key: &[u8]) -> Digest {
        let value_digest: Digest = Sha256::digest(self.encode()).into();
        entry_digest(key, &[], &value_digest)
    }

    /// What a client reading the key sees, for reports.
    pub fn visible(&self) -> String {
        match self {
            Value::Counter(c) => c.value().to_string(),
            Value::Set(s) => format!("{:?}", s.elements().collect::<Vec<_>>()),
            Value::Register(r) => format!("{:?}", r.get()),
        }
    }
}
