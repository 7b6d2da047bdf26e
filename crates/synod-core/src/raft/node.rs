//! [`Raft`], the core's main type: state, inputs, role changes and effects.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;
use rand::Rng;

use super::log::RaftLog;
use super::progress::Progress;
use super::read::ReadState;
use super::snapshot::IncomingSnapshot;
use super::{
    Body, Config, DurableState, Effect, Entry, EntryPayload, HardState, Membership,
    MembershipChange, MembershipError, Message, PersistRequest, ProposeError, Snapshot,
    SnapshotMeta, TransferError,
};
use crate::rng::core_rng;
use crate::{CoreRng, LogIndex, NodeId, Term, Time, TimerKind, TimerTable};

/// The role of a core (§5.1, plus the PreVote phase of thesis §9.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows a leader, or waits for one.
    Follower,
    /// Probing whether an election could succeed, without changing term.
    PreCandidate,
    /// Campaigning in its own term.
    Candidate,
    /// Leads its term.
    Leader,
}

/// The Raft core's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// Follower/candidate: start an election (§5.2).
    Election,
    /// Leader: send heartbeats.
    Heartbeat,
    /// Leader: give up a leadership transfer (thesis §3.10).
    Transfer,
}

impl TimerKind for Timer {
    const ALL: &'static [Timer] = &[Timer::Election, Timer::Heartbeat, Timer::Transfer];
    fn index(self) -> usize {
        self as usize
    }
}

/// One Raft server as a sans-IO state machine. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct Raft {
    pub(crate) config: Config,
    pub(crate) rng: CoreRng,
    pub(crate) now: Time,
    /// Whether any input has arrived yet; the first one re-bases the
    /// election timer on the driver's clock (a restart does not know it).
    pub(crate) started: bool,
    /// Proposals were appended since the last round; send them in one batch.
    pub(crate) append_pending: bool,
    /// With lease reads, a (re)started node refuses votes until then.
    pub(crate) votes_refused_until: Option<Time>,
    pub(crate) term: Term,
    pub(crate) vote: Option<NodeId>,
    pub(crate) role: Role,
    pub(crate) leader: Option<NodeId>,
    /// When this node last heard from the leader of its term (or, as leader,
    /// last confirmed a quorum): votes are refused until it is stale.
    pub(crate) leader_contact: Option<Time>,
    pub(crate) log: RaftLog,
    pub(crate) membership: Membership,
    pub(crate) membership_index: LogIndex,
    pub(crate) votes: BTreeMap<NodeId, bool>,
    pub(crate) progress: BTreeMap<NodeId, Progress>,
    pub(crate) timers: TimerTable<Timer, 3>,
    pub(crate) transferee: Option<NodeId>,
    /// The (term, leader) pair last reported with [`Effect::LeaderChanged`].
    pub(crate) leader_notice: (Term, Option<NodeId>),
    pub(crate) reads: ReadState,
    pub(crate) snapshot: Snapshot,
    pub(crate) incoming_snapshot: Option<IncomingSnapshot>,
    /// A snapshot to write with the next persist request, and whether it
    /// replaces the whole log (installed from the leader) or only a prefix.
    pub(crate) snapshot_to_persist: Option<(Snapshot, bool)>,
    pub(crate) effects: Vec<Effect>,
    /// Messages that may leave only once persist `seq` is confirmed.
    pub(crate) after_persist: VecDeque<(u64, Message)>,
    pub(crate) hard_state_persisted: HardState,
    /// Test-only (bug injection): the vote was granted without being written.
    pub(crate) vote_is_volatile: bool,
    pub(crate) persist_seq_emitted: u64,
    pub(crate) persist_seq_confirmed: u64,
    /// (seq, last index, last term) of each unconfirmed persist request.
    pub(crate) persists_in_flight: VecDeque<(u64, LogIndex, Term)>,
}

impl Raft {
    /// A brand-new node of a cluster whose initial voters are `voters`.
    /// Every node of a new cluster must be started with the same list.
    pub fn new(config: Config, voters: &[NodeId]) -> Raft {
        let membership = Membership::with_voters(voters.iter().copied());
        let meta = SnapshotMeta { index: LogIndex(0), term: Term(0), membership };
        let snapshot = Snapshot { meta, data: Bytes::new() };
        Raft::restart(config, DurableState { snapshot: Some(snapshot), ..Default::default() })
    }

