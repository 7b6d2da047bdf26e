//! Whatever a peer sends, decoding and converting it never panics: random
//! bytes, damaged encodings of valid messages, and structurally random
//! protobuf values with zero ids, gaps and missing fields.
//!
//! A failure prints the minimal failing input and is saved under
//! `proptest-regressions/`; replay a run with `PROPTEST_RNG_SEED=<seed>`.

mod common;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;
use synod_core::raft::Message;
use synod_proto::raft::v1::{self as pb, entry::Payload, raft_message::Body};

/// Decodes `wire` as a message and a batch and converts whatever decodes.
fn decode_and_convert(wire: &[u8]) {
    if let Ok(msg) = pb::RaftMessage::decode(Bytes::copy_from_slice(wire)) {
        let _ = Message::try_from(msg);
    }
    if let Ok(batch) = pb::MessageBatch::decode(Bytes::copy_from_slice(wire)) {
        let _ = batch.into_messages(1);
    }
}

/// Small numbers, so that random entries sometimes follow on without gaps.
fn small() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..4, Just(u64::MAX)]
}

fn hostile_membership() -> impl Strategy<Value = pb::Membership> {
    (vec(small(), 0..4), vec(small(), 0..4))
        .prop_map(|(voters, learners)| pb::Membership { voters, learners })
}

fn hostile_entry() -> impl Strategy<Value = pb::Entry> {
    let payload = proptest::option::of(prop_oneof![
        Just(Payload::Noop(pb::Noop {})),
        Just(Payload::Command(Bytes::from_static(b"cmd"))),
        hostile_membership().prop_map(Payload::Membership),
    ]);
    (small(), small(), payload).prop_map(|(term, index, payload)| pb::Entry {
        term,
        index,
        payload,
    })
}

fn hostile_body() -> impl Strategy<Value = Option<Body>> {
    let meta = proptest::option::of((small(), small(), proptest::option::of(hostile_membership())))
        .prop_map(|m| {
            m.map(|(index, term, membership)| pb::SnapshotMeta { index, term, membership })
        });
    proptest::option::of(prop_oneof![
        (small(), vec(hostile_entry(), 0..4)).prop_map(|(prev_log_index, entries)| {
            Body::AppendEntries(pb::AppendEntries { prev_log_index, entries, ..Default::default() })
        }),
        meta.prop_map(|meta| Body::InstallSnapshot(pb::InstallSnapshot {
            meta,
            ..Default::default()
        })),
        proptest::option::of(small()).prop_map(|conflict_term| {
            Body::AppendEntriesResponse(pb::AppendEntriesResponse {
                conflict_term,
                ..Default::default()
            })
        }),
        Just(Body::TimeoutNow(pb::TimeoutNow {})),
    ])
}

fn hostile_message() -> impl Strategy<Value = pb::RaftMessage> {
    (small(), small(), small(), hostile_body()).prop_map(|(from, to, term, body)| pb::RaftMessage {
        from,
        to,
        term,
        body,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_bytes_never_panic(wire in vec(any::<u8>(), 0..512)) {
        decode_and_convert(&wire);
    }

    #[test]
    fn damaged_encodings_never_panic(
        msg in common::message(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut wire = pb::RaftMessage::from(&msg).encode_to_vec();
        for (at, byte) in flips {
            let i = at.index(wire.len());
            wire[i] ^= byte;
        }
        decode_and_convert(&wire);
        decode_and_convert(&wire[..cut.index(wire.len() + 1)]);
    }

    #[test]
    fn accepted_hostile_messages_convert_back_unchanged(proto in hostile_message()) {
        // Whatever the checks accept is a valid core message: converting it
        // back and forth again changes nothing.
        if let Ok(msg) = Message::try_from(proto) {
            let again = Message::try_from(pb::RaftMessage::from(&msg)).unwrap();
            prop_assert_eq!(again, msg);
        }
    }
}

#[test]
fn deeply_nested_unknown_groups_are_an_error() {
    // Field 5 is unknown to RaftMessage; a peer opens 10,000 nested groups
    // with it. prost's recursion limit makes this a decode error, not a
    // stack overflow.
    let wire = vec![(5 << 3) | 3; 10_000];
    assert!(pb::RaftMessage::decode(wire.as_slice()).is_err());
    decode_and_convert(&wire);
}
