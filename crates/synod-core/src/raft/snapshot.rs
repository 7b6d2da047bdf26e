//! Log compaction and InstallSnapshot in bounded chunks (§7).

use bytes::{Bytes, BytesMut};

use super::progress::ReplicationState;
use super::{Body, Effect, Snapshot, SnapshotMeta};
use crate::{LogIndex, NodeId};

/// A snapshot being received from the leader, chunk by chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IncomingSnapshot {
    meta: SnapshotMeta,
    data: BytesMut,
}

impl super::Raft {
    /// Records that the state machine has captured its state up to `index`
    /// (which it has applied) as `data`; the log before it is discarded and
    /// the snapshot is persisted with the next request.
    ///
    /// # Panics
    /// If `index` is above the applied index: that is a driver bug.
    pub fn compact(&mut self, index: LogIndex, data: Bytes) {
        assert!(
            index <= self.log.applied,
            "snapshot at {index} beyond applied {}",
            self.log.applied
        );
        if index <= self.log.snapshot.index {
            return;
        }
        let term = self.log.term(index).expect("applied entry is held");
        let (_, membership) = self.log.membership_at(index);
        let meta = SnapshotMeta { index, term, membership };
        self.log.compact(meta.clone());
        self.snapshot = Snapshot { meta, data };
        self.queue_snapshot_persist(self.snapshot.clone(), false);
    }

    /// The latest snapshot held (what a lagging follower is sent).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub(crate) fn start_snapshot_transfer(&mut self, peer: NodeId) {
        let index = self.snapshot.meta.index;
        if let Some(pr) = self.progress.get_mut(&peer) {
            pr.become_snapshot(index);
        }
        self.send_snapshot_chunk(peer);
    }

    /// Sends the chunk at the peer's current offset. A transfer of an older
    /// snapshot restarts with the current one.
    pub(crate) fn send_snapshot_chunk(&mut self, peer: NodeId) {
        let Some(pr) = self.progress.get_mut(&peer) else {
            return;
        };
        let ReplicationState::Snapshot { index, offset } = pr.state else {
            return;
        };
        let offset = if index == self.snapshot.meta.index { offset } else { 0 };
        pr.state = ReplicationState::Snapshot { index: self.snapshot.meta.index, offset };
        let total = self.snapshot.data.len() as u64;
        let start = offset.min(total) as usize;
        let end = (start + self.config.snapshot_chunk_bytes_max).min(total as usize);
        let body = Body::InstallSnapshot {
            meta: self.snapshot.meta.clone(),
            offset: start as u64,
            data: self.snapshot.data.slice(start..end),
            done: end as u64 == total,
            read_seq: self.reads.seq(),
        };
        self.send(peer, body);
    }

    /// Follower side of one InstallSnapshot chunk.
    pub(crate) fn handle_snapshot_chunk(
        &mut self,
        from: NodeId,
        meta: SnapshotMeta,
        offset: u64,
        data: Bytes,
        done: bool,
        read_seq: u64,
    ) {
        self.become_follower(self.term, Some(from));
        let snapshot_index = meta.index;
        if snapshot_index <= self.log.committed {
            // We already hold everything it covers (§7: "discard").
            self.reply_snapshot(from, snapshot_index, offset + data.len() as u64, true, read_seq);
            return;
        }
        let expected = match &self.incoming_snapshot {
            Some(inc) if inc.meta == meta => inc.data.len() as u64,
            _ => 0,
        };
        if offset != expected {
            self.send_snapshot_reply_now(from, snapshot_index, expected, read_seq);
            return;
        }
        if offset == 0 {
            self.incoming_snapshot = Some(IncomingSnapshot { meta, data: BytesMut::new() });
        }
        let inc = self.incoming_snapshot.as_mut().unwrap();
        inc.data.extend_from_slice(&data);
        let next_offset = inc.data.len() as u64;
        if !done {
            self.send_snapshot_reply_now(from, snapshot_index, next_offset, read_seq);
            return;
        }
        let inc = self.incoming_snapshot.take().unwrap();
        self.install_snapshot(Snapshot { meta: inc.meta, data: inc.data.freeze() });
        self.reply_snapshot(from, snapshot_index, next_offset, true, read_seq);
    }

    /// §7: the snapshot replaces the state machine, and the log up to its
    /// index. "If existing log entry has same index and term as snapshot's
    /// last included entry, retain log entries following it"; otherwise
    /// the whole log is discarded. Keeping the suffix matters: the leader
    /// may already count those entries as replicated here.
    fn install_snapshot(&mut self, snapshot: Snapshot) {
        let meta = &snapshot.meta;
        let keeps_suffix = self.log.matches(meta.index, meta.term);
        self.log.install(meta.clone(), keeps_suffix);
        self.on_log_changed(meta.index);
        if !keeps_suffix {
            self.membership = meta.membership.clone();
            self.membership_index = meta.index;
        }
        self.snapshot = snapshot.clone();
        self.queue_snapshot_persist(snapshot.clone(), !keeps_suffix);
        self.effects.push(Effect::ApplySnapshot(snapshot));
    }

    fn send_snapshot_reply_now(&mut self, to: NodeId, index: LogIndex, next: u64, read_seq: u64) {
        let body = Body::InstallSnapshotResponse {
            snapshot_index: index,
            next_offset: next,
            done: false,
            read_seq,
        };
        self.send(to, body);
    }

    /// A completed install is acknowledged only once durable.
    fn reply_snapshot(
        &mut self,
        to: NodeId,
        index: LogIndex,
        next: u64,
        done: bool,
        read_seq: u64,
    ) {
        let body = Body::InstallSnapshotResponse {
            snapshot_index: index,
            next_offset: next,
            done,
            read_seq,
        };
        self.send_after_persist(to, body);
    }

    /// Leader side: advance the transfer, or finish it.
    pub(crate) fn handle_snapshot_response(
        &mut self,
        from: NodeId,
        snapshot_index: LogIndex,
        next_offset: u64,
        done: bool,
        read_seq: u64,
    ) {
        if !self.is_leader() {
            return;
        }
        let now = self.now;
        let Some(pr) = self.progress.get_mut(&from) else {
            return;
        };
        pr.last_active = now;
        pr.read_seq_acked = pr.read_seq_acked.max(read_seq);
        if done {
            pr.maybe_update(snapshot_index);
            if matches!(pr.state, ReplicationState::Snapshot { .. }) {
                let next = pr.match_index.next();
                pr.become_probe(next);
            }
            self.maybe_commit();
            self.maybe_send_append(from, false);
        } else if let ReplicationState::Snapshot { index, offset } = pr.state {
            // Only progress triggers a send; a repeated or stale answer waits
            // for the heartbeat's retransmission, so duplicates do not multiply.
            if index == snapshot_index && next_offset != offset {
                pr.state = ReplicationState::Snapshot { index, offset: next_offset };
                if next_offset > offset {
                    self.send_snapshot_chunk(from);
                }
            }
        }
        self.maybe_confirm_reads();
    }
}
