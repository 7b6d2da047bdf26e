//! `synod bench votes`: how long a proposal takes from `Propose` to its
//! decision when every participant votes at once, and how many decisions
//! a second the cluster takes with many proposals open.
//!
//! The benchmark finds the leader once and talks to it directly over raw
//! `Votes` channels: one for the proposer and one per participant (each
//! participant is its own client; under mTLS it votes with its own
//! certificate, `--participant-certs`). Nothing is redirected or retried:
//! a leader change during the run fails it.
//!
//! A round opens a `quorum` proposal, then casts every participant's vote
//! "for" concurrently. The decision is known when the `Cast` response that
//! carries it arrives; votes that arrive after the outcome was settled are
//! refused as "already decided" and counted as late, not as errors.
//!
//! Counts and time are bounded, and only a cluster on loopback is
//! measured: every endpoint, and the leader's address, must be local.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args, ValueEnum};
use synod_client::vote_proto as pb;
use tokio::task::JoinSet;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use crate::bench::quantile;
use crate::endpoints::{load_tls, parse_duration, ConnectArgs, TlsPaths};

type Votes = pb::votes_client::VotesClient<Channel>;

/// Participants of one proposal, at most.
const PARTICIPANTS_MAX: usize = 64;
/// Rounds run before the latency rounds and not counted.
const WARMUP_ROUNDS: u64 = 5;
/// The longest `--max-time`.
const MAX_TIME_MAX: Duration = Duration::from_secs(3600);
/// Deadline of the benchmark's proposals: far above any round, so that
/// none expires while voted on; one left open by a failed run expires.
const PROPOSAL_TIMEOUT_MS: u64 = 60_000;

/// Which measurements to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Sequential rounds: propose → decision latency.
    Latency,
    /// Many proposals open at once: decisions per second.
    Throughput,
    /// Latency, then throughput.
    Both,
}

#[derive(Args, Debug)]
pub struct VotesBenchArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Which measurements to run.
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    mode: Mode,
    /// Sequential rounds of the latency measurement.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    rounds: u64,
    /// Proposals kept open at once in the throughput measurement.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    in_flight: u64,
    /// Decisions of the throughput measurement.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    decisions: u64,
    /// Participants of every proposal, comma-separated; each votes "for".
    #[arg(long, default_value = "n1,n2,n3,n4,n5", value_parser = parse_participants)]
    participants: Participants,
    /// The quorum's threshold_percent (0-99); default the algorithm's
    /// (50: a majority, so the third vote for decides).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=99))]
    threshold_percent: Option<u32>,
    /// Each measurement stops after this long, even if not done.
    #[arg(long, default_value = "60s", value_parser = parse_max_time)]
    max_time: Duration,
    /// Cross-check one latency round in this many with `Wait`.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    wait_every: u64,
    /// Directory with `<participant>.crt` and `.key` for each participant
    /// (TLS clusters: a vote is accepted only from its participant's
    /// certificate; the dev cluster's node certificates are in DIR/certs).
    #[arg(long)]
    participant_certs: Option<PathBuf>,
}

/// Distinct participant names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participants(Vec<String>);

fn parse_participants(text: &str) -> Result<Participants, String> {
    let names: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Err(format!("'{text}': an empty participant name"));
    }
    if names.len() > PARTICIPANTS_MAX {
        return Err(format!("{} participants, at most {PARTICIPANTS_MAX}", names.len()));
    }
    let distinct: BTreeSet<&String> = names.iter().collect();
    if distinct.len() != names.len() {
        return Err(format!("'{text}': a participant is named twice"));
    }
    Ok(Participants(names))
}

fn parse_max_time(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(1) || d > MAX_TIME_MAX {
        return Err(format!(
            "'{text}': between 1s and {}",
            humantime::format_duration(MAX_TIME_MAX)
        ));
    }
    Ok(d)
}

/// What one round measured.
#[derive(Debug)]
struct RoundResult {
    /// `Propose` sent → the response carrying the decision received.
    latency: Duration,
    /// `Propose` sent → its response (the proposal committed).
    propose: Duration,
    /// The decision's `duration_ms` (leader's stamps: proposal → deciding vote).
    server_ms: u64,
    /// Votes refused because the outcome was already settled.
    late_votes: u32,
    /// `Propose` sent → `Wait` returned, in a cross-checked round.
    wait: Option<Duration>,
}

