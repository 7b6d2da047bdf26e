//! Votes on real processes (issue 6): `synod node` processes on loopback
//! and the `synod vote` / `synod quarantine` CLI against them.
//!
//! * The leader killed in the middle of a vote: the vote goes on with the
//!   next leader and is decided once, alike on every node; a deadline
//!   that passes after its leader died is kept by the next one, once.
//! * A minority cut off takes no vote; the majority decides alone; after
//!   healing the minority reports the same decision and refuses late votes.
//! * Decision hooks run exactly once per node and decision across kill -9
//!   and restarts, one node at a time and all at once; a hook killed with
//!   its node is reported interrupted and never run again.
//! * `vote wait` and `quarantine check` exit codes; bad input refused with
//!   a clear one-line message, nothing recorded.
//!
//! Run with `cargo test -p synod-chaos --release --test votes -- --nocapture`
//! to watch the phases. Each scenario prints its seed (the proxies') and
//! its cluster directory first; a failing one keeps the directory (node
//! logs, config files, every CLI run's output under `cli/`) and prints
//! the nodes' log tails.

mod common;
mod votes_support;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{bounded, CATCH_UP_TIMEOUT, ELECTION_TIMEOUT};
use synod_chaos::cluster::{Cluster, ClusterOptions};
use synod_proto::vote::v1 as pb;
use synod_proto::vote::v1::votes_client::VotesClient;
use tonic::Code;
use votes_support::{
    cast, decided_alike, file_lines, stats, synod, wait_file, wait_line, Cert, Out, Totals, Watcher,
};

/// Every node of a five-node cluster.
const FIVE: &str = "n1,n2,n3,n4,n5";
/// Every node of a three-node cluster.
const THREE: &str = "n1,n2,n3";

/// Bound on a hook's effect showing up in its file.
const HOOK_TIMEOUT: Duration = Duration::from_secs(20);

fn unix_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Starts a cluster and prints its seed.
async fn start(options: ClusterOptions) -> Cluster {
    let seed = options.seed;
    let cluster = Cluster::start(options).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    cluster.phase(&format!("seed {seed}"));
    cluster
}

/// `synod vote propose --id <id> --kind <kind> ...` through `via`; checks
/// that it prints only the id.
async fn propose(cluster: &Cluster, via: &[u64], id: &str, kind: &str, extra: &[&str]) {
    let mut args = vec!["vote", "propose", "--id", id, "--kind", kind, "--payload"];
    let payload = format!(r#"{{"version":"{id}"}}"#);
    args.push(&payload);
    args.extend_from_slice(extra);
    let out = synod(cluster, via, Cert::Client, &args).await.expect_code(0);
    assert_eq!(out.stdout, format!("{id}\n"), "propose prints only the id");
}

// ---------------------------------------------------------------------------
// 1. The leader killed in the middle of a vote

/// Raft §5.4 (Leader Completeness) carried to votes: the proposal and the
/// votes the dead leader committed are in the next leader's book, so the
/// vote goes on there and is decided once, alike on every node, the
/// restarted old leader included (issue 6: "the leader killed in the
/// middle of a vote (the decision is still reached, once)").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_mid_vote_decision_is_reached_once() {
    bounded(async {
        let options = ClusterOptions { nodes: 5, tls: true, seed: 61, ..ClusterOptions::default() };
        let cluster = start(options).await;
        let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let live: Vec<u64> = cluster.ids().into_iter().filter(|&id| id != old).collect();
        let watcher = Watcher::start(&cluster, live[0]).await;

        cluster.phase(&format!(
            "propose mid-vote to all five (quorum: 3 for); n{old} votes for, n{} against",
            live[0]
        ));
        let args = ["--algorithm", "quorum", "--participants", FIVE, "--timeout", "120s"];
        propose(&cluster, &[live[0]], "mid-vote", "deploy", &args).await;
        let before = [
            cast(&cluster, old, old, "mid-vote", "for").await.expect_code(0),
            cast(&cluster, live[0], live[0], "mid-vote", "against").await.expect_code(0),
        ];
        assert!(before.iter().all(|o| !o.stdout.contains("decided")), "{before:?}");

        cluster.kill9(old);
        let new = cluster.new_leader_without(old, ELECTION_TIMEOUT).await.unwrap();
        cluster.phase(&format!(
            "killed leader n{old}; n{new} leads; n{} and n{} vote for through their own nodes",
            live[1], live[2]
        ));
        let third = cast(&cluster, live[1], live[1], "mid-vote", "for").await.expect_code(0);
        assert!(!third.stdout.contains("decided"), "2 of 5 for settles nothing: {third}");
        let fourth = cast(&cluster, live[2], live[2], "mid-vote", "for").await.expect_code(0);
        let summary = "decided: approved (3 for, 1 against, 0 abstain, 1 missing";
        assert!(fourth.stdout.contains(summary), "{fourth}");
        let late = cast(&cluster, live[3], live[3], "mid-vote", "for").await.expect_code(1);
        assert!(late.first_error_line().contains("already decided (approved)"), "{late}");

        let info = decided_alike(&cluster, &live, "mid-vote", 0).await;
        let voters: BTreeSet<String> = info.votes.iter().map(|v| v.participant.clone()).collect();
        let expected: BTreeSet<String> =
            [old, live[0], live[1], live[2]].iter().map(|id| format!("n{id}")).collect();
        assert_eq!(voters, expected, "the dead leader's vote counts, the late one does not");
        let totals = stats(&cluster, &live).await;
        assert_eq!(totals, Totals { proposals: 1, approved: 1, rejected: 0, timeouts: 0, open: 0 });
        watcher.wait_for("DecisionReached mid-vote ", 1, Duration::from_secs(10)).await.unwrap();

        cluster.phase(&format!("restart n{old}; it reports the same decision"));
        cluster.restart(old).unwrap();
        cluster.wait_converged(&cluster.ids(), CATCH_UP_TIMEOUT).await.unwrap();
        assert_eq!(decided_alike(&cluster, &[old], "mid-vote", 0).await, info);
        assert_eq!(watcher.count("DecisionReached mid-vote "), 1, "{:#?}", watcher.lines());
        drop(watcher);

        deadline_passes_while_leaderless(&cluster).await;
    })
    .await;
}

