//! Each node's ed25519 key for signing its Merkle roots, and where peers
//! find the public half: the replicated KV store, under a reserved key,
//! committed once by the leader after reading it from the member over its
//! authenticated link — so every node learns every key from the same
//! committed history, and a key cannot be swapped by gossip.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use ed25519_dalek::{SigningKey, VerifyingKey};
use ring::rand::{SecureRandom, SystemRandom};
use synod_core::NodeId;
use synod_proto::cluster::v1::cluster_client::ClusterClient;
use synod_proto::cluster::v1::StatusRequest;
use synod_store::KvCommand;

use crate::config::TlsFiles;
use crate::machine::NodeStateMachine;
use crate::{Directory, NodeHandle};

/// The key file inside the data directory (32 raw bytes, mode 0600).
pub const SIGNING_KEY_FILE: &str = "crdt-signing.key";

/// KV keys under this prefix belong to synod; clients cannot write them.
pub const RESERVED_PREFIX: &[u8] = b"__synod/";

/// The KV key holding `node`'s public key.
pub fn public_key_path(node: NodeId) -> Vec<u8> {
    format!("__synod/crdt/keys/{node}").into_bytes()
}

/// The KV key holding `node`'s latest checkpoint of its CRDT root.
pub fn checkpoint_path(node: NodeId) -> Vec<u8> {
    format!("__synod/crdt/checkpoints/{node}").into_bytes()
}

/// Reads the node's signing key, creating it on first start.
pub fn load_or_create(data_dir: &Path) -> Result<SigningKey, String> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                format!("{}: expected 32 bytes, found {}", path.display(), bytes.len())
            })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            SystemRandom::new()
                .fill(&mut seed)
                .map_err(|_| "the system random source failed".to_string())?;
            write_private(&path, &seed)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// How often the leader looks for members whose key is not committed yet.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(500);

/// Run by every node; acts while it leads: for each member whose public
/// key is not in the log yet, asks the member for it over the member's
/// authenticated link (with TLS, the server certificate must name that
/// member) and commits it. Keys are never replaced through this path: a
/// node that lost its key file must be removed and re-added.
pub async fn publish(
    node: NodeHandle<NodeStateMachine>,
    directory: Directory,
    tls: Option<TlsFiles>,
) {
    loop {
        tokio::time::sleep(PUBLISH_INTERVAL).await;
        let Ok(status) = node.status().await else { continue };
        if status.leader != Some(status.id) {
            continue;
        }
        for member in status.membership.members() {
            if lookup(&node, member).await.is_some() {
                continue;
            }
            let Some(address) = directory.get(member) else { continue };
            let key = match fetch(member, address, tls.as_ref()).await {
                Ok(key) => key,
                Err(err) => {
                    tracing::debug!(%member, %err, "CRDT public key not fetched yet");
                    continue;
                }
            };
            let put =
                KvCommand::Put { key: public_key_path(member), value: key.to_bytes().to_vec() };
            match node.propose(put.encode().into()).await {
                Ok(_) => tracing::info!(%member, "committed CRDT public key"),
                Err(err) => tracing::debug!(%member, %err, "CRDT public key not committed"),
            }
        }
    }
}

/// Asks `member` at `address` for its public key.
async fn fetch(
    member: NodeId,
    address: SocketAddr,
    tls: Option<&TlsFiles>,
) -> Result<VerifyingKey, String> {
    let endpoint =
        super::dial::peer_endpoint(member, address, tls)?.timeout(Duration::from_secs(2));
    let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
    let status = ClusterClient::new(channel)
        .status(StatusRequest {})
        .await
        .map_err(|e| e.message().to_string())?
        .into_inner();
    if status.node_id != member.0 {
        return Err(format!("{address} answers as n{}, not {member}", status.node_id));
    }
    let bytes: [u8; 32] =
        status.crdt_public_key.as_ref().try_into().map_err(|_| {
            format!("{member} sent a key of {} bytes", status.crdt_public_key.len())
        })?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("{member} sent an invalid key: {e}"))
}

/// `peer`'s public key as committed in the log and applied here.
pub async fn lookup(node: &NodeHandle<NodeStateMachine>, peer: NodeId) -> Option<VerifyingKey> {
    let path = public_key_path(peer);
    let value = node.read(false, move |sm| sm.store().get(&path)).await.ok()?.ok()??.value;
    let bytes: [u8; 32] = value.as_slice().try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}
