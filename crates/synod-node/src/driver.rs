//! [`Driver`]: the task that owns one Raft core, its timers, its storage
//! and its state machine, and carries out the core's effects.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use synod_core::raft::{Config, Effect, Entry, Message, PersistRequest, Raft, Snapshot};
use synod_core::{LogIndex, NodeId, Term, Time};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::handle::{Command, ProposalReply, ReadFn};
use crate::{LogStorage, NodeError, NodeHandle, NodeStatus, StateMachine, Transport};

/// How a driver runs its core.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// The Raft core's configuration.
    pub raft: Config,
    /// Initial voters, used only when the storage is empty (a new cluster).
    /// Empty for a node that joins an existing cluster as a learner.
    pub initial_voters: Vec<NodeId>,
    /// Compact the log once this many entries are applied past the last
    /// snapshot (0: never).
    pub compact_every_entries: u64,
    /// Commands waiting for the driver before callers wait.
    pub command_queue_max: usize,
    /// Messages or commands handled per round before effects are carried out.
    pub batch_inputs_max: usize,
}

impl DriverConfig {
    /// Defaults around `raft`.
    pub fn new(raft: Config, initial_voters: Vec<NodeId>) -> DriverConfig {
        DriverConfig {
            raft,
            initial_voters,
            compact_every_entries: 10_000,
            command_queue_max: 4096,
            batch_inputs_max: 1024,
        }
    }
}

/// The driver's task: ends with the node's fatal error, or Ok once every
/// handle is dropped.
pub type DriverTask = JoinHandle<Result<(), NodeError>>;

/// The task driving one Raft core. Start it with [`Driver::start`].
pub struct Driver<S: StateMachine, L: LogStorage> {
    raft: Raft,
    storage: Option<L>,
    sm: S,
    transport: Arc<dyn Transport>,
    inbox: mpsc::Receiver<Message>,
    commands: mpsc::Receiver<Command<S>>,
    epoch: Instant,
    config: DriverConfig,
    proposals: HashMap<LogIndex, (Term, ProposalReply<S>)>,
    reads: HashMap<u64, ReadFn<S>>,
    ready_reads: Vec<(LogIndex, ReadFn<S>)>,
    next_read_ctx: u64,
    leadership: watch::Sender<(Term, Option<NodeId>)>,
}

impl<S: StateMachine, L: LogStorage> std::fmt::Debug for Driver<S, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("id", &self.raft.id()).finish()
    }
}

impl<S: StateMachine, L: LogStorage> Driver<S, L> {
    /// Recovers the core from `storage` (or creates a new node), then runs
    /// it on the current tokio runtime. Messages for this node arrive on
    /// `inbox`; the returned task ends with the node's fatal error, or Ok
    /// once every handle is dropped.
    pub fn start(
        config: DriverConfig,
        mut storage: L,
        mut sm: S,
        transport: Arc<dyn Transport>,
        inbox: mpsc::Receiver<Message>,
    ) -> Result<(NodeHandle<S>, DriverTask), NodeError> {
        config.raft.validate().map_err(|e| NodeError::Stopped(format!("invalid config: {e}")))?;
        let durable = storage.load().map_err(fatal)?;
        let is_new = durable.snapshot.is_none() && durable.entries.is_empty();
        let raft = if is_new {
            let raft = if config.initial_voters.is_empty() {
                Raft::new_joining(config.raft.clone())
            } else {
                Raft::new(config.raft.clone(), &config.initial_voters)
            };
            let initial = PersistRequest {
                seq: 0,
                hard_state: Some(durable.hard_state),
                snapshot: Some(raft.snapshot().clone()),
                truncate_from: None,
                entries: Vec::new(),
            };
            storage.persist(&[initial]).map_err(fatal)?;
            raft
        } else {
            Raft::restart(config.raft.clone(), durable)
        };
        if sm.applied_index() < raft.snapshot_meta().index {
            sm.restore(raft.snapshot()).map_err(NodeError::Stopped)?;
        }
        let (tx, commands) = mpsc::channel(config.command_queue_max);
        let (leadership_tx, leadership) = watch::channel((raft.term(), raft.leader()));
        let handle = NodeHandle { id: raft.id(), commands: tx, leadership };
        let driver = Driver {
            raft,
            storage: Some(storage),
            sm,
            transport,
            inbox,
            commands,
            epoch: Instant::now(),
            config,
            proposals: HashMap::new(),
            reads: HashMap::new(),
            ready_reads: Vec::new(),
            next_read_ctx: 0,
            leadership: leadership_tx,
        };
        Ok((handle, tokio::spawn(driver.run())))
    }