/// A proposal whose deadline passes while its leader is dead: the next
/// leader finds it open in its book and expires it, once (the book refuses
/// a second expiry, so a later leader cannot double it).
async fn deadline_passes_while_leaderless(cluster: &Cluster) {
    let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
    let others: Vec<u64> = cluster.ids().into_iter().filter(|&id| id != leader).collect();
    let watcher = Watcher::start(cluster, others[0]).await;
    cluster.phase(&format!(
        "propose expires-unled (deadline 1 s) on n{leader}, then kill -9 of n{leader}"
    ));
    let args = ["--participants", FIVE, "--timeout", "1s"];
    propose(cluster, &[leader], "expires-unled", "deploy", &args).await;
    cluster.kill9(leader);
    let killed_ms = unix_ms();
    let next = cluster.new_leader_without(leader, ELECTION_TIMEOUT).await.unwrap();
    let seen_ms = unix_ms();
    cluster.phase(&format!("n{next} leads; the deadline is its to keep"));

    let info = decided_alike(cluster, &others, "expires-unled", 2).await;
    let decided_ms = info.decision.as_ref().map_or(0, |d| d.decided_at_ms);
    cluster.phase(&format!(
        "killed {} ms before the deadline; new leader seen {} ms and expiry stamped {} ms after it",
        info.deadline_ms as i64 - killed_ms as i64,
        seen_ms as i64 - info.deadline_ms as i64,
        decided_ms as i64 - info.deadline_ms as i64,
    ));
    assert!(
        killed_ms < info.deadline_ms,
        "n{leader} died at {killed_ms}, after the deadline {}",
        info.deadline_ms
    );
    let decision = info.decision.clone().unwrap();
    assert_eq!(decision.outcome, pb::Outcome::Timeout as i32);
    assert!(decision.decided_at_ms >= info.deadline_ms, "{decision:?}");
    let tally = decision.tally.unwrap_or_default();
    assert_eq!((tally.in_favor, tally.against, tally.missing), (0, 0, 5));
    watcher.wait_for("DecisionReached expires-unled ", 1, Duration::from_secs(10)).await.unwrap();
    let totals = stats(cluster, &others).await;
    assert_eq!(totals, Totals { proposals: 2, approved: 1, rejected: 0, timeouts: 1, open: 0 });

    cluster.phase(&format!("restart n{leader}; every node reports the one timeout"));
    cluster.restart(leader).unwrap();
    cluster.wait_converged(&cluster.ids(), CATCH_UP_TIMEOUT).await.unwrap();
    assert_eq!(decided_alike(cluster, &cluster.ids(), "expires-unled", 2).await, info);
    assert_eq!(stats(cluster, &cluster.ids()).await.timeouts, 1);
    assert_eq!(watcher.count("DecisionReached expires-unled "), 1, "{:#?}", watcher.lines());
}

