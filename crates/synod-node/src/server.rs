//! [`SynodNode`]: a complete node — storage, driver, gRPC transport and
//! services, HTTP metrics and health — started from a [`NodeConfig`].

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use synod_core::raft::Config as RaftConfig;
use synod_core::vote::Registry;
use synod_core::NodeId;
use synod_proto::cluster::v1::cluster_client::ClusterClient;
use synod_proto::cluster::v1::cluster_server::ClusterServer;
use synod_proto::cluster::v1::StatusRequest;
use synod_proto::crdt::v1::crdt_server::CrdtServer;
use synod_proto::gossip::v1::gossip_server::GossipServer;
use synod_proto::kv::v1::kv_server::KvServer;
use synod_proto::membership::v1::membership_server::MembershipServer;
use synod_proto::raft::v1::raft_transport_server::RaftTransportServer;
use synod_proto::vote::v1::votes_server::VotesServer;
use synod_store::Store;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tonic::transport::{Endpoint, Server};

use crate::config::{NodeConfig, Peer};
use crate::crdt::gossip::{GossipContext, GossipService, FRAME_BYTES_MAX};
use crate::crdt::{checkpoint, keys, CrdtLimits, CrdtService, CrdtState};
use crate::grpc::{
    ClusterService, GrpcTransport, KvLimits, KvService, RaftService, TransportOptions,
};
use crate::hooks::{HookLedger, HookRunner};
use crate::machine::NodeStateMachine;
use crate::membership::{MembershipHandle, MembershipService};
use crate::vote::VotesService;
use crate::{http, tls, Directory, Driver, DriverConfig, NodeError, NodeHandle};

/// How long shutdown waits for open connections to close.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// How long a new node waits for peers listed without an id to answer.
const PEER_ID_WAIT: Duration = Duration::from_secs(60);

