//! `synod node start`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use synod_node::config::{FileConfig, NodeConfig, Overrides};
use synod_node::SynodNode;

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Start a node and run until SIGINT/SIGTERM.
    Start(StartArgs),
}

/// Flags win over the environment, which wins over the config file.
#[derive(Args, Debug)]
pub struct StartArgs {
    /// YAML (.yaml/.yml) or TOML (.toml) config file.
    #[arg(long, env = "SYNOD_CONFIG")]
    config: Option<PathBuf>,
    /// This node's id (n1 or 1).
    #[arg(long, env = "SYNOD_NODE_ID")]
    node_id: Option<String>,
    /// gRPC listen address (peers and clients).
    #[arg(long, env = "SYNOD_BIND_ADDRESS")]
    bind_address: Option<String>,
    /// HTTP listen address for /metrics and /health.
    #[arg(long, env = "SYNOD_HTTP_ADDRESS")]
    http_address: Option<String>,
    /// Peers, comma-separated `[id=]address`.
    #[arg(long, env = "SYNOD_PEERS")]
    peers: Option<String>,
    /// Directory of durable state.
    #[arg(long, env = "SYNOD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Node certificate (PEM).
    #[arg(long, env = "SYNOD_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Node private key (PEM).
    #[arg(long, env = "SYNOD_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Cluster CA certificate (PEM).
    #[arg(long, env = "SYNOD_TLS_CA")]
    tls_ca: Option<PathBuf>,
    /// Compact the log into a snapshot every this many applied entries.
    #[arg(long, env = "SYNOD_SNAPSHOT_EVERY")]
    snapshot_every: Option<u64>,
    /// Time between CRDT anti-entropy gossip rounds (e.g. 1s, 200ms).
    #[arg(long, env = "SYNOD_GOSSIP_INTERVAL", value_parser = humantime::parse_duration)]
    gossip_interval: Option<std::time::Duration>,
    /// Commit the CRDT Merkle root through the log every this many local
    /// CRDT updates (0: never).
    #[arg(long, env = "SYNOD_CHECKPOINT_EVERY")]
    checkpoint_every: Option<u64>,
    /// UDP address of SWIM membership (default: the gRPC bind address).
    #[arg(long, env = "SYNOD_SWIM_ADDRESS")]
    swim_address: Option<String>,
    /// Membership seeds, comma-separated: IP:PORT, dns+a://NAME:PORT or
    /// dns+srv://NAME (default: the peers' addresses).
    #[arg(long, env = "SYNOD_SWIM_SEEDS")]
    swim_seeds: Option<String>,
    /// File with the cluster key (64 hex digits) sealing SWIM datagrams.
    #[arg(long, env = "SYNOD_CLUSTER_KEY_FILE")]
    cluster_key_file: Option<PathBuf>,
    /// SWIM protocol period (e.g. 1s).
    #[arg(long, env = "SYNOD_PROBE_INTERVAL", value_parser = humantime::parse_duration)]
    probe_interval: Option<std::time::Duration>,
}

pub async fn run(cmd: NodeCommand) -> anyhow::Result<ExitCode> {
    let NodeCommand::Start(args) = cmd;
    let file = match &args.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let overrides = Overrides {
        node_id: args.node_id,
        bind_address: args.bind_address,
        http_address: args.http_address,
        peers: args.peers,
        data_dir: args.data_dir,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        tls_ca: args.tls_ca,
        snapshot_every: args.snapshot_every,
        gossip_interval: args.gossip_interval,
        checkpoint_every: args.checkpoint_every,
        swim_address: args.swim_address,
        swim_seeds: args.swim_seeds,
        cluster_key_file: args.cluster_key_file,
        probe_interval: args.probe_interval,
    };
    let config = NodeConfig::resolve(file, overrides)?;
    let mut node = SynodNode::start(config).await.context("node failed to start")?;
    println!("synod node {} serving gRPC on {}", node.handle.id(), node.grpc_address);
    if let Some(http) = node.http_address {
        println!("metrics and health on http://{http}/metrics, http://{http}/health");
    }
    let outcome = tokio::select! {
        result = wait_for_signal() => result,
        stopped = node.stopped() => Err(match stopped {
            Ok(()) => anyhow::anyhow!("node stopped"),
            Err(e) => anyhow::anyhow!("node stopped: {e}"),
        }),
    };
    node.shutdown().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
