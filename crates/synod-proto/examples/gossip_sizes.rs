//! Byte counts of one anti-entropy session through the gossip codec, and
//! the memory of a 100,000-key replica (issue item 11: delta bytes against
//! full-state bytes at 1 % divergence, compression ratio, memory).
//!
//! Two replicas of a realistic CRDT store (`tests/gossip_common/workload.rs`:
//! memory notes, tag sets, reputation counters, postcard-encoded) start
//! equal; then 1 % of the keys diverge (40 % of those updated on each side,
//! 10 % created on each side). A real `AntiEntropySession` repairs them;
//! every message it sends goes through `GossipCodec` (which may compress
//! `Children`, `Keys` and `Want` bodies as well as `Deltas` batches) and
//! prost to wire bytes and back, and the bytes are counted by the kind of
//! message they carry. The full state is what
//! shipping every key would cost: all of a replica's `(key, state)` pairs
//! in `Deltas` batches of the session's size, through the same codec.
//!
//! Memory is the growth of the process's resident set (`VmRSS` in
//! `/proc/self/status`) while one replica is built: an upper bound, since
//! temporaries freed on the way stay resident in the allocator. (A counting
//! global allocator would need `unsafe`, which the workspace forbids.)
//!
//! `cargo run --release -p synod-proto --example gossip_sizes -- [keys] [depth]`
//! (defaults: 100000 keys, depth 12).

// Shared with the tests, which use all of it.
#[allow(dead_code)]
#[path = "../tests/gossip_common/workload.rs"]
mod workload;

use std::collections::HashMap;
use std::time::Instant;

use prost::Message as _;
use synod_core::antientropy::{
    AntiEntropySession, ApplyError, Auth, Body, Config, Effect, Message, Replica,
};
use synod_core::merkle::{entry_digest, Digest, MerkleTree, EMPTY};
use synod_core::{NodeId, Time};
use synod_proto::gossip::v1::gossip_frame::Body as PbBody;
use synod_proto::gossip::GossipCodec;
use workload::{Rng, Value};

/// A replica: decoded CRDT states and the Merkle tree over their digests.
struct Store {
    tree: MerkleTree,
    values: HashMap<Vec<u8>, Value>,
}

/// The entry digest of a state: SHA-256 over the key and its encoding
/// (postcard encodes maps in key order, so equal states encode equally).
fn digest_of(key: &[u8], value: &Value) -> Digest {
    entry_digest(key, &value.encode(), &EMPTY)
}

impl Store {
    fn new(depth: u8) -> Store {
        Store { tree: MerkleTree::new(depth).expect("valid depth"), values: HashMap::new() }
    }

    fn put(&mut self, key: Vec<u8>, value: Value) {
        self.tree.upsert(&key, digest_of(&key, &value));
        self.values.insert(key, value);
    }
}

impl Replica for Store {
    fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    fn delta_for(&self, key: &[u8], _peer: Option<&Digest>) -> Option<Vec<u8>> {
        // The peer's digest does not say which writes it has seen, so the
        // key's whole state goes.
        self.values.get(key).map(Value::encode)
    }

    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
        let theirs = Value::decode(key, payload).map_err(|e| ApplyError(e.to_string()))?;
        let value = self.values.entry(key.to_vec()).or_insert_with(|| theirs.clone());
        if !value.merge(&theirs) {
            return Err(ApplyError("type differs from the stored one".into()));
        }
        let digest = digest_of(key, value);
        Ok(self.tree.upsert(key, digest))
    }
}

/// Resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS kB");
    kib * 1024
}

/// Bytes counted on the wire for one session.
#[derive(Default)]
struct Traffic {
    frames: u64,
    wire_bytes: u64,
    by_kind: [u64; 7],
    deltas_raw: u64,
    deltas_data: u64,
    /// The `Deltas` messages carried, for the compression-level sweep.
    deltas: Vec<Message>,
}

