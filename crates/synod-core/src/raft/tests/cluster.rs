//! The test cluster: cores, their storage, and what they applied.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use super::{config, data, n};
use crate::raft::{
    Config, DurableState, Effect, Entry, Membership, Message, PersistRequest, Raft, Snapshot,
    SnapshotMeta,
};
use crate::{LogIndex, NodeId, Time};

/// Decides whether a message is delivered (true) or dropped.
pub(super) type Filter = Box<dyn Fn(&Message) -> bool>;

/// N cores, their storage and the network between them.
pub(super) struct Cluster {
    pub now: Time,
    pub nodes: BTreeMap<NodeId, Raft>,
    pub configs: BTreeMap<NodeId, Config>,
    pub durable: BTreeMap<NodeId, DurableState>,
    pub queue: VecDeque<Message>,
    /// Every message any node emitted, in order (delivered or not).
    pub sent: Vec<Message>,
    pub applied: BTreeMap<NodeId, Vec<Entry>>,
    pub snapshots: BTreeMap<NodeId, Vec<Snapshot>>,
    /// ReadReady and ReadFailed effects, per node.
    pub reads: BTreeMap<NodeId, Vec<Effect>>,
    pub manual_persist: BTreeSet<NodeId>,
    pub held: BTreeMap<NodeId, Vec<PersistRequest>>,
    pub(super) cut: BTreeSet<(NodeId, NodeId)>,
    /// Messages for which the filter returns false are dropped.
    pub filter: Option<Filter>,
}

impl Cluster {
    /// A new cluster of voters 1..=size with default configs.
    pub fn new(size: u64) -> Cluster {
        Cluster::with(size, &|_| {})
    }

    /// A new cluster of voters 1..=size, each config adjusted by `tweak`.
    pub fn with(size: u64, tweak: &dyn Fn(&mut Config)) -> Cluster {
        let ids: Vec<NodeId> = (1..=size).map(n).collect();
        let mut cluster = Cluster::empty();
        for id in &ids {
            let cfg = config(id.0, tweak);
            cluster.nodes.insert(*id, Raft::new(cfg.clone(), &ids));
            cluster.configs.insert(*id, cfg);
            let snap = Snapshot {
                meta: SnapshotMeta {
                    membership: Membership::with_voters(ids.clone()),
                    ..Default::default()
                },
                data: Bytes::new(),
            };
            let state = DurableState { snapshot: Some(snap), ..Default::default() };
            cluster.durable.insert(*id, state);
            cluster.start(id.0);
        }
        cluster
    }

    /// A cluster of nodes restarted from the given durable states (ids 1..).
    pub fn from_durable(states: Vec<DurableState>, tweak: &dyn Fn(&mut Config)) -> Cluster {
        let mut cluster = Cluster::empty();
        for (i, state) in states.into_iter().enumerate() {
            let cfg = config(i as u64 + 1, tweak);
            cluster.nodes.insert(cfg.id, Raft::restart(cfg.clone(), state.clone()));
            cluster.durable.insert(cfg.id, state);
            cluster.start(cfg.id.0);
            cluster.configs.insert(cfg.id, cfg);
        }
        cluster
    }

    /// Starts node `id` that knows no configuration and waits to be added.
    pub fn add_joining(&mut self, id: u64) {
        let cfg = config(id, &|_| {});
        self.nodes.insert(n(id), Raft::new_joining(cfg.clone()));
        self.configs.insert(n(id), cfg);
        self.durable.insert(n(id), DurableState::default());
        self.start(id);
    }

    /// Gives a new or restarted node its first input, as a driver's loop
    /// does when it starts: timers count from the driver's clock.
    fn start(&mut self, id: u64) {
        let now = self.now;
        self.node_mut(id).handle_timeout(now);
        self.collect(id);
    }

    fn empty() -> Cluster {
        Cluster {
            now: Time(0),
            nodes: BTreeMap::new(),
            configs: BTreeMap::new(),
            durable: BTreeMap::new(),
            queue: VecDeque::new(),
            sent: Vec::new(),
            applied: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            reads: BTreeMap::new(),
            manual_persist: BTreeSet::new(),
            held: BTreeMap::new(),
            cut: BTreeSet::new(),
            filter: None,
        }
    }