/// A running node. Dropping it does not stop it; call [`SynodNode::shutdown`].
#[derive(Debug)]
pub struct SynodNode {
    /// The node's handle, for embedding programs.
    pub handle: NodeHandle<NodeStateMachine>,
    /// Where its gRPC server listens.
    pub grpc_address: SocketAddr,
    /// Where its HTTP server (/metrics, /health) listens.
    pub http_address: Option<SocketAddr>,
    /// Its SWIM membership.
    pub membership: MembershipHandle,
    shutdown: watch::Sender<bool>,
    driver: JoinHandle<Result<(), NodeError>>,
    server: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl SynodNode {
    /// Opens storage, starts serving, learns the ids of peers listed by
    /// address only, then starts the Raft driver. Votes are decided with
    /// the built-in algorithms.
    pub async fn start(config: NodeConfig) -> Result<SynodNode, NodeError> {
        SynodNode::start_with_registry(config, Registry::new()).await
    }

    /// [`SynodNode::start`], deciding votes with the algorithms of
    /// `registry` (built-in plus custom ones registered by name). Every
    /// node of the cluster must register the same algorithms: a node
    /// without one refuses to restore a snapshot holding an open
    /// proposal that uses it.
    pub async fn start_with_registry(
        config: NodeConfig,
        registry: Registry,
    ) -> Result<SynodNode, NodeError> {
        tls::install_crypto_provider();
        let me = config.node_id;
        let store = Store::open(&config.data_dir).map_err(|e| NodeError::Stopped(e.to_string()))?;
        let listener = TcpListener::bind(config.bind_address).await.map_err(|e| {
            NodeError::Stopped(format!("cannot listen on {}: {e}", config.bind_address))
        })?;
        let grpc_address = listener.local_addr().map_err(|e| NodeError::Stopped(e.to_string()))?;
        let directory = Directory::default();
        directory.insert(me, grpc_address);
        let transport = GrpcTransport::new(me, transport_options(&config)?);
        let (inbox_tx, inbox) = mpsc::channel(8192);
        let handle_cell = Arc::new(OnceLock::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (crdt, persister) =
            CrdtState::open(me, store.crdt, CrdtLimits::default(), config.crdt.checkpoint_every)
                .map_err(NodeError::Stopped)?;
        let signing_key = keys::load_or_create(&config.data_dir).map_err(NodeError::Stopped)?;
        let gossip_cell = Arc::new(OnceLock::new());
        let (membership, membership_tasks) =
            crate::membership::start(&config, grpc_address).await.map_err(NodeError::Stopped)?;
        let hooks = if config.hooks.is_empty() {
            None
        } else {
            let ledger = HookLedger::open_in(&config.data_dir)
                .map_err(|e| NodeError::Stopped(e.to_string()))?;
            Some(
                HookRunner::new(config.hooks.clone(), ledger)
                    .map_err(|e| NodeError::Stopped(e.to_string()))?,
            )
        };
        let server = serve(
            &config,
            listener,
            me,
            inbox_tx,
            Services {
                handle: &handle_cell,
                crdt: &crdt,
                gossip: &gossip_cell,
                signing_key: &signing_key,
                membership: &membership,
                hooks: hooks.as_ref().map(|h| h.ledger().clone()),
            },
            &directory,
            &transport,
            shutdown_rx.clone(),
        )?;

        let peers = resolve_peer_ids(&config, &config.peers).await?;
        for (id, address) in &peers {
            directory.insert(*id, *address);
            transport.add_peer(*id, *address);
        }
        let mut voters: Vec<NodeId> = peers.iter().map(|(id, _)| *id).collect();
        voters.push(me);
        let mut driver_config = DriverConfig::new(raft_config(&config), voters);
        driver_config.compact_every_entries = config.snapshot_every;
        let sm = NodeStateMachine::with_registry(store.kv, registry).map_err(NodeError::Stopped)?;
        let (handle, driver) =
            Driver::start(driver_config, store.raft, sm, Arc::new(transport), inbox)?;
        let _ = handle_cell.set(handle.clone());
        let gossip = GossipContext::new(crdt.clone(), handle.clone(), signing_key.clone());
        let _ = gossip_cell.set(gossip.clone());
        let mut background = membership_tasks;
        background.push(tokio::spawn(crate::vote::expiry::run(me, handle.clone())));
        if let Some(runner) = hooks {
            background.push(tokio::spawn(crate::vote::hook_task::run(handle.clone(), runner)));
        }
        background.extend([
            persister,
            tokio::spawn(keys::publish(handle.clone(), directory.clone(), config.tls.clone())),
            tokio::spawn(checkpoint::run(
                crdt.clone(),
                handle.clone(),
                directory.clone(),
                config.tls.clone(),
            )),
            tokio::spawn(crate::crdt::gossip::run(
                gossip,
                directory.clone(),
                membership.clone(),
                config.tls.clone(),
                config.crdt.gossip_interval,
                config.crdt.gossip_fanout,
            )),
        ]);
        let http_address = match config.http_address {
            Some(addr) => Some(http::serve(addr, handle.clone(), shutdown_rx).await?),
            None => None,
        };
        tracing::info!(node = %me, %grpc_address, ?http_address, "node started");
        Ok(SynodNode {
            handle,
            grpc_address,
            http_address,
            membership,
            shutdown,
            driver,
            server,
            background,
        })
    }

    /// Leaves the membership gracefully (bounded), stops serving and
    /// waits for the servers to close.
    pub async fn shutdown(self) {
        self.membership.leave(SHUTDOWN_GRACE).await;
        let _ = self.shutdown.send(true);
        // Graceful shutdown waits for open connections, and peers keep their
        // streams open: give them a moment, then stop regardless.
        let server = self.server;
        let abort = server.abort_handle();
        if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
            abort.abort();
        }
        // Abort the driver and the CRDT tasks, then wait (bounded) until
        // they are gone, so their database files are closed on return.
        self.driver.abort();
        for task in &self.background {
            task.abort();
        }
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
            let _ = self.driver.await;
            for task in self.background {
                let _ = task.await;
            }
        })
        .await;
    }

    /// Resolves when the driver stops: with the fatal error (e.g. a
    /// storage checksum mismatch naming the file and record) that stopped it.
    pub async fn stopped(&mut self) -> Result<(), NodeError> {
        (&mut self.driver).await.map_err(|e| NodeError::Stopped(e.to_string()))?
    }
}

fn raft_config(config: &NodeConfig) -> RaftConfig {
    let mut raft = RaftConfig::new(config.node_id);
    let election = config.election_timeout.as_millis() as u64;
    raft.election_timeout_ms_min = election;
    raft.election_timeout_ms_max = election * 2;
    raft.heartbeat_interval_ms = config.heartbeat_interval.as_millis() as u64;
    raft.rng_seed = config.node_id.0 ^ std::process::id() as u64;
    raft
}

fn transport_options(config: &NodeConfig) -> Result<TransportOptions, NodeError> {
    let mut options = TransportOptions::default();
    if let Some(files) = &config.tls {
        // Validate the files now, so a bad path fails the start, not each dial.
        tls::client_tls(files, "localhost").map_err(|e| NodeError::Stopped(e.to_string()))?;
        let files = files.clone();
        options.tls = Some(Arc::new(move |peer: NodeId| {
            tls::client_tls(&files, &peer.to_string()).expect("TLS files were validated at start")
        }));
    }
    Ok(options)
}

