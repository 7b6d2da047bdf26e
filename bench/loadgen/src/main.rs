//! One load generator for etcd and synod, so that both are measured by the
//! same code: the same keys (unique 8-byte big-endian counters), the same
//! 256-byte values, the same concurrency, the same clock and the same
//! latency arithmetic. Only the client library differs: `etcd-client` for
//! etcd, `synod-client` for synod.
//!
//! Every run is bounded: a fixed number of operations, each with a deadline.
//! Each run prints one machine-readable `RESULT ...` line (key=value pairs)
//! and one human-readable line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "loadgen", about = "Drive etcd and synod with the same load")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load an etcd cluster (etcd-client crate).
    Etcd(RunArgs),
    /// Load a synod cluster (synod-client crate).
    Synod(RunArgs),
    /// Print the client address of the current leader.
    Leader {
        #[arg(value_enum)]
        system: System,
        /// Comma-separated host:port.
        #[arg(long)]
        endpoints: String,
    },
    /// Succeed if this one endpoint answers and knows a leader.
    Ready {
        #[arg(value_enum)]
        system: System,
        /// One host:port.
        #[arg(long)]
        endpoint: String,
    },
    /// SIGKILL the leader and time until a write is acknowledged.
    Failover(FailoverArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum System {
    Etcd,
    Synod,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::Etcd => "etcd",
            System::Synod => "synod",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Put unique keys.
    Write,
    /// Linearizable gets of keys a write run stored (same --key-offset).
    Read,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Comma-separated host:port of the cluster's client endpoints.
    #[arg(long)]
    endpoints: String,
    /// Concurrent clients (each issues one request at a time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    clients: u64,
    /// Connections the clients share round-robin (default: one per client).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    conns: Option<u64>,
    /// Total operations of the run.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    ops: u64,
    #[arg(long, value_enum, default_value_t = Mode::Write)]
    mode: Mode,
    /// First key of the run; key i is (offset + i) as 8 big-endian bytes.
    #[arg(long, default_value_t = 0)]
    key_offset: u64,
    /// Stop issuing operations after this many seconds, even if fewer
    /// than --ops were done (in-flight ones complete).
    #[arg(long, default_value_t = 60.0)]
    max_secs: f64,
    /// Reads: keys written so far (the `keys=` of the write run); read key
    /// i is (offset + i mod key_space). Default: --ops.
    #[arg(long)]
    key_space: Option<u64>,
    /// Value size in bytes.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Deadline of each request, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// Free-form label echoed in the RESULT line.
    #[arg(long, default_value = "-")]
    label: String,
}

#[derive(Args)]
struct FailoverArgs {
    #[arg(value_enum)]
    system: System,
    /// Comma-separated host:port of the cluster's client endpoints.
    #[arg(long)]
    endpoints: String,
    /// Which process serves which endpoint: comma-separated address=pid.
    #[arg(long)]
    pids: String,
    /// Keys written by the probe start here.
    #[arg(long, default_value_t = 0xF000_0000_0000_0000)]
    key_offset: u64,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 15_000)]
    deadline_ms: u64,
    /// Deadline of each probe write, in milliseconds.
    #[arg(long, default_value_t = 2_000)]
    attempt_timeout_ms: u64,
    /// How the probe writes after the kill: `race` sends a wave of writes
    /// every 10 ms, one to each endpoint through a fresh single-endpoint
    /// client, and stops at the first acknowledgement (the cluster's
    /// availability); `client` keeps
    /// the application's client from before the kill and retries with it
    /// (what an application sees).
    #[arg(long, value_enum, default_value_t = Probe::Race)]
    probe: Probe,
    /// synod clients of the probe: pause between retries when no leader is
    /// known (the client's default is 100 ms).
    #[arg(long, default_value_t = 10)]
    client_retry_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Probe {
    Race,
    Client,
}

/// Interval between the failover probe's waves of writes.
const RACE_WAVE_MS: u64 = 10;

/// The 8-byte key of counter `i`.
fn key(i: u64) -> Vec<u8> {
    i.to_be_bytes().to_vec()
}