// ---------------------------------------------------------------------------
// 2. A minority of voters partitioned away

/// Cuts every link between `side` and the other nodes, both ways.
fn partition(cluster: &Cluster, side: &[u64]) {
    for ((from, to), proxy) in cluster.proxies() {
        if side.contains(from) != side.contains(to) {
            proxy.cut();
        }
    }
}

/// Raft §5.2 and §5.4.1: a leader cut off from the majority commits
/// nothing, so a vote it takes is never recorded, and a new leader of the
/// majority decides alone (3 of 5 for is more than half). After healing
/// the minority's logs follow the majority's: same decision, late votes
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minority_partitioned_away_cannot_take_votes() {
    bounded(async {
        let cluster =
            start(ClusterOptions { nodes: 5, seed: 62, ..ClusterOptions::default() }).await;
        let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let other = cluster.ids().into_iter().find(|&id| id != old).unwrap();
        let minority = [old, other];
        let majority: Vec<u64> =
            cluster.ids().into_iter().filter(|id| !minority.contains(id)).collect();

        cluster.phase("propose before-split to all five while the cluster is whole");
        let args = ["--participants", FIVE, "--timeout", "90s"];
        propose(&cluster, &[old], "before-split", "deploy", &args).await;
        cluster.wait_converged(&cluster.ids(), CATCH_UP_TIMEOUT).await.unwrap();

        // At once, while n{old} may still believe it leads: it can append
        // a vote to its log but never commit it.
        cluster.phase(&format!("partition: n{old} (leader) and n{other} | {majority:?}"));
        partition(&cluster, &minority);
        minority_attempts(&cluster, &minority).await;
        let new = cluster.leader_among(&majority, ELECTION_TIMEOUT).await.unwrap();
        cluster.phase(&format!("the majority elected n{new}; the minority took nothing"));

        cluster.phase("the majority proposes majority-side and votes for both proposals");
        propose(&cluster, &[majority[0]], "majority-side", "deploy", &args).await;
        for id in ["before-split", "majority-side"] {
            let mut last = None;
            for &m in &majority {
                last = Some(cast(&cluster, m, m, id, "for").await.expect_code(0));
            }
            let last = last.unwrap();
            assert!(
                last.stdout.contains("decided: approved (3 for, 0 against, 0 abstain, 2 missing"),
                "{last}"
            );
        }
        for id in ["before-split", "majority-side"] {
            let wait = ["vote", "wait", id, "--timeout", "2s"];
            let out = synod(&cluster, &[other], Cert::Client, &wait).await.expect_code(3);
            cluster.phase(&format!("cut-off n{other} on {id}: {}", out.first_error_line()));
        }

        cluster.phase("heal; every node reports the majority's decisions");
        cluster.heal();
        cluster.wait_converged(&cluster.ids(), CATCH_UP_TIMEOUT).await.unwrap();
        let names: BTreeSet<String> = majority.iter().map(|id| format!("n{id}")).collect();
        for id in ["before-split", "majority-side"] {
            let info = decided_alike(&cluster, &cluster.ids(), id, 0).await;
            let voters: BTreeSet<String> =
                info.votes.iter().map(|v| v.participant.clone()).collect();
            assert_eq!(voters, names, "{id}: only the majority's votes are recorded");
        }
        after_heal_minority_is_refused(&cluster, &minority).await;
    })
    .await;
}

/// Each minority node tries to vote on the open proposal, and one tries to
/// open a proposal: none may succeed (refused or timed out).
async fn minority_attempts(cluster: &Cluster, minority: &[u64]) {
    for &m in minority {
        let name = format!("n{m}");
        let args = ["vote", "cast", "before-split", "--for", "--as", &name, "--timeout", "2s"];
        let started = Instant::now();
        let out = synod(cluster, &[m], Cert::Client, &args).await;
        cluster.phase(&format!(
            "{name} votes through {name}: exit {:?} after {:.1?}: {}",
            out.code,
            started.elapsed(),
            out.first_error_line()
        ));
        assert_ne!(out.code, Some(0), "a cut-off node took a vote: {out}");
    }
    let args = ["--participants", FIVE, "--timeout", "90s"];
    let mut propose =
        vec!["vote", "propose", "--id", "minority-prop", "--kind", "deploy", "--payload", "{}"];
    propose.extend_from_slice(&args);
    let out = synod(cluster, &[minority[1]], Cert::Client, &propose).await;
    cluster.phase(&format!(
        "propose through n{}: exit {:?}: {}",
        minority[1],
        out.code,
        out.first_error_line()
    ));
    assert_ne!(out.code, Some(0), "a cut-off node opened a proposal: {out}");
}

