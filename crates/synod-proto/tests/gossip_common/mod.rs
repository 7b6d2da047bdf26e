//! proptest strategies for anti-entropy messages, shared by the gossip
//! test files. They produce only valid messages (non-zero node ids in
//! roots); payloads are either random (incompressible) or repetitive
//! (compressible), so that both storage forms of a `Deltas` batch occur.

#![allow(dead_code)]

pub mod workload;

use proptest::collection::vec;
use proptest::prelude::*;
use synod_core::antientropy::{Body, Message};
use synod_core::merkle::{Digest, SignedRoot, Window};
use synod_core::NodeId;

/// Any `u64`, biased towards 0, small values and `u64::MAX`.
pub fn number() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), 1u64..1_000, Just(u64::MAX), any::<u64>()]
}

/// A valid node id: never 0.
pub fn node_id() -> impl Strategy<Value = NodeId> {
    prop_oneof![1u64..16, Just(u64::MAX), 1u64..].prop_map(NodeId)
}

/// Any SHA-256 digest.
pub fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>()
}

/// Any digest window.
pub fn window() -> impl Strategy<Value = Window> {
    any::<Window>()
}

/// A key, possibly empty.
pub fn key() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..24)
}

/// A payload: random bytes, or a short pattern repeated (compresses well).
pub fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..600),
        (vec(any::<u8>(), 1..8), 0usize..400).prop_map(|(pattern, n)| pattern.repeat(n)),
    ]
}

/// A root, signed (any 64 bytes) or not.
pub fn root() -> impl Strategy<Value = SignedRoot> {
    let signature = proptest::option::of(vec(any::<u8>(), 64));
    (node_id(), digest(), any::<u8>(), number(), signature).prop_map(
        |(node, root, depth, counter, signature)| SignedRoot {
            node,
            root,
            depth,
            counter,
            signature: signature.map(|s| s.try_into().expect("64 bytes")),
        },
    )
}

/// Any body, every variant of [`Body`].
pub fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        root().prop_map(Body::Root),
        (any::<u8>(), vec((any::<u32>(), [window(), window()]), 0..8))
            .prop_map(|(level, nodes)| Body::Children { level, nodes }),
        vec((any::<u8>(), any::<u32>(), vec((key(), window()), 0..6)), 0..6)
            .prop_map(|nodes| Body::Keys { nodes }),
        vec((key(), proptest::option::of(digest())), 0..8).prop_map(|keys| Body::Want { keys }),
        vec((key(), payload()), 0..12).prop_map(|entries| Body::Deltas { entries }),
        Just(Body::Ack),
        Just(Body::Done),
        ".{0,40}".prop_map(|reason| Body::Abort { reason }),
    ]
}

/// Any message.
pub fn message() -> impl Strategy<Value = Message> {
    (number(), number(), body()).prop_map(|(session, seq, body)| Message { session, seq, body })
}