impl Traffic {
    /// Encodes `msg` as the codec and prost would put it on the stream,
    /// counts it, and decodes it as the receiver would.
    fn carry(&mut self, codec: &GossipCodec, from: NodeId, msg: &Message) -> Message {
        let frame = codec.encode(from, msg);
        // By the message's kind: the codec may send a `Children`, `Keys` or
        // `Want` body as a `Compressed` one.
        let kind = match &msg.body {
            Body::Root(_) => 0,
            Body::Children { .. } => 1,
            Body::Keys { .. } => 2,
            Body::Want { .. } => 3,
            Body::Deltas { .. } => 4,
            _ => 5,
        };
        if let Some(PbBody::Deltas(d)) = &frame.body {
            self.deltas.push(msg.clone());
            self.deltas_raw += d.raw_len;
            self.deltas_data += d.data.len() as u64;
        }
        let wire = frame.encode_to_vec();
        self.frames += 1;
        self.wire_bytes += wire.len() as u64;
        self.by_kind[kind] += wire.len() as u64;
        let frame = synod_proto::gossip::v1::GossipFrame::decode(wire.as_slice()).expect("decodes");
        codec.decode(frame).expect("valid frame").1
    }
}

/// Runs one session from `a` (initiator, node 1) to `b` (node 2); returns
/// the wire traffic and the bytes the cores estimated they sent.
fn sync(a: &mut Store, b: &mut Store, codec: &GossipCodec) -> (Traffic, u64) {
    let (n1, n2, now) = (NodeId(1), NodeId(2), Time(0));
    let config = Config::default();
    let mut sa = AntiEntropySession::initiate(config.clone(), n1, n2, 1, Auth::default(), a, now);
    let mut sb = AntiEntropySession::respond(config, n2, n1, 1, Auth::default());
    let mut traffic = Traffic::default();
    while !(sa.is_finished() && sb.is_finished()) {
        for effect in sa.take_effects() {
            deliver(&mut traffic, codec, n1, effect, &mut sb, b);
        }
        for effect in sb.take_effects() {
            deliver(&mut traffic, codec, n2, effect, &mut sa, a);
        }
    }
    (traffic, sa.outcome().bytes_sent + sb.outcome().bytes_sent)
}

/// Carries one effect of `from`'s session to the peer's session.
fn deliver(
    traffic: &mut Traffic,
    codec: &GossipCodec,
    from: NodeId,
    effect: Effect,
    peer: &mut AntiEntropySession,
    store: &mut Store,
) {
    match effect {
        Effect::Send { msg, .. } => {
            let received = traffic.carry(codec, from, &msg);
            peer.handle_message(store, from, received, Time(0));
        }
        Effect::Done(_) => {}
        Effect::Failed(error) => panic!("session failed: {error}"),
    }
}

