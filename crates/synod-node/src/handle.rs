//! [`NodeHandle`]: the async API to a running driver.

use bytes::Bytes;
use synod_core::raft::{Membership, MembershipChange, Role};
use synod_core::{LogIndex, NodeId, Term};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{NodeError, StateMachine};

/// A read to run against the state machine, given the state or the reason
/// it could not be served.
pub(crate) type ReadFn<S> = Box<dyn FnOnce(Result<&S, NodeError>) + Send>;

/// Where the outcome of a proposal goes: its index and, for a command,
/// the state machine's output.
pub(crate) type ProposalReply<S> =
    oneshot::Sender<Result<(LogIndex, Option<<S as StateMachine>::Output>), NodeError>>;

/// A request to the driver.
pub(crate) enum Command<S: StateMachine> {
    Propose { data: Bytes, reply: ProposalReply<S> },
    Read { linearizable: bool, query: ReadFn<S> },
    ChangeMembership { change: MembershipChange, reply: ProposalReply<S> },
    TransferLeader { target: NodeId, reply: oneshot::Sender<Result<(), NodeError>> },
    Status { reply: oneshot::Sender<NodeStatus> },
}

/// A snapshot of a node's Raft state, for status pages and health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// This node.
    pub id: NodeId,
    /// Current term.
    pub term: Term,
    /// Current role.
    pub role: Role,
    /// Known leader.
    pub leader: Option<NodeId>,
    /// Commit index.
    pub commit_index: LogIndex,
    /// Applied index.
    pub applied_index: LogIndex,
    /// Last log index.
    pub last_index: LogIndex,
    /// The configuration in force.
    pub membership: Membership,
}

/// A cloneable handle to a running node.
#[derive(Debug)]
pub struct NodeHandle<S: StateMachine> {
    pub(crate) id: NodeId,
    pub(crate) commands: mpsc::Sender<Command<S>>,
    /// The driver publishes (term, leader) here on every change.
    pub(crate) leadership: watch::Receiver<(Term, Option<NodeId>)>,
}

impl<S: StateMachine> Clone for NodeHandle<S> {
    fn clone(&self) -> Self {
        NodeHandle {
            id: self.id,
            commands: self.commands.clone(),
            leadership: self.leadership.clone(),
        }
    }
}

impl<S: StateMachine> NodeHandle<S> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current term and known leader, without a trip to the driver.
    pub fn leadership(&self) -> (Term, Option<NodeId>) {
        *self.leadership.borrow()
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command<S>,
    ) -> Result<T, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }

    /// Replicates `data` as a command; resolves once it is applied here,
    /// with its index (the revision) and the state machine's output.
    pub async fn propose(&self, data: Bytes) -> Result<(LogIndex, S::Output), NodeError> {
        let (index, output) = self.call(|reply| Command::Propose { data, reply }).await??;
        let output =
            output.ok_or_else(|| NodeError::Stopped("state machine gave no output".into()))?;
        Ok((index, output))
    }

    /// Runs `query` against the state machine: after a ReadIndex round
    /// when `linearizable` (leader only), else on the local state at once.
    pub async fn read<R: Send + 'static>(
        &self,
        linearizable: bool,
        query: impl FnOnce(&S) -> R + Send + 'static,
    ) -> Result<R, NodeError> {
        let (tx, rx) = oneshot::channel();
        let query: ReadFn<S> = Box::new(move |state| {
            let _ = tx.send(state.map(query));
        });
        self.commands.send(Command::Read { linearizable, query }).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Proposes a membership change; resolves once it is applied here.
    pub async fn change_membership(&self, change: MembershipChange) -> Result<LogIndex, NodeError> {
        let (index, _) = self.call(|reply| Command::ChangeMembership { change, reply }).await??;
        Ok(index)
    }

    /// Starts handing leadership to `target`.
    pub async fn transfer_leader(&self, target: NodeId) -> Result<(), NodeError> {
        self.call(|reply| Command::TransferLeader { target, reply }).await?
    }

    /// The node's current Raft state.
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        self.call(|reply| Command::Status { reply }).await
    }
}

fn stopped() -> NodeError {
    NodeError::Stopped("driver is not running".into())
}
