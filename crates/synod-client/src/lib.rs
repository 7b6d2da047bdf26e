//! Rust client of a synod cluster.
//!
//! [`Client`] talks to any node, follows "not the leader" redirects, and
//! retries only what certainly did not take effect. A write either returns
//! its revision, or an error; [`ClientError::Ambiguous`] says the outcome is
//! unknown (the connection broke after the request left), never a success.
//!
//! ```no_run
//! # async fn demo() -> Result<(), synod_client::ClientError> {
//! let client = synod_client::Client::new(vec!["127.0.0.1:7001".into()], Default::default());
//! let revision = client.put(b"greeting", b"hello").await?;
//! let kv = client.get(b"greeting").await?.expect("just written");
//! assert_eq!(kv.mod_revision, revision);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod client;
mod crdt;
mod error;
mod membership;
mod vote;

pub use client::{Client, ClientOptions};
pub use error::ClientError;
pub use synod_proto::cluster::v1::{Member, Role, StatusResponse};
pub use synod_proto::crdt::v1 as crdt_proto;
pub use synod_proto::kv::v1::KeyValue;
pub use synod_proto::membership::v1 as membership_proto;
pub use synod_proto::vote::v1 as vote_proto;