/// After healing: the minority's votes come too late, the proposal it
/// tried to open does not exist, and the statistics count two approvals.
async fn after_heal_minority_is_refused(cluster: &Cluster, minority: &[u64]) {
    for (&m, id) in minority.iter().zip(["before-split", "majority-side"]) {
        let late = cast(cluster, m, m, id, "against").await.expect_code(1);
        assert!(late.first_error_line().contains("already decided (approved)"), "{late}");
    }
    let show =
        synod(cluster, &[minority[1]], Cert::Client, &["vote", "show", "minority-prop"]).await;
    let show = show.expect_code(1);
    assert!(show.first_error_line().contains("unknown proposal minority-prop"), "{show}");
    let totals = stats(cluster, &cluster.ids()).await;
    assert_eq!(totals, Totals { proposals: 2, approved: 2, rejected: 0, timeouts: 0, open: 0 });
}

// ---------------------------------------------------------------------------
// 3. Decision hooks exactly once across restarts

/// Each node's hooks: `record` appends one line per `release` decision to
/// `hook-record.log` in the node's data directory; `slow` writes a start
/// line, sleeps 3 s and writes an end line, on `slow` decisions.
const HOOKS_YAML: &str = r#"hooks:
  - name: record
    kind: release
    outcome: any
    shell: 'echo "$SYNOD_PROPOSAL_ID $SYNOD_OUTCOME" >> {data_dir}/hook-record.log'
    timeout: 10s
  - name: slow
    kind: slow
    outcome: any
    shell: |
      f={data_dir}/hook-slow.log
      echo "$SYNOD_PROPOSAL_ID start" >> "$f"
      sleep 3
      echo "$SYNOD_PROPOSAL_ID end" >> "$f"
    timeout: 20s
"#;

/// Hook output file `name` of node `id`.
fn hook_file(cluster: &Cluster, id: u64, name: &str) -> std::path::PathBuf {
    cluster.root().join(format!("n{id}")).join(name)
}

/// Opens `id` of `kind` to n1..n3 through `via` and decides it: `for` or
/// `against` by two voters, or `timeout` (a 1 s deadline, no vote).
async fn decide(cluster: &Cluster, via: &[u64], id: &str, kind: &str, how: &str) {
    let timeout = if how == "timeout" { "1s" } else { "60s" };
    propose(cluster, via, id, kind, &["--participants", THREE, "--timeout", timeout]).await;
    if how != "timeout" {
        for voter in [1, 2] {
            let name = format!("n{voter}");
            let flag = format!("--{how}");
            let args = ["vote", "cast", id, flag.as_str(), "--as", name.as_str()];
            synod(cluster, via, Cert::Client, &args).await.expect_code(0);
        }
    }
    let code = match how {
        "for" => 0,
        "against" => 1,
        _ => 2,
    };
    let out = synod(cluster, via, Cert::Client, &["vote", "wait", id, "--timeout", "15s"]).await;
    out.expect_code(code);
}

/// Every node's `hook-record.log` holds exactly `expected`, in order.
async fn records_are(cluster: &Cluster, expected: &[String]) {
    for id in cluster.ids() {
        let path = hook_file(cluster, id, "hook-record.log");
        wait_file(&path, expected, HOOK_TIMEOUT).await.unwrap_or_else(|e| panic!("n{id}: {e}"));
    }
}

