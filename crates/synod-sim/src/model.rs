//! A stateright model of the Raft core: three unmodified [`Raft`] cores
//! behind a thin actor adapter, explored exhaustively within small bounds.
//!
//! # What is modelled
//!
//! * **Actors.** A message delivery calls [`Raft::handle_message`], a timer
//!   [`Raft::handle_timeout`], a client proposal [`Raft::propose`] (empty
//!   payload). After every input the adapter drains [`Raft::take_effects`]
//!   until the core is quiet: an [`Effect::Persist`] is confirmed at once
//!   with [`Raft::on_persisted`] (and written to the actor's stateright
//!   storage when crashes are modelled), an [`Effect::Send`] goes on the
//!   network, every other effect is dropped.
//! * **Time** is abstract. Each node has its own clock, which moves only
//!   when one of its timers fires, and any armed timer may fire at any
//!   moment. [`ModelTimer`]s stand in for the core's timers by role:
//!   `Election` (not leader) and `Heartbeat` (leader) call `handle_timeout`
//!   at [`Raft::next_deadline`], so exactly the earliest core timer is due.
//!   `CheckQuorum` (leader, with `check_quorum` on) moves the clock a whole
//!   minimum election timeout past that deadline: the heartbeat's
//!   CheckQuorum then finds every follower silent for too long, as happens
//!   to an isolated leader. `Propose` is armed on a leader whose log is
//!   shorter than [`ModelConfig::max_log_len`].
//! * **Network.** Unordered: any message in flight may be delivered next,
//!   so messages on one link overtake each other. Non-duplicating by
//!   default (each message is delivered at most once); optionally
//!   duplicating (a message stays deliverable forever) or lossy (any
//!   message may be dropped). A message that is never delivered behaves
//!   like a lost one.
//! * **Crashes** (optional): a crashed node restarts with [`Raft::restart`]
//!   from exactly what it had persisted.
//!
//! # Bounds
//!
//! States are not explored past [`ModelConfig::max_term`],
//! [`ModelConfig::max_log_len`] (leader no-ops count),
//! [`ModelConfig::max_in_flight`] messages in flight overall and
//! [`ModelConfig::max_in_flight_per_link`] per ordered pair of nodes. A
//! message sent while an identical copy is still in flight (a repeated
//! heartbeat or PreVote round) is not explored either.
//!
//! # The state abstraction
//!
//! `Raft` is neither `Hash` nor `Eq`, and it holds state that must not be
//! part of a model state: its clock, timer deadlines and RNG grow without
//! bound. A node is compared and hashed by its [`NodeView`], a projection
//! onto the core's public protocol state: term, vote, role, known leader,
//! commit/applied/persisted indexes, every log entry, and as leader the
//! (match, next) index of each peer. On the wire `read_seq` is zeroed: the
//! model issues no reads, so it would only count heartbeats.
//!
//! The projection leaves out what the core does not expose: a candidate's
//! vote tally, a leader's replication pipeline (probe or replicate, appends
//! in flight) and when it last heard from each follower, and the clock. Of
//! two executions that reach equal projections but differ there, only the
//! first found is explored further. So the checker covers a subset of the
//! core's behaviours within the bounds, but every execution it explores is
//! a real execution of the core: a counterexample is always genuine. A
//! `Hash` view of that hidden state exported by `synod-core` would make the
//! model exact up to time.
//!
//! # Example
//!
//! ```no_run
//! use synod_sim::model::{check, ModelConfig, ELECTION_SAFETY};
//!
//! let report = check(&ModelConfig::default());
//! println!("{report}");
//! assert!(!report.found(ELECTION_SAFETY));
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use bytes::Bytes;
use stateright::actor::{
    Actor, ActorModel, ActorModelState, Envelope, Id, LossyNetwork, Network, Out,
};
use stateright::{Checker, Expectation, HasDiscoveries, Model};
use synod_core::raft::{
    Body, Bugs, Config, DurableState, Effect, Entry, EntryPayload, Membership, Message, Raft, Role,
    Snapshot, SnapshotMeta,
};
use synod_core::{LogIndex, NodeId, Term, Time};