    fn now(&self) -> Time {
        Time(self.epoch.elapsed().as_millis() as u64)
    }

    async fn run(mut self) -> Result<(), NodeError> {
        loop {
            let deadline = self.raft.next_deadline().map_or(Duration::from_secs(3600), |t| {
                Duration::from_millis(t.0.saturating_sub(self.now().0))
            });
            tokio::select! {
                biased;
                command = self.commands.recv() => {
                    let Some(command) = command else { return Ok(()) };
                    self.handle_command(command);
                    for _ in 1..self.config.batch_inputs_max {
                        let Ok(command) = self.commands.try_recv() else { break };
                        self.handle_command(command);
                    }
                }
                msg = self.inbox.recv() => {
                    let Some(msg) = msg else { return Ok(()) };
                    let now = self.now();
                    self.raft.handle_message(msg, now);
                    for _ in 1..self.config.batch_inputs_max {
                        let Ok(msg) = self.inbox.try_recv() else { break };
                        self.raft.handle_message(msg, now);
                    }
                }
                () = tokio::time::sleep(deadline) => {
                    let now = self.now();
                    self.raft.handle_timeout(now);
                }
            }
            self.carry_out_effects().await?;
        }
    }

    /// Drains the core until it has nothing more to do: one group-commit
    /// write per pass, sends, applies, reads.
    async fn carry_out_effects(&mut self) -> Result<(), NodeError> {
        loop {
            let effects = self.raft.take_effects();
            if effects.is_empty() {
                return Ok(());
            }
            let mut persists = Vec::new();
            for effect in effects {
                match effect {
                    Effect::Persist(req) => persists.push(req),
                    Effect::Send(msg) => self.transport.send(msg),
                    Effect::Apply(entries) => self.apply(&entries)?,
                    Effect::ApplySnapshot(snapshot) => self.restore(&snapshot)?,
                    Effect::ReadReady { ctx, index } => {
                        if let Some(read) = self.reads.remove(&ctx) {
                            self.ready_reads.push((index, read));
                        }
                    }
                    Effect::ReadFailed { ctx, leader_hint } => {
                        if let Some(read) = self.reads.remove(&ctx) {
                            read(Err(NodeError::NotLeader { leader_hint }));
                        }
                    }
                    Effect::LeaderChanged { term, leader } => {
                        metrics::counter!("synod_leader_changes_total").increment(1);
                        let _ = self.leadership.send((term, leader));
                        tracing::info!(node = %self.raft.id(), %term, ?leader, "leader changed");
                    }
                }
            }
            if let Some(last) = persists.last().map(|r| r.seq) {
                self.persist(persists).await?;
                let now = self.now();
                self.raft.on_persisted(last, now);
            }
            self.serve_ready_reads();
            self.maybe_compact()?;
        }
    }

