//! [`ConsensusNode`]: embed a Raft node with your own state machine.
//!
//! ```no_run
//! # use synod_node::{ConsensusNode, StateMachine};
//! # async fn demo<S: StateMachine>(sm: S) -> Result<(), synod_node::NodeError> {
//! use synod_core::NodeId;
//! let peers = vec![(NodeId(2), "127.0.0.1:7102".parse().unwrap())];
//! let node = ConsensusNode::new(NodeId(1), "127.0.0.1:7101".parse().unwrap(), peers)
//!     .data_dir("/var/lib/myapp/raft")
//!     .register_state_machine(sm)
//!     .start()
//!     .await?;
//! let (_index, _output) = node.propose(b"set x 1".to_vec()).await?;
//! # Ok(()) }
//! ```
//! See `examples/embedded.rs` for a runnable three-node program.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use synod_core::raft::Config as RaftConfig;
use synod_core::{LogIndex, NodeId};
use synod_proto::raft::v1::raft_transport_server::RaftTransportServer;
use synod_store::RaftStore;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tonic::transport::Server;

use crate::grpc::{GrpcTransport, RaftService, TransportOptions};
use crate::{Driver, DriverConfig, NodeError, NodeHandle, NodeStatus, StateMachine};

/// Configuration of an embedded node, before a state machine is registered.
#[derive(Clone, Debug)]
pub struct ConsensusNode {
    id: NodeId,
    bind_address: SocketAddr,
    peers: Vec<(NodeId, SocketAddr)>,
    data_dir: PathBuf,
    raft: RaftConfig,
}

/// A configured node with its state machine, ready to start.
#[derive(Debug)]
pub struct ConsensusNodeWith<S> {
    node: ConsensusNode,
    sm: S,
}

/// A running embedded node.
#[derive(Debug)]
pub struct RunningConsensusNode<S: StateMachine> {
    handle: NodeHandle<S>,
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl ConsensusNode {
    /// Node `id`, listening for peers on `bind_address`; `peers` are the
    /// other initial voters.
    pub fn new(
        id: NodeId,
        bind_address: SocketAddr,
        peers: Vec<(NodeId, SocketAddr)>,
    ) -> ConsensusNode {
        ConsensusNode {
            id,
            bind_address,
            peers,
            data_dir: PathBuf::from(format!("./synod-data/{id}")),
            raft: RaftConfig::new(id),
        }
    }

    /// Where the Raft log lives (default `./synod-data/<id>`).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> ConsensusNode {
        self.data_dir = dir.into();
        self
    }

    /// Adjusts Raft timing and limits.
    pub fn raft_config(mut self, edit: impl FnOnce(&mut RaftConfig)) -> ConsensusNode {
        edit(&mut self.raft);
        self
    }

    /// The state machine the replicated log drives.
    pub fn register_state_machine<S: StateMachine>(self, sm: S) -> ConsensusNodeWith<S> {
        ConsensusNodeWith { node: self, sm }
    }
}

impl<S: StateMachine> ConsensusNodeWith<S> {
    /// Opens the log, serves peers and starts the Raft driver.
    pub async fn start(self) -> Result<RunningConsensusNode<S>, NodeError> {
        let ConsensusNodeWith { node, sm } = self;
        std::fs::create_dir_all(&node.data_dir).map_err(|e| {
            NodeError::Stopped(format!("cannot create {}: {e}", node.data_dir.display()))
        })?;
        let store = RaftStore::open(&node.data_dir.join("raft.redb"))
            .map_err(|e| NodeError::Stopped(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(node.bind_address).await.map_err(|e| {
            NodeError::Stopped(format!("cannot listen on {}: {e}", node.bind_address))
        })?;
        let address = listener.local_addr().map_err(|e| NodeError::Stopped(e.to_string()))?;
        let transport = GrpcTransport::new(node.id, TransportOptions::default());
        for (id, addr) in &node.peers {
            transport.add_peer(*id, *addr);
        }
        let (inbox_tx, inbox) = mpsc::channel(8192);
        let service = RaftService::new(node.id, 1, inbox_tx, false);
        let (shutdown, mut stop) = watch::channel(false);
        // Nagle would hold multi-part responses for the peer's delayed ACK (40 ms).
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let server = tokio::spawn(async move {
            let router = Server::builder().add_service(RaftTransportServer::new(service));
            let stop = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(err) = router.serve_with_incoming_shutdown(incoming, stop).await {
                tracing::error!(%err, "peer server failed");
            }
        });
        let mut voters: Vec<NodeId> = node.peers.iter().map(|(id, _)| *id).collect();
        voters.push(node.id);
        let config = DriverConfig::new(node.raft, voters);
        let (handle, _task) = Driver::start(config, store, sm, Arc::new(transport), inbox)?;
        Ok(RunningConsensusNode { handle, address, shutdown, server })
    }
}

impl<S: StateMachine> RunningConsensusNode<S> {
    /// Replicates `command`; resolves once applied here with its index and
    /// the state machine's output. Fails with [`NodeError::NotLeader`] on a
    /// follower (the hint names the leader).
    pub async fn propose(
        &self,
        command: impl Into<Bytes>,
    ) -> Result<(LogIndex, S::Output), NodeError> {
        self.handle.propose(command.into()).await
    }

    /// Runs `query` on the state machine after a linearizable read barrier.
    pub async fn read<R: Send + 'static>(
        &self,
        query: impl FnOnce(&S) -> R + Send + 'static,
    ) -> Result<R, NodeError> {
        self.handle.read(true, query).await
    }

    /// Raft state of this node.
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        self.handle.status().await
    }

    /// The handle, for everything else (membership, transfer).
    pub fn handle(&self) -> &NodeHandle<S> {
        &self.handle
    }

    /// Where peers reach this node.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops serving peers.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
    }
}