/// Property: at most one leader per term, over the whole history (§5.2).
pub const ELECTION_SAFETY: &str = "election safety";
/// Property: two logs with an entry of the same index and term are
/// identical up to that index (§5.3).
pub const LOG_MATCHING: &str = "log matching";
/// Property: no two nodes have committed different entries at one index.
pub const COMMITTED_AGREE: &str = "committed entries agree";
/// Non-vacuity: some node becomes leader.
pub const LEADER_ELECTED: &str = "a leader is elected";
/// Non-vacuity: a client command commits.
pub const COMMAND_COMMITTED: &str = "a command commits";

/// Bounds and switches of one model-checking run.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Number of nodes, all voters.
    pub nodes: usize,
    /// Highest term explored.
    pub max_term: u64,
    /// Longest log explored; leaders stop proposing at this length.
    pub max_log_len: u64,
    /// PreVote (thesis §9.6) on every node.
    pub pre_vote: bool,
    /// CheckQuorum and leader stickiness (thesis §6.2) on every node.
    pub check_quorum: bool,
    /// Messages in flight, overall (with a duplicating network: distinct
    /// messages ever sent).
    pub max_in_flight: usize,
    /// Messages in flight from one node to another.
    pub max_in_flight_per_link: usize,
    /// Delivered messages stay deliverable.
    pub duplicating_network: bool,
    /// Any message in flight may be dropped.
    pub lossy_network: bool,
    /// Nodes crashed at once.
    pub max_crashes: usize,
    /// Protocol violations injected into every node.
    pub bugs: Bugs,
    /// Checker threads.
    pub threads: usize,
    /// Stop at the first counterexample instead of exploring everything.
    pub stop_at_violation: bool,
}

impl ModelConfig {
    /// Raft as in the paper (no PreVote, no CheckQuorum): 3 nodes, terms up
    /// to 3, logs up to 3 entries, at most 3 messages in flight.
    pub fn plain() -> ModelConfig {
        ModelConfig {
            nodes: 3,
            max_term: 3,
            max_log_len: 3,
            pre_vote: false,
            check_quorum: false,
            max_in_flight: 3,
            max_in_flight_per_link: usize::MAX,
            duplicating_network: false,
            lossy_network: false,
            max_crashes: 0,
            bugs: Bugs::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            stop_at_violation: false,
        }
    }

    /// synod's defaults, PreVote and CheckQuorum: 3 nodes, terms up to 2,
    /// logs up to 2 entries, at most 3 messages in flight and 1 per link.
    pub fn pre_vote_check_quorum() -> ModelConfig {
        ModelConfig {
            max_term: 2,
            max_log_len: 2,
            pre_vote: true,
            check_quorum: true,
            max_in_flight_per_link: 1,
            ..ModelConfig::plain()
        }
    }
}

impl Default for ModelConfig {
    fn default() -> ModelConfig {
        ModelConfig::plain()
    }
}

/// The model's stand-ins for the core's timers (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelTimer {
    /// Follower or (pre-)candidate: the election timeout.
    Election,
    /// Leader: the heartbeat timeout.
    Heartbeat,
    /// Leader: a heartbeat after a whole election timeout without news.
    CheckQuorum,
    /// Leader: a client proposes a command.
    Propose,
}

/// A core message on the model's network, with `read_seq` zeroed. `Ord`
/// (stateright sorts actions) agrees with `Eq`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WireMsg(pub Message);

impl WireMsg {
    fn new(mut msg: Message) -> WireMsg {
        match &mut msg.body {
            Body::AppendEntries { read_seq, .. }
            | Body::AppendEntriesResponse { read_seq, .. }
            | Body::InstallSnapshot { read_seq, .. }
            | Body::InstallSnapshotResponse { read_seq, .. } => *read_seq = 0,
            Body::RequestVote { .. } | Body::RequestVoteResponse { .. } | Body::TimeoutNow => {}
        }
        WireMsg(msg)
    }

    fn sort_key(&self) -> (u64, u64, u64, BodyKey) {
        let m = &self.0;
        (m.from.0, m.to.0, m.term.0, BodyKey::of(&m.body))
    }
}

