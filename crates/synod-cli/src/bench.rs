//! `synod bench kv`: a bounded load of writes against a cluster;
//! `synod bench votes` ([`crate::bench_votes`]): proposals decided by
//! concurrent votes.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::endpoints::ConnectArgs;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Write unique keys from concurrent clients; print throughput and latency.
    Kv(KvBenchArgs),
    /// Propose and let every participant vote at once: propose -> decision
    /// latency, then decisions per second with many proposals in flight.
    Votes(crate::bench_votes::VotesBenchArgs),
}

#[derive(Args)]
pub struct KvBenchArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    clients: u64,
    /// Total operations.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    ops: u64,
    /// Key size in bytes (at least 8: keys are unique counters).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(8..=4096))]
    key_size: u64,
    /// Value size in bytes.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=1_572_864))]
    value_size: u64,
    /// Read the keys back linearizably instead of writing them (run a write pass first).
    #[arg(long)]
    reads: bool,
}

fn key(i: u64, size: u64) -> Vec<u8> {
    let mut key = vec![b'k'; size as usize];
    key[size as usize - 8..].copy_from_slice(&i.to_be_bytes());
    key
}

/// The latency at `q` (0..1) of sorted samples.
pub(crate) fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Kv(args) => run_kv(args).await,
        BenchCommand::Votes(args) => crate::bench_votes::run(args).await,
    }
}

async fn run_kv(args: KvBenchArgs) -> anyhow::Result<ExitCode> {
    let client = Arc::new(args.connect.client()?);
    let value = Arc::new(vec![b'v'; args.value_size as usize]);
    let bar = ProgressBar::new(args.ops);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} ops {per_sec} {elapsed}")?);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (client, value, bar) = (client.clone(), value.clone(), bar.clone());
        let (ops, clients, key_size, reads) = (args.ops, args.clients, args.key_size, args.reads);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c;
            while i < ops {
                let k = key(i, key_size);
                let t = Instant::now();
                if reads {
                    client.get(&k).await?;
                } else {
                    client.put(&k, &value).await?;
                }
                latencies.push(t.elapsed());
                bar.inc(1);
                i += clients;
            }
            Ok::<_, synod_client::ClientError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    latencies.sort_unstable();
    let kind = if args.reads { "linearizable reads" } else { "writes" };
    println!(
        "{} {kind} by {} clients in {:.2}s: {:.0} ops/s; latency p50 {:.2?} p99 {:.2?} p999 {:.2?}",
        latencies.len(),
        args.clients,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        quantile(&latencies, 0.999),
    );
    Ok(ExitCode::SUCCESS)
}
