//! The synod node: runs protocol cores from `synod-core` for real.
//!
//! A [`Driver`] task owns one Raft core, its timers, its storage and its
//! state machine; everything else talks to it through a [`NodeHandle`].
//! Storage and network sit behind the [`LogStorage`] and [`Transport`]
//! traits, so the same driver runs on redb and gRPC in a node and on
//! memory in tests.
#![warn(missing_docs)]

pub mod config;
mod consensus_node;
pub mod crdt;
mod directory;
pub mod discovery;
mod driver;
mod error;
pub mod grpc;
mod handle;
pub mod hooks;
pub mod http;
pub mod machine;
pub mod membership;
mod server;
mod state_machine;
mod storage;
pub mod tls;
mod transport;
pub mod vote;

pub use consensus_node::{ConsensusNode, ConsensusNodeWith, RunningConsensusNode};
pub use directory::Directory;
pub use driver::{Driver, DriverConfig, DriverTask};
pub use error::NodeError;
pub use handle::{NodeHandle, NodeStatus};
pub use server::SynodNode;
pub use state_machine::StateMachine;
pub use storage::{LogStorage, MemStorage, StorageError};
pub use transport::{LocalNetwork, Transport};