impl PartialOrd for WireMsg {
    fn partial_cmp(&self, other: &WireMsg) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for WireMsg {
    fn cmp(&self, other: &WireMsg) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

/// Compact, for counterexamples: `t2 Append(prev 1:1, [2:2], commit 1)`.
impl fmt::Debug for WireMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0;
        write!(f, "t{} ", m.term.0)?;
        match &m.body {
            Body::RequestVote { last_log_index, last_log_term, pre_vote, .. } => {
                let kind = if *pre_vote { "PreVote" } else { "Vote" };
                write!(f, "{kind}(last {}:{})", last_log_index.0, last_log_term.0)
            }
            Body::RequestVoteResponse { granted, pre_vote } => {
                let kind = if *pre_vote { "PreVoteResp" } else { "VoteResp" };
                write!(f, "{kind}({})", if *granted { "granted" } else { "refused" })
            }
            Body::AppendEntries {
                prev_log_index, prev_log_term, entries, leader_commit, ..
            } => {
                let entries: Vec<String> = entries.iter().map(entry_label).collect();
                let (prev, term, commit) = (prev_log_index.0, prev_log_term.0, leader_commit.0);
                write!(f, "Append(prev {prev}:{term}, {entries:?}, commit {commit})")
            }
            Body::AppendEntriesResponse { success, index, .. } => {
                write!(f, "AppendResp({} {})", if *success { "ok" } else { "reject" }, index.0)
            }
            other => write!(f, "{other:?}"),
        }
    }
}

fn entry_label(e: &Entry) -> String {
    match e.payload {
        EntryPayload::Noop => format!("{}:{}(noop)", e.index.0, e.term.0),
        _ => format!("{}:{}", e.index.0, e.term.0),
    }
}

/// A totally ordered, lossless image of a [`Body`].
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum BodyKey {
    Vote(u64, u64, bool, bool),
    VoteResponse(bool, bool),
    Append(u64, u64, Vec<EntryKey>, u64, u64),
    AppendResponse(bool, u64, Option<u64>, u64, u64),
    Snapshot((u64, u64, MembershipKey), u64, Bytes, bool, u64),
    SnapshotResponse(u64, u64, bool, u64),
    TimeoutNow,
}

type EntryKey = (u64, u64, PayloadKey);
type MembershipKey = (Vec<u64>, Vec<u64>);

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PayloadKey {
    Noop,
    Command(Bytes),
    Membership(MembershipKey),
}

fn membership_key(m: &Membership) -> MembershipKey {
    (m.voters.iter().map(|n| n.0).collect(), m.learners.iter().map(|n| n.0).collect())
}

fn entry_key(e: &Entry) -> EntryKey {
    let payload = match &e.payload {
        EntryPayload::Noop => PayloadKey::Noop,
        EntryPayload::Command(data) => PayloadKey::Command(data.clone()),
        EntryPayload::Membership(m) => PayloadKey::Membership(membership_key(m)),
    };
    (e.index.0, e.term.0, payload)
}

impl BodyKey {
    fn of(body: &Body) -> BodyKey {
        match body {
            Body::RequestVote { last_log_index, last_log_term, pre_vote, transfer } => {
                BodyKey::Vote(last_log_index.0, last_log_term.0, *pre_vote, *transfer)
            }
            Body::RequestVoteResponse { granted, pre_vote } => {
                BodyKey::VoteResponse(*granted, *pre_vote)
            }
            Body::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                read_seq,
            } => {
                let entries = entries.iter().map(entry_key).collect();
                let (prev, term, commit) = (prev_log_index.0, prev_log_term.0, leader_commit.0);
                BodyKey::Append(prev, term, entries, commit, *read_seq)
            }
            Body::AppendEntriesResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                read_seq,
            } => {
                let term = conflict_term.map(|t| t.0);
                BodyKey::AppendResponse(*success, index.0, term, conflict_index.0, *read_seq)
            }
            Body::InstallSnapshot { meta, offset, data, done, read_seq } => {
                let meta = (meta.index.0, meta.term.0, membership_key(&meta.membership));
                BodyKey::Snapshot(meta, *offset, data.clone(), *done, *read_seq)
            }
            Body::InstallSnapshotResponse { snapshot_index, next_offset, done, read_seq } => {
                BodyKey::SnapshotResponse(snapshot_index.0, *next_offset, *done, *read_seq)
            }
            Body::TimeoutNow => BodyKey::TimeoutNow,
        }
    }
}

