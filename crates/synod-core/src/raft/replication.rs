//! Log replication (§5.3): sending appends with pipelining and batching,
//! the follower's consistency check, fast backtracking, and the commit
//! rule of §5.4.2.

use super::node::Timer;
use super::progress::ReplicationState;
use super::{Body, Entry};
use crate::{LogIndex, NodeId, Term};

impl super::Raft {
    /// Sends what each follower needs; with `heartbeat`, every follower
    /// gets a message even when it needs no entries.
    pub(crate) fn broadcast_append(&mut self, heartbeat: bool) {
        let peers: Vec<NodeId> = self.progress.keys().copied().collect();
        for peer in peers {
            self.maybe_send_append(peer, heartbeat);
        }
    }

    pub(crate) fn on_heartbeat_timeout(&mut self) {
        if !self.is_leader() || !self.check_quorum() {
            return;
        }
        self.reads.start_round(self.now);
        self.broadcast_append(true);
        self.timers.set(Timer::Heartbeat, self.now.plus_ms(self.config.heartbeat_interval_ms));
    }

    /// Sends the next batch to `peer` unless its pipeline is full. With
    /// `force`, sends even an empty append (heartbeat) and re-sends to a
    /// paused probe or a snapshot transfer (retransmission after loss).
    pub(crate) fn maybe_send_append(&mut self, peer: NodeId, force: bool) {
        loop {
            let Some(pr) = self.progress.get(&peer) else {
                return;
            };
            if let ReplicationState::Snapshot { .. } = pr.state {
                if force {
                    self.send_snapshot_chunk(peer);
                }
                return;
            }
            let paused = pr.is_paused(self.config.inflight_msgs_max);
            if paused && !force {
                return;
            }
            let next = pr.next_index;
            let prev = next.prev();
            let Some(prev_term) = self.log.term(prev) else {
                self.start_snapshot_transfer(peer);
                return;
            };
            let entries = if paused {
                Vec::new()
            } else {
                self.log.entries_from(next, self.config.batch_bytes_max)
            };
            if entries.is_empty() && !force {
                return;
            }
            let last = entries.last().map(|e| e.index);
            self.send_append(peer, prev, prev_term, entries);
            let pr = self.progress.get_mut(&peer).unwrap();
            match (&pr.state, last) {
                (ReplicationState::Replicate, Some(last)) => {
                    pr.next_index = last.next();
                    pr.inflight.push_back(last);
                }
                (ReplicationState::Probe { .. }, _) => {
                    pr.state = ReplicationState::Probe { paused: true };
                    return;
                }
                _ => return,
            }
        }
    }

    fn send_append(&mut self, peer: NodeId, prev: LogIndex, prev_term: Term, entries: Vec<Entry>) {
        let body = Body::AppendEntries {
            prev_log_index: prev,
            prev_log_term: prev_term,
            entries,
            leader_commit: self.log.committed,
            read_seq: self.reads.seq(),
        };
        self.send(peer, body);
    }

    /// Follower side of AppendEntries (§5.3, Figure 2 receiver rules).
    pub(crate) fn handle_append(
        &mut self,
        from: NodeId,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: Vec<Entry>,
        leader_commit: LogIndex,
        read_seq: u64,
    ) {
        self.become_follower(self.term, Some(from));
        if prev_log_index < self.log.committed {
            // Everything up to our commit index matches any leader's log
            // (Leader Completeness, §5.4): keep only the entries after it.
            let committed = self.log.committed;
            let entries = entries.into_iter().filter(|e| e.index > committed).collect();
            return self.accept_entries(from, committed, entries, leader_commit, read_seq);
        }
        if !self.log.matches(prev_log_index, prev_log_term) {
            return self.reject_append(from, prev_log_index, read_seq);
        }
        self.accept_entries(from, prev_log_index, entries, leader_commit, read_seq);
    }

    /// Stores entries that follow a matching `prev_log_index`.
    fn accept_entries(
        &mut self,
        from: NodeId,
        prev_log_index: LogIndex,
        entries: Vec<Entry>,
        leader_commit: LogIndex,
        read_seq: u64,
    ) {
        let last_new = LogIndex(prev_log_index.0 + entries.len() as u64);
        if let Some(first) = entries.first().map(|e| e.index) {
            self.log.append_after_match(entries);
            self.on_log_changed(first);
        }
        // Figure 2: commitIndex = min(leaderCommit, index of last new entry).
        self.log.commit_to(leader_commit.min(last_new));
        self.reply_append_ok(from, last_new, read_seq);
    }