/// Hooks run at most once per node and decision (the ledger's claim) and
/// at least once (the watermark moves only after a decision's hooks ran),
/// across kill -9 and restarts (issue 6: "hooks run exactly once across
/// restarts").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_exactly_once_across_restarts() {
    bounded(async {
        let options = ClusterOptions {
            seed: 63,
            votes_yaml: Some(HOOKS_YAML.to_string()),
            ..ClusterOptions::default()
        };
        let cluster = start(options).await;
        let ids = cluster.ids();
        let mut expected: Vec<String> = Vec::new();

        cluster.phase(
            "decide release proposals: approved, rejected, timeout; and one of another kind",
        );
        for (id, how, outcome) in [
            ("rel-approved", "for", "approved"),
            ("rel-rejected", "against", "rejected"),
            ("rel-timeout", "timeout", "timeout"),
        ] {
            decide(&cluster, &ids, id, "release", how).await;
            expected.push(format!("{id} {outcome}"));
        }
        decide(&cluster, &ids, "other-approved", "other", "for").await;
        records_are(&cluster, &expected).await;
        for &id in &ids {
            let out =
                synod(&cluster, &[id], Cert::Client, &["vote", "hooks", "rel-approved"]).await;
            let out = out.expect_code(0);
            assert!(out.stdout.contains(&format!("hook runs on n{id}")), "{out}");
            assert!(
                out.stdout.lines().any(|l| l.starts_with("record") && l.contains(" ok ")),
                "{out}"
            );
        }

        for &down in &ids {
            let up: Vec<u64> = ids.iter().copied().filter(|&id| id != down).collect();
            cluster.phase(&format!(
                "kill -9 of n{down}; decide a proposal while it is down; restart it"
            ));
            cluster.kill9(down);
            cluster.leader_among(&up, ELECTION_TIMEOUT).await.unwrap();
            let id = format!("rel-while-n{down}-down");
            decide(&cluster, &up, &id, "release", "for").await;
            expected.push(format!("{id} approved"));
            cluster.restart(down).unwrap();
            cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
            records_are(&cluster, &expected).await;
        }

        cluster.phase("kill -9 of every node at once; restart them all");
        ids.iter().for_each(|&id| cluster.kill9(id));
        ids.iter().for_each(|&id| cluster.restart(id).unwrap());
        cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
        decide(&cluster, &ids, "rel-after-all", "release", "for").await;
        expected.push("rel-after-all approved".to_string());
        records_are(&cluster, &expected).await;

        interrupted_hook_is_not_run_again(&cluster).await;
        decide(&cluster, &ids, "rel-final", "release", "against").await;
        expected.push("rel-final rejected".to_string());
        records_are(&cluster, &expected).await;

        let victim = ids[ids.len() - 1];
        cluster.phase(&format!(
            "wipe n{victim}: it replays the whole log but runs no hook of an old decision"
        ));
        cluster.kill9(victim);
        cluster.wipe(victim).unwrap();
        cluster.restart(victim).unwrap();
        cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
        decide(&cluster, &ids, "rel-after-wipe", "release", "for").await;
        expected.push("rel-after-wipe approved".to_string());
        for &id in &ids {
            let want = if id == victim { &expected[expected.len() - 1..] } else { &expected[..] };
            let path = hook_file(&cluster, id, "hook-record.log");
            wait_file(&path, want, HOOK_TIMEOUT).await.unwrap_or_else(|e| panic!("n{id}: {e}"));
        }
    })
    .await;
}

/// A node killed while its hook runs: after the restart the run is
/// reported interrupted and not started again; later decisions still run
/// the hook.
async fn interrupted_hook_is_not_run_again(cluster: &Cluster) {
    let ids = cluster.ids();
    let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
    let victim = ids.iter().copied().find(|&id| id != leader).unwrap();
    let slow = |id| hook_file(cluster, id, "hook-slow.log");
    cluster.phase(&format!("decide slow-1; kill -9 of n{victim} while its slow hook sleeps"));
    decide(cluster, &ids, "slow-1", "slow", "for").await;
    wait_line(&slow(victim), "slow-1 start", HOOK_TIMEOUT).await.unwrap();
    cluster.kill9(victim);
    let killed = Instant::now();
    for id in ids.iter().copied().filter(|&id| id != victim) {
        wait_line(&slow(id), "slow-1 end", HOOK_TIMEOUT).await.unwrap();
    }

    cluster.phase(&format!("restart n{victim}: its run of slow-1 is interrupted, not repeated"));
    cluster.restart(victim).unwrap();
    cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
    let out = synod(cluster, &[victim], Cert::Client, &["vote", "hooks", "slow-1"]).await;
    let out = out.expect_code(0);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("slow") && l.contains(" interrupted ")),
        "{out}"
    );
    let runs = hook_runs(cluster, victim, "slow-1").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, "interrupted", "{runs:?}");
    for id in ids.iter().copied().filter(|&id| id != victim) {
        let runs = hook_runs(cluster, id, "slow-1").await;
        assert_eq!(runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["ok"], "n{id}");
    }

    cluster.phase("decide slow-2: the hook runs again on every node");
    decide(cluster, &ids, "slow-2", "slow", "for").await;
    for &id in &ids {
        wait_line(&slow(id), "slow-2 end", HOOK_TIMEOUT).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(4000).saturating_sub(killed.elapsed())).await;
    let lines = file_lines(&slow(victim));
    let count = |line: &str| lines.iter().filter(|l| *l == line).count();
    assert_eq!(
        (count("slow-1 start"), count("slow-2 start"), count("slow-2 end")),
        (1, 1, 1),
        "{lines:?}"
    );
    // kill -9 of the node does not reach the hook's own process group:
    // the interrupted command may still finish on its own.
    cluster.phase(&format!(
        "n{victim}'s interrupted slow-1 command finished on its own: {}",
        count("slow-1 end") == 1
    ));

    cluster.phase(&format!("kill -9 and restart n{victim} again: nothing runs twice"));
    cluster.kill9(victim);
    cluster.restart(victim).unwrap();
    cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
    decide(cluster, &ids, "slow-3", "slow", "against").await;
    wait_line(&slow(victim), "slow-3 end", HOOK_TIMEOUT).await.unwrap();
    let after = file_lines(&slow(victim));
    assert_eq!(after[..lines.len()], lines[..], "n{victim} rewrote its hook file");
    assert_eq!(after[lines.len()..], ["slow-3 start", "slow-3 end"], "{after:?}");
    let runs = hook_runs(cluster, victim, "slow-1").await;
    assert_eq!(runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["interrupted"]);
}