/// The projection of a core's state that the model compares and hashes
/// (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeView {
    /// Current term.
    pub term: Term,
    /// Vote in the current term.
    pub voted_for: Option<NodeId>,
    /// Role.
    pub role: Role,
    /// Known leader of the current term.
    pub leader: Option<NodeId>,
    /// Commit index.
    pub commit: LogIndex,
    /// Applied index.
    pub applied: LogIndex,
    /// Persisted index.
    pub persisted: LogIndex,
    /// The log from index 1 (the model never compacts).
    pub log: Vec<Entry>,
    /// As leader, (match, next) index of every other node, in id order.
    pub progress: Vec<Option<(LogIndex, LogIndex)>>,
}

impl NodeView {
    fn of(raft: &Raft, nodes: usize) -> NodeView {
        let first = raft.snapshot_meta().index.0 + 1;
        let log = (first..=raft.last_index().0)
            .map(|i| raft.entry(LogIndex(i)).expect("entries after the snapshot are held").clone())
            .collect();
        let progress = if raft.is_leader() {
            node_ids(nodes).filter(|id| *id != raft.id()).map(|id| raft.progress_of(id)).collect()
        } else {
            Vec::new()
        };
        NodeView {
            term: raft.term(),
            voted_for: raft.voted_for(),
            role: raft.role(),
            leader: raft.leader(),
            commit: raft.commit_index(),
            applied: raft.applied_index(),
            persisted: raft.persisted_index(),
            log,
            progress,
        }
    }

    /// The entry at `index` (from 1), if the log holds it.
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        index.checked_sub(1).and_then(|i| self.log.get(i as usize))
    }
}

/// One actor's state: the core, its clock, and the view it is compared by.
#[derive(Clone)]
pub struct NodeState {
    raft: Raft,
    clock: Time,
    /// What storage holds; kept only when crashes are modelled.
    durable: Option<DurableState>,
    view: NodeView,
}

impl NodeState {
    /// The projection this state is compared and hashed by.
    pub fn view(&self) -> &NodeView {
        &self.view
    }

    /// The core.
    pub fn raft(&self) -> &Raft {
        &self.raft
    }
}

impl PartialEq for NodeState {
    fn eq(&self, other: &NodeState) -> bool {
        self.view == other.view
    }
}

impl Hash for NodeState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.view.hash(state);
    }
}

/// Compact, for counterexamples.
impl fmt::Debug for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.view;
        let log: Vec<String> = v.log.iter().map(entry_label).collect();
        write!(f, "n{} t{} {:?}", self.raft.id().0, v.term.0, v.role)?;
        if let Some(vote) = v.voted_for {
            write!(f, " vote n{}", vote.0)?;
        }
        if let Some(leader) = v.leader {
            write!(f, " leader n{}", leader.0)?;
        }
        write!(f, " commit {} log {log:?}", v.commit.0)
    }
}

/// What a node has made durable, as stateright storage.
#[derive(Clone, Debug, PartialEq)]
pub struct Durable(pub DurableState);

impl Hash for Durable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hard_state.hash(state);
        self.0.snapshot.hash(state);
        self.0.entries.hash(state);
    }
}

/// The adapter: one Raft core as a stateright actor.
#[derive(Clone, Debug)]
pub struct RaftActor {
    config: Config,
    nodes: usize,
    max_log_len: u64,
    keep_storage: bool,
}

fn node_ids(nodes: usize) -> impl Iterator<Item = NodeId> {
    (1..=nodes as u64).map(NodeId)
}

fn actor_id(node: NodeId) -> Id {
    Id::from(node.0 as usize - 1)
}

/// Rounds of effects drained after one input: a core that keeps producing
/// effects without new input is broken.
const DRAIN_ROUNDS_MAX: usize = 64;

