//! `synod vote propose|cast|show|list|wait|watch|stats|hooks`: proposals
//! put to the vote of nodes and agents, decided through the log.
//!
//! Writes and reads go to the leader (the client follows its hint);
//! `wait`, `watch` and `hooks` go to the first endpoint that answers: pick
//! a node with `--endpoints HOST:PORT`.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{ArgGroup, Args, Subcommand};
use synod_client::vote_proto as pb;
use synod_client::ClientOptions;

use crate::endpoints::{parse_duration, ConnectArgs};

/// Exit code of a command-line mistake found before anything is sent.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of any failure of a command whose codes 0-2 carry an answer
/// (`vote wait`, `quarantine check`).
pub(crate) const EXIT_ERROR: u8 = 3;

/// The longest proposal deadline a node accepts.
const PROPOSAL_TIMEOUT_MAX: Duration = Duration::from_secs(300);

#[derive(Args)]
pub struct VoteArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: VoteCommand,
}

#[derive(Subcommand)]
enum VoteCommand {
    /// Open a proposal; prints only its id.
    ///
    /// Exits 2 on a bad flag (invalid JSON payload, weights, percentages,
    /// timeout) without contacting the cluster, 1 if the cluster refuses.
    Propose(ProposeArgs),
    /// Vote on proposal ID (exactly one of --for, --against, --abstain).
    Cast(CastArgs),
    /// Print proposal ID with its votes and decision.
    Show {
        /// The proposal.
        id: String,
    },
    /// List proposals, newest first.
    List {
        /// Only proposals of this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Only open (undecided) proposals.
        #[arg(long)]
        open: bool,
        /// At most this many (default 100, at most 1000).
        #[arg(long, default_value_t = 0, hide_default_value = true)]
        limit: u32,
    },
    /// Block until proposal ID is decided; print the outcome.
    ///
    /// Exit status: 0 approved, 1 rejected, 2 timeout (the proposal's
    /// deadline passed undecided), 3 any error (unknown id, cluster
    /// unreachable, this command's --timeout ran out, bad usage).
    Wait {
        /// The proposal.
        id: String,
        /// How long to wait for the decision.
        ///
        /// Before the subcommand (`synod vote --timeout 1m wait ID`) it sets this too.
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Print vote events as the contacted node applies them, until Ctrl-C.
    Watch {
        /// Only events about proposals of this kind (quarantine changes always pass).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Totals and per-algorithm counters.
    Stats,
    /// Decision-hook runs on the contacted node (of proposal ID, or the latest).
    Hooks {
        /// The proposal.
        id: Option<String>,
    },
}

/// `vote propose` flags.
#[derive(Args, Debug)]
struct ProposeArgs {
    /// What is proposed: free text such as commit, deploy, rollback.
    #[arg(long)]
    kind: String,
    /// The proposal's content, JSON text.
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    payload: String,
    /// quorum, weighted, unanimous, score, or a custom algorithm registered on the nodes.
    #[arg(long, default_value = "quorum")]
    algorithm: String,
    /// Who votes: node (n1) or agent names, comma-separated [default: every live voting member].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    participants: Vec<String>,
    /// Time from opening to the deadline, at most 300s; the proposal times out undecided then.
    ///
    /// Before the subcommand (`synod vote --timeout 10s propose`) it sets this too.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// The proposal's id [default: chosen by the node]; a second proposal with it is refused.
    #[arg(long)]
    id: Option<String>,
    /// Share of the votes that approves, in percent (quorum, weighted).
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    threshold: Option<u32>,
    /// Voting weights (weighted), e.g. n1=3,n2=1.
    #[arg(long, value_name = "NAME=WEIGHT,...", value_parser = parse_weights)]
    weights: Option<HashMap<String, u32>>,
    /// Lowest average score, 0-100, that approves (score).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    min_average_score: Option<u32>,
    /// Lowest approval, in percent, that approves (score).
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    min_approval_percent: Option<u32>,
    /// A parameter of a custom algorithm; repeat for more.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Who proposes [default: the client certificate's name, or the node].
    #[arg(long)]
    proposer: Option<String>,
}

/// `vote cast` flags.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("choice").required(true).args(["in_favor", "against", "abstain"])))]
struct CastArgs {
    /// The proposal.
    id: String,
    /// Vote for.
    #[arg(long = "for")]
    in_favor: bool,
    /// Vote against.
    #[arg(long)]
    against: bool,
    /// Abstain.
    #[arg(long)]
    abstain: bool,
    /// A score, 0-100 (score algorithm).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    score: Option<u32>,
    /// Why.
    #[arg(long)]
    reason: Option<String>,
    /// Free text kept with the vote.
    #[arg(long)]
    metadata: Option<String>,
    /// Vote as this participant [default: the client certificate's name, or the node]. With the local dev cluster, `--as n2` uses the certificate n2.crt of its directory.
    #[arg(long = "as", value_name = "PARTICIPANT")]
    participant: Option<String>,
}

/// The exit code of a command-line error `err` (0 for --help), with
/// `command` the whole CLI: 2, or [`EXIT_ERROR`] in `vote wait` and
/// `quarantine check`, whose codes 0-2 are answers.
pub(crate) fn usage_exit_code(err: &clap::Error, command: clap::Command) -> u8 {
    usage_exit_code_of(err, command, std::env::args_os())
}

fn usage_exit_code_of<I, T>(err: &clap::Error, command: clap::Command, argv: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    if !err.use_stderr() {
        return 0;
    }
    // Parse again leniently, only to learn which subcommand was meant.
    let Ok(matches) = command.ignore_errors(true).try_get_matches_from(argv) else {
        return EXIT_USAGE;
    };
    let answers = match matches.subcommand() {
        Some((top, sub)) => matches!(
            (top, sub.subcommand_name()),
            ("vote", Some("wait")) | ("quarantine", Some("check"))
        ),
        None => false,
    };
    if answers {
        EXIT_ERROR
    } else {
        EXIT_USAGE
    }
}

fn parse_json(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("not valid JSON: {e}"))
}

/// `NAME=VALUE` with a non-empty name.
fn split_pair(text: &str, what: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("'{text}' is not {what}")),
    }
}

