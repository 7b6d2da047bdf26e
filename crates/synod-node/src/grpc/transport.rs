//! [`GrpcTransport`]: one long-lived client stream per peer, fed from a
//! bounded queue, with batching and reconnection with backoff.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use synod_core::raft::Message;
use synod_core::NodeId;
use synod_proto::raft::v1::raft_transport_client::RaftTransportClient;
use synod_proto::raft::v1::MessageBatch;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{ClientTlsConfig, Endpoint};

use crate::Transport;

/// Builds the TLS config for the link to one peer (its node id is the
/// name its certificate must carry).
pub type TlsForPeer = Arc<dyn Fn(NodeId) -> ClientTlsConfig + Send + Sync>;

/// Limits of the transport.
#[derive(Clone)]
pub struct TransportOptions {
    /// Cluster id carried in every batch; peers of another cluster refuse it.
    pub cluster_id: u64,
    /// Messages queued per peer before new ones are dropped.
    pub queue_messages_max: usize,
    /// Messages per batch.
    pub batch_messages_max: usize,
    /// Deadline to establish a connection.
    pub connect_timeout: Duration,
    /// First and last delay between reconnection attempts.
    pub backoff_ms: (u64, u64),
    /// TLS for peer links: a config per peer node id.
    pub tls: Option<TlsForPeer>,
}

impl std::fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportOptions")
            .field("cluster_id", &self.cluster_id)
            .field("queue_messages_max", &self.queue_messages_max)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            cluster_id: 1,
            queue_messages_max: 4096,
            batch_messages_max: 256,
            connect_timeout: Duration::from_secs(2),
            backoff_ms: (50, 2000),
            tls: None,
        }
    }
}

/// Sends Raft messages to peers over gRPC client streams.
#[derive(Clone, Debug)]
pub struct GrpcTransport {
    me: NodeId,
    options: TransportOptions,
    queues: Arc<Mutex<HashMap<NodeId, mpsc::Sender<Message>>>>,
}

impl GrpcTransport {
    /// A transport for node `me`; add peers with [`GrpcTransport::add_peer`].
    pub fn new(me: NodeId, options: TransportOptions) -> GrpcTransport {
        GrpcTransport { me, options, queues: Arc::default() }
    }

    /// Starts (or restarts) the link to `peer` at `address`.
    pub fn add_peer(&self, peer: NodeId, address: SocketAddr) {
        let (tx, rx) = mpsc::channel(self.options.queue_messages_max);
        self.queues.lock().expect("transport lock").insert(peer, tx);
        let link = PeerLink { me: self.me, peer, address, options: self.options.clone() };
        tokio::spawn(link.run(rx));
    }
}

impl Transport for GrpcTransport {
    fn send(&self, msg: Message) {
        let queue = self.queues.lock().expect("transport lock").get(&msg.to).cloned();
        if let Some(queue) = queue {
            let peer = msg.to;
            if queue.try_send(msg).is_err() {
                metrics::counter!("synod_peer_messages_dropped_total", "peer" => peer.to_string())
                    .increment(1);
            }
        }
    }
}

/// The task that owns the link to one peer.
struct PeerLink {
    me: NodeId,
    peer: NodeId,
    address: SocketAddr,
    options: TransportOptions,
}

impl PeerLink {
    async fn run(self, mut queue: mpsc::Receiver<Message>) {
        let (first_ms, last_ms) = self.options.backoff_ms;
        let mut backoff = first_ms;
        loop {
            match self.connect().await {
                Ok(client) => {
                    backoff = first_ms;
                    if self.stream(client, &mut queue).await.is_none() {
                        return; // The transport was dropped.
                    }
                }
                Err(err) => {
                    metrics::counter!("synod_peer_connect_failures_total", "peer" => self.peer.to_string())
                        .increment(1);
                    tracing::debug!(peer = %self.peer, %err, "connect failed");
                }
            }
            // Messages queued while disconnected are stale; Raft resends.
            while queue.try_recv().is_ok() {}
            tokio::time::sleep(Duration::from_millis(backoff)).await;
            backoff = (backoff * 2).min(last_ms);
        }
    }

    async fn connect(
        &self,
    ) -> Result<RaftTransportClient<tonic::transport::Channel>, tonic::transport::Error> {
        let scheme = if self.options.tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", self.address))?
            .connect_timeout(self.options.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(1))
            .keep_alive_timeout(Duration::from_secs(3));
        if let Some(tls) = &self.options.tls {
            endpoint = endpoint.tls_config(tls(self.peer))?;
        }
        Ok(RaftTransportClient::new(endpoint.connect().await?))
    }

    /// Streams batches until the link fails (Some) or the queue closes (None).
    async fn stream(
        &self,
        mut client: RaftTransportClient<tonic::transport::Channel>,
        queue: &mut mpsc::Receiver<Message>,
    ) -> Option<()> {
        let (tx, rx) = mpsc::channel::<MessageBatch>(16);
        let call = tokio::spawn(async move { client.stream(ReceiverStream::new(rx)).await });
        loop {
            let first = queue.recv().await?;
            let mut batch = vec![first];
            while batch.len() < self.options.batch_messages_max {
                match queue.try_recv() {
                    Ok(msg) => batch.push(msg),
                    Err(_) => break,
                }
            }
            let count = batch.len() as u64;
            let batch =
                MessageBatch::from_messages(self.options.cluster_id, self.me, self.peer, &batch);
            let bytes = prost::Message::encoded_len(&batch) as u64;
            let started = std::time::Instant::now();
            let sent = tx.send(batch).await.is_ok();
            let peer = self.peer.to_string();
            metrics::histogram!("synod_peer_send_seconds", "peer" => peer.clone())
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("synod_peer_bytes_sent_total", "peer" => peer.clone())
                .increment(bytes);
            metrics::counter!("synod_peer_messages_sent_total", "peer" => peer).increment(count);
            if !sent || call.is_finished() {
                let outcome = call.await;
                tracing::debug!(peer = %self.peer, ?outcome, "peer stream ended; reconnecting");
                return Some(());
            }
        }
    }
}