impl RaftActor {
    fn new(config: &ModelConfig, id: NodeId) -> RaftActor {
        let mut core = Config::new(id);
        core.pre_vote = config.pre_vote;
        core.check_quorum = config.check_quorum;
        core.bugs = config.bugs.clone();
        core.validate().expect("the model's core config is valid");
        RaftActor {
            config: core,
            nodes: config.nodes,
            max_log_len: config.max_log_len,
            keep_storage: config.max_crashes > 0,
        }
    }

    /// What a node of a new cluster starts from: the initial configuration.
    fn initial_durable(&self) -> DurableState {
        let membership = Membership::with_voters(node_ids(self.nodes));
        let meta = SnapshotMeta { index: LogIndex(0), term: Term(0), membership };
        DurableState { snapshot: Some(Snapshot { meta, data: Bytes::new() }), ..Default::default() }
    }

    /// Drains effects until the core is quiet, then re-arms the model timers.
    fn settle(&self, node: &mut NodeState, o: &mut Out<Self>) {
        let mut saved = false;
        for _ in 0..DRAIN_ROUNDS_MAX {
            let effects = node.raft.take_effects();
            if effects.is_empty() {
                if let (true, Some(durable)) = (saved, &node.durable) {
                    o.save(Durable(durable.clone()));
                }
                node.view = NodeView::of(&node.raft, self.nodes);
                self.arm_timers(&node.raft, o);
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Persist(req) => {
                        if let Some(durable) = &mut node.durable {
                            durable.apply(&req);
                        }
                        node.raft.on_persisted(req.seq, node.clock);
                        saved = true;
                    }
                    Effect::Send(msg) => o.send(actor_id(msg.to), WireMsg::new(msg)),
                    _ => {}
                }
            }
        }
        panic!("core still produces effects after {DRAIN_ROUNDS_MAX} rounds without input");
    }

    fn arm_timers(&self, raft: &Raft, o: &mut Out<Self>) {
        let leader = raft.is_leader();
        let armed = [
            (ModelTimer::Election, !leader),
            (ModelTimer::Heartbeat, leader),
            (ModelTimer::CheckQuorum, leader && self.config.check_quorum),
            (ModelTimer::Propose, leader && raft.last_index().0 < self.max_log_len),
        ];
        for (timer, on) in armed {
            if on {
                o.set_timer(timer, Duration::ZERO..Duration::ZERO);
            } else {
                o.cancel_timer(timer);
            }
        }
    }
}

impl Actor for RaftActor {
    type Msg = WireMsg;
    type Timer = ModelTimer;
    type State = NodeState;
    type Storage = Durable;
    type Random = ();

    fn on_start(&self, _id: Id, storage: &Option<Durable>, o: &mut Out<Self>) -> NodeState {
        let durable = storage.as_ref().map_or_else(|| self.initial_durable(), |d| d.0.clone());
        let mut raft = Raft::restart(self.config.clone(), durable.clone());
        // A driver's first input tells the core its clock.
        raft.handle_timeout(Time(0));
        let view = NodeView::of(&raft, self.nodes);
        let durable = self.keep_storage.then_some(durable);
        let mut node = NodeState { raft, clock: Time(0), durable, view };
        self.settle(&mut node, o);
        node
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<NodeState>,
        _src: Id,
        msg: WireMsg,
        o: &mut Out<Self>,
    ) {
        let node = state.to_mut();
        node.raft.handle_message(msg.0, node.clock);
        self.settle(node, o);
    }

    fn on_timeout(
        &self,
        _id: Id,
        state: &mut Cow<NodeState>,
        timer: &ModelTimer,
        o: &mut Out<Self>,
    ) {
        let node = state.to_mut();
        match timer {
            ModelTimer::Election | ModelTimer::Heartbeat | ModelTimer::CheckQuorum => {
                let Some(deadline) = node.raft.next_deadline() else {
                    return self.settle(node, o);
                };
                let jump_ms = match timer {
                    ModelTimer::CheckQuorum => self.config.election_timeout_ms_min,
                    _ => 0,
                };
                node.clock = node.clock.max(deadline.plus_ms(jump_ms));
                node.raft.handle_timeout(node.clock);
            }
            ModelTimer::Propose => {
                // A refused proposal (not leader, transfer) changes nothing.
                let _ = node.raft.propose(Bytes::new());
            }
        }
        self.settle(node, o);
    }
}