    /// A node that joins an existing cluster: it knows no configuration and
    /// waits to be added (as a learner) and contacted by the leader.
    pub fn new_joining(config: Config) -> Raft {
        Raft::restart(config, DurableState::default())
    }

    /// A node restarting from what it had durably stored.
    pub fn restart(config: Config, durable: DurableState) -> Raft {
        let snapshot = durable.snapshot.unwrap_or_default();
        let hs = durable.hard_state;
        let log = RaftLog::restore(snapshot.meta.clone(), durable.entries, hs.commit);
        let (membership_index, membership) = log.membership_at(log.last_index());
        let rng = core_rng(config.rng_seed, config.id.0);
        let mut raft = Raft {
            rng,
            now: Time(0),
            started: false,
            append_pending: false,
            votes_refused_until: None,
            term: hs.term,
            vote: hs.vote,
            role: Role::Follower,
            leader: None,
            leader_contact: None,
            log,
            membership,
            membership_index,
            votes: BTreeMap::new(),
            progress: BTreeMap::new(),
            timers: TimerTable::default(),
            transferee: None,
            leader_notice: (hs.term, None),
            reads: ReadState::default(),
            snapshot,
            incoming_snapshot: None,
            snapshot_to_persist: None,
            effects: Vec::new(),
            after_persist: VecDeque::new(),
            hard_state_persisted: hs,
            vote_is_volatile: false,
            persist_seq_emitted: 0,
            persist_seq_confirmed: 0,
            persists_in_flight: VecDeque::new(),
            config,
        };
        raft.reset_election_timer();
        raft
    }

