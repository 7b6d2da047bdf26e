//! `synod-sim`: run seeded simulations from the command line.
//!
//! ```text
//! cargo run -p synod-sim --release -- raft --seeds 2000
//! cargo run -p synod-sim --release -- raft --seed 1234
//! cargo run -p synod-sim --release -- gossip --nodes 1000 --fanout 3 --loss 1 --seeds 5
//! cargo run -p synod-sim --release -- gossip --nodes 50 --partition --seeds 20
//! cargo run -p synod-sim --release -- swim --scenario spread --nodes 10,100,1000 --seeds 5
//! cargo run -p synod-sim --release -- swim --scenario slow --nodes 100 --seeds 5
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Parser, Subcommand};
use synod_core::raft::Bugs;
use synod_sim::gossip::{self, GossipParams, Report, Summary, Workload};
use synod_sim::raft::run_seed;
use synod_sim::swim::{self, Scenario, SwimParams};

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
    /// Simulate gossip (Merkle anti-entropy of CRDT replicas) and report
    /// rounds to convergence and bytes sent.
    Gossip {
        /// Nodes in the cluster.
        #[arg(long, default_value_t = 100)]
        nodes: usize,
        /// Peers each node gossips with per round.
        #[arg(long, default_value_t = 3)]
        fanout: usize,
        /// Message loss in percent (0 to 99.9, one decimal).
        #[arg(long, default_value_t = 0.0)]
        loss: f64,
        /// Number of seeds to run per workload, starting at --first-seed.
        #[arg(long, default_value_t = 10)]
        seeds: u64,
        /// First seed of the range.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Run exactly this seed (replays a failure).
        #[arg(long)]
        seed: Option<u64>,
        /// Run the partition workload (split, both sides write, heal)
        /// instead of the spread and concurrent-writers workloads.
        #[arg(long)]
        partition: bool,
        /// Worker threads (default: available cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print one line per seed.
        #[arg(long)]
        verbose: bool,
    },
    /// Simulate SWIM membership with Lifeguard (or plain SWIM) and report
    /// dissemination, detection, false "dead" declarations and load.
    Swim {
        /// spread | crash | slow | partition | load.
        #[arg(long, default_value = "spread", value_parser = parse_scenario)]
        scenario: Scenario,
        /// Cluster sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100")]
        nodes: Vec<usize>,
        /// Datagram loss in percent (0 to 99.9, one decimal), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "0")]
        loss: Vec<f64>,
        /// Number of seeds per configuration, starting at --first-seed.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// First seed of the range.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Run exactly this seed (replays a failure).
        #[arg(long)]
        seed: Option<u64>,
        /// Plain SWIM only (every Lifeguard part off).
        #[arg(long, conflicts_with_all = ["both", "lifeguard"])]
        plain: bool,
        /// Lifeguard only (the default except for the slow scenario).
        #[arg(long, conflicts_with = "both")]
        lifeguard: bool,
        /// Both plain SWIM and Lifeguard on the same seeds (the default
        /// for the slow scenario).
        #[arg(long)]
        both: bool,
        /// Override `suspicion_mult` (default 4, memberlist's LAN profile).
        #[arg(long)]
        suspicion_mult: Option<u32>,
        /// Worker threads (default: available cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print one line per seed.
        #[arg(long)]
        verbose: bool,
    },
}

fn parse_scenario(name: &str) -> Result<Scenario, String> {
    Scenario::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scenario `{name}`; one of {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Raft { seeds, first_seed, seed, threads, verbose } => {
            raft(seed_range(seed, first_seed, seeds), threads_or_cores(threads), verbose)
        }
        Command::Gossip {
            nodes,
            fanout,
            loss,
            seeds,
            first_seed,
            seed,
            partition,
            threads,
            verbose,
        } => {
            let workloads: &[Workload] = if partition {
                &[Workload::Partition]
            } else {
                &[Workload::Spread, Workload::Concurrent]
            };
            let gossip_args = GossipArgs {
                nodes,
                fanout,
                loss_permille: (loss * 10.0).round().clamp(0.0, 999.0) as u32,
                workloads,
                range: seed_range(seed, first_seed, seeds),
                threads: threads_or_cores(threads),
                verbose,
            };
            run_gossip(&gossip_args)
        }
        Command::Swim {
            scenario,
            nodes,
            loss,
            seeds,
            first_seed,
            seed,
            plain,
            lifeguard,
            both,
            suspicion_mult,
            threads,
            verbose,
        } => {
            let variants = if plain {
                vec![false]
            } else if lifeguard {
                vec![true]
            } else if both || scenario == Scenario::Slow {
                vec![false, true]
            } else {
                vec![true]
            };
            let swim_args = SwimArgs {
                scenario,
                nodes,
                loss_permille: loss
                    .iter()
                    .map(|l| (l * 10.0).round().clamp(0.0, 999.0) as u32)
                    .collect(),
                variants,
                suspicion_mult,
                range: seed_range(seed, first_seed, seeds),
                threads: threads_or_cores(threads),
                verbose,
            };
            run_swim(&swim_args)
        }
    }
}

