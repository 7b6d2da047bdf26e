//! The synod node: runs protocol cores from `synod-core` for real.
//!
//! A [`Driver`] task owns one Raft core, its timers, its storage and its
//! state machine; everything else talks to it through a [`NodeHandle`].
//! Storage and network sit behind the [`LogStorage`] and [`Transport`]
//! traits, so the same driver runs on redb and gRPC in a node and on
//! memory in tests.
#![warn(missing_docs)]

pub mod config;
mod driver;
mod error;
mod handle;
mod state_machine;
mod storage;
mod transport;

pub use driver::{Driver, DriverConfig};
pub use error::NodeError;
pub use handle::{NodeHandle, NodeStatus};
pub use state_machine::{ApplyOutput, StateMachine};
pub use storage::{LogStorage, MemStorage, StorageError};
pub use transport::{LocalNetwork, Transport};
