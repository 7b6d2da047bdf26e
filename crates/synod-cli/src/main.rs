//! `synod`: run nodes and a local dev cluster, use the KV store, manage
//! the cluster and its certificates, and benchmark it.

mod bench;
mod bench_votes;
mod certs;
mod cluster_cmd;
mod crdt_cmd;
mod dev;
mod endpoints;
mod kv_cmd;
mod node_cmd;
mod quarantine_cmd;
mod vote_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "synod", version, about = "A coordination fabric for meshes of cooperating nodes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node.
    #[command(subcommand)]
    Node(node_cmd::NodeCommand),
    /// Local development helpers.
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Read and write the replicated key-value store.
    Kv(kv_cmd::KvArgs),
    /// Inspect and change the cluster.
    Cluster(cluster_cmd::ClusterArgs),
    /// Counters, sets, registers and maps that every node accepts writes
    /// to, converging by gossip (CRDTs).
    Crdt(crdt_cmd::CrdtArgs),
    /// Put proposals to the vote of nodes and agents; read the decisions.
    Vote(vote_cmd::VoteArgs),
    /// Identifiers (commits, artefacts) that must not be deployed.
    Quarantine(quarantine_cmd::QuarantineArgs),
    /// Create the cluster CA and issue node and client certificates.
    #[command(subcommand)]
    Certs(certs::CertsCommand),
    /// Measure a cluster.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(vote_cmd::usage_exit_code(&err, Cli::command()));
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SYNOD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,synod_node=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Node(cmd) => node_cmd::run(cmd).await,
            Command::Dev(cmd) => dev::run(cmd).await,
            Command::Kv(args) => kv_cmd::run(args).await,
            Command::Cluster(args) => cluster_cmd::run(args).await,
            Command::Crdt(args) => crdt_cmd::run(args).await,
            Command::Vote(args) => vote_cmd::run(args).await,
            Command::Quarantine(args) => quarantine_cmd::run(args).await,
            Command::Certs(cmd) => certs::run(cmd),
            Command::Bench(cmd) => bench::run(cmd).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
