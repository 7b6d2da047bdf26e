//! Lossless conversions between synod-core's Raft types and their protobuf
//! form.
//!
//! Core to protobuf (`From<&T>`) cannot fail. Protobuf to core
//! (`TryFrom<pb::T>`) checks everything the core relies on and returns a
//! [`ProtoError`] naming the offending field; it never panics, whatever the
//! input. `bytes` fields are moved, not copied.

use synod_core::raft::{Body, Entry, EntryPayload, Membership, Message, SnapshotMeta};
use synod_core::{LogIndex, NodeId, Term};

use crate::raft::v1 as pb;
use crate::raft::v1::entry::Payload;
use crate::raft::v1::raft_message::Body as PbBody;
use crate::ProtoError;

/// `raw` as a node id, or an error naming `field` when it is 0.
fn node_id(raw: u64, field: &'static str) -> Result<NodeId, ProtoError> {
    match raw {
        0 => Err(ProtoError::ZeroNodeId(field)),
        id => Ok(NodeId(id)),
    }
}

impl From<&Membership> for pb::Membership {
    fn from(m: &Membership) -> Self {
        pb::Membership {
            voters: m.voters.iter().map(|id| id.0).collect(),
            learners: m.learners.iter().map(|id| id.0).collect(),
        }
    }
}

impl TryFrom<pb::Membership> for Membership {
    type Error = ProtoError;

    /// Accepts the ids in any order; rejects 0, duplicates, and a node that
    /// is both voter and learner.
    fn try_from(m: pb::Membership) -> Result<Self, ProtoError> {
        let mut out = Membership::default();
        for raw in m.voters {
            let id = node_id(raw, "Membership.voters")?;
            if !out.voters.insert(id) {
                return Err(ProtoError::DuplicateMember { id, list: "voters" });
            }
        }
        for raw in m.learners {
            let id = node_id(raw, "Membership.learners")?;
            if out.voters.contains(&id) {
                return Err(ProtoError::VoterAndLearner(id));
            }
            if !out.learners.insert(id) {
                return Err(ProtoError::DuplicateMember { id, list: "learners" });
            }
        }
        Ok(out)
    }
}

impl From<&SnapshotMeta> for pb::SnapshotMeta {
    fn from(meta: &SnapshotMeta) -> Self {
        pb::SnapshotMeta {
            index: meta.index.0,
            term: meta.term.0,
            membership: Some((&meta.membership).into()),
        }
    }
}

impl TryFrom<pb::SnapshotMeta> for SnapshotMeta {
    type Error = ProtoError;

    fn try_from(meta: pb::SnapshotMeta) -> Result<Self, ProtoError> {
        let membership =
            meta.membership.ok_or(ProtoError::MissingField("SnapshotMeta.membership"))?;
        Ok(SnapshotMeta {
            index: LogIndex(meta.index),
            term: Term(meta.term),
            membership: membership.try_into()?,
        })
    }
}

impl From<&Entry> for pb::Entry {
    fn from(entry: &Entry) -> Self {
        let payload = match &entry.payload {
            EntryPayload::Noop => Payload::Noop(pb::Noop {}),
            EntryPayload::Command(data) => Payload::Command(data.clone()),
            EntryPayload::Membership(m) => Payload::Membership(m.into()),
        };
        pb::Entry { term: entry.term.0, index: entry.index.0, payload: Some(payload) }
    }
}

impl TryFrom<pb::Entry> for Entry {
    type Error = ProtoError;

    fn try_from(entry: pb::Entry) -> Result<Self, ProtoError> {
        if entry.index == 0 {
            return Err(ProtoError::ZeroEntryIndex);
        }
        let payload = match entry.payload.ok_or(ProtoError::MissingField("Entry.payload"))? {
            Payload::Noop(pb::Noop {}) => EntryPayload::Noop,
            Payload::Command(data) => EntryPayload::Command(data),
            Payload::Membership(m) => EntryPayload::Membership(m.try_into()?),
        };
        Ok(Entry { term: Term(entry.term), index: LogIndex(entry.index), payload })
    }
}

impl From<&Message> for pb::RaftMessage {
    fn from(msg: &Message) -> Self {
        pb::RaftMessage {
            from: msg.from.0,
            to: msg.to.0,
            term: msg.term.0,
            body: Some(body_to_proto(&msg.body)),
        }
    }
}

impl TryFrom<pb::RaftMessage> for Message {
    type Error = ProtoError;

    fn try_from(msg: pb::RaftMessage) -> Result<Self, ProtoError> {
        let from = node_id(msg.from, "RaftMessage.from")?;
        let to = node_id(msg.to, "RaftMessage.to")?;
        let body = msg.body.ok_or(ProtoError::MissingField("RaftMessage.body"))?;
        Ok(Message { from, to, term: Term(msg.term), body: body_from_proto(body)? })
    }
}