/// Channels to the leader and the benchmark's settings.
#[derive(Debug)]
struct Leader {
    proposer: Votes,
    voters: Vec<(String, Votes)>,
    timeout: Duration,
    threshold_percent: Option<u32>,
    /// Prefix of this run's proposal ids.
    run: String,
}

async fn channel(
    address: &str,
    tls: Option<ClientTlsConfig>,
    timeout: Duration,
) -> anyhow::Result<Channel> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))?
        .connect_timeout(Duration::from_secs(1))
        .timeout(timeout)
        .tcp_nodelay(true);
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls)?;
    }
    endpoint.connect().await.with_context(|| format!("connecting to the leader at {address}"))
}

/// The client TLS of `participant`: its own certificate, the cluster CA.
fn participant_tls(
    cluster: &Option<TlsPaths>,
    certs: &Option<PathBuf>,
    participant: &str,
) -> anyhow::Result<Option<ClientTlsConfig>> {
    match (cluster, certs) {
        (None, None) => Ok(None),
        (None, Some(_)) => anyhow::bail!("--participant-certs is for a TLS cluster; this one is plaintext"),
        (Some(_), None) => anyhow::bail!(
            "the cluster uses mTLS, where a vote is accepted only from its participant's certificate: \
             pass --participant-certs DIR with <participant>.crt and .key (dev cluster: its data dir/certs)"
        ),
        (Some(paths), Some(dir)) => {
            let cert = dir.join(format!("{participant}.crt"));
            let key = dir.join(format!("{participant}.key"));
            anyhow::ensure!(cert.exists(), "no certificate for participant {participant}: {} is missing", cert.display());
            Ok(Some(load_tls(&TlsPaths { ca: paths.ca.clone(), cert, key })?))
        }
    }
}

