//! Anti-entropy message -> `GossipFrame` -> wire bytes -> `GossipFrame` ->
//! message gives back the message it started from, for every body variant
//! and for both storage forms of a `Deltas` batch.
//!
//! A failure prints the minimal failing value and is saved under
//! `proptest-regressions/`; replay a run with
//! `PROPTEST_RNG_SEED=<seed> cargo test -p synod-proto --test gossip_round_trip`.

mod gossip_common;

use bytes::Bytes;
use gossip_common::workload;
use proptest::prelude::*;
use prost::Message as _;
use synod_core::antientropy::{Body, Message};
use synod_core::NodeId;
use synod_proto::gossip::v1::{gossip_frame, Compression, Deltas, GossipFrame};
use synod_proto::gossip::{decode_frame, encode_frame, GossipCodec};

/// Encodes `frame` and decodes it back from a `Bytes` buffer, as tonic does.
fn through_wire(frame: &GossipFrame) -> GossipFrame {
    GossipFrame::decode(Bytes::from(frame.encode_to_vec())).unwrap()
}

fn deltas_of(frame: &GossipFrame) -> &Deltas {
    match &frame.body {
        Some(gossip_frame::Body::Deltas(d)) => d,
        other => panic!("not a Deltas frame: {other:?}"),
    }
}

