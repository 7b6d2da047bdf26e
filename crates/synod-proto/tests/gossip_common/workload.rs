//! A realistic CRDT store for measuring the gossip codec: what a mesh of
//! agents keeps on the AP fast path. Three kinds of key, told apart by
//! their prefix:
//!
//! * `note/agent-NNN/…` — a memory note, an [`LwwRegister`] of text (60 %);
//! * `tags/agent-NNN/…` — a tag set, an add-wins [`OrSet`] (30 %);
//! * `score/agent-NNN/…` — a reputation counter, a [`PnCounter`] (10 %).
//!
//! Values are serialized with postcard (synod-store's record encoding).
//! Text is drawn from a fixed vocabulary by a seeded generator, so every
//! run produces the same bytes.

use synod_core::causality::HlcTimestamp;
use synod_core::crdt::{Crdt, LwwRegister, OrSet, PnCounter};
use synod_core::NodeId;

/// Nodes that write: dots and counter entries name one of them.
pub const WRITERS: u64 = 5;

const WORDS: &[&str] = &[
    "the",
    "agent",
    "observed",
    "that",
    "service",
    "checkout",
    "latency",
    "rose",
    "after",
    "deploy",
    "of",
    "build",
    "cache",
    "miss",
    "rate",
    "on",
    "node",
    "east",
    "west",
    "region",
    "user",
    "asked",
    "for",
    "a",
    "summary",
    "report",
    "ticket",
    "resolved",
    "by",
    "rollback",
    "database",
    "replica",
    "lag",
    "exceeded",
    "threshold",
    "alert",
    "fired",
    "at",
    "minutes",
    "error",
    "budget",
    "burned",
    "queue",
    "depth",
    "grew",
    "while",
    "consumer",
    "stalled",
    "memory",
    "pressure",
    "triggered",
    "eviction",
    "policy",
    "prefers",
    "smaller",
    "batches",
    "customer",
    "reported",
    "timeout",
    "in",
    "payment",
    "flow",
    "retry",
    "succeeded",
    "with",
    "backoff",
    "and",
    "jitter",
    "config",
    "change",
    "reverted",
    "until",
    "review",
    "approved",
];

const TAGS: &[&str] = &[
    "incident",
    "billing",
    "latency",
    "p1",
    "p2",
    "p3",
    "customer",
    "internal",
    "follow-up",
    "resolved",
    "flaky",
    "infra",
    "database",
    "network",
    "deploy",
    "security",
    "cost",
    "ux",
];

/// A seeded splitmix64 generator: deterministic, no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn writer(&mut self) -> NodeId {
        NodeId(1 + self.below(WRITERS))
    }
}

/// The state of one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A memory note.
    Note(LwwRegister<String>),
    /// A tag set.
    Tags(OrSet<String>),
    /// A reputation counter.
    Score(PnCounter),
}

/// The `i`-th key of the store.
pub fn key(i: u64) -> Vec<u8> {
    let kind = match i % 10 {
        0..=5 => "note",
        6..=8 => "tags",
        _ => "score",
    };
    format!("{kind}/agent-{:03}/{i:08}", i % 97).into_bytes()
}

impl Value {
    /// A state for `key` as a few writes by different nodes leave it.
    pub fn initial(key: &[u8], rng: &mut Rng, now_ms: u64) -> Value {
        let mut value = match key.split(|&b| b == b'/').next() {
            Some(b"note") => Value::Note(LwwRegister::new()),
            Some(b"tags") => Value::Tags(OrSet::default()),
            _ => Value::Score(PnCounter::new()),
        };
        for step in 0..3 {
            value.mutate(rng, now_ms + step);
        }
        value
    }

    /// One write by a random node at `now_ms`; returns the delta.
    pub fn mutate(&mut self, rng: &mut Rng, now_ms: u64) -> Value {
        let node = rng.writer();
        match self {
            Value::Note(reg) => {
                let words = 8 + rng.below(32);
                let text: Vec<&str> = (0..words).map(|_| rng.pick(WORDS)).collect();
                let ts = HlcTimestamp { wall_ms: now_ms, logical: 0, node };
                Value::Note(reg.set(text.join(" "), ts))
            }
            Value::Tags(set) => Value::Tags(set.add(node, rng.pick(TAGS).to_string())),
            Value::Score(counter) if rng.below(4) == 0 => {
                Value::Score(counter.decrement(node, 1 + rng.below(5)))
            }
            Value::Score(counter) => Value::Score(counter.increment(node, 1 + rng.below(20))),
        }
    }

    /// The postcard encoding.
    pub fn encode(&self) -> Vec<u8> {
        let encoded = match self {
            Value::Note(v) => postcard::to_allocvec(v),
            Value::Tags(v) => postcard::to_allocvec(v),
            Value::Score(v) => postcard::to_allocvec(v),
        };
        encoded.expect("CRDT states serialize")
    }

    /// Decodes a payload for `key`, whose prefix says its type.
    pub fn decode(key: &[u8], payload: &[u8]) -> Result<Value, postcard::Error> {
        Ok(match key.split(|&b| b == b'/').next() {
            Some(b"note") => Value::Note(postcard::from_bytes(payload)?),
            Some(b"tags") => Value::Tags(postcard::from_bytes(payload)?),
            _ => Value::Score(postcard::from_bytes(payload)?),
        })
    }

    /// Joins `other` into `self`; `false` when the types differ.
    pub fn merge(&mut self, other: &Value) -> bool {
        match (self, other) {
            (Value::Note(a), Value::Note(b)) => a.merge(b),
            (Value::Tags(a), Value::Tags(b)) => a.merge(b),
            (Value::Score(a), Value::Score(b)) => a.merge(b),
            _ => return false,
        }
        true
    }
}

/// `(key, encoded delta)` pairs of `writes` random writes to keys
/// `0..keys`, from a store built with the same seed: what a node ships in
/// `Deltas` batches after local updates.
pub fn delta_batch(seed: u64, keys: u64, writes: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    let mut values: Vec<Value> =
        (0..keys).map(|i| Value::initial(&key(i), &mut rng, 1_700_000_000_000)).collect();
    (0..writes)
        .map(|w| {
            let i = rng.below(keys);
            let delta = values[i as usize].mutate(&mut rng, 1_700_000_100_000 + w as u64);
            (key(i), delta.encode())
        })
        .collect()
}
