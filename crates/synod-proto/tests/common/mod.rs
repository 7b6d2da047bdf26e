//! proptest strategies for synod-core's Raft messages, shared by the test
//! files of this crate. They produce only valid messages: non-zero node
//! ids, entries that follow on from `prev_log_index`, memberships where no
//! node is both voter and learner. Numbers mix small values with the edges
//! of `u64` so that varint lengths and overflow paths are exercised.

#![allow(dead_code)]

use bytes::Bytes;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use synod_core::raft::{Body, Entry, EntryPayload, Membership, Message, SnapshotMeta};
use synod_core::{LogIndex, NodeId, Term};

/// Any `u64`, biased towards 0, small values and `u64::MAX`.
pub fn number() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), 1u64..1_000, Just(u64::MAX), any::<u64>()]
}

/// A valid node id: never 0.
pub fn node_id() -> impl Strategy<Value = NodeId> {
    prop_oneof![1u64..16, Just(u64::MAX), 1u64..].prop_map(NodeId)
}

/// A membership of up to eight nodes, each either voter or learner.
pub fn membership() -> impl Strategy<Value = Membership> {
    let id = prop_oneof![1u64..32, (u64::MAX - 3)..=u64::MAX];
    btree_map(id, any::<bool>(), 0..8).prop_map(|roles| {
        let mut m = Membership::default();
        for (id, learner) in roles {
            let list = if learner { &mut m.learners } else { &mut m.voters };
            list.insert(NodeId(id));
        }
        m
    })
}

/// Opaque bytes, from empty to a few hundred.
pub fn data() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..300).prop_map(Bytes::from)
}

/// Any entry payload.
pub fn payload() -> impl Strategy<Value = EntryPayload> {
    prop_oneof![
        Just(EntryPayload::Noop),
        data().prop_map(EntryPayload::Command),
        membership().prop_map(EntryPayload::Membership),
    ]
}

/// A standalone entry: any term, a non-zero index.
pub fn entry() -> impl Strategy<Value = Entry> {
    (number(), prop_oneof![1u64..100, 1u64..], payload()).prop_map(|(term, index, payload)| Entry {
        term: Term(term),
        index: LogIndex(index),
        payload,
    })
}

/// Snapshot metadata with any position and membership.
pub fn snapshot_meta() -> impl Strategy<Value = SnapshotMeta> {
    (number(), number(), membership()).prop_map(|(index, term, membership)| SnapshotMeta {
        index: LogIndex(index),
        term: Term(term),
        membership,
    })
}

/// `prev_log_index` and up to six entries that follow it, as a leader sends.
fn entries_after() -> impl Strategy<Value = (u64, Vec<Entry>)> {
    let prev = prop_oneof![0u64..100, (u64::MAX - 6)..=(u64::MAX - 6), 0u64..(u64::MAX - 6)];
    (prev, vec((number(), payload()), 0..6)).prop_map(|(prev, items)| {
        let entries = (prev + 1..)
            .zip(items)
            .map(|(index, (term, payload))| Entry {
                term: Term(term),
                index: LogIndex(index),
                payload,
            })
            .collect();
        (prev, entries)
    })
}

/// Any body, every variant of [`Body`].
pub fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (number(), number(), any::<bool>(), any::<bool>()).prop_map(
            |(i, t, pre_vote, transfer)| {
                Body::RequestVote {
                    last_log_index: LogIndex(i),
                    last_log_term: Term(t),
                    pre_vote,
                    transfer,
                }
            }
        ),
        (any::<bool>(), any::<bool>())
            .prop_map(|(granted, pre_vote)| Body::RequestVoteResponse { granted, pre_vote }),
        (entries_after(), number(), number(), number()).prop_map(|((prev, entries), t, c, seq)| {
            Body::AppendEntries {
                prev_log_index: LogIndex(prev),
                prev_log_term: Term(t),
                entries,
                leader_commit: LogIndex(c),
                read_seq: seq,
            }
        }),
        (any::<bool>(), number(), proptest::option::of(number()), number(), number()).prop_map(
            |(success, i, conflict, ci, seq)| Body::AppendEntriesResponse {
                success,
                index: LogIndex(i),
                conflict_term: conflict.map(Term),
                conflict_index: LogIndex(ci),
                read_seq: seq,
            }
        ),
        (snapshot_meta(), number(), data(), any::<bool>(), number()).prop_map(
            |(meta, offset, data, done, read_seq)| Body::InstallSnapshot {
                meta,
                offset,
                data,
                done,
                read_seq
            }
        ),
        (number(), number(), any::<bool>(), number()).prop_map(
            |(i, next_offset, done, read_seq)| {
                Body::InstallSnapshotResponse {
                    snapshot_index: LogIndex(i),
                    next_offset,
                    done,
                    read_seq,
                }
            }
        ),
        Just(Body::TimeoutNow),
    ]
}

/// Any valid message.
pub fn message() -> impl Strategy<Value = Message> {
    (node_id(), node_id(), number(), body()).prop_map(|(from, to, term, body)| Message {
        from,
        to,
        term: Term(term),
        body,
    })
}

/// Up to eight valid messages, all from `from` to `to`.
pub fn messages_between() -> impl Strategy<Value = (NodeId, NodeId, Vec<Message>)> {
    (node_id(), node_id(), vec((number(), body()), 0..8)).prop_map(|(from, to, items)| {
        let msgs =
            items.into_iter().map(|(term, body)| Message { from, to, term: Term(term), body });
        (from, to, msgs.collect())
    })
}
