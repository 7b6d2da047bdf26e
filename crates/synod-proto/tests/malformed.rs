//! Well-formed protobuf that is not a valid synod message is rejected with an
//! error naming the field, never accepted and never a panic.

use bytes::Bytes;
use synod_core::raft::{Entry, Membership, Message, SnapshotMeta};
use synod_core::NodeId;
use synod_proto::raft::v1::{self as pb, entry::Payload, raft_message::Body};
use synod_proto::ProtoError;

fn msg(body: Option<Body>) -> pb::RaftMessage {
    pb::RaftMessage { from: 1, to: 2, term: 5, body }
}

fn command(index: u64) -> pb::Entry {
    pb::Entry { term: 1, index, payload: Some(Payload::Command(Bytes::from_static(b"x"))) }
}

fn append(prev_log_index: u64, entries: Vec<pb::Entry>) -> pb::RaftMessage {
    let ae = pb::AppendEntries { prev_log_index, entries, ..Default::default() };
    msg(Some(Body::AppendEntries(ae)))
}

fn snapshot(meta: Option<pb::SnapshotMeta>) -> pb::RaftMessage {
    msg(Some(Body::InstallSnapshot(pb::InstallSnapshot { meta, ..Default::default() })))
}

fn members(voters: &[u64], learners: &[u64]) -> pb::Membership {
    pb::Membership { voters: voters.to_vec(), learners: learners.to_vec() }
}

#[test]
fn message_without_body_is_rejected() {
    let err = Message::try_from(msg(None)).unwrap_err();
    assert_eq!(err, ProtoError::MissingField("RaftMessage.body"));
    assert_eq!(err.to_string(), "RaftMessage.body is not set");
}

#[test]
fn zero_sender_or_recipient_is_rejected() {
    let timeout = Some(Body::TimeoutNow(pb::TimeoutNow {}));
    let zero_from = pb::RaftMessage { from: 0, ..msg(timeout.clone()) };
    assert_eq!(Message::try_from(zero_from), Err(ProtoError::ZeroNodeId("RaftMessage.from")));
    let zero_to = pb::RaftMessage { to: 0, ..msg(timeout) };
    assert_eq!(Message::try_from(zero_to), Err(ProtoError::ZeroNodeId("RaftMessage.to")));
}

#[test]
fn entry_without_payload_is_rejected_with_its_position() {
    let no_payload = pb::Entry { payload: None, ..command(11) };
    let err = Message::try_from(append(9, vec![command(10), no_payload])).unwrap_err();
    let inner = Box::new(ProtoError::MissingField("Entry.payload"));
    assert_eq!(err, ProtoError::InEntry { position: 1, error: inner });
    assert_eq!(err.to_string(), "AppendEntries.entries[1]: Entry.payload is not set");
}

#[test]
fn standalone_entry_needs_a_payload_and_a_nonzero_index() {
    assert_eq!(Entry::try_from(command(0)), Err(ProtoError::ZeroEntryIndex));
    let no_payload = pb::Entry { payload: None, ..command(1) };
    assert_eq!(Entry::try_from(no_payload), Err(ProtoError::MissingField("Entry.payload")));
}

#[test]
fn entries_with_a_gap_are_rejected() {
    // The core's log refuses to store an entry that leaves a gap (it asserts),
    // so a gap must be caught here, on the untrusted side.
    let err = Message::try_from(append(4, vec![command(5), command(7)])).unwrap_err();
    assert_eq!(err, ProtoError::EntryOutOfSequence { position: 1, prev_log_index: 4, index: 7 });
    assert_eq!(
        err.to_string(),
        "AppendEntries.entries[1].index is 7, but with prev_log_index 4 it must be prev_log_index + 2"
    );
    let not_after_prev = append(4, vec![command(4)]);
    assert!(matches!(
        Message::try_from(not_after_prev),
        Err(ProtoError::EntryOutOfSequence { .. })
    ));
}

