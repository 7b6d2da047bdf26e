//! The server side of the node-to-node transport.

use synod_core::raft::Message;
use synod_core::NodeId;
use synod_proto::raft::v1::raft_transport_server::RaftTransport;
use synod_proto::raft::v1::{MessageBatch, StreamAck};
use synod_proto::ProtoError;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

/// Receives peers' batches and hands their messages to the driver.
#[derive(Clone, Debug)]
pub struct RaftService {
    me: NodeId,
    cluster_id: u64,
    inbox: mpsc::Sender<Message>,
    check_identity: bool,
}

impl RaftService {
    /// Feeds `inbox`; with `check_identity`, a batch must come from the node
    /// named in the peer's TLS certificate.
    pub fn new(
        me: NodeId,
        cluster_id: u64,
        inbox: mpsc::Sender<Message>,
        check_identity: bool,
    ) -> Self {
        RaftService { me, cluster_id, inbox, check_identity }
    }
}

#[tonic::async_trait]
impl RaftTransport for RaftService {
    async fn stream(
        &self,
        request: Request<Streaming<MessageBatch>>,
    ) -> Result<Response<StreamAck>, Status> {
        let certified = if self.check_identity { crate::tls::peer_cert(&request) } else { None };
        let mut stream = request.into_inner();
        let (mut batches, mut received) = (0u64, 0u64);
        while let Some(batch) = stream.message().await? {
            batches += 1;
            if batch.to != self.me.0 {
                return Err(Status::failed_precondition(format!(
                    "batch for n{} reached {}",
                    batch.to, self.me
                )));
            }
            crate::tls::check_claim(certified.as_ref(), NodeId(batch.from))?;
            let messages = batch.into_messages(self.cluster_id).map_err(|e| match e {
                ProtoError::ClusterMismatch { .. } => Status::failed_precondition(e.to_string()),
                e => Status::invalid_argument(e.to_string()),
            })?;
            for msg in messages {
                received += 1;
                if self.inbox.send(msg).await.is_err() {
                    return Err(Status::unavailable("node is shutting down"));
                }
            }
        }
        Ok(Response::new(StreamAck { batches_received: batches, messages_received: received }))
    }
}
