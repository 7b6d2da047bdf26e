//! Looking at a running [`Cluster`]: status, `/metrics`, `/health`, whole
//! key ranges, and bounded waits for a leader, a catch-up or convergence.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use synod_client::StatusResponse;
use synod_proto::kv::v1::kv_client::KvClient;
use synod_proto::kv::v1::{KeyValue, RangeRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Channel, Endpoint};

use crate::cluster::Cluster;

/// Bound on one status, metrics or health request.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);
/// Pause between polls of a wait.
const POLL: Duration = Duration::from_millis(100);
/// Keys per page of a range read, and pages per read.
const PAGE_KEYS: u64 = 5000;
const PAGES_MAX: usize = 1000;

/// GET `path` from the HTTP/1.1 server at `address`: (status code, body).
pub async fn http_get(address: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect(address).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await?;
        let mut reply = Vec::new();
        socket.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    let reply = tokio::time::timeout(PROBE_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{path}: timed out"))?
        .map_err(|e| format!("{path}: {e}"))?;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{path}: no HTTP status in {head:?}"))?;
    Ok((code, body.to_string()))
}

/// What one node reports: its status and its health.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// Node id.
    pub id: u64,
    /// Its `Cluster.Status` answer.
    pub status: StatusResponse,
}

impl Cluster {
    /// Node `id`'s own view, asked directly (never redirected).
    pub async fn status(&self, id: u64) -> Result<StatusResponse, String> {
        let client = self.single_shot(id, PROBE_TIMEOUT);
        match tokio::time::timeout(PROBE_TIMEOUT * 2, client.status()).await {
            Ok(result) => result.map_err(|e| format!("n{id}: {e}")),
            Err(_) => Err(format!("n{id}: status timed out")),
        }
    }

    /// Views of the nodes among `ids` that answer.
    pub async fn views(&self, ids: &[u64]) -> Vec<NodeView> {
        let mut views = Vec::new();
        for &id in ids {
            if let Ok(status) = self.status(id).await {
                views.push(NodeView { id, status });
            }
        }
        views
    }

    /// The leader that a majority of the cluster agrees on, asking only
    /// `ids`: a node that says it leads, and enough of `ids` that name it
    /// in the same term.
    pub async fn leader_among(&self, ids: &[u64], within: Duration) -> Result<u64, String> {
        let quorum = self.ids().len() / 2 + 1;
        let deadline = Instant::now() + within;
        let last = loop {
            self.check_alive()?;
            let last = self.views(ids).await;
            for view in &last {
                let s = &view.status;
                if s.leader_id != view.id {
                    continue;
                }
                let agreeing = last
                    .iter()
                    .filter(|v| v.status.leader_id == view.id && v.status.term == s.term)
                    .count();
                if agreeing >= quorum {
                    return Ok(view.id);
                }
            }
            if Instant::now() >= deadline {
                break last;
            }
            tokio::time::sleep(POLL).await;
        };
        let seen: Vec<String> = last
            .iter()
            .map(|v| format!("n{} leader {} term {}", v.id, v.status.leader_id, v.status.term))
            .collect();
        Err(format!("no agreed leader among {ids:?} within {within:?}; last seen: {seen:?}"))
    }

    /// The leader a majority agrees on.
    pub async fn leader(&self, within: Duration) -> Result<u64, String> {
        self.leader_among(&self.ids(), within).await
    }

    /// A leader other than `old`, agreed by a majority of the others.
    pub async fn new_leader_without(&self, old: u64, within: Duration) -> Result<u64, String> {
        let others: Vec<u64> = self.ids().into_iter().filter(|&id| id != old).collect();
        self.leader_among(&others, within).await
    }

    /// GET `path` on node `id`'s HTTP server: (status code, body).
    pub async fn http_get(&self, id: u64, path: &str) -> Result<(u16, String), String> {
        http_get(self.node(id).http, path).await.map_err(|e| format!("n{id} {e}"))
    }

    /// `/health` of node `id`: whether it is ready, and its text.
    pub async fn health(&self, id: u64) -> Result<(bool, String), String> {
        let (code, body) = self.http_get(id, "/health").await?;
        Ok((code == 200, body.trim().to_string()))
    }

