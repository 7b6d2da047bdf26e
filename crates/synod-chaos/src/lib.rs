//! Real-process fault tests for synod (testing pyramid, level 5).
//!
//! Separate `synod` processes on 127.0.0.1, node-to-node links through
//! fault-injecting TCP proxies, clients that record what was acknowledged,
//! and checks that nothing acknowledged is lost.
//!
//! * [`proxy::Proxy`] — a reusable TCP proxy that can cut, blackhole,
//!   delay and randomly reset a link.
//! * [`cluster::Cluster`] — N node processes with one proxy per directed
//!   link; kill -9, restart, wipe, SIGSTOP/SIGCONT, isolate, heal; every
//!   wait bounded. It builds the `synod` binary first ([`binary`]).
//! * [`load`] — bounded write load and the ledger that checks every
//!   acknowledged write afterwards.
//! * [`raw`] — raw HTTP/2 gRPC requests for malformed input.
//!
//! The scenarios live in `tests/`; run them with
//! `cargo test -p synod-chaos --release -- --nocapture` to watch the phases.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use std::time::Duration;
//! use synod_chaos::cluster::{Cluster, ClusterOptions};
//!
//! let cluster = Cluster::start(ClusterOptions::default()).await?;
//! let leader = cluster.leader(Duration::from_secs(10)).await?;
//! cluster.isolate(leader);
//! let next = cluster.new_leader_without(leader, Duration::from_secs(10)).await?;
//! cluster.heal();
//! cluster.wait_converged(&cluster.ids(), Duration::from_secs(10)).await?;
//! # let _ = next; Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod binary;
pub mod cluster;
pub mod load;
pub mod observe;
pub mod process;
pub mod proxy;
pub mod raw;
