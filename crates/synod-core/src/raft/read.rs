//! Linearizable reads by ReadIndex, and optional leader leases (thesis §6.4).
//!
//! A read registered at commit index `c` is served once the leader knows it
//! was still leader after the read arrived: a majority answered a message
//! sent after registration. Every append carries the leader's current
//! `read_seq`; a follower's answer echoes it, so a round is confirmed when a
//! majority has echoed a seq at least as high as the read's.

use std::collections::VecDeque;

use super::{Effect, ReadError};
use crate::{LogIndex, Time};

/// Pending reads of a leader.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct ReadState {
    seq: u64,
    /// Reads waiting for the first commit of the leader's term.
    waiting_for_commit: Vec<u64>,
    /// (seq, read index, ctx) waiting for a majority to echo `seq`.
    pending: VecDeque<(u64, LogIndex, u64)>,
    /// When each recent round was started, for leases: (seq, time).
    rounds: VecDeque<(u64, Time)>,
    /// The lease holds until this time (lease reads only).
    lease_until: Option<Time>,
    /// No lease may be taken again in this term (a transfer was started).
    lease_void: bool,
    /// Reads are waiting for a round that has not been sent yet.
    round_requested: bool,
}

const ROUNDS_KEPT_MAX: usize = 64;

impl ReadState {
    /// The current round.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Starts a new round; messages sent from now carry its seq.
    pub fn start_round(&mut self, now: Time) {
        self.seq += 1;
        self.round_requested = false;
        self.rounds.push_back((self.seq, now));
        if self.rounds.len() > ROUNDS_KEPT_MAX {
            self.rounds.pop_front();
        }
    }

    /// Ends the lease for the rest of the term.
    pub fn void_lease(&mut self) {
        self.lease_until = None;
        self.lease_void = true;
    }

    /// Drops every pending read, returning their contexts.
    pub fn drain_all(&mut self) -> Vec<u64> {
        let mut ctxs = std::mem::take(&mut self.waiting_for_commit);
        ctxs.extend(self.pending.drain(..).map(|(_, _, ctx)| ctx));
        self.lease_until = None;
        ctxs
    }
}

impl super::Raft {
    /// Registers a linearizable read; [`Effect::ReadReady`] says when and
    /// at which index it may be served, [`Effect::ReadFailed`] if leadership
    /// is lost first.
    pub fn read_index(&mut self, ctx: u64) -> Result<(), ReadError> {
        if !self.is_leader() {
            return Err(ReadError::NotLeader { leader_hint: self.leader });
        }
        if self.log.term(self.log.committed) != Some(self.term) {
            // Thesis §6.4 step 1: until an entry of its term commits, a new
            // leader does not know the commit index.
            self.reads.waiting_for_commit.push(ctx);
            return Ok(());
        }
        self.register_read(ctx);
        Ok(())
    }

    fn register_read(&mut self, ctx: u64) {
        let index = self.log.committed;
        if self.is_sole_voter() || self.lease_is_valid() || self.bug_read_without_heartbeat() {
            self.effects.push(Effect::ReadReady { ctx, index });
            return;
        }
        // The read waits for the next round: one whose messages leave after
        // it arrived. Reads registered before that round goes out share it.
        self.reads.pending.push_back((self.reads.seq + 1, index, ctx));
        self.reads.round_requested = true;
    }

    /// Sends the round that pending reads wait for, once per driver round.
    pub(crate) fn maybe_start_read_round(&mut self) {
        if self.is_leader() && self.reads.round_requested {
            self.reads.start_round(self.now);
            self.broadcast_append(true);
        }
    }

    fn is_sole_voter(&self) -> bool {
        self.membership.voters.len() == 1 && self.membership.is_voter(self.id())
    }

    /// A lease is void once a transfer starts: the target's election skips
    /// the followers' leader stickiness the lease relies on.
    fn lease_is_valid(&self) -> bool {
        self.config.lease_reads
            && self.transferee.is_none()
            && self.reads.lease_until.is_some_and(|until| self.now < until)
    }

    /// Called when the leader commits the first entry of its term.
    pub(crate) fn on_first_commit_of_term(&mut self) {
        for ctx in std::mem::take(&mut self.reads.waiting_for_commit) {
            self.register_read(ctx);
        }
    }

    /// Releases the reads whose round a majority has answered.
    pub(crate) fn maybe_confirm_reads(&mut self) {
        let me = self.id();
        let mut acked: Vec<u64> = self
            .membership
            .voters
            .iter()
            .map(|id| {
                if *id == me {
                    self.reads.seq
                } else {
                    self.progress.get(id).map_or(0, |p| p.read_seq_acked)
                }
            })
            .collect();
        if acked.is_empty() {
            return;
        }
        acked.sort_unstable_by(|a, b| b.cmp(a));
        let confirmed = acked[self.membership.quorum() - 1];
        self.extend_lease(confirmed);
        while self.reads.pending.front().is_some_and(|(s, _, _)| *s <= confirmed) {
            let (_, index, ctx) = self.reads.pending.pop_front().unwrap();
            self.effects.push(Effect::ReadReady { ctx, index });
        }
    }

    /// Thesis §6.4.1: a majority answered a round started at `t`, so no
    /// other leader can be elected before `t` plus the minimum election
    /// timeout (followers refuse votes while they hear from us).
    fn extend_lease(&mut self, confirmed: u64) {
        if !self.config.lease_reads || self.reads.lease_void {
            return;
        }
        let started = self.reads.rounds.iter().rev().find(|(s, _)| *s <= confirmed);
        if let Some((_, at)) = started {
            let lease_ms = self.config.election_timeout_ms_min * self.config.lease_percent / 100;
            let until = at.plus_ms(lease_ms);
            self.reads.lease_until = Some(self.reads.lease_until.map_or(until, |u| u.max(until)));
        }
    }

    #[cfg(feature = "bug-injection")]
    fn bug_read_without_heartbeat(&self) -> bool {
        self.config.bugs.read_without_heartbeat
    }
    #[cfg(not(feature = "bug-injection"))]
    fn bug_read_without_heartbeat(&self) -> bool {
        false
    }
}
