//! The KV state machine: commands, results, the durable store and its
//! snapshot format.

mod command;
mod result;
mod snapshot;
mod store;
#[cfg(test)]
mod tests;

pub use command::{Expect, KvCommand};
pub use result::{KeyValue, KvResult};
pub use store::{KvOptions, KvStore, RANGE_LIMIT_MAX};