#[test]
fn entries_past_the_last_index_are_rejected() {
    // prev_log_index + 1 does not fit in a u64; index 0 must not "wrap around".
    for index in [0, u64::MAX] {
        let err = Message::try_from(append(u64::MAX, vec![command(index)])).unwrap_err();
        let expected =
            ProtoError::EntryOutOfSequence { position: 0, prev_log_index: u64::MAX, index };
        assert_eq!(err, expected);
    }
}

#[test]
fn snapshot_without_meta_or_membership_is_rejected() {
    let err = Message::try_from(snapshot(None)).unwrap_err();
    assert_eq!(err, ProtoError::MissingField("InstallSnapshot.meta"));
    let meta = pb::SnapshotMeta { index: 3, term: 1, membership: None };
    assert_eq!(
        Message::try_from(snapshot(Some(meta.clone()))),
        Err(ProtoError::MissingField("SnapshotMeta.membership"))
    );
    assert!(SnapshotMeta::try_from(meta).is_err());
}

#[test]
fn bad_memberships_are_rejected() {
    let cases = [
        (members(&[1, 0], &[]), ProtoError::ZeroNodeId("Membership.voters")),
        (members(&[1], &[0]), ProtoError::ZeroNodeId("Membership.learners")),
        (members(&[1, 2, 1], &[]), ProtoError::DuplicateMember { id: NodeId(1), list: "voters" }),
        (members(&[1], &[3, 3]), ProtoError::DuplicateMember { id: NodeId(3), list: "learners" }),
        (members(&[1, 2], &[2]), ProtoError::VoterAndLearner(NodeId(2))),
    ];
    for (proto, expected) in cases {
        assert_eq!(Membership::try_from(proto.clone()), Err(expected.clone()), "{proto:?}");
        // The same check applies inside an entry and inside snapshot metadata.
        let entry =
            pb::Entry { term: 1, index: 1, payload: Some(Payload::Membership(proto.clone())) };
        assert_eq!(Entry::try_from(entry), Err(expected.clone()));
        let meta = pb::SnapshotMeta { index: 1, term: 1, membership: Some(proto) };
        assert_eq!(SnapshotMeta::try_from(meta), Err(expected));
    }
    assert_eq!(
        ProtoError::VoterAndLearner(NodeId(2)).to_string(),
        "node n2 is both a voter and a learner in Membership"
    );
}

#[test]
fn batch_for_another_cluster_is_rejected() {
    let batch = pb::MessageBatch { from: 1, to: 2, cluster_id: 8, messages: vec![] };
    let err = batch.into_messages(9).unwrap_err();
    assert_eq!(err, ProtoError::ClusterMismatch { expected: 9, found: 8 });
}

#[test]
fn batch_with_zero_ids_or_foreign_messages_is_rejected() {
    let timeout = msg(Some(Body::TimeoutNow(pb::TimeoutNow {})));
    let batch = |from, to, messages| pb::MessageBatch { from, to, cluster_id: 1, messages };
    let zero = batch(0, 2, vec![]).into_messages(1);
    assert_eq!(zero, Err(ProtoError::ZeroNodeId("MessageBatch.from")));
    let zero = batch(1, 0, vec![]).into_messages(1);
    assert_eq!(zero, Err(ProtoError::ZeroNodeId("MessageBatch.to")));

    let forged = pb::RaftMessage { from: 3, ..timeout.clone() };
    let err = batch(1, 2, vec![timeout.clone(), forged]).into_messages(1).unwrap_err();
    let expected =
        ProtoError::BatchAddressMismatch { position: 1, field: "from", batch: 1, message: 3 };
    assert_eq!(err, expected);
    assert_eq!(err.to_string(), "MessageBatch.messages[1].from is 3, but the batch's from is 1");

    let misrouted = pb::RaftMessage { to: 4, ..timeout.clone() };
    let err = batch(1, 2, vec![misrouted]).into_messages(1).unwrap_err();
    assert!(matches!(err, ProtoError::BatchAddressMismatch { field: "to", .. }));

    let bodiless = pb::RaftMessage { body: None, ..timeout };
    let err = batch(1, 2, vec![bodiless]).into_messages(1).unwrap_err();
    assert_eq!(err.to_string(), "MessageBatch.messages[0]: RaftMessage.body is not set");
}