    fn reply_append_ok(&mut self, to: NodeId, index: LogIndex, read_seq: u64) {
        let body = Body::AppendEntriesResponse {
            success: true,
            index,
            conflict_term: None,
            conflict_index: LogIndex(0),
            read_seq,
        };
        self.send_after_persist(to, body);
    }

    /// Rejects with a hint for fast backtracking (§5.3, "the follower can
    /// include the term of the conflicting entry and the first index it
    /// stores for that term").
    fn reject_append(&mut self, to: NodeId, prev_log_index: LogIndex, read_seq: u64) {
        let (conflict_term, conflict_index) = if prev_log_index > self.log.last_index() {
            (None, self.log.last_index().next())
        } else {
            let term = self.log.term(prev_log_index);
            (term, self.log.first_index_of_term_at(prev_log_index))
        };
        let body = Body::AppendEntriesResponse {
            success: false,
            index: prev_log_index,
            conflict_term,
            conflict_index,
            read_seq,
        };
        self.send(to, body);
    }

    /// Leader side of an AppendEntries answer.
    pub(crate) fn handle_append_response(
        &mut self,
        from: NodeId,
        success: bool,
        index: LogIndex,
        conflict_term: Option<Term>,
        conflict_index: LogIndex,
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
        if success {
            self.on_append_acked(from, index);
        } else {
            let hint = self.backtrack_hint(conflict_term, conflict_index);
            let pr = self.progress.get_mut(&from).unwrap();
            // The follower's log now ends before what it once acknowledged:
            // it lost its data (wiped disk). Start over from what it has.
            let lost_log = conflict_term.is_none()
                && index >= pr.match_index
                && conflict_index <= pr.match_index;
            if lost_log {
                pr.forget_match(conflict_index.prev());
            }
            if pr.maybe_decrease_to(index, hint) {
                self.maybe_send_append(from, true);
            }
        }
        self.maybe_confirm_reads();
    }

    /// Where to resume after a rejection: past our last entry of the
    /// follower's conflicting term if we have that term, else at the
    /// follower's first index of it.
    fn backtrack_hint(&self, conflict_term: Option<Term>, conflict_index: LogIndex) -> LogIndex {
        let from_term = conflict_term.and_then(|t| self.log.last_index_of_term(t));
        from_term.map_or(conflict_index, |i| i.next()).max(LogIndex(1))
    }

    fn on_append_acked(&mut self, from: NodeId, index: LogIndex) {
        let pr = self.progress.get_mut(&from).unwrap();
        let updated = pr.maybe_update(index);
        if let ReplicationState::Probe { .. } = pr.state {
            pr.become_replicate();
        }
        if updated {
            self.maybe_commit();
            if !self.is_leader() {
                return;
            }
            self.maybe_send_timeout_now(from);
        }
        self.maybe_send_append(from, false);
    }

    /// §5.3/§5.4.2: commit the highest index stored on a majority of voters,
    /// but only if its entry is from the current term; earlier entries are
    /// then committed indirectly (the Figure 8 rule).
    pub(crate) fn maybe_commit(&mut self) {
        let me = self.id();
        let mut matched: Vec<LogIndex> = self
            .membership
            .voters
            .iter()
            .map(|id| {
                if *id == me {
                    self.log.persisted
                } else {
                    self.progress.get(id).map_or(LogIndex(0), |p| p.match_index)
                }
            })
            .collect();
        if matched.is_empty() {
            return;
        }
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matched[self.membership.quorum() - 1];
        if candidate <= self.log.committed {
            return;
        }
        let current_term = self.log.term(candidate) == Some(self.term);
        if !current_term && !self.bug_commit_old_terms() {
            return;
        }
        let was_behind = self.log.term(self.log.committed) != Some(self.term);
        self.log.commit_to(candidate);
        if was_behind {
            self.on_first_commit_of_term();
        }
        self.maybe_step_down_removed();
    }

    #[cfg(feature = "bug-injection")]
    fn bug_commit_old_terms(&self) -> bool {
        self.config.bugs.commit_old_term_by_count
    }
    #[cfg(not(feature = "bug-injection"))]
    fn bug_commit_old_terms(&self) -> bool {
        false
    }
}