    // ----- inspection -------------------------------------------------------

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }
    /// The current term.
    pub fn term(&self) -> Term {
        self.term
    }
    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Whether this node leads the current term.
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }
    /// The leader of the current term, if known.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// The candidate voted for in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.vote
    }
    /// The highest committed index known here.
    pub fn commit_index(&self) -> LogIndex {
        self.log.committed
    }
    /// The highest index handed to the state machine.
    pub fn applied_index(&self) -> LogIndex {
        self.log.applied
    }
    /// The highest index durable on this node.
    pub fn persisted_index(&self) -> LogIndex {
        self.log.persisted
    }
    /// Index of the last log entry.
    pub fn last_index(&self) -> LogIndex {
        self.log.last_index()
    }
    /// Term of the entry at `index`, if held.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        self.log.term(index)
    }
    /// The entry at `index`, if held (not compacted).
    pub fn entry(&self, index: LogIndex) -> Option<&Entry> {
        self.log.entry(index)
    }
    /// The compacted prefix.
    pub fn snapshot_meta(&self) -> &SnapshotMeta {
        &self.log.snapshot
    }
    /// The configuration in force (the latest in the log).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }
    /// The leader's view of a follower: (match index, next index).
    pub fn progress_of(&self, id: NodeId) -> Option<(LogIndex, LogIndex)> {
        self.progress.get(&id).map(|p| (p.match_index, p.next_index))
    }
    /// The earliest time at which [`Raft::handle_timeout`] has work to do.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next_deadline()
    }

    // ----- inputs -----------------------------------------------------------

    /// Handles a message from a peer (§5.1: terms first, then by role).
    pub fn handle_message(&mut self, msg: Message, now: Time) {
        self.advance_time(now);
        if msg.to != self.id() || msg.from == self.id() {
            return;
        }
        if msg.term > self.term {
            if !self.accept_higher_term(&msg) {
                return;
            }
        } else if msg.term < self.term {
            self.handle_stale_term(&msg);
            return;
        }
        self.dispatch(msg);
    }

    fn dispatch(&mut self, msg: Message) {
        let from = msg.from;
        match msg.body {
            Body::RequestVote { last_log_index, last_log_term, pre_vote, .. } => {
                self.handle_vote_request(from, msg.term, last_log_index, last_log_term, pre_vote)
            }
            Body::RequestVoteResponse { granted, pre_vote } => {
                self.handle_vote_response(from, msg.term, granted, pre_vote)
            }
            Body::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                read_seq,
            } => self.handle_append(
                from,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                read_seq,
            ),
            Body::AppendEntriesResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                read_seq,
            } => self.handle_append_response(
                from,
                success,
                index,
                conflict_term,
                conflict_index,
                read_seq,
            ),
            Body::InstallSnapshot { meta, offset, data, done, read_seq } => {
                self.handle_snapshot_chunk(from, meta, offset, data, done, read_seq)
            }
            Body::InstallSnapshotResponse { snapshot_index, next_offset, done, read_seq } => {
                self.handle_snapshot_response(from, snapshot_index, next_offset, done, read_seq)
            }
            Body::TimeoutNow => self.handle_timeout_now(from),
        }
    }

    /// A message of a higher term: adopt it unless it is a vote request we
    /// must ignore (leader stickiness) or a PreVote exchange. Returns
    /// whether to go on handling the message.
    fn accept_higher_term(&mut self, msg: &Message) -> bool {
        match msg.body {
            Body::RequestVote { pre_vote, transfer, .. } => {
                let refusing = self.votes_refused_until.is_some_and(|until| self.now < until);
                if !transfer && (self.hears_from_leader() || refusing) {
                    return false;
                }
                if !pre_vote {
                    self.become_follower(msg.term, None);
                }
            }
            Body::RequestVoteResponse { pre_vote: true, granted: true } => {}
            Body::AppendEntries { .. } | Body::InstallSnapshot { .. } | Body::TimeoutNow => {
                self.become_follower(msg.term, Some(msg.from));
            }
            _ => self.become_follower(msg.term, None),
        }
        true
    }

    /// A message of an older term: tell stale leaders and pre-candidates our
    /// term so they step down (thesis §9.6); drop everything else.
    fn handle_stale_term(&mut self, msg: &Message) {
        match msg.body {
            Body::AppendEntries { .. } | Body::InstallSnapshot { .. } => {
                let body = Body::AppendEntriesResponse {
                    success: false,
                    index: LogIndex(0),
                    conflict_term: None,
                    conflict_index: LogIndex(0),
                    read_seq: 0,
                };
                self.send(msg.from, body);
            }
            Body::RequestVote { pre_vote: true, .. } => {
                self.send(msg.from, Body::RequestVoteResponse { granted: false, pre_vote: true });
            }
            _ => {}
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        self.advance_time(now);
        for timer in self.timers.take_expired(now) {
            match timer {
                Timer::Election => self.on_election_timeout(),
                Timer::Heartbeat => self.on_heartbeat_timeout(),
                Timer::Transfer => self.abort_transfer(),
            }
        }
    }

    fn advance_time(&mut self, now: Time) {
        self.now = self.now.max(now);
        if !self.started {
            self.started = true;
            // A core restarted at a late time would otherwise campaign at
            // once: its election timer was armed relative to Time(0).
            let overdue = self.timers.get(Timer::Election).is_some_and(|at| now > at);
            if self.role != Role::Leader && overdue {
                self.reset_election_timer();
            }
            if self.config.lease_reads {
                // We may have acknowledged a leader's lease just before a
                // restart: help no one depose it until that lease has expired.
                self.votes_refused_until = Some(now.plus_ms(self.config.election_timeout_ms_min));
            }
        }
    }

    /// Confirms that persist request `seq` (and all before it) is durable.
    pub fn on_persisted(&mut self, seq: u64, now: Time) {
        self.advance_time(now);
        if seq <= self.persist_seq_confirmed {
            return;
        }
        assert!(seq <= self.persist_seq_emitted, "confirmed a persist that was never requested");
        self.persist_seq_confirmed = seq;
        while let Some(&(s, index, term)) = self.persists_in_flight.front() {
            if s > seq {
                break;
            }
            self.persists_in_flight.pop_front();
            self.log.stable_to(index, term);
        }
        while self.after_persist.front().is_some_and(|(s, _)| *s <= seq) {
            let (_, msg) = self.after_persist.pop_front().unwrap();
            if msg.to == self.id() {
                // A self-message of an older term (our vote in an election
                // we have since abandoned) must not count in the current one.
                if msg.term == self.term {
                    self.dispatch(msg);
                }
            } else {
                self.effects.push(Effect::Send(msg));
            }
        }
        if self.is_leader() {
            self.maybe_commit();
        }
    }

    /// Drains the effects of everything handled since the last call: at
    /// most one persist request first, then sends, applies and notices.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.maybe_start_read_round();
        if std::mem::take(&mut self.append_pending) && self.is_leader() {
            self.broadcast_append(false);
        }
        let nothing_to_apply = self.log.committed.min(self.log.persisted) <= self.log.applied;
        if self.effects.is_empty() && nothing_to_apply && !self.has_unpersisted_changes() {
            return Vec::new();
        }
        let mut effects = Vec::with_capacity(self.effects.len() + 2);
        if let Some(req) = self.build_persist_request() {
            effects.push(Effect::Persist(req));
        }
        effects.append(&mut self.effects);
        let entries = self.log.take_applicable();
        if !entries.is_empty() {
            effects.push(Effect::Apply(entries));
        }
        effects
    }

    fn build_persist_request(&mut self) -> Option<PersistRequest> {
        let hs = self.hard_state();
        let hs_changed =
            hs.term != self.hard_state_persisted.term || hs.vote != self.hard_state_persisted.vote;
        let unstable = self.log.take_unstable();
        let snapshot = self.snapshot_to_persist.take();
        if !hs_changed && unstable.is_none() && snapshot.is_none() {
            return None;
        }
        self.persist_seq_emitted += 1;
        let seq = self.persist_seq_emitted;
        self.persists_in_flight.push_back((seq, self.log.last_index(), self.log.last_term()));
        let commit_changed = hs.commit != self.hard_state_persisted.commit;
        let hard_state = (hs_changed || commit_changed).then_some(hs);
        self.hard_state_persisted = hs;
        let (mut truncate_from, entries) = match unstable {
            Some((from, entries)) => (Some(from), entries),
            None => (None, Vec::new()),
        };
        if let Some((snap, true)) = &snapshot {
            let after = snap.meta.index.next();
            truncate_from = Some(truncate_from.map_or(after, |t| t.min(after)));
        }
        let snapshot = snapshot.map(|(snap, _)| snap);
        Some(PersistRequest { seq, hard_state, snapshot, truncate_from, entries })
    }

    /// The hard state as of now.
    pub fn hard_state(&self) -> HardState {
        let vote = if self.vote_is_volatile { None } else { self.vote };
        HardState { term: self.term, vote, commit: self.log.committed }
    }

    /// Whether the current round must write anything.
    fn has_unpersisted_changes(&self) -> bool {
        let hs = self.hard_state();
        hs.term != self.hard_state_persisted.term
            || hs.vote != self.hard_state_persisted.vote
            || self.log.unstable_from.is_some()
            || self.snapshot_to_persist.is_some()
    }

    // ----- sending ------------------------------------------------------------

    /// Queues a message that depends on no unpersisted state.
    pub(crate) fn send(&mut self, to: NodeId, body: Body) {
        let msg = Message { from: self.id(), to, term: self.term, body };
        self.effects.push(Effect::Send(msg));
    }

    /// Queues a message that may leave only after everything this node has
    /// written so far is durable (vote grants, append acknowledgements).
    pub(crate) fn send_after_persist(&mut self, to: NodeId, body: Body) {
        let msg = Message { from: self.id(), to, term: self.term, body };
        let seq = if self.has_unpersisted_changes() {
            self.persist_seq_emitted + 1
        } else if self.persist_seq_emitted > self.persist_seq_confirmed {
            self.persist_seq_emitted
        } else if to == self.id() {
            return self.dispatch(msg);
        } else {
            self.effects.push(Effect::Send(msg));
            return;
        };
        self.after_persist.push_back((seq, msg));
    }

    // ----- role changes -------------------------------------------------------

    pub(crate) fn reset_election_timer(&mut self) {
        let (min, max) = (self.config.election_timeout_ms_min, self.config.election_timeout_ms_max);
        let timeout = self.rng.random_range(min..max);
        self.timers.set(Timer::Election, self.now.plus_ms(timeout));
    }

    /// Whether a leader of this term was heard from within the minimum
    /// election timeout; such a node refuses to help depose it (thesis §4.2.3).
    pub(crate) fn hears_from_leader(&self) -> bool {
        if !self.config.check_quorum || self.leader.is_none() {
            return false;
        }
        self.leader_contact
            .is_some_and(|at| self.now.ms_since(at) < self.config.election_timeout_ms_min)
    }

    pub(crate) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        let was_leader = self.is_leader();
        if term > self.term {
            self.term = term;
            self.vote = None;
            self.vote_is_volatile = false;
        }
        self.role = Role::Follower;
        self.votes.clear();
        self.set_leader(leader);
        if was_leader {
            self.step_down_cleanup();
        }
        self.reset_election_timer();
    }

    fn step_down_cleanup(&mut self) {
        self.progress.clear();
        self.transferee = None;
        self.timers.stop(Timer::Heartbeat);
        self.timers.stop(Timer::Transfer);
        let leader_hint = self.leader;
        for ctx in self.reads.drain_all() {
            self.effects.push(Effect::ReadFailed { ctx, leader_hint });
        }
    }

    pub(crate) fn set_leader(&mut self, leader: Option<NodeId>) {
        if leader.is_some() {
            self.leader_contact = Some(self.now);
        }
        self.leader = leader;
        if self.leader_notice != (self.term, leader) {
            self.leader_notice = (self.term, leader);
            self.effects.push(Effect::LeaderChanged { term: self.term, leader });
        }
    }

    pub(crate) fn become_leader(&mut self) {
        self.role = Role::Leader;
        self.votes.clear();
        self.set_leader(Some(self.id()));
        self.timers.stop(Timer::Election);
        let next = self.log.last_index().next();
        self.progress = self
            .membership
            .members()
            .filter(|id| *id != self.id())
            .map(|id| (id, Progress::new(next, self.now)))
            .collect();
        self.reads = ReadState::default();
        // §8: a new leader commits a no-op to learn what is committed; thesis §6.4
        // requires it before serving reads.
        self.append_entry(EntryPayload::Noop);
        self.broadcast_append(true);
        self.timers.set(Timer::Heartbeat, self.now.plus_ms(self.config.heartbeat_interval_ms));
    }

    // ----- commands ------------------------------------------------------------

    /// Proposes a command; returns the index it will have if it commits.
    /// The caller learns the outcome from [`Effect::Apply`]: the entry at
    /// that index is this proposal only if its term matches.
    pub fn propose(&mut self, data: Bytes) -> Result<LogIndex, ProposeError> {
        self.check_can_propose()?;
        let index = self.append_entry(EntryPayload::Command(data));
        // Sent once per driver round (in take_effects), so proposals made
        // together travel in one batch.
        self.append_pending = true;
        Ok(index)
    }

    fn check_can_propose(&self) -> Result<(), ProposeError> {
        if !self.is_leader() {
            return Err(ProposeError::NotLeader { leader_hint: self.leader });
        }
        if let Some(target) = self.transferee {
            return Err(ProposeError::TransferInProgress(target));
        }
        Ok(())
    }

    /// Proposes a single-server membership change (thesis §4.1).
    pub fn propose_membership(
        &mut self,
        change: MembershipChange,
    ) -> Result<LogIndex, ProposeError> {
        self.check_can_propose()?;
        if self.membership_index > self.log.committed {
            return Err(MembershipError::ChangePending(self.membership_index).into());
        }
        if self.log.term(self.log.committed) != Some(self.term) {
            return Err(MembershipError::LeaderNotReady.into());
        }
        self.check_membership_change(change)?;
        let next = self.membership.apply(change);
        let index = self.append_entry(EntryPayload::Membership(next));
        self.broadcast_append(false);
        Ok(index)
    }

    fn check_membership_change(&self, change: MembershipChange) -> Result<(), MembershipError> {
        let m = &self.membership;
        match change {
            MembershipChange::AddLearner(id) if m.contains(id) => {
                Err(MembershipError::AlreadyMember(id))
            }
            MembershipChange::AddLearner(_) => Ok(()),
            MembershipChange::PromoteLearner(id) if !m.learners.contains(&id) => {
                Err(MembershipError::NotLearner(id))
            }
            MembershipChange::PromoteLearner(id) => {
                let matched = self.progress.get(&id).map_or(LogIndex(0), |p| p.match_index);
                let lag = self.log.last_index().0.saturating_sub(matched.0);
                if lag > self.config.learner_lag_entries_max {
                    return Err(MembershipError::NotCaughtUp { id, lag });
                }
                Ok(())
            }
            MembershipChange::Remove(id) if !m.contains(id) => Err(MembershipError::NotMember(id)),
            MembershipChange::Remove(id) if m.voters.len() == 1 && m.is_voter(id) => {
                Err(MembershipError::LastVoter(id))
            }
            MembershipChange::Remove(_) => Ok(()),
        }
    }

    /// Hands leadership to `target` (thesis §3.10): stop accepting
    /// proposals, bring the target up to date, then send it TimeoutNow.
    pub fn transfer_leader(&mut self, target: NodeId) -> Result<(), TransferError> {
        if !self.is_leader() {
            return Err(TransferError::NotLeader { leader_hint: self.leader });
        }
        if target == self.id() {
            return Err(TransferError::AlreadyLeader(target));
        }
        if !self.membership.is_voter(target) {
            return Err(TransferError::NotVoter(target));
        }
        self.transferee = Some(target);
        // A TimeoutNow may still arrive after the transfer is abandoned.
        self.reads.void_lease();
        self.timers.set(Timer::Transfer, self.now.plus_ms(self.config.election_timeout_ms_min));
        self.maybe_send_timeout_now(target);
        self.maybe_send_append(target, true);
        Ok(())
    }

    pub(crate) fn maybe_send_timeout_now(&mut self, target: NodeId) {
        let caught_up =
            self.progress.get(&target).is_some_and(|p| p.match_index == self.log.last_index());
        if self.transferee == Some(target) && caught_up {
            self.send(target, Body::TimeoutNow);
        }
    }

    fn abort_transfer(&mut self) {
        self.transferee = None;
    }

    // ----- membership -----------------------------------------------------------

    /// Appends an entry of the current term to the leader's log.
    pub(crate) fn append_entry(&mut self, payload: EntryPayload) -> LogIndex {
        let index = self.log.last_index().next();
        let entry = Entry { term: self.term, index, payload };
        self.log.push(entry);
        self.on_log_changed(index);
        index
    }

    /// Re-reads the configuration after entries at or after `from` changed:
    /// a configuration takes effect as soon as it is in the log (thesis §4.1).
    pub(crate) fn on_log_changed(&mut self, from: LogIndex) {
        let has_new_config = self
            .log
            .slice(from, self.log.last_index())
            .iter()
            .any(|e| matches!(e.payload, EntryPayload::Membership(_)));
        if !has_new_config && from > self.membership_index {
            return;
        }
        let (index, membership) = self.log.membership_at(self.log.last_index());
        self.membership_index = index;
        if membership != self.membership {
            self.membership = membership;
            self.on_membership_changed();
        }
    }

    fn on_membership_changed(&mut self) {
        if !self.is_leader() {
            return;
        }
        let next = self.log.last_index().next();
        let me = self.id();
        let members: BTreeSet<NodeId> = self.membership.members().filter(|id| *id != me).collect();
        self.progress.retain(|id, _| members.contains(id));
        for id in members {
            let now = self.now;
            self.progress.entry(id).or_insert_with(|| Progress::new(next, now));
        }
    }

    /// Thesis §4.2.2: a leader removed from the configuration steps down
    /// once the configuration without it has committed.
    pub(crate) fn maybe_step_down_removed(&mut self) {
        if self.is_leader()
            && !self.membership.is_voter(self.id())
            && self.membership_index <= self.log.committed
        {
            self.become_follower(self.term, None);
        }
    }

    /// Stores a snapshot to persist with the next request; `replaces_log`
    /// when it was installed from the leader and the old log is void.
    pub(crate) fn queue_snapshot_persist(&mut self, snapshot: Snapshot, replaces_log: bool) {
        let replaces_log = replaces_log
            || self.snapshot_to_persist.as_ref().is_some_and(|(_, replaced)| *replaced);
        self.snapshot_to_persist = Some((snapshot, replaces_log));
    }
}