/// `HookRuns` of proposal `id` on node `node` itself.
async fn hook_runs(cluster: &Cluster, node: u64, id: &str) -> Vec<pb::HookRun> {
    let channel = cluster.channel(node).await.unwrap();
    let request = pb::HookRunsRequest { proposal_id: id.to_string() };
    let response = VotesClient::new(channel).hook_runs(request).await.unwrap().into_inner();
    assert_eq!(response.node_id, node);
    response.runs
}

// ---------------------------------------------------------------------------
// 4. The CLI's answers, and bad input

/// `vote wait` answers with its exit code; a rejected `commit` proposal
/// quarantines its commit until `quarantine rm`; bad input is refused with
/// a one-line message and records nothing (issue 6: "bad input — unknown
/// algorithm, threshold outside its range, a weighted vote without weights
/// for every participant, a deadline over the maximum, a score outside
/// 0–100 — each a clear error, nothing recorded").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes_and_bad_input() {
    bounded(async {
        let cluster =
            start(ClusterOptions { tls: true, seed: 64, ..ClusterOptions::default() }).await;
        let ids = cluster.ids();
        let wait = |id: &'static str| ["vote", "wait", id, "--timeout", "15s"];

        cluster.phase("vote wait: 0 approved, 1 rejected, 2 timeout, 3 unknown");
        let args = ["--participants", THREE, "--timeout", "60s"];
        propose(&cluster, &ids, "wait-approved", "deploy", &args).await;
        for voter in [1, 2] {
            cast(&cluster, voter, voter, "wait-approved", "for").await.expect_code(0);
        }
        let out = synod(&cluster, &ids, Cert::Client, &wait("wait-approved")).await.expect_code(0);
        assert!(out.stdout.starts_with("wait-approved approved (2 for"), "{out}");
        let sha = "3f2a9c1e77d0";
        let payload = format!(r#"{{"commit":"{sha}"}}"#);
        let create =
            ["vote", "propose", "--id", "wait-rejected", "--kind", "commit", "--payload", &payload];
        let out = synod(&cluster, &ids, Cert::Client, &[&create[..], &args[..]].concat()).await;
        out.expect_code(0);
        for voter in [1, 2] {
            cast(&cluster, voter, voter, "wait-rejected", "against").await.expect_code(0);
        }
        let out = synod(&cluster, &ids, Cert::Client, &wait("wait-rejected")).await.expect_code(1);
        assert!(out.stdout.starts_with("wait-rejected rejected (0 for, 2 against"), "{out}");
        propose(
            &cluster,
            &ids,
            "wait-timeout",
            "deploy",
            &["--participants", THREE, "--timeout", "1s"],
        )
        .await;
        let out = synod(&cluster, &ids, Cert::Client, &wait("wait-timeout")).await.expect_code(2);
        assert!(out.stdout.starts_with("wait-timeout timeout (0 for"), "{out}");
        let unknown = ["vote", "wait", "no-such-proposal", "--timeout", "3s"];
        let out = synod(&cluster, &ids, Cert::Client, &unknown).await.expect_code(3);
        assert!(out.first_error_line().contains("unknown proposal no-such-proposal"), "{out}");

        quarantine_follows_the_rejection(&cluster, sha).await;

        cluster.phase("bad input: each refused with a clear message, nothing recorded");
        let open = ["--participants", THREE, "--timeout", "120s"];
        propose(&cluster, &ids, "still-open", "deploy", &open).await;
        let snapshot = recorded(&cluster).await;
        bad_cli_input(&cluster).await;
        bad_grpc_input(&cluster).await;
        assert_eq!(
            recorded(&cluster).await,
            snapshot,
            "a refused request changed what is recorded"
        );
        let totals = stats(&cluster, &ids).await;
        assert_eq!(totals, Totals { proposals: 4, approved: 1, rejected: 1, timeouts: 1, open: 1 });
    })
    .await;
}

