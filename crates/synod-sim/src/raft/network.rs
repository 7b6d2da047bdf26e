//! The simulated network and event queue: messages are dropped,
//! duplicated, delayed (and so reordered) and cut by partitions.

use std::collections::HashSet;

use synod_core::raft::Message;
use synod_core::NodeId;

/// Something that happens at a point of simulated time.
#[derive(Debug)]
pub enum Event {
    /// A message arrives.
    Deliver(Message),
    /// A node's timer may be due; stale if `generation` is outdated.
    Timer {
        /// Node index.
        node: usize,
        /// The node's timer generation when scheduled.
        generation: u64,
    },
    /// A node's disk finished a write.
    PersistDone {
        /// Node index.
        node: usize,
        /// The node's incarnation when the write started.
        incarnation: u64,
        /// The persist request's sequence number.
        seq: u64,
    },
    /// A client issues a write.
    ClientWrite,
    /// A client issues a read.
    ClientRead,
    /// A partition forms or heals.
    Partition,
    /// A node crashes.
    Crash,
    /// A crashed node restarts.
    Restart(usize),
    /// The leader is asked to transfer leadership.
    Transfer,
    /// The leader is asked to change the membership.
    Membership,
}

/// Pending events of this simulation.
pub type EventQueue = crate::event_queue::EventQueue<Event>;

/// Directed links that are cut.
#[derive(Debug, Default)]
pub struct Partitions {
    cut: HashSet<(NodeId, NodeId)>,
}

impl Partitions {
    /// Whether messages from `from` to `to` are lost.
    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains(&(from, to))
    }

    /// Cuts `from → to`.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    /// Cuts both directions between every node of `a` and every node of `b`.
    pub fn split(&mut self, a: &[NodeId], b: &[NodeId]) {
        for x in a {
            for y in b {
                self.cut(*x, *y);
                self.cut(*y, *x);
            }
        }
    }

    /// Heals everything.
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Whether any link is cut.
    pub fn is_active(&self) -> bool {
        !self.cut.is_empty()
    }
}
