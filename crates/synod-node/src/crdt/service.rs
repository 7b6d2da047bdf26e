//! The `Crdt` client service: updates and reads of this node's replica.

use synod_proto::crdt::v1 as pb;
use synod_proto::crdt::v1::crdt_server::Crdt;
use tonic::{Request, Response, Status};

use super::object::{CrdtKind, CrdtObject, CrdtOp};
use super::replica::UpdateError;
use super::state::{CrdtError, CrdtState};

/// Serves `Crdt` from a node's [`CrdtState`].
#[derive(Clone, Debug)]
pub struct CrdtService {
    state: CrdtState,
}

impl CrdtService {
    /// A service over `state`.
    pub fn new(state: CrdtState) -> CrdtService {
        CrdtService { state }
    }

    fn op(&self, op: Option<pb::update_request::Op>) -> Result<CrdtOp, Status> {
        use pb::update_request::Op;
        Ok(match op.ok_or_else(|| Status::invalid_argument("update has no operation"))? {
            Op::CounterAdd(n) => CrdtOp::CounterAdd(n),
            Op::SetAdd(e) => CrdtOp::SetAdd(e),
            Op::SetRemove(e) => CrdtOp::SetRemove(e),
            Op::RegisterSet(v) => CrdtOp::RegisterSet(v, self.state.timestamp()),
            Op::MapPut(pb::MapPut { key, value }) => CrdtOp::MapPut(key, value),
            Op::MapRemove(k) => CrdtOp::MapRemove(k),
        })
    }
}

/// The wire form of a type.
pub fn kind_to_proto(kind: CrdtKind) -> pb::CrdtKind {
    match kind {
        CrdtKind::Counter => pb::CrdtKind::Counter,
        CrdtKind::Set => pb::CrdtKind::Set,
        CrdtKind::Register => pb::CrdtKind::Register,
        CrdtKind::Map => pb::CrdtKind::Map,
    }
}

/// A type from the wire: `None` for UNSPECIFIED, an error for values this
/// version does not know.
pub fn kind_from_proto(value: i32) -> Result<Option<CrdtKind>, Status> {
    match pb::CrdtKind::try_from(value) {
        Ok(pb::CrdtKind::Unspecified) => Ok(None),
        Ok(pb::CrdtKind::Counter) => Ok(Some(CrdtKind::Counter)),
        Ok(pb::CrdtKind::Set) => Ok(Some(CrdtKind::Set)),
        Ok(pb::CrdtKind::Register) => Ok(Some(CrdtKind::Register)),
        Ok(pb::CrdtKind::Map) => Ok(Some(CrdtKind::Map)),
        Err(_) => Err(Status::invalid_argument(format!("unknown CRDT type {value}"))),
    }
}

/// The value of `object` as clients see it.
pub fn value_to_proto(name: &str, object: &CrdtObject) -> pb::CrdtValue {
    use pb::crdt_value::Value;
    let value = match object {
        CrdtObject::Counter(c) => {
            Value::Counter(c.value().clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        }
        CrdtObject::Set(s) => {
            Value::Set(pb::SetValue { elements: s.elements().cloned().collect() })
        }
        CrdtObject::Register(r) => {
            let ts = r.timestamp().unwrap_or_default();
            Value::Register(pb::RegisterValue {
                value: r.get().cloned(),
                wall_ms: ts.wall_ms,
                logical: ts.logical,
                writer: ts.node.0,
            })
        }
        CrdtObject::Map(m) => Value::Map(pb::MapValue {
            entries: m
                .store
                .iter()
                .map(|(key, register)| {
                    let mut values: Vec<String> = register.iter().map(|(_, v)| v.clone()).collect();
                    values.sort();
                    values.dedup();
                    pb::MapEntry { key: key.clone(), values }
                })
                .collect(),
        }),
    };
    pb::CrdtValue {
        name: name.to_string(),
        kind: kind_to_proto(object.kind()) as i32,
        value: Some(value),
    }
}

fn refused(err: CrdtError) -> Status {
    match err {
        CrdtError::Refused(e @ UpdateError::WrongKind { .. }) => {
            Status::failed_precondition(e.to_string())
        }
        CrdtError::Refused(e) => Status::invalid_argument(e.to_string()),
        CrdtError::Storage(reason) => Status::unavailable(format!("update not durable: {reason}")),
    }
}

#[tonic::async_trait]
impl Crdt for CrdtService {
    async fn update(
        &self,
        request: Request<pb::UpdateRequest>,
    ) -> Result<Response<pb::UpdateResponse>, Status> {
        let request = request.into_inner();
        let op = self.op(request.op)?;
        let object = self.state.update(&request.name, op).await.map_err(refused)?;
        Ok(Response::new(pb::UpdateResponse {
            node_id: self.state.me().0,
            value: Some(value_to_proto(&request.name, &object)),
        }))
    }

    async fn read(
        &self,
        request: Request<pb::ReadRequest>,
    ) -> Result<Response<pb::ReadResponse>, Status> {
        let request = request.into_inner();
        let expected = kind_from_proto(request.kind)?;
        let object = self.state.get(&request.name);
        if let (Some(object), Some(expected)) = (&object, expected) {
            if object.kind() != expected {
                return Err(Status::failed_precondition(format!(
                    "\"{}\": object is a {}, not a {expected}",
                    request.name,
                    object.kind()
                )));
            }
        }
        Ok(Response::new(pb::ReadResponse {
            node_id: self.state.me().0,
            value: object.map(|o| value_to_proto(&request.name, &o)),
        }))
    }

    async fn list(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResponse>, Status> {
        let replica = self.state.replica();
        let objects = replica
            .list()
            .map(|(name, kind)| pb::ObjectSummary {
                name: name.to_string(),
                kind: kind_to_proto(kind) as i32,
            })
            .collect();
        Ok(Response::new(pb::ListResponse {
            node_id: self.state.me().0,
            objects,
            merkle_root: replica.root().to_vec().into(),
        }))
    }
}
