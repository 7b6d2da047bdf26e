//! The `Kv` client service: writes go through the log, reads through
//! ReadIndex (or the local replica when the client asks for serializable).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use synod_proto::kv::v1 as pb;
use synod_proto::kv::v1::kv_server::Kv;
use synod_proto::LeaderHint;
use synod_store::{Expect, KeyValue, KvCommand, KvResult, RANGE_LIMIT_MAX};
use tonic::{Request, Response, Status};

use crate::crdt::keys::RESERVED_PREFIX;
use crate::machine::{Applied, NodeStateMachine};
use crate::{Directory, NodeError, NodeHandle};

/// Size limits on client input.
#[derive(Clone, Copy, Debug)]
pub struct KvLimits {
    /// Largest key, in bytes.
    pub key_bytes_max: usize,
    /// Largest value, in bytes (default 1.5 MiB).
    pub value_bytes_max: usize,
    /// How long a request may wait for the cluster (commit or read index).
    pub request_timeout: Duration,
}

impl Default for KvLimits {
    fn default() -> Self {
        KvLimits {
            key_bytes_max: 4096,
            value_bytes_max: 1536 * 1024,
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// Serves `Kv` from a node's handle once the node is running.
#[derive(Clone, Debug)]
pub struct KvService {
    handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
    directory: Directory,
    limits: KvLimits,
}

impl KvService {
    /// A service that answers UNAVAILABLE until `handle` is set.
    pub fn new(
        handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
        directory: Directory,
        limits: KvLimits,
    ) -> Self {
        KvService { handle, directory, limits }
    }

    fn node(&self) -> Result<&NodeHandle<NodeStateMachine>, Status> {
        self.handle.get().ok_or_else(|| Status::unavailable("node is starting"))
    }

    fn check_key(&self, key: &[u8]) -> Result<(), Status> {
        if key.is_empty() {
            return Err(Status::invalid_argument("key is empty"));
        }
        if key.len() > self.limits.key_bytes_max {
            return Err(Status::invalid_argument(format!(
                "key is {} bytes, over the limit of {} bytes",
                key.len(),
                self.limits.key_bytes_max
            )));
        }
        Ok(())
    }

    /// Keys under [`RESERVED_PREFIX`] hold synod's own records (CRDT
    /// signing keys, checkpoints): readable, never writable by clients.
    fn check_writable(&self, key: &[u8]) -> Result<(), Status> {
        self.check_key(key)?;
        if key.starts_with(RESERVED_PREFIX) {
            return Err(Status::invalid_argument(format!(
                "keys under \"{}\" are reserved for synod itself",
                RESERVED_PREFIX.escape_ascii()
            )));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<(), Status> {
        if value.len() > self.limits.value_bytes_max {
            return Err(Status::invalid_argument(format!(
                "value is {} bytes, over the limit of {} bytes",
                value.len(),
                self.limits.value_bytes_max
            )));
        }
        Ok(())
    }

    async fn write(&self, command: KvCommand) -> Result<(pb::ResponseHeader, KvResult), Status> {
        let node = self.node()?;
        let proposal = node.propose(Bytes::from(command.encode()));
        let (index, applied) = tokio::time::timeout(self.limits.request_timeout, proposal)
            .await
            .unwrap_or(Err(NodeError::Timeout))
            .map_err(|e| self.to_status(e))?;
        match applied {
            Applied::Kv(result) => Ok((self.header(index.0).await, result)),
            Applied::Vote(other) => {
                Err(Status::internal(format!("state machine answered {other:?}")))
            }
        }
    }

    async fn header(&self, revision: u64) -> pb::ResponseHeader {
        let Ok(node) = self.node() else { return pb::ResponseHeader::default() };
        pb::ResponseHeader { node_id: node.id().0, term: node.leadership().0 .0, revision }
    }

    /// Waits for `call` at most the request timeout.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, NodeError>>,
    ) -> Result<T, Status> {
        tokio::time::timeout(self.limits.request_timeout, call)
            .await
            .unwrap_or(Err(NodeError::Timeout))
            .map_err(|e| self.to_status(e))
    }

    /// Maps a node error to a gRPC status; "not leader" carries the
    /// leader's id and address so the client can go there.
    pub(crate) fn to_status(&self, err: NodeError) -> Status {
        to_status(&self.directory, err)
    }
}

/// Maps a node error to a status, attaching a leader hint when known.
pub(crate) fn to_status(directory: &Directory, err: NodeError) -> Status {
    match &err {
        NodeError::NotLeader { leader_hint } => {
            let hint = leader_hint
                .map(|id| LeaderHint { id, address: directory.get(id).map(|a| a.to_string()) });
            LeaderHint::not_leader(hint.as_ref(), err.to_string())
        }
        NodeError::ProposalDropped | NodeError::TransferInProgress => {
            Status::unavailable(err.to_string())
        }
        NodeError::Membership(_) | NodeError::Transfer(_) => {
            Status::failed_precondition(err.to_string())
        }
        NodeError::Timeout => Status::deadline_exceeded(err.to_string()),
        NodeError::Stopped(_) => Status::unavailable(err.to_string()),
    }
}

fn to_pb(kv: KeyValue) -> pb::KeyValue {
    pb::KeyValue {
        key: kv.key.into(),
        value: kv.value.into(),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
    }
}

fn unexpected(result: KvResult) -> Status {
    Status::internal(format!("state machine answered {result:?}"))
}

#[tonic::async_trait]
impl Kv for KvService {
    async fn put(
        &self,
        request: Request<pb::PutRequest>,
    ) -> Result<Response<pb::PutResponse>, Status> {
        let req = request.into_inner();
        self.check_writable(&req.key)?;
        self.check_value(&req.value)?;
        let command = KvCommand::Put { key: req.key.to_vec(), value: req.value.to_vec() };
        match self.write(command).await? {
            (header, KvResult::Put { revision, prev }) => Ok(Response::new(pb::PutResponse {
                header: Some(header),
                revision,
                prev_kv: prev.map(to_pb),
            })),
            (_, other) => Err(unexpected(other)),
        }
    }

    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        let req = request.into_inner();
        self.check_key(&req.key)?;
        let key = req.key.to_vec();
        let node = self.node()?;
        let (kv, applied) = self
            .bounded(node.read(!req.serializable, move |sm: &NodeStateMachine| {
                (sm.store().get(&key), sm.store().applied_index())
            }))
            .await?;
        let kv = kv.map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::GetResponse {
            header: Some(self.header(applied.0).await),
            revision: kv.as_ref().map_or(0, |kv| kv.mod_revision),
            kv: kv.map(to_pb),
            read_index: applied.0,
        }))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let req = request.into_inner();
        self.check_writable(&req.key)?;
        match self.write(KvCommand::Delete { key: req.key.to_vec() }).await? {
            (header, KvResult::Delete { revision, prev }) => {
                Ok(Response::new(pb::DeleteResponse {
                    header: Some(header),
                    revision,
                    deleted: prev.is_some(),
                }))
            }
            (_, other) => Err(unexpected(other)),
        }
    }

    async fn compare_and_swap(
        &self,
        request: Request<pb::CompareAndSwapRequest>,
    ) -> Result<Response<pb::CompareAndSwapResponse>, Status> {
        let req = request.into_inner();
        self.check_writable(&req.key)?;
        self.check_value(&req.value)?;
        use pb::compare_and_swap_request::Expect as PbExpect;
        let expect = match req.expect {
            Some(PbExpect::ExpectValue(v)) => Expect::Value(v.to_vec()),
            Some(PbExpect::ExpectModRevision(r)) => Expect::Revision(r),
            Some(PbExpect::ExpectAbsent(_)) => Expect::Absent,
            None => {
                return Err(Status::invalid_argument(
                    "expect is not set: give a value, a mod revision or absent",
                ))
            }
        };
        let key = req.key.to_vec();
        let command =
            KvCommand::CompareAndSwap { key: key.clone(), expect, value: req.value.to_vec() };
        match self.write(command).await? {
            (header, KvResult::CompareAndSwap { revision, succeeded, prev }) => {
                let value = req.value.to_vec();
                let current = if succeeded {
                    let (create_revision, version) =
                        prev.as_ref().map_or((revision, 1), |p| (p.create_revision, p.version + 1));
                    Some(KeyValue { key, value, create_revision, mod_revision: revision, version })
                } else {
                    prev
                };
                Ok(Response::new(pb::CompareAndSwapResponse {
                    header: Some(header),
                    succeeded,
                    revision,
                    current: current.map(to_pb),
                }))
            }
            (_, other) => Err(unexpected(other)),
        }
    }

    async fn range(
        &self,
        request: Request<pb::RangeRequest>,
    ) -> Result<Response<pb::RangeResponse>, Status> {
        let req = request.into_inner();
        if req.prefix.len() > self.limits.key_bytes_max {
            return Err(Status::invalid_argument("prefix is longer than the key limit"));
        }
        // One key more than the page tells whether more remain.
        let page_max = RANGE_LIMIT_MAX - 1;
        let limit = match req.limit {
            0 => page_max,
            n => (n as usize).min(page_max),
        };
        let prefix = req.prefix.to_vec();
        let start_after = req.start_after.to_vec();
        let node = self.node()?;
        let (kvs, applied) = self
            .bounded(node.read(!req.serializable, move |sm: &NodeStateMachine| {
                (
                    sm.store().range_after(&prefix, &start_after, limit + 1),
                    sm.store().applied_index(),
                )
            }))
            .await?;
        let mut kvs = kvs.map_err(|e| Status::internal(e.to_string()))?;
        let more = kvs.len() > limit;
        kvs.truncate(limit);
        Ok(Response::new(pb::RangeResponse {
            header: Some(self.header(applied.0).await),
            kvs: kvs.into_iter().map(to_pb).collect(),
            more,
        }))
    }
}