/// Auxiliary history: every (term, node) that has acted as leader, i.e.
/// sent an AppendEntries. Sorted, without duplicates.
pub type LeaderHistory = Vec<(Term, NodeId)>;

/// The model of a cluster of [`RaftActor`]s.
pub type RaftModel = ActorModel<RaftActor, ModelConfig, LeaderHistory>;
/// One state of [`RaftModel`].
pub type RaftModelState = ActorModelState<RaftActor, LeaderHistory>;

fn record_leader(
    _: &ModelConfig,
    history: &LeaderHistory,
    env: Envelope<&WireMsg>,
) -> Option<LeaderHistory> {
    let msg = &env.msg.0;
    if !matches!(msg.body, Body::AppendEntries { .. }) {
        return None;
    }
    let key = (msg.term, msg.from);
    let at = history.binary_search(&key).err()?;
    let mut next = history.clone();
    next.insert(at, key);
    Some(next)
}

fn within_bounds(config: &ModelConfig, state: &RaftModelState) -> bool {
    let nodes_in_bounds = state.actor_states.iter().all(|node| {
        node.view.term.0 <= config.max_term && node.view.log.len() as u64 <= config.max_log_len
    });
    nodes_in_bounds && state.network.len() <= config.max_in_flight && links_in_bounds(config, state)
}

/// No link carries more than its bound, nor two copies of one message.
fn links_in_bounds(config: &ModelConfig, state: &RaftModelState) -> bool {
    let Network::UnorderedNonDuplicating(multiset) = &state.network else {
        return true;
    };
    let mut per_link: BTreeMap<(Id, Id), usize> = BTreeMap::new();
    multiset.iter().all(|(env, copies)| {
        let n = per_link.entry((env.src, env.dst)).or_insert(0);
        *n += copies;
        *copies == 1 && *n <= config.max_in_flight_per_link
    })
}

/// §5.2 Election Safety: at most one leader can be elected in a given term.
fn election_safety(_: &RaftModel, state: &RaftModelState) -> bool {
    let ever = state.history.windows(2).all(|w| w[0].0 != w[1].0);
    let mut leaders: BTreeMap<Term, NodeId> = BTreeMap::new();
    let now = state.actor_states.iter().filter(|n| n.view.role == Role::Leader).all(|n| {
        let id = n.raft.id();
        *leaders.entry(n.view.term).or_insert(id) == id
    });
    ever && now
}

/// §5.3 Log Matching: if two logs contain an entry with the same index and
/// term, the logs are identical in all entries up through that index.
fn log_matching(_: &RaftModel, state: &RaftModelState) -> bool {
    all_pairs(state, |a, b| {
        let shared = a.log.len().min(b.log.len());
        match (0..shared).rev().find(|k| a.log[*k].term == b.log[*k].term) {
            Some(last_match) => a.log[..=last_match] == b.log[..=last_match],
            None => true,
        }
    })
}

/// §5.4.3 State Machine Safety, on logs: committed prefixes agree.
fn committed_agree(_: &RaftModel, state: &RaftModelState) -> bool {
    all_pairs(state, |a, b| {
        let upto = a.commit.0.min(b.commit.0) as usize;
        a.log.get(..upto) == b.log.get(..upto)
    })
}

fn all_pairs(state: &RaftModelState, holds: impl Fn(&NodeView, &NodeView) -> bool) -> bool {
    let views: Vec<&NodeView> = state.actor_states.iter().map(|n| &n.view).collect();
    views.iter().enumerate().all(|(i, a)| views[i + 1..].iter().all(|b| holds(a, b)))
}

fn leader_elected(_: &RaftModel, state: &RaftModelState) -> bool {
    state.actor_states.iter().any(|n| n.view.role == Role::Leader)
}

fn command_committed(_: &RaftModel, state: &RaftModelState) -> bool {
    state.actor_states.iter().any(|n| {
        let v = &n.view;
        v.log
            .iter()
            .take(v.commit.0 as usize)
            .any(|e| matches!(e.payload, EntryPayload::Command(_)))
    })
}