    pub fn node(&self, id: u64) -> &Raft {
        &self.nodes[&n(id)]
    }

    pub fn node_mut(&mut self, id: u64) -> &mut Raft {
        self.nodes.get_mut(&n(id)).unwrap()
    }

    /// Carries out a node's effects until it has none left.
    pub fn collect(&mut self, id: u64) {
        let id = n(id);
        while let Some(raft) = self.nodes.get_mut(&id) {
            let effects = raft.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                self.carry_out(id, effect);
            }
        }
    }

    fn carry_out(&mut self, id: NodeId, effect: Effect) {
        match effect {
            Effect::Persist(req) if self.manual_persist.contains(&id) => {
                self.held.entry(id).or_default().push(req)
            }
            Effect::Persist(req) => self.persist(id, req),
            Effect::Send(msg) => {
                self.sent.push(msg.clone());
                self.queue.push_back(msg);
            }
            Effect::Apply(entries) => self.applied.entry(id).or_default().extend(entries),
            Effect::ApplySnapshot(snap) => self.snapshots.entry(id).or_default().push(snap),
            read @ (Effect::ReadReady { .. } | Effect::ReadFailed { .. }) => {
                self.reads.entry(id).or_default().push(read)
            }
            Effect::LeaderChanged { .. } => {}
        }
    }

    fn persist(&mut self, id: NodeId, req: PersistRequest) {
        self.durable.entry(id).or_default().apply(&req);
        let now = self.now;
        if let Some(raft) = self.nodes.get_mut(&id) {
            raft.on_persisted(req.seq, now);
        }
    }

    /// Makes a manual-persist node's held requests durable and confirms them.
    pub fn confirm_persists(&mut self, id: u64) {
        for req in self.held.remove(&n(id)).unwrap_or_default() {
            self.persist(n(id), req);
        }
        self.collect(id);
    }

    /// Makes only the oldest held request of `id` durable and confirms it.
    pub fn confirm_first(&mut self, id: u64) {
        let held = self.held.get_mut(&n(id)).filter(|h| !h.is_empty()).expect("a held write");
        let req = held.remove(0);
        self.persist(n(id), req);
        self.collect(id);
    }

    /// Stops a node: its volatile state, state machine and unconfirmed
    /// writes are lost.
    pub fn crash(&mut self, id: u64) {
        self.nodes.remove(&n(id));
        self.held.remove(&n(id));
        self.applied.remove(&n(id));
    }

    /// Starts a crashed node again from what it had made durable.
    pub fn restart(&mut self, id: u64) {
        let raft = Raft::restart(self.configs[&n(id)].clone(), self.durable[&n(id)].clone());
        self.nodes.insert(n(id), raft);
        self.start(id);
    }

    /// The live leader of the highest term, if any.
    pub fn leader(&self) -> Option<u64> {
        let leaders = self.nodes.values().filter(|r| r.is_leader());
        leaders.max_by_key(|r| r.term()).map(|r| r.id().0)
    }

    /// The terms of `id`'s log entries after its snapshot.
    pub fn log_terms(&self, id: u64) -> Vec<u64> {
        let raft = self.node(id);
        let first = raft.snapshot_meta().index.0 + 1;
        (first..=raft.last_index().0).map(|i| raft.term_at(LogIndex(i)).unwrap().0).collect()
    }

    /// The indexes of the entries `id` applied, in order.
    pub fn applied_indexes(&self, id: u64) -> Vec<u64> {
        let applied = self.applied.get(&n(id)).map(Vec::as_slice).unwrap_or_default();
        applied.iter().map(|e| e.index.0).collect()
    }

    /// Messages emitted since `mark` (an earlier `sent.len()`) matching `pred`.
    pub fn sent_since(&self, mark: usize, pred: impl Fn(&Message) -> bool) -> Vec<&Message> {
        self.sent[mark..].iter().filter(|m| pred(m)).collect()
    }

    /// Proposes on `id`, which must lead, and carries out the effects.
    pub fn propose(&mut self, id: u64, text: &str) -> LogIndex {
        let index = self.node_mut(id).propose(data(text)).unwrap();
        self.collect(id);
        index
    }
}