fn split_endpoints(text: &str) -> Vec<String> {
    text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// One connection of either system.
#[derive(Clone)]
enum Conn {
    Etcd(Box<etcd_client::KvClient>),
    Synod(Arc<synod_client::Client>),
}

async fn connect(system: System, endpoints: &[String], timeout: Duration) -> anyhow::Result<Conn> {
    Ok(match system {
        System::Etcd => {
            let options = etcd_client::ConnectOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(Duration::from_secs(1));
            let client = etcd_client::Client::connect(endpoints, Some(options))
                .await
                .context("connecting to etcd")?;
            Conn::Etcd(Box::new(client.kv_client()))
        }
        System::Synod => {
            let options = synod_client::ClientOptions { timeout, ..Default::default() };
            Conn::Synod(Arc::new(synod_client::Client::new(endpoints.to_vec(), options)))
        }
    })
}

impl Conn {
    /// Writes `key`, or reads it linearizably (failing if it is absent).
    async fn op(&mut self, mode: Mode, key: Vec<u8>, value: &[u8]) -> anyhow::Result<()> {
        match (self, mode) {
            (Conn::Etcd(kv), Mode::Write) => {
                kv.put(key, value.to_vec(), None).await?;
            }
            (Conn::Etcd(kv), Mode::Read) => {
                // etcd's default range request is linearizable.
                let r = kv.get(key, None).await?;
                if r.kvs().is_empty() {
                    bail!("key missing");
                }
            }
            (Conn::Synod(c), Mode::Write) => {
                c.put(&key, value).await?;
            }
            (Conn::Synod(c), Mode::Read) => {
                // `get` is linearizable (ReadIndex through the leader).
                if c.get(&key).await?.is_none() {
                    bail!("key missing");
                }
            }
        }
        Ok(())
    }
}

/// The latency at `q` (0..1) of sorted samples, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (user + system) this process has used so far.
fn own_cpu() -> Duration {
    // SAFETY: getrusage fills the struct we own; a zeroed rusage is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(system: System, args: RunArgs) -> anyhow::Result<bool> {
    let endpoints = split_endpoints(&args.endpoints);
    anyhow::ensure!(!endpoints.is_empty(), "--endpoints: none given");
    let timeout = Duration::from_millis(args.timeout_ms);
    let conns_n = args.conns.unwrap_or(args.clients).min(args.clients);
    let mut conns = Vec::new();
    for _ in 0..conns_n {
        conns.push(connect(system, &endpoints, timeout).await?);
    }
    let value: Arc<Vec<u8>> = Arc::new(vec![b'v'; args.value_size]);
    let errors = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let next = Arc::new(AtomicU64::new(0));
    let max_time = Duration::from_secs_f64(args.max_secs);
    let key_space = args.key_space.unwrap_or(args.ops).max(1);
    // Everyone warms up (connects, finds the leader) before the clock starts.
    let barrier = Arc::new(tokio::sync::Barrier::new(args.clients as usize + 1));
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let mut conn = conns[(c % conns_n) as usize].clone();
        let (value, errors, first_error, barrier) =
            (value.clone(), errors.clone(), first_error.clone(), barrier.clone());
        let (ops, clients, offset, mode) = (args.ops, args.clients, args.key_offset, args.mode);
        let (next, max_time, key_space) = (next.clone(), max_time, key_space);
        tasks.push(tokio::spawn(async move {
            // Warm-up: reads hit a key of the run, writes a key outside it.
            let warm_key = match mode {
                Mode::Read => key(offset + c % key_space),
                Mode::Write => key(0xE000_0000_0000_0000 | (offset + c)),
            };
            let warm = conn.op(mode, warm_key, &value).await;
            barrier.wait().await;
            if let Err(e) = warm {
                eprintln!("warm-up of client {c} failed: {e:#}");
            }
            let mut latencies = Vec::with_capacity((ops / clients + 1) as usize);
            let deadline = Instant::now() + max_time;
            loop {
                // Indexes are handed out in order, so a run cut short by
                // --max-secs has still written exactly the keys 0..issued.
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops {
                    break;
                }
                if Instant::now() >= deadline {
                    next.fetch_sub(1, Ordering::Relaxed);
                    break;
                }
                let k = match mode {
                    Mode::Write => key(offset + i),
                    Mode::Read => key(offset + i % key_space),
                };
                let t = Instant::now();
                match conn.op(mode, k, &value).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            latencies
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let cpu_started = own_cpu();
    let mut latencies = Vec::with_capacity(args.ops as usize);
    for task in tasks {
        latencies.extend(task.await?);
    }
    let elapsed = started.elapsed();
    let cpu = own_cpu().saturating_sub(cpu_started);
    let issued = next.load(Ordering::Relaxed).min(args.ops);
    latencies.sort_unstable();
    let errors = errors.load(Ordering::Relaxed);
    let ok = latencies.len() as f64;
    let (p50, p99, p999) =
        (quantile(&latencies, 0.5), quantile(&latencies, 0.99), quantile(&latencies, 0.999));
    let mean = if latencies.is_empty() {
        Duration::ZERO
    } else {
        latencies.iter().sum::<Duration>() / latencies.len() as u32
    };
    let mode = match args.mode {
        Mode::Write => "write",
        Mode::Read => "read",
    };
    println!(
        "RESULT system={} mode={mode} clients={} conns={conns_n} ops={} keys={issued} ok={} errors={errors} \
         elapsed_s={:.3} ops_per_s={:.1} mean_ms={:.3} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} loadgen_cpu_ms={:.0} label={}",
        system.name(),
        args.clients,
        args.ops,
        latencies.len(),
        elapsed.as_secs_f64(),
        ok / elapsed.as_secs_f64(),
        ms(mean),
        ms(p50),
        ms(p99),
        ms(p999),
        ms(cpu),
        args.label,
    );
    println!(
        "{}: {} {}s by {} clients over {conns_n} connections in {:.2}s: {:.0} ops/s, \
         p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms{}",
        system.name(),
        latencies.len(),
        mode,
        args.clients,
        elapsed.as_secs_f64(),
        ok / elapsed.as_secs_f64(),
        ms(p50),
        ms(p99),
        ms(p999),
        if errors > 0 {
            format!(
                "; {errors} ERRORS (first: {})",
                first_error.lock().unwrap().clone().unwrap_or_default()
            )
        } else {
            String::new()
        },
    );
    Ok(errors == 0)
}

/// The client address of the current leader.
async fn leader(system: System, endpoints: &[String]) -> anyhow::Result<String> {
    match system {
        System::Etcd => {
            let mut last = String::from("no endpoint answered");
            for ep in endpoints {
                let options = etcd_client::ConnectOptions::new()
                    .with_timeout(Duration::from_secs(2))
                    .with_connect_timeout(Duration::from_secs(1));
                let status = match etcd_client::Client::connect([ep], Some(options)).await {
                    Ok(mut c) => c.status().await,
                    Err(e) => Err(e),
                };
                match status {
                    Ok(s) => {
                        let me = s.header().map(|h| h.member_id()).unwrap_or(0);
                        if me != 0 && me == s.leader() {
                            return Ok(ep.clone());
                        }
                    }
                    Err(e) => last = format!("{ep}: {e}"),
                }
            }
            bail!("no etcd endpoint reports itself leader ({last})")
        }
        System::Synod => {
            let options = synod_client::ClientOptions {
                timeout: Duration::from_secs(2),
                ..Default::default()
            };
            let client = synod_client::Client::new(endpoints.to_vec(), options);
            let s = client.status().await?;
            if s.leader_id == 0 {
                bail!("synod node n{} knows no leader", s.node_id);
            }
            match s.members.iter().find(|m| m.id == s.leader_id) {
                Some(m) => Ok(m.address.clone()),
                None => bail!("leader n{} is not among the members", s.leader_id),
            }
        }
    }
}

/// Whether `endpoint` answers a status request and knows a leader.
async fn ready(system: System, endpoint: &str) -> anyhow::Result<()> {
    match system {
        System::Etcd => {
            let options = etcd_client::ConnectOptions::new()
                .with_timeout(Duration::from_secs(2))
                .with_connect_timeout(Duration::from_secs(1));
            let mut c = etcd_client::Client::connect([endpoint], Some(options)).await?;
            let s = c.status().await?;
            anyhow::ensure!(s.leader() != 0, "{endpoint} knows no leader");
        }
        System::Synod => {
            let options = synod_client::ClientOptions {
                timeout: Duration::from_secs(2),
                ..Default::default()
            };
            let s = synod_client::Client::new(vec![endpoint.to_string()], options).status().await?;
            anyhow::ensure!(s.leader_id != 0, "{endpoint} knows no leader");
        }
    }
    Ok(())
}

/// A client for the failover probe: short deadline, quick retries.
async fn probe_conn(
    system: System,
    endpoints: &[String],
    timeout: Duration,
    retry_delay: Duration,
) -> anyhow::Result<Conn> {
    match system {
        System::Etcd => connect(system, endpoints, timeout).await,
        System::Synod => {
            let options =
                synod_client::ClientOptions { timeout, retry_delay, ..Default::default() };
            Ok(Conn::Synod(Arc::new(synod_client::Client::new(endpoints.to_vec(), options))))
        }
    }
}

async fn failover(args: FailoverArgs) -> anyhow::Result<()> {
    let endpoints = split_endpoints(&args.endpoints);
    let mut pids = Vec::new();
    for item in split_endpoints(&args.pids) {
        let (address, pid) = item.split_once('=').context("--pids: expected address=pid")?;
        pids.push((address.to_string(), pid.parse::<i32>().context("--pids: bad pid")?));
    }
    let attempt_timeout = Duration::from_millis(args.attempt_timeout_ms);
    let value = Arc::new(vec![b'v'; 256]);
    let mut seq = 0u64;
    // A client that is connected to the leader and has written, as an
    // application's would be at the moment the leader dies.
    let retry_delay = Duration::from_millis(args.client_retry_ms);
    let mut app = probe_conn(args.system, &endpoints, attempt_timeout, retry_delay).await?;
    app.op(Mode::Write, key(args.key_offset), &value).await.context("write before the kill")?;
    let leader = leader(args.system, &endpoints).await?;
    let pid = pids
        .iter()
        .find(|(a, _)| *a == leader)
        .map(|(_, p)| *p)
        .with_context(|| format!("no pid given for leader {leader}"))?;
    let started = Instant::now();
    // SAFETY: kill(2) with a pid the caller handed us; no memory involved.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    anyhow::ensure!(rc == 0, "kill -9 {pid} failed: {}", std::io::Error::last_os_error());
    let deadline = started + Duration::from_millis(args.deadline_ms);
    let mut failures = 0u32;
    let mut last_error = String::new();
    let mut waves = tokio::task::JoinSet::new();
    'probe: loop {
        match args.probe {
            Probe::Client => {
                seq += 1;
                let attempt = tokio::time::timeout(
                    attempt_timeout,
                    app.op(Mode::Write, key(args.key_offset + seq), &value),
                )
                .await;
                match attempt {
                    Ok(Ok(())) => break 'probe,
                    Ok(Err(e)) => {
                        last_error = format!("{e:#}");
                        if std::env::var_os("LOADGEN_TRACE").is_some() {
                            eprintln!("{:>8.1} ms  {last_error}", ms(started.elapsed()));
                        }
                    }
                    Err(_) => last_error = "attempt timed out".into(),
                }
            }
            Probe::Race => {
                // A wave every RACE_WAVE_MS, each write in flight until it is
                // acknowledged or times out, so that a write stuck at a node
                // without a leader does not hold back the next wave.
                for ep in &endpoints {
                    seq += 1;
                    let (system, ep, value) = (args.system, ep.clone(), value.clone());
                    let retry_delay = Duration::from_millis(args.client_retry_ms);
                    let k = key(args.key_offset + seq);
                    waves.spawn(async move {
                        let attempt = tokio::time::timeout(attempt_timeout, async {
                            let mut conn =
                                probe_conn(system, std::slice::from_ref(&ep), attempt_timeout, retry_delay)
                                    .await?;
                            conn.op(Mode::Write, k, &value).await
                        })
                        .await;
                        match attempt {
                            Ok(Ok(())) => Ok(()),
                            Ok(Err(e)) => Err(format!("{ep}: {e:#}")),
                            Err(_) => Err(format!("{ep}: attempt timed out")),
                        }
                    });
                }
                let tick = tokio::time::sleep(Duration::from_millis(RACE_WAVE_MS));
                tokio::pin!(tick);
                loop {
                    tokio::select! {
                        Some(joined) = waves.join_next() => match joined {
                            Ok(Ok(())) => break 'probe,
                            Ok(Err(e)) => last_error = e,
                            Err(e) => last_error = e.to_string(),
                        },
                        () = &mut tick => break,
                    }
                }
            }
        }
        failures += 1;
        if Instant::now() >= deadline {
            println!(
                "FAILOVER system={} probe={:?} killed={leader} pid={pid} ms=timeout failed_attempts={failures} last_error={last_error:?}",
                args.system.name(),
                args.probe,
            );
            bail!("no write acknowledged within {} ms of the kill", args.deadline_ms);
        }
        if args.probe == Probe::Client {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "FAILOVER system={} probe={:?} killed={leader} pid={pid} ms={:.1} failed_attempts={failures} last_error={last_error:?}",
        args.system.name(),
        args.probe,
        ms(elapsed),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Etcd(args) => run(System::Etcd, args).await,
        Command::Synod(args) => run(System::Synod, args).await,
        Command::Leader { system, endpoints } => {
            leader(system, &split_endpoints(&endpoints)).await.map(|l| {
                println!("{l}");
                true
            })
        }
        Command::Ready { system, endpoint } => ready(system, &endpoint).await.map(|()| true),
        Command::Failover(args) => failover(args).await.map(|()| true),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
