//! One simulated server: its core (absent while crashed), its disk and its
//! state machine.

use std::collections::VecDeque;

use synod_core::raft::{Config, DurableState, PersistRequest, Raft};
use synod_core::{LogIndex, NodeId, Term, Time};

use super::state_machine::KvStateMachine;

/// A simulated node.
#[derive(Debug)]
pub struct SimNode {
    /// The node's id.
    pub id: NodeId,
    /// The config its core is (re)started with.
    pub config: Config,
    /// The running core; `None` while crashed.
    pub raft: Option<Raft>,
    /// What survives a crash: every confirmed persist request.
    pub durable: DurableState,
    /// Requests handed to the disk and not yet durable; lost on a crash.
    pub disk_queue: VecDeque<PersistRequest>,
    /// Global time at which the disk finishes its queue.
    pub disk_free_at: u64,
    /// Bumped on every crash, so events of an earlier life are ignored.
    pub incarnation: u64,
    /// Bumped whenever the timer is rescheduled.
    pub timer_generation: u64,
    /// Global time of the scheduled timer event.
    pub timer_at: Option<u64>,
    /// The replica (volatile; rebuilt on restart).
    pub sm: KvStateMachine,
    /// Clock rate in per-mille of real time.
    pub clock_permille: u64,
    /// Commit index up to which the checker has recorded this node's entries.
    pub commit_checked: LogIndex,
    /// The term in which this node was last seen leading.
    pub led_term: Option<Term>,
}

impl SimNode {
    /// A fresh node of a cluster of `voters`.
    pub fn new(config: Config, voters: &[NodeId], clock_permille: u64) -> SimNode {
        let raft = Raft::new(config.clone(), voters);
        let durable =
            DurableState { snapshot: Some(raft.snapshot().clone()), ..DurableState::default() };
        SimNode {
            id: config.id,
            config,
            raft: Some(raft),
            durable,
            disk_queue: VecDeque::new(),
            disk_free_at: 0,
            incarnation: 0,
            timer_generation: 0,
            timer_at: None,
            sm: KvStateMachine::default(),
            clock_permille,
            commit_checked: LogIndex(0),
            led_term: None,
        }
    }

    /// This node's clock reading at global time `global_ms`.
    pub fn local_time(&self, global_ms: u64) -> Time {
        Time(global_ms * self.clock_permille / 1000)
    }

    /// The first global time at which this node's clock reads `local`.
    pub fn global_time(&self, local: Time) -> u64 {
        (local.0 * 1000).div_ceil(self.clock_permille)
    }

    /// Loses everything not yet durable.
    pub fn crash(&mut self) {
        self.raft = None;
        self.disk_queue.clear();
        self.incarnation += 1;
        self.timer_at = None;
        self.sm = KvStateMachine::default();
        self.led_term = None;
    }

    /// Restarts from durable state; the replica restores the snapshot.
    pub fn restart(&mut self) {
        let raft = Raft::restart(self.config.clone(), self.durable.clone());
        let data = self.durable.snapshot.as_ref().map(|s| s.data.clone()).unwrap_or_default();
        self.sm = KvStateMachine::restore(&data);
        self.commit_checked = raft.snapshot_meta().index;
        self.raft = Some(raft);
    }

    /// Whether the node is running.
    pub fn is_up(&self) -> bool {
        self.raft.is_some()
    }
}