fn seed_range(seed: Option<u64>, first_seed: u64, seeds: u64) -> std::ops::Range<u64> {
    match seed {
        Some(s) => s..s + 1,
        None => first_seed..first_seed.saturating_add(seeds),
    }
}

fn threads_or_cores(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

struct GossipArgs {
    nodes: usize,
    fanout: usize,
    loss_permille: u32,
    workloads: &'static [Workload],
    range: std::ops::Range<u64>,
    threads: usize,
    verbose: bool,
}

/// Runs every (workload, seed) job on `threads` workers and prints a
/// summary table with one row per workload.
fn run_gossip(args: &GossipArgs) -> ExitCode {
    let first =
        GossipParams::from_seed(0, args.nodes, args.fanout, args.loss_permille, args.workloads[0]);
    if let Err(e) = first.validate() {
        eprintln!("gossip: {e}");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let jobs: Vec<(Workload, u64)> =
        args.workloads.iter().flat_map(|&w| args.range.clone().map(move |s| (w, s))).collect();
    let next = AtomicU64::new(0);
    let reports = Mutex::new(Vec::<Report>::new());
    let failures = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..args.threads {
            scope.spawn(|| {
                while let Some(&(workload, seed)) =
                    jobs.get(next.fetch_add(1, Ordering::Relaxed) as usize)
                {
                    match run_gossip_seed(args, workload, seed) {
                        Some(report) => reports.lock().unwrap().push(report),
                        None => _ = failures.fetch_add(1, Ordering::Relaxed),
                    }
                }
            });
        }
    });
    print_gossip_summary(args, &reports.into_inner().unwrap());
    let failures = failures.load(Ordering::Relaxed);
    println!(
        "gossip simulation: {} runs, {failures} violations, {:.1}s",
        jobs.len(),
        started.elapsed().as_secs_f64()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one seed; prints a violation with its replay command.
fn run_gossip_seed(args: &GossipArgs, workload: Workload, seed: u64) -> Option<Report> {
    let params =
        GossipParams::from_seed(seed, args.nodes, args.fanout, args.loss_permille, workload);
    match gossip::run_seed(params.clone()) {
        Ok(r) => {
            if args.verbose {
                println!(
                    "{} seed {seed}: {} rounds, {} ms, {} bytes, {} msgs, {} sessions failed",
                    workload.name(),
                    r.rounds,
                    r.converge_ms,
                    r.window.bytes,
                    r.window.messages,
                    r.total.sessions_failed
                );
            }
            Some(r)
        }
        Err(v) => {
            eprintln!("{} seed {seed}: VIOLATION {v}", workload.name());
            eprintln!("  replay: {}", gossip::replay_command(&params));
            None
        }
    }
}

fn print_gossip_summary(args: &GossipArgs, reports: &[Report]) {
    println!("{}", gossip::table_header());
    for &workload in args.workloads {
        let of: Vec<Report> = reports.iter().filter(|r| r.workload == workload).cloned().collect();
        if let Some(summary) = Summary::of(&of) {
            let fanout = of[0].fanout;
            let row = gossip::table_row(workload, args.nodes, fanout, args.loss_permille, &summary);
            println!("{row}");
        }
    }
}

fn raft(range: std::ops::Range<u64>, threads: usize, verbose: bool) -> ExitCode {
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

struct SwimArgs {
    scenario: Scenario,
    nodes: Vec<usize>,
    loss_permille: Vec<u32>,
    /// `true`: Lifeguard, `false`: plain SWIM.
    variants: Vec<bool>,
    suspicion_mult: Option<u32>,
    range: std::ops::Range<u64>,
    threads: usize,
    verbose: bool,
}

impl SwimArgs {
    fn params(&self, seed: u64, nodes: usize, loss_permille: u32, lifeguard: bool) -> SwimParams {
        let mut p = SwimParams::from_seed(seed, nodes, loss_permille, self.scenario, lifeguard);
        if let Some(mult) = self.suspicion_mult {
            p.config.suspicion_mult = mult;
        }
        p
    }

    /// One (nodes, loss, variant) per table row, in table order.
    fn configurations(&self) -> Vec<(usize, u32, bool)> {
        let mut out = Vec::new();
        for &n in &self.nodes {
            for &l in &self.loss_permille {
                out.extend(self.variants.iter().map(|&v| (n, l, v)));
            }
        }
        out
    }
}

/// Runs every (configuration, seed) job on `threads` workers, biggest
/// clusters first, and prints one table row per configuration.
fn run_swim(args: &SwimArgs) -> ExitCode {
    for (n, l, v) in args.configurations() {
        if let Err(e) = args.params(0, n, l, v).validate() {
            eprintln!("swim: {e}");
            return ExitCode::from(2);
        }
    }
    let started = Instant::now();
    let mut jobs: Vec<(usize, u32, bool, u64)> = args
        .configurations()
        .into_iter()
        .flat_map(|(n, l, v)| args.range.clone().map(move |s| (n, l, v, s)))
        .collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
    let next = AtomicU64::new(0);
    let reports = Mutex::new(Vec::<swim::Report>::new());
    let failures = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..args.threads {
            scope.spawn(|| {
                while let Some(&(n, l, v, seed)) =
                    jobs.get(next.fetch_add(1, Ordering::Relaxed) as usize)
                {
                    let params = args.params(seed, n, l, v);
                    match swim::run_seed(params.clone()) {
                        Ok(r) => {
                            if args.verbose {
                                println!("{}", swim_line(&r));
                            }
                            reports.lock().unwrap().push(r);
                        }
                        Err(violation) => {
                            eprintln!("swim seed {seed}: VIOLATION {violation}");
                            eprintln!("  replay: {}", swim::replay_command(&params));
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by_key(|r| r.seed);
    print_swim_summary(args, &reports);
    let failures = failures.load(Ordering::Relaxed);
    println!(
        "swim simulation: {} runs, {failures} violations, {:.1}s",
        jobs.len(),
        started.elapsed().as_secs_f64()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn swim_line(r: &swim::Report) -> String {
    let variant = if r.lifeguard { "lifeguard" } else { "plain" };
    format!(
        "{} n={} loss={}‰ {variant} seed {}: spread {:?}, detections {:?}, heal {:?} ms, \
         false dead {:?}, {:.2} msgs/member/period, warm-up {} ms, {} ms simulated",
        r.scenario.name(),
        r.nodes,
        r.loss_permille,
        r.seed,
        r.spread,
        r.detections,
        r.heal_ms,
        r.false_dead,
        r.messages_per_member_period(),
        r.warmup_ms,
        r.sim_ms
    )
}

fn print_swim_summary(args: &SwimArgs, reports: &[swim::Report]) {
    println!("{}", swim::table_header(args.scenario));
    let of = |n: usize, l: u32, v: bool| -> Vec<swim::Report> {
        reports
            .iter()
            .filter(|r| r.nodes == n && r.loss_permille == l && r.lifeguard == v)
            .cloned()
            .collect()
    };
    for (n, l, v) in args.configurations() {
        if let Some(summary) = swim::Summary::of(&of(n, l, v)) {
            println!("{}", summary.row());
        }
    }
    if args.variants.len() < 2 {
        return;
    }
    for &n in &args.nodes {
        for &l in &args.loss_permille {
            let (plain, guard) = (of(n, l, false), of(n, l, true));
            let (Some(p), Some(g)) = (swim::Summary::of(&plain), swim::Summary::of(&guard)) else {
                continue;
            };
            let (pc, gc) = (p.false_dead().healthy, g.false_dead().healthy);
            println!(
                "n={n} loss={:.1}%: healthy members falsely declared dead: plain SWIM {pc} \
                 ({:.3}/node-h), Lifeguard {gc} ({:.3}/node-h); plain/Lifeguard >= {:.1}x{}",
                f64::from(l) / 10.0,
                p.false_dead_per_node_hour(),
                g.false_dead_per_node_hour(),
                pc as f64 / gc.max(1) as f64,
                if gc == 0 { " (Lifeguard: none, counted as 1)" } else { "" }
            );
        }
    }
}
