//! The `Cluster` service: status, membership changes, leadership transfer.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use synod_core::raft::{MembershipChange, MembershipError};
use synod_core::NodeId;
use synod_proto::cluster::v1 as pb;
use synod_proto::cluster::v1::cluster_server::Cluster;
use synod_store::KvCommand;
use tonic::{Request, Response, Status};

use super::kv_service::to_status;
use super::GrpcTransport;
use crate::machine::NodeStateMachine;
use crate::{Directory, NodeError, NodeHandle, NodeStatus};

/// Largest CRDT checkpoint record.
const CHECKPOINT_BYTES_MAX: usize = 1024;

/// How long AddMember waits for a new voter to catch up as a learner.
const PROMOTION_ATTEMPTS_MAX: u32 = 100;
const PROMOTION_RETRY: Duration = Duration::from_millis(100);

/// Serves `Cluster`.
#[derive(Clone, Debug)]
pub struct ClusterService {
    me: NodeId,
    handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
    directory: Directory,
    transport: GrpcTransport,
    crdt_public_key: Vec<u8>,
}

impl ClusterService {
    /// `Status` answers with this node's id even before the node runs.
    pub fn new(
        me: NodeId,
        handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
        directory: Directory,
        transport: GrpcTransport,
    ) -> Self {
        ClusterService { me, handle, directory, transport, crdt_public_key: Vec::new() }
    }

    /// Reports `key` (this node's CRDT root-signing key) in `Status`.
    pub fn with_crdt_public_key(mut self, key: [u8; 32]) -> Self {
        self.crdt_public_key = key.to_vec();
        self
    }

    fn node(&self) -> Result<&NodeHandle<NodeStateMachine>, Status> {
        self.handle.get().ok_or_else(|| Status::unavailable("node is starting"))
    }

    fn members(&self, status: &NodeStatus) -> Vec<pb::Member> {
        let m = &status.membership;
        let role = |id: NodeId| if m.is_voter(id) { pb::Role::Voter } else { pb::Role::Learner };
        m.members()
            .map(|id| pb::Member {
                id: id.0,
                address: self.directory.get(id).map(|a| a.to_string()).unwrap_or_default(),
                role: role(id) as i32,
                is_leader: status.leader == Some(id),
            })
            .collect()
    }

    async fn change(&self, change: MembershipChange) -> Result<u64, Status> {
        let node = self.node()?;
        node.change_membership(change).await.map(|i| i.0).map_err(|e| to_status(&self.directory, e))
    }

    /// Promotes `id` once it has caught up (thesis §4.2.1), retrying while
    /// it is still behind.
    async fn promote(&self, id: NodeId) -> Result<u64, Status> {
        let node = self.node()?;
        for _ in 0..PROMOTION_ATTEMPTS_MAX {
            match node.change_membership(MembershipChange::PromoteLearner(id)).await {
                Ok(index) => return Ok(index.0),
                Err(NodeError::Membership(MembershipError::NotCaughtUp { .. }))
                | Err(NodeError::Membership(MembershipError::ChangePending(_))) => {
                    tokio::time::sleep(PROMOTION_RETRY).await;
                }
                Err(e) => return Err(to_status(&self.directory, e)),
            }
        }
        Err(Status::deadline_exceeded(format!("{id} did not catch up; it stays a learner")))
    }
}

#[tonic::async_trait]
impl Cluster for ClusterService {
    async fn status(
        &self,
        _: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let Some(node) = self.handle.get() else {
            return Ok(Response::new(pb::StatusResponse {
                node_id: self.me.0,
                crdt_public_key: self.crdt_public_key.clone().into(),
                ..Default::default()
            }));
        };
        let status = node.status().await.map_err(|e| to_status(&self.directory, e))?;
        Ok(Response::new(pb::StatusResponse {
            node_id: self.me.0,
            leader_id: status.leader.map_or(0, |id| id.0),
            term: status.term.0,
            commit_index: status.commit_index.0,
            applied_index: status.applied_index.0,
            members: self.members(&status),
            crdt_public_key: self.crdt_public_key.clone().into(),
        }))
    }

    async fn add_member(
        &self,
        request: Request<pb::AddMemberRequest>,
    ) -> Result<Response<pb::AddMemberResponse>, Status> {
        let req = request.into_inner();
        if req.id == 0 {
            return Err(Status::invalid_argument("node id 0 is reserved"));
        }
        let address: SocketAddr = req.address.parse().map_err(|_| {
            Status::invalid_argument(format!(
                "'{}' is not an address of the form IP:PORT",
                req.address
            ))
        })?;
        let id = NodeId(req.id);
        let status = self.node()?.status().await.map_err(|e| to_status(&self.directory, e))?;
        if status.leader != Some(self.me) {
            return Err(to_status(
                &self.directory,
                NodeError::NotLeader { leader_hint: status.leader },
            ));
        }
        if status.membership.contains(id) {
            // Refuse before touching the link to the existing member.
            let err = NodeError::Membership(MembershipError::AlreadyMember(id));
            return Err(to_status(&self.directory, err));
        }
        self.directory.insert(id, address);
        self.transport.add_peer(id, address);
        let mut index = self.change(MembershipChange::AddLearner(id)).await?;
        if !req.learner {
            index = self.promote(id).await?;
        }
        let status = self.node()?.status().await.map_err(|e| to_status(&self.directory, e))?;
        Ok(Response::new(pb::AddMemberResponse {
            log_index: index,
            members: self.members(&status),
        }))
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::RemoveMemberResponse>, Status> {
        let id = NodeId(request.into_inner().id);
        let index = self.change(MembershipChange::Remove(id)).await?;
        let status = self.node()?.status().await.map_err(|e| to_status(&self.directory, e))?;
        Ok(Response::new(pb::RemoveMemberResponse {
            log_index: index,
            members: self.members(&status),
        }))
    }

    async fn transfer_leader(
        &self,
        request: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::TransferLeaderResponse>, Status> {
        let target = NodeId(request.into_inner().target);
        let node = self.node()?;
        node.transfer_leader(target).await.map_err(|e| to_status(&self.directory, e))?;
        // Wait (bounded) for the target to take over, so the caller sees the result.
        for _ in 0..50 {
            let status = node.status().await.map_err(|e| to_status(&self.directory, e))?;
            if status.leader == Some(target) {
                return Ok(Response::new(pb::TransferLeaderResponse {
                    leader_id: target.0,
                    term: status.term.0,
                }));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Status::deadline_exceeded(format!("{target} did not take over leadership in time")))
    }

    async fn commit_checkpoint(
        &self,
        request: Request<pb::CommitCheckpointRequest>,
    ) -> Result<Response<pb::CommitCheckpointResponse>, Status> {
        let certified = crate::tls::peer_cert(&request);
        let req = request.into_inner();
        crate::tls::check_claim(certified.as_ref(), NodeId(req.node_id))?;
        if req.node_id == 0 {
            return Err(Status::invalid_argument("node id 0 is reserved"));
        }
        if req.record.len() > CHECKPOINT_BYTES_MAX {
            return Err(Status::invalid_argument(format!(
                "checkpoint record is {} bytes, over the limit of {CHECKPOINT_BYTES_MAX} bytes",
                req.record.len()
            )));
        }
        let put = KvCommand::Put {
            key: crate::crdt::keys::checkpoint_path(NodeId(req.node_id)),
            value: req.record.into_bytes(),
        };
        let node = self.node()?;
        let (index, _) =
            node.propose(put.encode().into()).await.map_err(|e| to_status(&self.directory, e))?;
        Ok(Response::new(pb::CommitCheckpointResponse { log_index: index.0 }))
    }
}