/// `quarantine check` exits 1 for the commit of the rejected proposal and
/// 0 once it is released.
async fn quarantine_follows_the_rejection(cluster: &Cluster, sha: &str) {
    let ids = cluster.ids();
    cluster.phase(&format!("quarantine: the rejected commit {sha} is quarantined until removed"));
    let check = ["quarantine", "check", sha];
    let out = synod(cluster, &ids, Cert::Client, &check).await.expect_code(1);
    assert!(out.stdout.contains(&format!("{sha} is quarantined")), "{out}");
    assert!(out.stdout.contains("by proposal wait-rejected"), "{out}");
    let out = synod(cluster, &ids, Cert::Client, &["vote", "show", "wait-rejected"]).await;
    assert!(out.expect_code(0).stdout.contains(&format!("quarantined:  {sha}")));
    let out = synod(cluster, &ids, Cert::Client, &["quarantine", "rm", sha]).await.expect_code(0);
    assert!(out.stdout.contains(&format!("{sha} released from quarantine")), "{out}");
    let out = synod(cluster, &ids, Cert::Client, &check).await.expect_code(0);
    assert_eq!(out.stdout.trim(), format!("{sha} is not quarantined"));
}

/// What the cluster has recorded, as the CLI prints it: the proposal list,
/// the statistics and the open proposal with its votes.
async fn recorded(cluster: &Cluster) -> [String; 3] {
    let ids = cluster.ids();
    let mut texts = Vec::new();
    for args in [&["vote", "list"][..], &["vote", "stats"], &["vote", "show", "still-open"]] {
        texts.push(synod(cluster, &ids, Cert::Client, args).await.expect_code(0).stdout);
    }
    texts.try_into().unwrap()
}

/// A refusal's message: `error: ...` naming the problem on its first line;
/// nothing else but clap's pointer to `--help`.
fn assert_clear_refusal(name: &str, out: &Out, code: i32, needle: &str) {
    assert_eq!(out.code, Some(code), "{name}: `{}`\n{out}", out.command);
    let first = out.first_error_line();
    assert!(
        first.starts_with("error: ") && first.contains(needle),
        "{name}: {first:?} lacks {needle:?}"
    );
    let other: Vec<&str> = out
        .stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != first && !l.starts_with("For more information, try"))
        .collect();
    assert!(other.is_empty(), "{name}: more than one line of error: {:?}", out.stderr);
    assert!(out.stdout.is_empty(), "{name}: printed {:?}", out.stdout);
}

