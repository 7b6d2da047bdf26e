//! `synod-sim`: run seeded simulations from the command line.
//!
//! ```text
//! cargo run -p synod-sim --release -- raft --seeds 2000
//! cargo run -p synod-sim --release -- raft --seed 1234
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Parser, Subcommand};
use synod_core::raft::Bugs;
use synod_sim::raft::run_seed;

#[derive(Parser)]
#[command(name = "synod-sim", about = "Seeded deterministic simulation of synod's protocol cores")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate Raft clusters under faults and check safety and liveness.
    Raft {
        /// Number of seeds to run, starting at --first-seed.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// First seed of the range.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Run exactly this seed (replays a failure).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: available cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print one line per seed.
        #[arg(long)]
        verbose: bool,
    },
}

fn main() -> ExitCode {
    let Command::Raft { seeds, first_seed, seed, threads, verbose } = Cli::parse().command;
    let range = match seed {
        Some(s) => s..s + 1,
        None => first_seed..first_seed.saturating_add(seeds),
    };
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let started = Instant::now();
    let next = AtomicU64::new(range.start);
    let committed = AtomicU64::new(0);
    let reads = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let s = next.fetch_add(1, Ordering::Relaxed);
                if s >= range.end {
                    break;
                }
                match run_seed(s, &Bugs::default()) {
                    Ok(stats) => {
                        committed.fetch_add(stats.proposals_committed, Ordering::Relaxed);
                        reads.fetch_add(stats.reads_served, Ordering::Relaxed);
                        if verbose {
                            println!("seed {s}: ok {stats:?}");
                        }
                    }
                    Err(v) => {
                        eprintln!("seed {s}: VIOLATION {v}");
                        eprintln!("  replay: cargo run -p synod-sim --release -- raft --seed {s}");
                        failures.lock().unwrap().push(s);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let run = range.end - range.start;
    println!(
        "raft simulation: {run} seeds run, {} violations, {} proposals committed, {} reads checked, {:.1}s",
        failures.len(),
        committed.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
