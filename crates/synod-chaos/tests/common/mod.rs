//! Shared by the scenario files: bounds and small checks.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use synod_chaos::cluster::Cluster;

/// Bound on a whole scenario, including the wait for the cluster lock
/// (scenarios of one file run one at a time, each well under a minute).
pub const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);
/// Bound on an election or a failover.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(15);
/// Bound on a catch-up or a convergence.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the `synod` binary (not timed: the first build can take
/// minutes), then runs a scenario, failing it if it outlives
/// [`SCENARIO_TIMEOUT`].
pub async fn bounded<F: Future<Output = ()>>(scenario: F) {
    let built = tokio::task::spawn_blocking(synod_chaos::binary::synod_binary).await.unwrap();
    if let Err(e) = built {
        panic!("no synod binary: {e}");
    }
    if tokio::time::timeout(SCENARIO_TIMEOUT, scenario).await.is_err() {
        panic!("scenario did not finish within {SCENARIO_TIMEOUT:?}");
    }
}

/// A write through every endpoint must succeed: the cluster still serves.
pub async fn assert_serves_a_write(cluster: &Cluster, key: &str) -> u64 {
    let client = cluster.client();
    match client.put(key.as_bytes(), b"still serving").await {
        Ok(revision) => revision,
        Err(e) => {
            panic!("cluster no longer serves a write ({key}): {e}\n{}", cluster.log_tails(20))
        }
    }
}