/// Wire bytes (raw, compressed) of shipping every key of `store` in
/// `Deltas` batches of the session's default size.
fn full_state_bytes(store: &Store, codec: &GossipCodec) -> (u64, u64) {
    let batch_max = Config::default().batch_bytes_max;
    let mut traffic = Traffic::default();
    let mut batch = Vec::new();
    let mut batch_bytes = 0;
    let mut keys: Vec<&Vec<u8>> = store.values.keys().collect();
    keys.sort();
    for key in keys {
        let payload = store.values[key].encode();
        batch_bytes += 8 + key.len() + payload.len();
        batch.push((key.clone(), payload));
        if batch_bytes >= batch_max {
            let msg = Message {
                session: 1,
                seq: 1,
                body: Body::Deltas { entries: std::mem::take(&mut batch) },
            };
            traffic.carry(codec, NodeId(1), &msg);
            batch_bytes = 0;
        }
    }
    let msg = Message { session: 1, seq: 1, body: Body::Deltas { entries: batch } };
    traffic.carry(codec, NodeId(1), &msg);
    (traffic.deltas_raw, traffic.wire_bytes)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: u64 = args.next().map_or(100_000, |a| a.parse().expect("keys is a number"));
    let depth: u8 = args.next().map_or(12, |a| a.parse().expect("depth is a number"));
    let codec = GossipCodec::default();
    let base_ms = 1_700_000_000_000;

    // Memory of one replica's parts, each measured while the ones before
    // it stay alive (so no freed memory is reused across measurements):
    // the states as postcard bytes (a store that decodes on merge), the
    // same states decoded, and the tree over their digests.
    let rss_start = rss_bytes();
    let mut rng = Rng::new(42);
    let encoded: HashMap<Vec<u8>, Vec<u8>> = (0..keys)
        .map(|i| {
            let key = workload::key(i);
            let value = Value::initial(&key, &mut rng, base_ms + i).encode();
            (key, value)
        })
        .collect();
    let rss_encoded = rss_bytes();
    let mut rng = Rng::new(42);
    let values: HashMap<Vec<u8>, Value> = (0..keys)
        .map(|i| {
            let key = workload::key(i);
            let value = Value::initial(&key, &mut rng, base_ms + i);
            (key, value)
        })
        .collect();
    let rss_values = rss_bytes();
    let entries = values.iter().map(|(k, v)| (k.clone(), digest_of(k, v)));
    let tree = MerkleTree::from_entries(depth, entries).expect("valid depth");
    let rss_tree = rss_bytes();
    let mut a = Store { tree, values };
    assert_eq!(encoded.len(), a.values.len());
    drop(encoded);
    let mut b = Store::new(depth);
    for (key, value) in &a.values {
        b.put(key.clone(), value.clone());
    }
    assert_eq!(a.tree.root(), b.tree.root());

    // 1 % divergence: spread over the key space.
    let diverging = keys / 100;
    for j in 0..diverging {
        let i = j * 100 + rng.below(100);
        let now = base_ms + 1_000_000 + j;
        let side = if j % 2 == 0 { &mut a } else { &mut b };
        if j % 10 < 8 {
            let key = workload::key(i);
            let mut value = side.values[&key].clone();
            value.mutate(&mut rng, now);
            side.put(key, value);
        } else {
            let key = workload::key(keys + j);
            side.put(key.clone(), Value::initial(&key, &mut rng, now));
        }
    }
    let differing = a.tree.diff(&b.tree).len();

    let (full_raw, full_wire) = full_state_bytes(&a, &codec);
    let started = Instant::now();
    let (traffic, estimated) = sync(&mut a, &mut b, &codec);
    let elapsed = started.elapsed();
    assert_eq!(a.tree.root(), b.tree.root(), "replicas converged");

    let pct = |x: u64, of: u64| 100.0 * x as f64 / of as f64;
    println!("keys {keys}, depth {depth} ({} leaves), keys differing {differing}", 1u32 << depth);
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let (encoded_mb, decoded_mb) = (mb(rss_encoded - rss_start), mb(rss_values - rss_encoded));
    let tree_mb = mb(rss_tree - rss_values);
    println!(
        "memory (RSS growth): Merkle tree {tree_mb:.1} MB; states decoded {decoded_mb:.1} MB, \
         as postcard bytes {encoded_mb:.1} MB; replica = tree + decoded {:.1} MB, \
         tree + encoded {:.1} MB",
        tree_mb + decoded_mb,
        tree_mb + encoded_mb,
    );
    println!("full state: {full_raw} bytes raw, {full_wire} bytes on the wire (zstd)");
    println!(
        "session: {} frames, {} wire bytes = {:.2} % of full state raw, {:.2} % of full state on the wire; estimated by the core (before compression): {estimated} bytes ({:.2} %)",
        traffic.frames,
        traffic.wire_bytes,
        pct(traffic.wire_bytes, full_raw),
        pct(traffic.wire_bytes, full_wire),
        pct(estimated, full_raw),
    );
    let kinds = ["root", "children", "keys", "want", "deltas", "ack/done"];
    for (kind, bytes) in kinds.iter().zip(traffic.by_kind) {
        println!("  {kind:>8}: {bytes} bytes");
    }
    println!(
        "deltas batches: {} raw -> {} compressed ({:.1} %)",
        traffic.deltas_raw,
        traffic.deltas_data,
        pct(traffic.deltas_data, traffic.deltas_raw),
    );
    for zstd_level in [1, 3, 9, 19] {
        let codec = GossipCodec { zstd_level, ..codec };
        let (mut raw, mut data) = (0, 0);
        for msg in &traffic.deltas {
            if let Some(PbBody::Deltas(d)) = codec.encode(NodeId(1), msg).body {
                raw += d.raw_len;
                data += d.data.len() as u64;
            }
        }
        println!("  at zstd level {zstd_level:>2}: {:.1} %", pct(data, raw));
    }
    println!("session time (both sides, codec included): {elapsed:.2?}");
}
