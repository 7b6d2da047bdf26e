//! gRPC: the node-to-node transport and the client services.

mod cluster_service;
mod kv_service;
mod raft_service;
mod transport;

pub use cluster_service::ClusterService;
pub(crate) use kv_service::to_status;
pub use kv_service::{KvLimits, KvService};
pub use raft_service::RaftService;
pub use transport::{GrpcTransport, TlsForPeer, TransportOptions};