/// The model for `config`, to run with any stateright checker.
pub fn model(config: &ModelConfig) -> RaftModel {
    let network = if config.duplicating_network {
        Network::new_unordered_duplicating([])
    } else {
        Network::new_unordered_nonduplicating([])
    };
    let lossy = if config.lossy_network { LossyNetwork::Yes } else { LossyNetwork::No };
    ActorModel::new(config.clone(), LeaderHistory::new())
        .actors(node_ids(config.nodes).map(|id| RaftActor::new(config, id)))
        .init_network(network)
        .lossy_network(lossy)
        .max_crashes(config.max_crashes)
        .record_msg_out(record_leader)
        .within_boundary(within_bounds)
        .property(Expectation::Always, ELECTION_SAFETY, election_safety)
        .property(Expectation::Always, LOG_MATCHING, log_matching)
        .property(Expectation::Always, COMMITTED_AGREE, committed_agree)
        .property(Expectation::Sometimes, LEADER_ELECTED, leader_elected)
        .property(Expectation::Sometimes, COMMAND_COMMITTED, command_committed)
}

/// The outcome of one run of [`check`].
#[derive(Clone, Debug)]
pub struct ModelReport {
    /// The configuration checked.
    pub config: ModelConfig,
    /// Distinct states reached within the bounds.
    pub unique_states: usize,
    /// States generated, revisits included.
    pub states: usize,
    /// Depth of the deepest state.
    pub max_depth: usize,
    /// Wall-clock time of the search.
    pub elapsed: Duration,
    /// Property name to the steps of its discovery: a counterexample for an
    /// `always` property, a witness for a `sometimes` one.
    pub discoveries: BTreeMap<&'static str, Vec<String>>,
}

impl ModelReport {
    /// Whether `property` has a discovery.
    pub fn found(&self, property: &str) -> bool {
        self.discoveries.contains_key(property)
    }

    /// Whether `property` is a safety property with a counterexample.
    pub fn violated(&self, property: &str) -> bool {
        [ELECTION_SAFETY, LOG_MATCHING, COMMITTED_AGREE].contains(&property) && self.found(property)
    }
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let links = match c.max_in_flight_per_link {
            usize::MAX => String::new(),
            n => format!(" ({n} per link)"),
        };
        writeln!(
            f,
            "raft model: {} nodes, terms <= {}, logs <= {}, pre_vote={}, check_quorum={}, \
             in flight <= {}{links}, duplicating={}, lossy={}, crashes <= {}",
            c.nodes,
            c.max_term,
            c.max_log_len,
            c.pre_vote,
            c.check_quorum,
            c.max_in_flight,
            c.duplicating_network,
            c.lossy_network,
            c.max_crashes,
        )?;
        writeln!(
            f,
            "  {} unique states ({} generated), max depth {}, {:.2?} on {} threads",
            self.unique_states, self.states, self.max_depth, self.elapsed, c.threads
        )?;
        for (name, steps) in &self.discoveries {
            writeln!(f, "  \"{name}\" discovered after {} steps", steps.len())?;
            if self.violated(name) {
                for step in steps {
                    writeln!(f, "    {step}")?;
                }
            }
        }
        Ok(())
    }
}

/// Explores every state of the model of `config` within its bounds,
/// breadth-first, and reports the state count and what was discovered.
pub fn check(config: &ModelConfig) -> ModelReport {
    let finish_when =
        if config.stop_at_violation { HasDiscoveries::AnyFailures } else { HasDiscoveries::All };
    let started = Instant::now();
    let checker = model(config)
        .checker()
        .threads(config.threads.max(1))
        .finish_when(finish_when)
        .spawn_bfs()
        .join();
    let elapsed = started.elapsed();
    let discoveries = checker
        .discoveries()
        .into_iter()
        .map(|(name, path)| {
            let model = checker.model();
            let steps = path.into_actions().iter().map(|a| model.format_action(a)).collect();
            (name, steps)
        })
        .collect();
    ModelReport {
        config: config.clone(),
        unique_states: checker.unique_state_count(),
        states: checker.state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        discoveries,
    }
}
