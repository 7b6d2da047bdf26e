//! Periodic checkpoints: every N local updates the node commits its CRDT
//! Merkle root through the replicated log, so the cluster keeps a
//! canonical, ordered history of what each replica held (each checkpoint
//! is a new revision of a reserved KV key).
//!
//! Checkpoints are a record, not a dependency: the AP state keeps
//! accepting writes and gossiping when no checkpoint can be committed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use synod_proto::cluster::v1::cluster_client::ClusterClient;
use synod_proto::cluster::v1::CommitCheckpointRequest;

use super::dial::peer_endpoint;
use super::state::CrdtState;
use crate::config::TlsFiles;
use crate::machine::NodeStateMachine;
use crate::{Directory, NodeHandle};

/// The checkpoint record: `root=<hex> updates=<n> objects=<n> unix_ms=<ms>`.
pub fn checkpoint_record(state: &CrdtState) -> String {
    let (root, objects) = {
        let replica = state.replica();
        (replica.root(), replica.len())
    };
    let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("root={hex} updates={} objects={objects} unix_ms={unix_ms}", state.updates())
}

/// Commits a checkpoint whenever one is due, through the leader's
/// `Cluster.CommitCheckpoint`. A checkpoint that cannot be committed yet
/// (no leader, leader unreachable) is retried with backoff, each attempt
/// with the then-current root, until one commits.
pub async fn run(
    state: CrdtState,
    node: NodeHandle<NodeStateMachine>,
    directory: Directory,
    tls: Option<TlsFiles>,
) {
    loop {
        state.checkpoint_due().await;
        let mut delay = Duration::from_millis(200);
        loop {
            let request =
                CommitCheckpointRequest { node_id: node.id().0, record: checkpoint_record(&state) };
            match commit(&node, &directory, tls.as_ref(), request).await {
                Ok(index) => {
                    metrics::counter!("synod_crdt_checkpoints_total").increment(1);
                    tracing::debug!(index, "CRDT checkpoint committed");
                    break;
                }
                Err(err) => {
                    metrics::counter!("synod_crdt_checkpoints_failed_total").increment(1);
                    tracing::debug!(%err, "CRDT checkpoint not committed yet");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

async fn commit(
    node: &NodeHandle<NodeStateMachine>,
    directory: &Directory,
    tls: Option<&TlsFiles>,
    request: CommitCheckpointRequest,
) -> Result<u64, String> {
    let leader = node.leadership().1.ok_or("no leader known")?;
    let address =
        directory.get(leader).ok_or_else(|| format!("no address of the leader {leader}"))?;
    let endpoint = peer_endpoint(leader, address, tls)?.timeout(Duration::from_secs(5));
    let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
    let reply = ClusterClient::new(channel)
        .commit_checkpoint(request)
        .await
        .map_err(|status| format!("{leader}: {}", status.message()))?;
    Ok(reply.into_inner().log_index)
}