impl Leader {
    /// Finds the leader once and opens the proposer's and every
    /// participant's channel to it.
    async fn connect(args: &VotesBenchArgs) -> anyhow::Result<Leader> {
        let (endpoints, cluster_tls) = args.connect.resolve()?;
        if let Some(remote) = endpoints.iter().find(|e| !is_loopback(e)) {
            anyhow::bail!(
                "{remote} is not a loopback address; this benchmark measures a local cluster only"
            );
        }
        let status =
            args.connect.client()?.status().await.context("asking the cluster for its leader")?;
        anyhow::ensure!(
            status.leader_id != 0,
            "node n{} knows no leader; is the cluster up?",
            status.node_id
        );
        let address = status
            .members
            .iter()
            .find(|m| m.id == status.leader_id)
            .map(|m| m.address.clone())
            .filter(|a| !a.is_empty())
            .with_context(|| {
                format!(
                    "node n{} does not know the address of the leader n{}",
                    status.node_id, status.leader_id
                )
            })?;
        anyhow::ensure!(
            is_loopback(&address),
            "the leader's address {address} is not a loopback address"
        );
        println!("leader n{} at {address}", status.leader_id);
        println!("LEADER id={} address={address}", status.leader_id);
        let proposer_tls = cluster_tls.as_ref().map(load_tls).transpose()?;
        let timeout = args.connect.timeout;
        let proposer = Votes::new(channel(&address, proposer_tls, timeout).await?);
        let mut voters = Vec::new();
        for name in &args.participants.0 {
            let tls = participant_tls(&cluster_tls, &args.participant_certs, name)?;
            voters.push((name.clone(), Votes::new(channel(&address, tls, timeout).await?)));
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        let run = format!("bench-{:x}-{}", nanos % (1 << 40), std::process::id());
        Ok(Leader { proposer, voters, timeout, threshold_percent: args.threshold_percent, run })
    }

    async fn propose(&self, id: &str) -> anyhow::Result<()> {
        let request = pb::ProposeRequest {
            id: id.to_string(),
            kind: "bench".to_string(),
            algorithm: "quorum".to_string(),
            params: Some(pb::Params {
                threshold_percent: self.threshold_percent,
                ..pb::Params::default()
            }),
            participants: self.voters.iter().map(|(name, _)| name.clone()).collect(),
            timeout_ms: PROPOSAL_TIMEOUT_MS,
            ..pb::ProposeRequest::default()
        };
        self.proposer.clone().propose(request).await.map_err(|s| refused("Propose", id, &s))?;
        Ok(())
    }

    /// Casts every participant's vote at once; returns when the decision
    /// arrived, the decision, and how many votes came too late.
    async fn cast_all(&self, id: &str) -> anyhow::Result<(Instant, pb::Decision, u32)> {
        let mut casts = JoinSet::new();
        for (name, client) in &self.voters {
            let mut client = client.clone();
            let request = pb::CastRequest {
                id: id.to_string(),
                choice: pb::Choice::For as i32,
                participant: name.clone(),
                ..pb::CastRequest::default()
            };
            casts.spawn(async move {
                let result = client.cast(request).await;
                (Instant::now(), result.map(|r| r.into_inner()))
            });
        }
        let (mut decided, mut late) = (None, 0);
        while let Some(joined) = casts.join_next().await {
            match joined.context("a vote task failed")? {
                (at, Ok(response)) => {
                    if let Some(decision) = response.decision {
                        anyhow::ensure!(decided.is_none(), "two votes settled proposal {id}");
                        decided = Some((at, decision));
                    }
                }
                (_, Err(status)) if is_late(&status) => late += 1,
                (_, Err(status)) => return Err(refused("Cast", id, &status)),
            }
        }
        let (at, decision) = decided.with_context(|| format!("no vote settled proposal {id}"))?;
        Ok((at, decision, late))
    }

    /// One round: propose, vote at once, and (if `cross_check`) wait for
    /// the decision beside the votes and compare.
    async fn round(&self, id: String, cross_check: bool) -> anyhow::Result<RoundResult> {
        let started = Instant::now();
        self.propose(&id).await?;
        let propose = started.elapsed();
        let wait = cross_check.then(|| {
            let mut client = self.proposer.clone();
            let mut request = tonic::Request::new(pb::GetRequest { id: id.clone() });
            request.set_timeout(self.timeout);
            tokio::spawn(async move {
                let info = client.wait(request).await.map(|r| r.into_inner());
                (Instant::now(), info)
            })
        });
        let (decided_at, decision, late_votes) = self.cast_all(&id).await?;
        let wait = match wait {
            None => None,
            Some(task) => {
                let (at, info) = task.await.context("the Wait task failed")?;
                let info = info.map_err(|s| refused("Wait", &id, &s))?;
                check_same(&id, &decision, info.decision.as_ref())?;
                Some(at - started)
            }
        };
        Ok(RoundResult {
            latency: decided_at - started,
            propose,
            server_ms: decision.duration_ms,
            late_votes,
            wait,
        })
    }
}

/// Whether `address` (`host:port`) names this machine.
fn is_loopback(address: &str) -> bool {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A vote refused because the outcome was settled before it was applied.
fn is_late(status: &Status) -> bool {
    status.code() == Code::FailedPrecondition && status.message().contains("already decided")
}

fn refused(call: &str, id: &str, status: &Status) -> anyhow::Error {
    anyhow::anyhow!(
        "{call} {id}: {:?}: {} (a leader change fails the benchmark; run it again)",
        status.code(),
        status.message()
    )
}

/// `Wait` must answer the decision the deciding `Cast` carried.
fn check_same(id: &str, cast: &pb::Decision, waited: Option<&pb::Decision>) -> anyhow::Result<()> {
    let waited = waited.with_context(|| format!("Wait returned proposal {id} undecided"))?;
    anyhow::ensure!(
        waited.outcome == cast.outcome
            && waited.decided_at_ms == cast.decided_at_ms
            && waited.voters == cast.voters,
        "Wait and Cast disagree on the decision of {id}: {waited:?} against {cast:?}"
    );
    Ok(())
}

async fn run_latency(leader: &Leader, args: &VotesBenchArgs) -> anyhow::Result<()> {
    for i in 0..WARMUP_ROUNDS {
        leader.round(format!("{}-warm-{i}", leader.run), false).await?;
    }
    let deadline = Instant::now() + args.max_time;
    let started = Instant::now();
    let mut results = Vec::new();
    for i in 0..args.rounds {
        if Instant::now() >= deadline {
            println!("latency: --max-time reached after {i} of {} rounds", args.rounds);
            break;
        }
        let cross_check = i % args.wait_every == 0;
        results.push(leader.round(format!("{}-lat-{i}", leader.run), cross_check).await?);
    }
    report("latency", &results, started.elapsed(), None);
    Ok(())
}

async fn run_throughput(leader: Arc<Leader>, args: &VotesBenchArgs) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + args.max_time;
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..args.in_flight {
        let (leader, next, decisions) = (leader.clone(), next.clone(), args.decisions);
        workers.spawn(async move {
            let mut results = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= decisions || Instant::now() >= deadline {
                    return Ok::<_, anyhow::Error>(results);
                }
                results.push(leader.round(format!("{}-tput-{i}", leader.run), false).await?);
            }
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = workers.join_next().await {
        results.extend(joined.context("a benchmark task failed")??);
    }
    let elapsed = started.elapsed();
    if (results.len() as u64) < args.decisions {
        println!(
            "throughput: --max-time reached after {} of {} decisions",
            results.len(),
            args.decisions
        );
    }
    report("throughput", &results, elapsed, Some(args.in_flight));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints a human summary and one `RESULT key=value ...` line.
fn report(mode: &str, results: &[RoundResult], elapsed: Duration, in_flight: Option<u64>) {
    let mut latency: Vec<Duration> = results.iter().map(|r| r.latency).collect();
    let mut propose: Vec<Duration> = results.iter().map(|r| r.propose).collect();
    let mut server: Vec<Duration> =
        results.iter().map(|r| Duration::from_millis(r.server_ms)).collect();
    let mut waits: Vec<Duration> = results.iter().filter_map(|r| r.wait).collect();
    for v in [&mut latency, &mut propose, &mut server, &mut waits] {
        v.sort_unstable();
    }
    let late: u64 = results.iter().map(|r| u64::from(r.late_votes)).sum();
    let rate = results.len() as f64 / elapsed.as_secs_f64();
    let q = |v: &[Duration], p: f64| ms(quantile(v, p));
    let max = |v: &[Duration]| ms(v.last().copied().unwrap_or_default());
    let flight = in_flight.map(|n| format!(", {n} in flight")).unwrap_or_default();
    println!(
        "{mode}: {} decisions in {:.2}s{flight}: {rate:.0} decisions/s; propose -> decision p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        results.len(), elapsed.as_secs_f64(), q(&latency, 0.5), q(&latency, 0.9), q(&latency, 0.99), max(&latency),
    );
    println!(
        "  propose committed p50 {:.2} ms, p99 {:.2} ms; leader's duration_ms (proposal -> deciding vote stamped) p50 {:.0}, p99 {:.0}, max {:.0}; late votes refused {late}",
        q(&propose, 0.5), q(&propose, 0.99), q(&server, 0.5), q(&server, 0.99), max(&server),
    );
    if !waits.is_empty() {
        println!(
            "  Wait cross-check: {} rounds, same decision as the deciding Cast; Wait returned p50 {:.2} ms, max {:.2} ms after Propose was sent",
            waits.len(), q(&waits, 0.5), max(&waits),
        );
    }
    println!(
        "RESULT mode={mode} n={} in_flight={} elapsed_s={:.3} decisions_per_s={rate:.1} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3} propose_p50_ms={:.3} server_p50_ms={:.0} server_p99_ms={:.0} server_max_ms={:.0} late_votes={late} waits={}",
        results.len(), in_flight.unwrap_or(1), elapsed.as_secs_f64(), q(&latency, 0.5), q(&latency, 0.9), q(&latency, 0.99), max(&latency),
        q(&propose, 0.5), q(&server, 0.5), q(&server, 0.99), max(&server), waits.len(),
    );
}

pub async fn run(args: VotesBenchArgs) -> anyhow::Result<ExitCode> {
    let leader = Arc::new(Leader::connect(&args).await?);
    let participants = args.participants.0.join(",");
    let threshold = args.threshold_percent.map_or("default (50)".to_string(), |t| t.to_string());
    println!("participants {participants}, quorum threshold {threshold}, all vote at once");
    if matches!(args.mode, Mode::Latency | Mode::Both) {
        run_latency(&leader, &args).await?;
    }
    if matches!(args.mode, Mode::Throughput | Mode::Both) {
        run_throughput(leader, &args).await?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::bench::BenchCommand;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        bench: BenchCommand,
    }

    fn parse(args: &[&str]) -> Result<VotesBenchArgs, clap::Error> {
        let argv = ["synod", "votes"].iter().chain(args);
        match Cli::try_parse_from(argv)?.bench {
            BenchCommand::Votes(args) => Ok(args),
            BenchCommand::Kv(_) => unreachable!("parsed `votes`"),
        }
    }

    #[test]
    fn defaults_are_the_issue_settings() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.mode, Mode::Both);
        assert_eq!((args.rounds, args.in_flight, args.decisions), (500, 100, 2_000));
        assert_eq!(args.participants.0, ["n1", "n2", "n3", "n4", "n5"]);
        assert_eq!(args.threshold_percent, None);
        assert_eq!(args.max_time, Duration::from_secs(60));
    }

    #[test]
    fn zero_counts_are_refused() {
        for flag in ["--rounds", "--in-flight", "--decisions", "--wait-every"] {
            assert!(parse(&[flag, "0"]).is_err(), "{flag} 0 accepted");
        }
    }

    #[test]
    fn oversized_counts_are_refused() {
        assert!(parse(&["--rounds", "100001"]).is_err());
        assert!(parse(&["--in-flight", "1001"]).is_err());
        assert!(parse(&["--decisions", "1000001"]).is_err());
        assert!(parse(&["--threshold-percent", "100"]).is_err());
        assert!(parse(&["--in-flight", "1000", "--decisions", "1000000"]).is_ok());
    }

    #[test]
    fn max_time_is_bounded() {
        assert!(parse(&["--max-time", "0s"]).is_err());
        assert!(parse(&["--max-time", "2h"]).is_err());
        assert!(parse(&["--max-time", "soon"]).is_err());
        assert_eq!(parse(&["--max-time", "90s"]).unwrap().max_time, Duration::from_secs(90));
    }

    #[test]
    fn participants_must_be_distinct_and_named() {
        assert!(parse(&["--participants", "n1,n1"]).is_err());
        assert!(parse(&["--participants", "n1,,n2"]).is_err());
        let many: Vec<String> = (1..=65).map(|i| format!("a{i}")).collect();
        assert!(parse(&["--participants", &many.join(",")]).is_err());
        let three = parse(&["--participants", "n1, n2,agent-x"]).unwrap();
        assert_eq!(three.participants.0, ["n1", "n2", "agent-x"]);
    }

    #[test]
    fn only_loopback_addresses_are_measured() {
        for local in ["127.0.0.1:7001", "127.5.0.1:1", "localhost:7001", "[::1]:7001"] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in ["10.0.0.5:7001", "example.com:7001", "[2001:db8::1]:7001", "0.0.0.0:7001"] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn a_late_vote_is_told_apart_from_a_failure() {
        let late = Status::failed_precondition("proposal p1 is already decided (approved)");
        assert!(is_late(&late));
        assert!(!is_late(&Status::failed_precondition("not the leader")));
        assert!(!is_late(&Status::unavailable("already decided")));
    }

    #[test]
    fn participant_certificates_go_with_tls_only() {
        let tls = Some(TlsPaths { ca: "ca.crt".into(), cert: "c.crt".into(), key: "c.key".into() });
        assert!(participant_tls(&None, &None, "n1").unwrap().is_none());
        assert!(participant_tls(&None, &Some("/certs".into()), "n1").is_err());
        let err = participant_tls(&tls, &None, "n1").unwrap_err().to_string();
        assert!(err.contains("--participant-certs"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = participant_tls(&tls, &Some(dir.path().into()), "n1").unwrap_err().to_string();
        assert!(err.contains("n1.crt is missing"), "{err}");
    }
}