fn body_to_proto(body: &Body) -> PbBody {
    match body {
        Body::RequestVote { last_log_index, last_log_term, pre_vote, transfer } => {
            PbBody::RequestVote(pb::RequestVote {
                last_log_index: last_log_index.0,
                last_log_term: last_log_term.0,
                pre_vote: *pre_vote,
                transfer: *transfer,
            })
        }
        Body::RequestVoteResponse { granted, pre_vote } => {
            PbBody::RequestVoteResponse(pb::RequestVoteResponse {
                granted: *granted,
                pre_vote: *pre_vote,
            })
        }
        Body::AppendEntries { prev_log_index, prev_log_term, entries, leader_commit, read_seq } => {
            PbBody::AppendEntries(pb::AppendEntries {
                prev_log_index: prev_log_index.0,
                prev_log_term: prev_log_term.0,
                entries: entries.iter().map(pb::Entry::from).collect(),
                leader_commit: leader_commit.0,
                read_seq: *read_seq,
            })
        }
        Body::AppendEntriesResponse { success, index, conflict_term, conflict_index, read_seq } => {
            PbBody::AppendEntriesResponse(pb::AppendEntriesResponse {
                success: *success,
                index: index.0,
                conflict_term: conflict_term.map(|t| t.0),
                conflict_index: conflict_index.0,
                read_seq: *read_seq,
            })
        }
        Body::InstallSnapshot { meta, offset, data, done, read_seq } => {
            PbBody::InstallSnapshot(pb::InstallSnapshot {
                meta: Some(meta.into()),
                offset: *offset,
                data: data.clone(),
                done: *done,
                read_seq: *read_seq,
            })
        }
        Body::InstallSnapshotResponse { snapshot_index, next_offset, done, read_seq } => {
            PbBody::InstallSnapshotResponse(pb::InstallSnapshotResponse {
                snapshot_index: snapshot_index.0,
                next_offset: *next_offset,
                done: *done,
                read_seq: *read_seq,
            })
        }
        Body::TimeoutNow => PbBody::TimeoutNow(pb::TimeoutNow {}),
    }
}

fn body_from_proto(body: PbBody) -> Result<Body, ProtoError> {
    Ok(match body {
        PbBody::RequestVote(rv) => Body::RequestVote {
            last_log_index: LogIndex(rv.last_log_index),
            last_log_term: Term(rv.last_log_term),
            pre_vote: rv.pre_vote,
            transfer: rv.transfer,
        },
        PbBody::RequestVoteResponse(r) => {
            Body::RequestVoteResponse { granted: r.granted, pre_vote: r.pre_vote }
        }
        PbBody::AppendEntries(ae) => Body::AppendEntries {
            prev_log_index: LogIndex(ae.prev_log_index),
            prev_log_term: Term(ae.prev_log_term),
            entries: entries_from_proto(ae.prev_log_index, ae.entries)?,
            leader_commit: LogIndex(ae.leader_commit),
            read_seq: ae.read_seq,
        },
        PbBody::AppendEntriesResponse(r) => Body::AppendEntriesResponse {
            success: r.success,
            index: LogIndex(r.index),
            conflict_term: r.conflict_term.map(Term),
            conflict_index: LogIndex(r.conflict_index),
            read_seq: r.read_seq,
        },
        PbBody::InstallSnapshot(s) => Body::InstallSnapshot {
            meta: s.meta.ok_or(ProtoError::MissingField("InstallSnapshot.meta"))?.try_into()?,
            offset: s.offset,
            data: s.data,
            done: s.done,
            read_seq: s.read_seq,
        },
        PbBody::InstallSnapshotResponse(r) => Body::InstallSnapshotResponse {
            snapshot_index: LogIndex(r.snapshot_index),
            next_offset: r.next_offset,
            done: r.done,
            read_seq: r.read_seq,
        },
        PbBody::TimeoutNow(pb::TimeoutNow {}) => Body::TimeoutNow,
    })
}

/// Converts AppendEntries entries, which must carry the indexes
/// `prev_log_index + 1, prev_log_index + 2, ...` (the core's log refuses
/// gaps). An index past `u64::MAX` can match nothing and is refused too.
fn entries_from_proto(
    prev_log_index: u64,
    entries: Vec<pb::Entry>,
) -> Result<Vec<Entry>, ProtoError> {
    let mut out = Vec::with_capacity(entries.len());
    for (position, entry) in entries.into_iter().enumerate() {
        let expected = u64::try_from(position)
            .ok()
            .and_then(|p| prev_log_index.checked_add(p)?.checked_add(1));
        if expected != Some(entry.index) {
            return Err(ProtoError::EntryOutOfSequence {
                position,
                prev_log_index,
                index: entry.index,
            });
        }
        let entry = Entry::try_from(entry)
            .map_err(|error| ProtoError::InEntry { position, error: Box::new(error) })?;
        out.push(entry);
    }
    Ok(out)
}