fn deltas_message(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Message {
    Message { session: 3, seq: 8, body: Body::Deltas { entries } }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn message_round_trips(from in gossip_common::node_id(), msg in gossip_common::message()) {
        let frame = encode_frame(from, &msg);
        prop_assert_eq!(decode_frame(through_wire(&frame)).unwrap(), (from, msg));
    }

    #[test]
    fn message_round_trips_whatever_the_threshold(
        from in gossip_common::node_id(),
        msg in gossip_common::message(),
        compress_bytes_min in prop_oneof![Just(0usize), 1usize..2048, Just(usize::MAX)],
        zstd_level in -5i32..=19,
    ) {
        // Sender and receiver need not agree on the threshold or the level:
        // the frame says how it is stored.
        let sender = GossipCodec { compress_bytes_min, zstd_level, ..GossipCodec::default() };
        let frame = through_wire(&sender.encode(from, &msg));
        prop_assert_eq!(GossipCodec::default().decode(frame).unwrap(), (from, msg));
    }
}

#[test]
fn every_body_variant_is_generated() {
    // The round trip covers every variant only if the strategy produces
    // each of them, and both storage forms of Deltas; check that on a
    // fixed seed.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut seen = [false; 10];
    for _ in 0..2000 {
        let msg = gossip_common::message().new_tree(&mut runner).unwrap().current();
        let variant = match &msg.body {
            Body::Root(r) => usize::from(r.signature.is_some()),
            Body::Children { .. } => 2,
            Body::Keys { .. } => 3,
            Body::Want { .. } => 4,
            Body::Deltas { .. } => {
                let frame = encode_frame(NodeId(1), &msg);
                match deltas_of(&frame).compression() {
                    Compression::None => 5,
                    Compression::Zstd => 6,
                }
            }
            Body::Ack => 7,
            Body::Done => 8,
            Body::Abort { .. } => 9,
        };
        seen[variant] = true;
    }
    assert_eq!(
        seen, [true; 10],
        "unsigned, signed root, children, keys, want, raw deltas, zstd deltas, ack, done, abort"
    );
}

#[test]
fn small_batches_travel_raw() {
    let msg = deltas_message(vec![(b"k".to_vec(), vec![0; 100])]);
    let frame = encode_frame(NodeId(1), &msg);
    let deltas = deltas_of(&frame);
    assert_eq!(deltas.compression(), Compression::None);
    assert_eq!(deltas.data.len() as u64, deltas.raw_len);
    assert_eq!(decode_frame(frame).unwrap().1, msg);
}

#[test]
fn large_repetitive_batches_are_compressed() {
    let entries = (0..100u32).map(|i| (format!("key/{i:05}").into_bytes(), vec![42; 100]));
    let msg = deltas_message(entries.collect());
    let frame = encode_frame(NodeId(1), &msg);
    let deltas = deltas_of(&frame);
    assert_eq!(deltas.compression(), Compression::Zstd);
    assert!(deltas.raw_len > 10_000);
    assert!(deltas.data.len() < 1_000, "{} bytes", deltas.data.len());
    assert_eq!(decode_frame(through_wire(&frame)).unwrap().1, msg);
}

#[test]
fn incompressible_batches_travel_raw() {
    // Above the threshold, but zstd cannot shrink random bytes: storing
    // them raw saves the receiver a pointless decompression.
    let mut rng = workload::Rng::new(1);
    let noise: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
    let msg = deltas_message(vec![(b"blob".to_vec(), noise)]);
    let frame = encode_frame(NodeId(1), &msg);
    assert_eq!(deltas_of(&frame).compression(), Compression::None);
    assert_eq!(decode_frame(frame).unwrap().1, msg);
}

#[test]
fn realistic_crdt_deltas_compress_to_under_a_third() {
    // 2,000 writes to a store of 10,000 keys (notes, tag sets, counters),
    // each shipped as its postcard-encoded delta, split into batches of
    // the session's default 256 KiB as the session would.
    let entries = workload::delta_batch(11, 10_000, 2_000);
    let codec = GossipCodec::default();
    let (mut raw, mut wire) = (0u64, 0u64);
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0;
    for (i, (key, payload)) in entries.iter().enumerate() {
        batch_bytes += 8 + key.len() + payload.len();
        batch.push((key.clone(), payload.clone()));
        if batch_bytes > 256 * 1024 || i + 1 == entries.len() {
            let msg = deltas_message(std::mem::take(&mut batch));
            let frame = codec.encode(NodeId(1), &msg);
            let deltas = deltas_of(&frame);
            assert_eq!(deltas.compression(), Compression::Zstd);
            raw += deltas.raw_len;
            wire += deltas.data.len() as u64;
            assert_eq!(codec.decode(frame).unwrap().1, msg);
            batch_bytes = 0;
        }
    }
    let ratio = wire as f64 / raw as f64;
    println!(
        "realistic CRDT deltas: {raw} raw bytes -> {wire} compressed ({:.1} %)",
        ratio * 100.0
    );
    assert!(ratio < 0.34, "compressed to {:.1} % of raw", ratio * 100.0);
}

#[test]
fn large_lists_and_wants_travel_compressed() {
    // Keys share prefixes, so a big list or want shrinks; windows and
    // digests do not, so the gain is smaller than for state.
    let key = |i: u32| format!("note/agent-{:03}/{i:08}", i % 97).into_bytes();
    let nodes = (0..300u32).map(|i| (17, i * 7, vec![(key(i), [i as u8; 8])])).collect();
    let keys = (0..300u32).map(|i| (key(i), Some([i as u8; 32]))).collect();
    for body in [Body::Keys { nodes }, Body::Want { keys }] {
        let msg = Message { session: 2, seq: 5, body };
        let frame = encode_frame(NodeId(1), &msg);
        let Some(gossip_frame::Body::Compressed(packed)) = &frame.body else {
            panic!("not compressed: {:?}", frame.body.map(|_| ()))
        };
        assert!(packed.data.len() < packed.raw_len as usize * 3 / 4, "{}", packed.data.len());
        assert_eq!(decode_frame(through_wire(&frame)).unwrap().1, msg);
    }
    // Windows of child hashes are random: no gain, the body stays plain.
    let nodes = (0..300u32).map(|i| (i, [(i * 31).to_be_bytes().repeat(2).try_into().unwrap(); 2]));
    let msg =
        Message { session: 2, seq: 5, body: Body::Children { level: 12, nodes: nodes.collect() } };
    let frame = encode_frame(NodeId(1), &msg);
    assert_eq!(decode_frame(through_wire(&frame)).unwrap().1, msg);
}

#[test]
fn descriptor_set_holds_the_gossip_file() {
    let name = b"synod/gossip/v1/gossip.proto";
    assert!(synod_proto::FILE_DESCRIPTOR_SET.windows(name.len()).any(|w| w == name));
}