    /// Writes on a blocking thread, so the fsync does not stall the runtime.
    async fn persist(&mut self, requests: Vec<PersistRequest>) -> Result<(), NodeError> {
        let mut storage = self.storage.take().expect("storage is present between writes");
        let entries: usize = requests.iter().map(|r| r.entries.len()).sum();
        let started = std::time::Instant::now();
        let (storage, result) = tokio::task::spawn_blocking(move || {
            let result = storage.persist(&requests);
            (storage, result)
        })
        .await
        .map_err(|e| NodeError::Stopped(format!("storage task failed: {e}")))?;
        self.storage = Some(storage);
        metrics::histogram!("synod_fsync_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("synod_persisted_entries_total").increment(entries as u64);
        result.map_err(fatal)
    }

    fn apply(&mut self, entries: &[Entry]) -> Result<(), NodeError> {
        let applied = self.sm.applied_index();
        let fresh: Vec<Entry> = entries.iter().filter(|e| e.index > applied).cloned().collect();
        let outputs = self.sm.apply(&fresh).map_err(NodeError::Stopped)?;
        metrics::counter!("synod_applied_entries_total").increment(fresh.len() as u64);
        let mut outputs: HashMap<LogIndex, S::Output> = outputs.into_iter().collect();
        for entry in entries {
            if let Some((term, reply)) = self.proposals.remove(&entry.index) {
                let result = if term == entry.term {
                    Ok((entry.index, outputs.remove(&entry.index)))
                } else {
                    Err(NodeError::ProposalDropped)
                };
                let _ = reply.send(result);
            }
        }
        Ok(())
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), NodeError> {
        self.sm.restore(snapshot).map_err(NodeError::Stopped)?;
        // Proposals at or below the snapshot cannot be matched to entries any more.
        let index = snapshot.meta.index;
        let covered: Vec<LogIndex> =
            self.proposals.keys().copied().filter(|i| *i <= index).collect();
        for i in covered {
            if let Some((_, reply)) = self.proposals.remove(&i) {
                let _ = reply.send(Err(NodeError::Timeout));
            }
        }
        Ok(())
    }

    fn serve_ready_reads(&mut self) {
        let applied = self.sm.applied_index();
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.ready_reads)
            .into_iter()
            .partition(|(index, _)| *index <= applied);
        self.ready_reads = waiting;
        for (_, read) in ready {
            read(Ok(&self.sm));
        }
    }

    fn maybe_compact(&mut self) -> Result<(), NodeError> {
        let every = self.config.compact_every_entries;
        let applied = self.raft.applied_index().min(self.sm.applied_index());
        if every == 0 || applied.0 < self.raft.snapshot_meta().index.0 + every {
            return Ok(());
        }
        let data: Bytes = self.sm.snapshot().map_err(NodeError::Stopped)?;
        self.raft.compact(applied, data);
        Ok(())
    }

    fn handle_command(&mut self, command: Command<S>) {
        match command {
            Command::Propose { data, reply } => match self.raft.propose(data) {
                Ok(index) => {
                    metrics::counter!("synod_proposals_total").increment(1);
                    self.proposals.insert(index, (self.raft.term(), reply));
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Command::ChangeMembership { change, reply } => {
                match self.raft.propose_membership(change) {
                    Ok(index) => {
                        self.proposals.insert(index, (self.raft.term(), reply));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Command::Read { linearizable: false, query } => query(Ok(&self.sm)),
            Command::Read { linearizable: true, query } => {
                let ctx = self.next_read_ctx;
                self.next_read_ctx += 1;
                match self.raft.read_index(ctx) {
                    Ok(()) => {
                        self.reads.insert(ctx, query);
                    }
                    Err(e) => query(Err(e.into())),
                }
            }
            Command::TransferLeader { target, reply } => {
                let _ = reply.send(self.raft.transfer_leader(target).map_err(Into::into));
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
        }
    }

    fn status(&self) -> NodeStatus {
        NodeStatus {
            id: self.raft.id(),
            term: self.raft.term(),
            role: self.raft.role(),
            leader: self.raft.leader(),
            commit_index: self.raft.commit_index(),
            applied_index: self.sm.applied_index().max(self.raft.applied_index()),
            last_index: self.raft.last_index(),
            membership: self.raft.membership().clone(),
        }
    }
}

fn fatal(err: crate::StorageError) -> NodeError {
    tracing::error!(%err, "storage failed; stopping the node");
    NodeError::Stopped(err.to_string())
}