fn parse_weights(text: &str) -> Result<HashMap<String, u32>, String> {
    let mut weights = HashMap::new();
    for item in text.split(',') {
        let (name, weight) = split_pair(item, "NAME=WEIGHT (e.g. n1=3)")?;
        let weight = weight.trim().parse::<u32>().map_err(|_| {
            format!("weight of {name} must be a whole number 0-{}, not '{weight}'", u32::MAX)
        })?;
        if weights.insert(name.clone(), weight).is_some() {
            return Err(format!("{name} is given twice"));
        }
    }
    Ok(weights)
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    split_pair(text, "KEY=VALUE")
}

impl ProposeArgs {
    /// The request, or what is wrong with the flags (exit 2).
    fn to_request(&self) -> Result<pb::ProposeRequest, String> {
        if self.kind.trim().is_empty() {
            return Err("--kind must not be empty".into());
        }
        if self.algorithm.trim().is_empty() {
            return Err("--algorithm must not be empty".into());
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > PROPOSAL_TIMEOUT_MAX {
            return Err(format!(
                "--timeout {} is out of range: 1ms to {}",
                humantime::format_duration(self.timeout),
                humantime::format_duration(PROPOSAL_TIMEOUT_MAX)
            ));
        }
        let mut participants: Vec<String> = Vec::new();
        for name in self.participants.iter().map(|p| p.trim()) {
            if name.is_empty() {
                return Err("--participants: empty name".into());
            }
            if participants.iter().any(|p| p == name) {
                return Err(format!("--participants: {name} is given twice"));
            }
            participants.push(name.to_string());
        }
        let mut custom = HashMap::new();
        for (key, value) in &self.params {
            if custom.insert(key.clone(), value.clone()).is_some() {
                return Err(format!("--param {key} is given twice"));
            }
        }
        let params = pb::Params {
            threshold_percent: self.threshold,
            weights: self.weights.clone().unwrap_or_default(),
            min_average_score: self.min_average_score,
            min_approval_percent: self.min_approval_percent,
            custom,
        };
        Ok(pb::ProposeRequest {
            id: self.id.clone().unwrap_or_default(),
            kind: self.kind.clone(),
            payload: self.payload.clone(),
            algorithm: self.algorithm.clone(),
            params: Some(params),
            participants,
            timeout_ms: u64::try_from(self.timeout.as_millis()).expect("at most 300 s"),
            proposer: self.proposer.clone().unwrap_or_default(),
        })
    }
}

impl CastArgs {
    fn to_request(&self) -> pb::CastRequest {
        let choice = if self.in_favor {
            pb::Choice::For
        } else if self.against {
            pb::Choice::Against
        } else {
            pb::Choice::Abstain
        };
        pb::CastRequest {
            id: self.id.clone(),
            choice: choice as i32,
            score: self.score,
            reason: self.reason.clone().unwrap_or_default(),
            metadata: self.metadata.clone().unwrap_or_default(),
            participant: self.participant.clone().unwrap_or_default(),
        }
    }
}

pub async fn run(args: VoteArgs) -> anyhow::Result<ExitCode> {
    let mut connect = args.connect;
    match args.command {
        VoteCommand::Propose(propose) => {
            let request = match propose.to_request() {
                Ok(request) => request,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            // `--timeout` is the proposal's; the call keeps at least the usual deadline.
            connect.timeout = connect.timeout.max(ClientOptions::default().timeout);
            let response = connect.client()?.vote_propose(request).await?;
            println!("{}", response.id);
        }
        VoteCommand::Cast(cast) => {
            let request = cast.to_request();
            let choice = choice_name(request.choice);
            let response =
                connect.client_as(cast.participant.as_deref())?.vote_cast(request).await?;
            println!("{} voted {choice} on {}", response.participant, cast.id);
            if let Some(decision) = &response.decision {
                println!("decided: {}", decision_summary(decision));
            }
        }
        VoteCommand::Show { id } => print_proposal(&connect.client()?.vote_get(&id).await?),
        VoteCommand::List { kind, open, limit } => {
            let request =
                pb::ListRequest { kind: kind.unwrap_or_default(), open_only: open, limit };
            print_list(&connect.client()?.vote_list(request).await?.proposals);
        }
        VoteCommand::Wait { id, timeout } => {
            connect.timeout = connect.timeout.max(timeout);
            return Ok(run_wait(&connect, &id, timeout).await);
        }
        VoteCommand::Watch { kind } => {
            let mut events = connect.client()?.vote_watch(&kind.unwrap_or_default()).await?;
            while let Some(event) = events.message().await? {
                println!("{}", event_line(&event));
            }
        }
        VoteCommand::Stats => print_stats(&connect.client()?.vote_stats().await?),
        VoteCommand::Hooks { id } => {
            let runs = connect.client()?.vote_hook_runs(&id.unwrap_or_default()).await?;
            print_hook_runs(&runs);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vote wait`: the outcome as the exit code; any failure is [`EXIT_ERROR`].
async fn run_wait(connect: &ConnectArgs, id: &str, timeout: Duration) -> ExitCode {
    let result = async { Ok::<_, anyhow::Error>(connect.client()?.vote_wait(id, timeout).await?) };
    let info = match result.await {
        Ok(info) => info,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let Some(decision) = &info.decision else {
        eprintln!("error: {id} is still open after {}", humantime::format_duration(timeout));
        return ExitCode::from(EXIT_ERROR);
    };
    let code = match pb::Outcome::try_from(decision.outcome) {
        Ok(pb::Outcome::Approved) => 0,
        Ok(pb::Outcome::Rejected) => 1,
        Ok(pb::Outcome::Timeout) => 2,
        _ => {
            eprintln!("error: {id} has a decision of unknown outcome {}", decision.outcome);
            return ExitCode::from(EXIT_ERROR);
        }
    };
    println!("{id} {}", decision_summary(decision));
    ExitCode::from(code)
}

fn choice_name(choice: i32) -> &'static str {
    match pb::Choice::try_from(choice) {
        Ok(pb::Choice::For) => "for",
        Ok(pb::Choice::Against) => "against",
        Ok(pb::Choice::Abstain) => "abstain",
        _ => "unspecified",
    }
}

fn outcome_name(outcome: i32) -> &'static str {
    match pb::Outcome::try_from(outcome) {
        Ok(pb::Outcome::Approved) => "approved",
        Ok(pb::Outcome::Rejected) => "rejected",
        Ok(pb::Outcome::Timeout) => "timeout",
        _ => "unknown",
    }
}

/// `approved (2 for, 1 against, 0 abstain, 0 missing; approval 66.7%, ...)`.
fn decision_summary(d: &pb::Decision) -> String {
    let t = d.tally.unwrap_or_default();
    let mut text = format!(
        "{} ({} for, {} against, {} abstain, {} missing; approval {:.1}%",
        outcome_name(d.outcome),
        t.in_favor,
        t.against,
        t.abstain,
        t.missing,
        d.approval_percent
    );
    if t.weight_total > 0 {
        text.push_str(&format!(", weighted {:.1}%", d.weighted_approval_percent));
    }
    if let Some(score) = d.average_score {
        text.push_str(&format!(", average score {score:.1}"));
    }
    text.push_str(&format!("; after {} ms)", d.duration_ms));
    text
}

/// Milliseconds since the Unix epoch as RFC 3339 (`-` for 0).
pub(crate) fn format_ms(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

/// Rows padded to aligned columns (the last one unpadded), header first.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i == last { c.to_string() } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        padded.join("  ")
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    lines
}

fn format_params(params: Option<&pb::Params>) -> String {
    let Some(p) = params else { return "-".into() };
    let mut parts = Vec::new();
    if let Some(t) = p.threshold_percent {
        parts.push(format!("threshold {t}%"));
    }
    if !p.weights.is_empty() {
        let weights: BTreeMap<_, _> = p.weights.iter().collect();
        let weights: Vec<String> = weights.iter().map(|(n, w)| format!("{n}={w}")).collect();
        parts.push(format!("weights {}", weights.join(",")));
    }
    if let Some(s) = p.min_average_score {
        parts.push(format!("min average score {s}"));
    }
    if let Some(a) = p.min_approval_percent {
        parts.push(format!("min approval {a}%"));
    }
    let custom: BTreeMap<_, _> = p.custom.iter().collect();
    parts.extend(custom.iter().map(|(k, v)| format!("{k}={v}")));
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn print_proposal(info: &pb::ProposalInfo) {
    println!("id:           {}", info.id);
    println!("kind:         {}", info.kind);
    println!("proposer:     {}", info.proposer);
    println!("algorithm:    {}", info.algorithm);
    println!("params:       {}", format_params(info.params.as_ref()));
    println!("participants: {}", info.participants.join(", "));
    println!("created:      {}", format_ms(info.created_at_ms));
    println!("deadline:     {}", format_ms(info.deadline_ms));
    println!("payload:      {}", info.payload);
    println!("votes:        {} of {}", info.votes.len(), info.participants.len());
    let rows: Vec<Vec<String>> = info
        .votes
        .iter()
        .map(|v| {
            let score = v.score.map_or("-".to_string(), |s| s.to_string());
            vec![v.participant.clone(), choice_name(v.choice).into(), score, v.reason.clone()]
        })
        .collect();
    if !rows.is_empty() {
        let lines = table(&["PARTICIPANT", "CHOICE", "SCORE", "REASON"], &rows);
        lines.iter().for_each(|line| println!("  {}", line.trim_end()));
    }
    match &info.decision {
        None => println!("decision:     open"),
        Some(d) => print_decision(d),
    }
    if !info.quarantine_id.is_empty() {
        println!("quarantined:  {}", info.quarantine_id);
    }
}

fn print_decision(d: &pb::Decision) {
    let t = d.tally.unwrap_or_default();
    println!("decision:     {} at {}", outcome_name(d.outcome), format_ms(d.decided_at_ms));
    println!(
        "  tally:      {} for, {} against, {} abstain, {} missing",
        t.in_favor, t.against, t.abstain, t.missing
    );
    if t.weight_total > 0 {
        println!("  weight:     {} of {} for", t.weight_for, t.weight_total);
    }
    if let Some(score) = d.average_score {
        println!("  average score: {score:.1}");
    }
    println!(
        "  approval:   {:.1}% (weighted {:.1}%)",
        d.approval_percent, d.weighted_approval_percent
    );
    println!("  voters:     {}", d.voters.join(", "));
    println!("  duration:   {} ms", d.duration_ms);
}

fn print_list(proposals: &[pb::ProposalInfo]) {
    if proposals.is_empty() {
        eprintln!("no proposals");
        return;
    }
    let rows: Vec<Vec<String>> = proposals
        .iter()
        .map(|p| {
            let status = p.decision.as_ref().map_or("open", |d| outcome_name(d.outcome));
            let created = if p.created_at_ms == 0 {
                "-".to_string()
            } else {
                let at = SystemTime::UNIX_EPOCH + Duration::from_millis(p.created_at_ms);
                humantime::format_rfc3339_seconds(at).to_string()
            };
            vec![
                p.id.clone(),
                p.kind.clone(),
                p.algorithm.clone(),
                status.to_string(),
                format!("{}/{}", p.votes.len(), p.participants.len()),
                created,
            ]
        })
        .collect();
    let header = ["ID", "KIND", "ALGORITHM", "STATUS", "VOTES", "CREATED"];
    table(&header, &rows).iter().for_each(|line| println!("{line}"));
}

/// One line per event: time, node, revision, type and its key fields.
fn event_line(event: &pb::Event) -> String {
    use pb::event::Event;
    let what = match &event.event {
        Some(Event::ProposalCreated(p)) => format!(
            "ProposalCreated {} kind={} algorithm={} proposer={} participants={}",
            p.id,
            p.kind,
            p.algorithm,
            p.proposer,
            p.participants.join(",")
        ),
        Some(Event::VoteCast(c)) => {
            let vote = c.vote.clone().unwrap_or_default();
            let score = vote.score.map_or(String::new(), |s| format!(" score={s}"));
            let reason = if vote.reason.is_empty() {
                String::new()
            } else {
                format!(" reason={:?}", vote.reason)
            };
            let choice = choice_name(vote.choice);
            format!("VoteCast {} {} {choice}{score}{reason}", c.proposal_id, vote.participant)
        }
        Some(Event::DecisionReached(d)) => {
            format!("DecisionReached {} {}", d.proposal_id, decision_summary(d))
        }
        Some(Event::QuarantineChanged(q)) => {
            let state = if q.quarantined { "quarantined" } else { "released" };
            let reason =
                if q.reason.is_empty() { String::new() } else { format!(" reason={:?}", q.reason) };
            format!("QuarantineChanged {} {state}{reason}", q.id)
        }
        None => "unknown event".to_string(),
    };
    format!("{} n{} rev {} {what}", format_ms(event.at_ms), event.node_id, event.revision)
}

fn counts_row(name: &str, c: &pb::Counts) -> Vec<String> {
    vec![
        name.to_string(),
        c.proposals.to_string(),
        c.approved.to_string(),
        c.rejected.to_string(),
        c.timeouts.to_string(),
        c.open.to_string(),
        c.approval_rate.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0)),
        c.average_duration_ms.map_or("-".to_string(), |ms| format!("{ms:.0} ms")),
    ]
}

fn print_stats(stats: &pb::StatsResponse) {
    let total = stats.total.unwrap_or_default();
    let row = counts_row("", &total);
    println!(
        "proposals {}, approved {}, rejected {}, timeouts {}, open {}, approval rate {}, average duration {}",
        row[1], row[2], row[3], row[4], row[5], row[6], row[7]
    );
    let by_algorithm: BTreeMap<_, _> = stats.by_algorithm.iter().collect();
    if by_algorithm.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = by_algorithm.iter().map(|(a, c)| counts_row(a, c)).collect();
    let header = [
        "ALGORITHM",
        "PROPOSALS",
        "APPROVED",
        "REJECTED",
        "TIMEOUTS",
        "OPEN",
        "APPROVAL",
        "AVG DURATION",
    ];
    table(&header, &rows).iter().for_each(|line| println!("{line}"));
}

fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

fn print_hook_runs(response: &pb::HookRunsResponse) {
    if response.runs.is_empty() {
        eprintln!("no hook runs on n{}", response.node_id);
        return;
    }
    println!("hook runs on n{}:", response.node_id);
    let rows: Vec<Vec<String>> = response
        .runs
        .iter()
        .map(|r| {
            let exit = match (r.exit_code, r.signal) {
                (Some(code), _) => code.to_string(),
                (None, Some(signal)) => format!("signal {signal}"),
                (None, None) => "-".to_string(),
            };
            let status = if r.timed_out && r.status != "timeout" {
                format!("{} (timed out)", r.status)
            } else {
                r.status.clone()
            };
            let duration = format!("{} ms", r.duration_ms);
            vec![
                r.hook.clone(),
                r.proposal_id.clone(),
                status,
                exit,
                duration,
                format_ms(r.started_at_ms),
            ]
        })
        .collect();
    let header = ["HOOK", "PROPOSAL", "STATUS", "EXIT", "DURATION", "STARTED"];
    let lines = table(&header, &rows);
    println!("{}", lines[0]);
    for (line, run) in lines[1..].iter().zip(&response.runs) {
        println!("{line}");
        for (label, text) in
            [("stdout", &run.stdout), ("stderr", &run.stderr), ("error", &run.error)]
        {
            let first = first_line(text);
            if !first.is_empty() {
                println!("    {label}: {first}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `synod vote ...` alone, as main.rs wires it.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Subcommand)]
    #[allow(clippy::large_enum_variant)]
    enum Top {
        Vote(VoteArgs),
        Quarantine(crate::quarantine_cmd::QuarantineArgs),
    }

    fn parse(args: &[&str]) -> Result<VoteArgs, clap::Error> {
        let argv = ["synod", "vote"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Top::Vote(vote) => vote,
            Top::Quarantine(_) => panic!("not vote"),
        })
    }

    fn propose(args: &[&str]) -> Result<(ProposeArgs, ConnectArgs), clap::Error> {
        let base = ["propose", "--kind", "commit", "--payload", r#"{"commit":"abc123"}"#];
        let argv: Vec<&str> = base.iter().chain(args).copied().collect();
        let vote = parse(&argv)?;
        match vote.command {
            VoteCommand::Propose(p) => Ok((p, vote.connect)),
            _ => panic!("not propose"),
        }
    }

    fn usage_error(result: Result<impl Sized, clap::Error>) -> String {
        let Err(err) = result else { panic!("accepted") };
        assert_eq!(err.exit_code(), i32::from(EXIT_USAGE), "{err}");
        err.to_string()
    }

    #[test]
    fn the_command_tree_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn propose_defaults_to_quorum_and_the_server_chosen_participants() {
        let (p, _) = propose(&[]).unwrap();
        let request = p.to_request().unwrap();
        assert_eq!(request.algorithm, "quorum");
        assert_eq!(request.payload, r#"{"commit":"abc123"}"#);
        assert!(request.participants.is_empty());
        assert!(request.id.is_empty());
        assert_eq!(request.timeout_ms, 30_000);
    }

    #[test]
    fn propose_takes_every_flag() {
        let (p, _) = propose(&[
            "--algorithm=score",
            "--participants=n1,n2,agent-a",
            "--timeout=90s",
            "--id=c-1",
            "--threshold=60",
            "--weights=n1=3,n2=1",
            "--min-average-score=70",
            "--min-approval-percent=50",
            "--param=quorum=2",
            "--param=note=a=b",
            "--proposer=ci",
        ])
        .unwrap();
        let r = p.to_request().unwrap();
        assert_eq!(
            (r.algorithm.as_str(), r.id.as_str(), r.proposer.as_str()),
            ("score", "c-1", "ci")
        );
        assert_eq!(r.participants, ["n1", "n2", "agent-a"]);
        assert_eq!(r.timeout_ms, 90_000);
        let params = r.params.unwrap();
        assert_eq!(params.threshold_percent, Some(60));
        assert_eq!(params.weights, HashMap::from([("n1".into(), 3), ("n2".into(), 1)]));
        assert_eq!((params.min_average_score, params.min_approval_percent), (Some(70), Some(50)));
        assert_eq!(params.custom["quorum"], "2");
        assert_eq!(params.custom["note"], "a=b");
    }

    #[test]
    fn the_proposal_timeout_does_not_shorten_other_calls() {
        // `--timeout` of propose shares its name with the request deadline of
        // ConnectArgs; clap keeps the subcommand's own default (30s), not 5s.
        let (p, connect) = propose(&[]).unwrap();
        assert_eq!(p.timeout, Duration::from_secs(30));
        assert!(connect.timeout >= ClientOptions::default().timeout);
        let (p, _) = propose(&["--timeout", "2m"]).unwrap();
        assert_eq!(p.timeout, Duration::from_secs(120));
    }

    #[test]
    fn bad_json_payload_is_a_usage_error() {
        let err = usage_error(parse(&["propose", "--kind", "commit", "--payload", "{commit:abc}"]));
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn weights_must_be_name_equals_u32() {
        assert_eq!(parse_weights("n1=3").unwrap(), HashMap::from([("n1".into(), 3)]));
        for bad in
            ["n1", "=3", "n1=", "n1=-1", "n1=3.5", "n1=4294967296", "n1=3,,n2=1", "n1=1,n1=2"]
        {
            assert!(parse_weights(bad).is_err(), "{bad}");
        }
        let err = usage_error(propose(&["--weights", "n1=3,n2=x"]));
        assert!(err.contains("weight of n2 must be a whole number"), "{err}");
        let err = usage_error(propose(&["--weights", "n1=1,n1=2"]));
        assert!(err.contains("n1 is given twice"), "{err}");
    }

    #[test]
    fn percentages_and_scores_stay_within_0_to_100() {
        for flag in ["--threshold", "--min-average-score", "--min-approval-percent"] {
            assert!(propose(&[flag, "100"]).is_ok(), "{flag}");
            let err = usage_error(propose(&[flag, "101"]));
            assert!(err.contains("101 is not in 0..=100"), "{flag}: {err}");
            usage_error(propose(&[flag, "-1"]));
        }
        let err = usage_error(parse(&["cast", "p1", "--for", "--score", "101"]));
        assert!(err.contains("101 is not in 0..=100"), "{err}");
    }

    #[test]
    fn proposal_timeout_must_parse_and_fit_the_servers_limit() {
        let err = usage_error(propose(&["--timeout", "soon"]));
        assert!(err.contains("'soon' is not a duration"), "{err}");
        let (p, _) = propose(&["--timeout", "301s"]).unwrap();
        assert!(p.to_request().unwrap_err().contains("out of range"));
        let (p, _) = propose(&["--timeout", "0s"]).unwrap();
        assert!(p.to_request().is_err());
        let (p, _) = propose(&["--timeout", "5m"]).unwrap();
        assert_eq!(p.to_request().unwrap().timeout_ms, 300_000);
    }

    #[test]
    fn repeated_names_are_refused_before_sending() {
        let (p, _) = propose(&["--participants", "n1,n2,n1"]).unwrap();
        assert_eq!(p.to_request().unwrap_err(), "--participants: n1 is given twice");
        let (p, _) = propose(&["--param", "k=1", "--param", "k=2"]).unwrap();
        assert_eq!(p.to_request().unwrap_err(), "--param k is given twice");
        let (p, _) = propose(&["--participants", "n1,,n2"]).unwrap();
        assert!(p.to_request().is_err());
        usage_error(propose(&["--param", "novalue"]));
    }

    #[test]
    fn cast_needs_exactly_one_choice() {
        let err = usage_error(parse(&["cast", "p1", "--for", "--against"]));
        assert!(err.contains("cannot be used with"), "{err}");
        let err = usage_error(parse(&["cast", "p1"]));
        assert!(err.contains("required"), "{err}");
        let vote = parse(&["cast", "p1", "--against", "--score", "85", "--as", "n2"]).unwrap();
        let VoteCommand::Cast(cast) = vote.command else { panic!("not cast") };
        let r = cast.to_request();
        assert_eq!(r.choice, pb::Choice::Against as i32);
        assert_eq!((r.score, r.participant.as_str()), (Some(85), "n2"));
    }

    #[test]
    fn wait_defaults_to_five_minutes_and_parses_its_timeout() {
        let vote = parse(&["wait", "p1"]).unwrap();
        let VoteCommand::Wait { id, timeout } = vote.command else { panic!("not wait") };
        assert_eq!((id.as_str(), timeout), ("p1", Duration::from_secs(300)));
        let vote = parse(&["wait", "p1", "--timeout", "90s"]).unwrap();
        assert!(
            matches!(vote.command, VoteCommand::Wait { timeout, .. } if timeout.as_secs() == 90)
        );
        usage_error(parse(&["wait", "p1", "--timeout", "forever"]));
    }

    #[test]
    fn usage_errors_of_wait_and_check_exit_3() {
        use clap::CommandFactory;
        let code = |argv: &[&str]| {
            let err = Cli::try_parse_from(argv).err().expect("refused");
            usage_exit_code_of(&err, Cli::command(), argv)
        };
        // 2 would read as "the proposal timed out", 1 as "quarantined".
        assert_eq!(code(&["synod", "vote", "wait", "p1", "--timeout", "forever"]), 3);
        assert_eq!(code(&["synod", "vote", "wait"]), 3);
        assert_eq!(code(&["synod", "vote", "--endpoints", "a:1", "wait", "p1", "--bogus"]), 3);
        assert_eq!(code(&["synod", "quarantine", "check"]), 3);
        assert_eq!(code(&["synod", "quarantine", "check", "a", "b"]), 3);
        assert_eq!(code(&["synod", "vote", "cast", "p1"]), 2);
        assert_eq!(code(&["synod", "quarantine", "add"]), 2);
        assert_eq!(code(&["synod", "vote"]), 2);
        assert_eq!(code(&["synod", "vote", "wait", "--help"]), 0);
    }

    #[test]
    fn decision_summary_names_outcome_and_tally() {
        let decision = pb::Decision {
            outcome: pb::Outcome::Approved as i32,
            tally: Some(pb::Tally { in_favor: 2, against: 1, missing: 1, ..Default::default() }),
            approval_percent: 66.66,
            average_score: Some(80.0),
            duration_ms: 1234,
            ..Default::default()
        };
        assert_eq!(
            decision_summary(&decision),
            "approved (2 for, 1 against, 0 abstain, 1 missing; approval 66.7%, average score 80.0; after 1234 ms)"
        );
    }

    #[test]
    fn tables_align_all_but_the_last_column() {
        let rows = vec![vec!["p-1".to_string(), "commit".into()], vec!["p-22".into(), "x".into()]];
        assert_eq!(table(&["ID", "KIND"], &rows), ["ID    KIND", "p-1   commit", "p-22  x"]);
    }
}