/// What the client and peer services serve from, some set once the node
/// has started.
struct Services<'a> {
    handle: &'a Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
    crdt: &'a CrdtState,
    gossip: &'a Arc<OnceLock<GossipContext>>,
    signing_key: &'a ed25519_dalek::SigningKey,
    membership: &'a MembershipHandle,
    hooks: Option<HookLedger>,
}

#[allow(clippy::too_many_arguments)]
fn serve(
    config: &NodeConfig,
    listener: TcpListener,
    me: NodeId,
    inbox: mpsc::Sender<synod_core::raft::Message>,
    services: Services<'_>,
    directory: &Directory,
    transport: &GrpcTransport,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, NodeError> {
    let handle = services.handle;
    let raft = RaftService::new(me, 1, inbox, config.tls.is_some());
    let limits = KvLimits { request_timeout: config.request_timeout, ..KvLimits::default() };
    let kv = KvService::new(handle.clone(), directory.clone(), limits);
    let cluster = ClusterService::new(me, handle.clone(), directory.clone(), transport.clone())
        .with_crdt_public_key(services.signing_key.verifying_key().to_bytes());
    let crdt = CrdtService::new(services.crdt.clone());
    let gossip = GossipService::new(services.gossip.clone(), config.tls.is_some());
    let membership = MembershipService::new(services.membership.clone());
    let votes = VotesService::new(
        me,
        handle.clone(),
        directory.clone(),
        services.membership.clone(),
        services.hooks,
        config.votes.clone(),
    );
    // No server-wide timeout: it would cut the long-lived peer streams. Client
    // calls carry their own deadline (grpc-timeout), and the KV service bounds
    // how long it waits for the cluster.
    let mut builder = Server::builder();
    if let Some(files) = &config.tls {
        let tls = tls::server_tls(files).map_err(|e| NodeError::Stopped(e.to_string()))?;
        builder = builder.tls_config(tls).map_err(|e| NodeError::Stopped(e.to_string()))?;
    }
    let router = builder
        .add_service(RaftTransportServer::new(raft).max_decoding_message_size(64 << 20))
        .add_service(KvServer::new(kv).max_decoding_message_size(4 << 20))
        .add_service(ClusterServer::new(cluster))
        .add_service(CrdtServer::new(crdt).max_decoding_message_size(1 << 20))
        .add_service(MembershipServer::new(membership).max_decoding_message_size(16 << 20))
        .add_service(VotesServer::new(votes).max_decoding_message_size(1 << 20))
        .add_service(
            GossipServer::new(gossip)
                .max_decoding_message_size(FRAME_BYTES_MAX)
                .max_encoding_message_size(FRAME_BYTES_MAX),
        );
    // Nagle would hold multi-part responses for the peer's delayed ACK (40 ms).
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    Ok(tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(err) = router.serve_with_incoming_shutdown(incoming, stop).await {
            tracing::error!(%err, "gRPC server failed");
        }
    }))
}

/// Asks every peer listed without an id for its id (bounded wait).
async fn resolve_peer_ids(
    config: &NodeConfig,
    peers: &[Peer],
) -> Result<Vec<(NodeId, SocketAddr)>, NodeError> {
    let mut resolved = Vec::new();
    for peer in peers {
        let id = match peer.id {
            Some(id) => id,
            None => ask_node_id(config, peer.address).await?,
        };
        resolved.push((id, peer.address));
    }
    Ok(resolved)
}

async fn ask_node_id(config: &NodeConfig, address: SocketAddr) -> Result<NodeId, NodeError> {
    let deadline = tokio::time::Instant::now() + PEER_ID_WAIT;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    loop {
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| NodeError::Stopped(e.to_string()))?
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2));
        if let Some(files) = &config.tls {
            let tls = tls::client_tls(files, "localhost")
                .map_err(|e| NodeError::Stopped(e.to_string()))?;
            endpoint = endpoint.tls_config(tls).map_err(|e| NodeError::Stopped(e.to_string()))?;
        }
        if let Ok(channel) = endpoint.connect().await {
            if let Ok(reply) = ClusterClient::new(channel).status(StatusRequest {}).await {
                let id = reply.into_inner().node_id;
                if id != 0 {
                    return Ok(NodeId(id));
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(NodeError::Stopped(format!(
                "peer {address} did not tell its node id within {PEER_ID_WAIT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
