//! HTTP endpoints: `/metrics` (Prometheus text) and `/health`.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use synod_core::raft::Role;
use tokio::sync::watch;

use crate::machine::NodeStateMachine;
use crate::{NodeError, NodeHandle};

/// The process-wide Prometheus recorder (metrics are global in a process).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0])
            .expect("static buckets are valid");
        // Another recorder may be installed (a program embedding several
        // nodes): render an empty one rather than fail.
        builder
            .install_recorder()
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
    })
}

/// Installs the metrics recorder early, so counters from start-up count.
pub fn init_metrics() {
    recorder();
}

#[derive(Clone)]
struct AppState {
    node: NodeHandle<NodeStateMachine>,
}

/// Serves `/metrics` and `/health` on `addr` until `shutdown` turns true.
pub async fn serve(
    addr: SocketAddr,
    node: NodeHandle<NodeStateMachine>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<SocketAddr, NodeError> {
    init_metrics();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(AppState { node });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Stopped(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| NodeError::Stopped(e.to_string()))?;
    tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(err) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
            tracing::error!(%err, "HTTP server failed");
        }
    });
    Ok(local)
}

async fn metrics(State(state): State<AppState>) -> (StatusCode, String) {
    if let Ok(status) = state.node.status().await {
        let role = match status.role {
            Role::Follower => 0.0,
            Role::PreCandidate => 1.0,
            Role::Candidate => 2.0,
            Role::Leader => 3.0,
        };
        metrics::gauge!("synod_raft_term").set(status.term.0 as f64);
        metrics::gauge!("synod_raft_role").set(role);
        metrics::gauge!("synod_raft_commit_index").set(status.commit_index.0 as f64);
        metrics::gauge!("synod_raft_applied_index").set(status.applied_index.0 as f64);
        metrics::gauge!("synod_raft_last_index").set(status.last_index.0 as f64);
        metrics::gauge!("synod_raft_is_leader").set(if status.role == Role::Leader {
            1.0
        } else {
            0.0
        });
    }
    (StatusCode::OK, recorder().render())
}

/// Ready only when the node knows a leader and has applied up to its
/// commit index.
async fn health(State(state): State<AppState>) -> (StatusCode, String) {
    match state.node.status().await {
        Ok(s) if s.leader.is_some() && s.applied_index >= s.commit_index => (
            StatusCode::OK,
            format!(
                "ok: leader {} term {} applied {}\n",
                s.leader.unwrap(),
                s.term.0,
                s.applied_index.0
            ),
        ),
        Ok(s) if s.leader.is_none() => {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: no known leader\n".into())
        }
        Ok(s) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: applied {} of commit {}\n", s.applied_index.0, s.commit_index.0),
        ),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
    }
}
