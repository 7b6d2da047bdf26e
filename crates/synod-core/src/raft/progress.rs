//! The leader's view of one follower's replication (thesis §3.5).

use std::collections::VecDeque;

use crate::{LogIndex, Time};

/// How the leader currently sends to a follower.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ReplicationState {
    /// Looking for the last matching index: one append at a time.
    Probe {
        /// An append is out and unanswered; wait for it or a heartbeat.
        paused: bool,
    },
    /// Streaming: up to `inflight_msgs_max` appends in flight.
    Replicate,
    /// Sending a snapshot in chunks, one chunk in flight.
    Snapshot {
        /// The snapshot being sent.
        index: LogIndex,
        /// The next byte to send.
        offset: u64,
    },
}

/// Replication progress of one follower or learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Progress {
    /// Highest index known to match the leader's log.
    pub match_index: LogIndex,
    /// Next index to send.
    pub next_index: LogIndex,
    /// How appends are sent.
    pub state: ReplicationState,
    /// Last index of each append in flight (Replicate state).
    pub inflight: VecDeque<LogIndex>,
    /// When the leader last heard from this follower (CheckQuorum).
    pub last_active: Time,
    /// Highest read round the follower has answered.
    pub read_seq_acked: u64,
}

impl Progress {
    /// A follower the leader knows nothing about yet.
    pub fn new(next_index: LogIndex, now: Time) -> Progress {
        Progress {
            match_index: LogIndex(0),
            next_index,
            state: ReplicationState::Probe { paused: false },
            inflight: VecDeque::new(),
            last_active: now,
            read_seq_acked: 0,
        }
    }

    /// Switches to probing from `next_index`.
    pub fn become_probe(&mut self, next_index: LogIndex) {
        self.state = ReplicationState::Probe { paused: false };
        self.next_index = next_index.max(self.match_index.next());
        self.inflight.clear();
    }

    /// Switches to streaming after a successful probe.
    pub fn become_replicate(&mut self) {
        self.state = ReplicationState::Replicate;
        self.next_index = self.match_index.next();
        self.inflight.clear();
    }

    /// Switches to sending the snapshot ending at `index`.
    pub fn become_snapshot(&mut self, index: LogIndex) {
        self.state = ReplicationState::Snapshot { index, offset: 0 };
        self.inflight.clear();
    }

    /// Records an acknowledgement up to `index`; returns whether it was news.
    pub fn maybe_update(&mut self, index: LogIndex) -> bool {
        let updated = index > self.match_index;
        if updated {
            self.match_index = index;
        }
        self.next_index = self.next_index.max(index.next());
        while self.inflight.front().is_some_and(|last| *last <= index) {
            self.inflight.pop_front();
        }
        updated
    }

    /// Lowers the match index to `last` after the follower lost entries it
    /// had acknowledged (its storage was wiped).
    pub fn forget_match(&mut self, last: LogIndex) {
        self.match_index = last;
        self.inflight.clear();
    }

    /// Handles a rejection of the append whose `prev_log_index` was
    /// `rejected`; returns false when the rejection is stale.
    pub fn maybe_decrease_to(&mut self, rejected: LogIndex, hint: LogIndex) -> bool {
        if self.state == ReplicationState::Replicate {
            if rejected <= self.match_index {
                return false;
            }
            self.become_probe(hint);
            return true;
        }
        if rejected != self.next_index.prev() {
            return false;
        }
        self.become_probe(hint.min(rejected));
        true
    }

    /// Whether the leader should hold further appends back.
    pub fn is_paused(&self, inflight_msgs_max: usize) -> bool {
        match self.state {
            ReplicationState::Probe { paused } => paused,
            ReplicationState::Replicate => self.inflight.len() >= inflight_msgs_max,
            ReplicationState::Snapshot { .. } => true,
        }
    }
}
