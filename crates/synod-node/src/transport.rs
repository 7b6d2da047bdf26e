//! How Raft messages travel between nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use synod_core::raft::Message;
use synod_core::NodeId;
use tokio::sync::mpsc;

/// Sends Raft messages to peers. Sending never blocks and may lose
/// messages (Raft tolerates loss); implementations keep per-peer bounded
/// queues and drop when a peer cannot keep up.
pub trait Transport: Send + Sync + 'static {
    /// Queues `msg` for `msg.to`.
    fn send(&self, msg: Message);
}

/// An in-process network for tests: every node registers an inbox.
#[derive(Clone, Debug, Default)]
pub struct LocalNetwork {
    inboxes: Arc<Mutex<HashMap<NodeId, mpsc::Sender<Message>>>>,
    cut: Arc<Mutex<Vec<(NodeId, NodeId)>>>,
}

impl LocalNetwork {
    /// Registers `id`'s inbox of `capacity` messages and returns its receiver.
    pub fn register(&self, id: NodeId, capacity: usize) -> mpsc::Receiver<Message> {
        let (tx, rx) = mpsc::channel(capacity);
        self.inboxes.lock().expect("network lock").insert(id, tx);
        rx
    }

    /// Drops messages in both directions between `a` and `b` until healed.
    pub fn partition(&self, a: NodeId, b: NodeId) {
        let mut cut = self.cut.lock().expect("network lock");
        cut.push((a, b));
        cut.push((b, a));
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.cut.lock().expect("network lock").clear();
    }
}

impl Transport for LocalNetwork {
    fn send(&self, msg: Message) {
        if self.cut.lock().expect("network lock").contains(&(msg.from, msg.to)) {
            return;
        }
        let inbox = self.inboxes.lock().expect("network lock").get(&msg.to).cloned();
        if let Some(inbox) = inbox {
            // A full inbox drops the message, as a congested link would.
            let _ = inbox.try_send(msg);
        }
    }
}