    /// One gauge or counter from node `id`'s `/metrics`.
    pub async fn metric(&self, id: u64, name: &str) -> Result<f64, String> {
        let (_, body) = self.http_get(id, "/metrics").await?;
        body.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (key, value) = l.rsplit_once(' ')?;
                (key == name || key.starts_with(&format!("{name}{{")))
                    .then(|| value.parse().ok())?
            })
            .ok_or_else(|| format!("n{id}: metric {name} not found"))
    }

    /// A gRPC channel straight to node `id`.
    pub async fn channel(&self, id: u64) -> Result<Channel, String> {
        let tls = self.client_certs().is_some();
        let scheme = if tls { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", self.endpoint(id)))
            .map_err(|e| e.to_string())?
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5));
        if let Some(certs) = self.client_certs() {
            endpoint = endpoint.tls_config(certs.tls_config()?).map_err(|e| e.to_string())?;
        }
        endpoint.connect().await.map_err(|e| format!("n{id}: {e}"))
    }

    /// Every key under `prefix` as node `id` serves it: its local replica
    /// when `serializable`, else a linearizable read (leader only).
    pub async fn read_prefix(
        &self,
        id: u64,
        prefix: &[u8],
        serializable: bool,
    ) -> Result<BTreeMap<Vec<u8>, KeyValue>, String> {
        let mut kv = KvClient::new(self.channel(id).await?).max_decoding_message_size(64 << 20);
        let mut all = BTreeMap::new();
        let mut start_after = Vec::new();
        for _ in 0..PAGES_MAX {
            let request = RangeRequest {
                prefix: prefix.to_vec().into(),
                limit: PAGE_KEYS,
                start_after: start_after.clone().into(),
                serializable,
            };
            let page =
                kv.range(request).await.map_err(|s| format!("n{id} range: {s}"))?.into_inner();
            if let Some(last) = page.kvs.last() {
                start_after = last.key.to_vec();
            }
            all.extend(page.kvs.into_iter().map(|kv| (kv.key.to_vec(), kv)));
            if !page.more {
                return Ok(all);
            }
        }
        Err(format!("n{id}: more than {PAGES_MAX} pages under the prefix"))
    }

    /// Waits until every node in `ids` reports the same commit index,
    /// applied up to it, and the same leader; returns that index.
    pub async fn wait_converged(&self, ids: &[u64], within: Duration) -> Result<u64, String> {
        let deadline = Instant::now() + within;
        let mut last = Vec::new();
        while Instant::now() < deadline {
            self.check_alive()?;
            last = self.views(ids).await;
            let first = last.first().map(|v| (v.status.commit_index, v.status.leader_id));
            let agreed = last.len() == ids.len()
                && last.iter().all(|v| {
                    let s = &v.status;
                    Some((s.commit_index, s.leader_id)) == first
                        && s.applied_index == s.commit_index
                        && s.leader_id != 0
                });
            if agreed {
                return Ok(last[0].status.commit_index);
            }
            tokio::time::sleep(POLL).await;
        }
        let seen: Vec<String> = last
            .iter()
            .map(|v| {
                let s = &v.status;
                format!(
                    "n{}: leader {} commit {} applied {}",
                    v.id, s.leader_id, s.commit_index, s.applied_index
                )
            })
            .collect();
        Err(format!("nodes {ids:?} did not converge within {within:?}: {seen:?}"))
    }

    /// Waits until node `id` has applied `index` and its `/health` says ready.
    pub async fn wait_applied(&self, id: u64, index: u64, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            self.check_alive()?;
            if let Ok(status) = self.status(id).await {
                let ready = self.health(id).await;
                last = format!("applied {} of {index}, health {ready:?}", status.applied_index);
                if status.applied_index >= index && matches!(ready, Ok((true, _))) {
                    return Ok(());
                }
            }
            tokio::time::sleep(POLL).await;
        }
        Err(format!("n{id} did not catch up within {within:?}: {last}"))
    }
}