/// The issue's bad input through the CLI, as users type it.
async fn bad_cli_input(cluster: &Cluster) {
    let ids = cluster.ids();
    let propose = |extra: &[&'static str]| -> Vec<&'static str> {
        let base = [
            "vote",
            "propose",
            "--id",
            "bad",
            "--kind",
            "deploy",
            "--payload",
            "{}",
            "--participants",
            THREE,
        ];
        [&base[..], extra].concat()
    };
    let cases: Vec<(&str, Vec<&str>, Cert, i32, &str)> = vec![
        (
            "unknown algorithm",
            propose(&["--algorithm", "plurality"]),
            Cert::Client,
            1,
            "unknown algorithm `plurality`",
        ),
        (
            "threshold 150",
            propose(&["--threshold", "150"]),
            Cert::Client,
            2,
            "150 is not in 0..=100",
        ),
        (
            "quorum threshold 100",
            propose(&["--threshold", "100"]),
            Cert::Client,
            1,
            "between 0 and 99, got 100",
        ),
        (
            "weighted without n3's weight",
            propose(&["--algorithm", "weighted", "--weights", "n1=2,n2=1"]),
            Cert::Client,
            1,
            "participant n3 has no weight",
        ),
        (
            "deadline of 301 s",
            propose(&["--timeout", "301s"]),
            Cert::Client,
            2,
            "is out of range: 1ms to 5m",
        ),
        (
            "bad JSON payload",
            vec![
                "vote",
                "propose",
                "--id",
                "bad",
                "--kind",
                "deploy",
                "--payload",
                "{commit: abc}",
            ],
            Cert::Client,
            2,
            "not valid JSON",
        ),
        (
            "empty kind",
            vec!["vote", "propose", "--id", "bad", "--kind", "", "--payload", "{}"],
            Cert::Client,
            2,
            "--kind must not be empty",
        ),
        (
            "score 101",
            vec!["vote", "cast", "still-open", "--for", "--score", "101"],
            Cert::Node(1),
            2,
            "101 is not in 0..=100",
        ),
        (
            "voting as n2 with n1's certificate",
            vec!["vote", "cast", "still-open", "--for", "--as", "n2"],
            Cert::Node(1),
            1,
            "it may act only as n1, not as participant n2",
        ),
        (
            "vote on an unknown proposal",
            vec!["vote", "cast", "nope", "--for"],
            Cert::Node(1),
            1,
            "unknown proposal nope",
        ),
    ];
    for (name, args, cert, code, needle) in cases {
        let out = synod(cluster, &ids, cert, &args).await;
        cluster.phase(&format!("{name}: exit {:?}: {}", out.code, out.first_error_line()));
        assert_clear_refusal(name, &out, code, needle);
    }
}

/// The same bad input sent to the leader directly, past the CLI's own
/// checks: the node refuses it as INVALID_ARGUMENT (PERMISSION_DENIED for
/// the false name) before anything reaches the log.
async fn bad_grpc_input(cluster: &Cluster) {
    let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
    let mut client = VotesClient::new(cluster.channel(leader).await.unwrap());
    let base = pb::ProposeRequest {
        id: "raw-bad".into(),
        kind: "deploy".into(),
        payload: "{}".into(),
        algorithm: "quorum".into(),
        participants: ["n1", "n2", "n3"].map(String::from).to_vec(),
        timeout_ms: 60_000,
        ..Default::default()
    };
    let with = |f: &dyn Fn(&mut pb::ProposeRequest)| {
        let mut request = base.clone();
        f(&mut request);
        request
    };
    let params = |p: pb::Params| move |r: &mut pb::ProposeRequest| r.params = Some(p.clone());
    let weights: HashMap<String, u32> = [("n1".into(), 2), ("n2".into(), 1)].into();
    let proposals = [
        (
            "threshold 150",
            with(&params(pb::Params { threshold_percent: Some(150), ..Default::default() })),
            "got 150",
        ),
        ("deadline 301 s", with(&|r| r.timeout_ms = 301_000), "exceeds the maximum of 300000 ms"),
        (
            "bad JSON payload",
            with(&|r| r.payload = "{commit: abc}".into()),
            "payload is not valid JSON",
        ),
        ("empty kind", with(&|r| r.kind = String::new()), "proposal kind must not be empty"),
        (
            "unknown algorithm",
            with(&|r| r.algorithm = "plurality".into()),
            "unknown algorithm `plurality`",
        ),
        (
            "weighted without n3's weight",
            with(&|r| {
                r.algorithm = "weighted".into();
                r.params = Some(pb::Params { weights: weights.clone(), ..Default::default() });
            }),
            "participant n3 has no weight",
        ),
    ];
    for (name, request, needle) in proposals {
        let status = client.propose(request).await.expect_err(name);
        cluster.phase(&format!("gRPC {name}: {:?} {}", status.code(), status.message()));
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        assert!(status.message().contains(needle), "{name}: {status:?}");
    }
    let cast = |score: Option<u32>, participant: &str| pb::CastRequest {
        id: "still-open".into(),
        choice: pb::Choice::For as i32,
        score,
        participant: participant.into(),
        ..Default::default()
    };
    let status = client.cast(cast(Some(101), "")).await.expect_err("score 101");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("score is 101"), "{status:?}");
    let status = client.cast(cast(None, "n2")).await.expect_err("as n2");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("names chaos-client"), "{status:?}");
}
