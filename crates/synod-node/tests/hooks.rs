//! Decision hooks end to end (issue 6, item 5): real commands, a real
//! ledger in a temp dir, short time limits.

use std::path::Path;
use std::time::{Duration, Instant};

use synod_core::vote::{Decision, Outcome, Proposal, ProposalId, Tally};
use synod_core::{NodeId, Time};
use synod_node::hooks::{
    HookConfig, HookLedger, HookRunner, HookStatus, OutcomeFilter, OUTPUT_BYTES_MAX,
};

fn proposal(id: &str, kind: &str) -> Proposal {
    Proposal::new(id, NodeId(1), kind, "score", [NodeId(1), NodeId(2)], Time(10))
        .with_payload(r#"{"sha":"9fceb02"}"#)
}

fn decision(id: &str, outcome: Outcome) -> Decision {
    Decision {
        proposal_id: ProposalId::from(id),
        outcome,
        algorithm: "score".into(),
        tally: Tally { in_favor: 2, scored: 2, score_sum: 170, ..Tally::default() },
        voters: vec![NodeId(1).into(), NodeId(2).into()],
        decided_at: Time(60),
        duration_ms: 50,
    }
}

/// A `sh -c` hook on approved commits, with `$DIR` set to `dir`.
fn shell_hook(name: &str, dir: &Path, script: &str) -> HookConfig {
    let mut hook = HookConfig::shell(name, "commit", OutcomeFilter::Approved, script);
    hook.env.insert("DIR".into(), dir.display().to_string());
    hook
}

fn runner(dir: &Path, hooks: Vec<HookConfig>) -> HookRunner {
    HookRunner::new(hooks, HookLedger::open_in(dir).unwrap()).unwrap()
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn decision_reaches_the_command_through_env_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = r#"echo "$SYNOD_OUTCOME $SYNOD_KIND $SYNOD_PROPOSAL_ID $SYNOD_AVERAGE_SCORE $SYNOD_HOOK" > "$DIR/env"; cat > "$DIR/stdin.json""#;
    let touch = HookConfig::command(
        "touch",
        "*",
        OutcomeFilter::Any,
        vec!["touch".into(), d.join("touched").display().to_string()],
    );
    let r = runner(d, vec![shell_hook("env", d, script), touch]);
    let runs = r
        .on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved))
        .await
        .unwrap();

    let statuses: Vec<_> = runs.iter().map(|r| (r.hook.as_str(), r.status, r.exit_code)).collect();
    assert_eq!(statuses, [("env", HookStatus::Ok, Some(0)), ("touch", HookStatus::Ok, Some(0))]);
    assert_eq!(read(d.join("env")), "approved commit c-1 85.00 env\n");
    let doc: serde_json::Value = serde_json::from_str(&read(d.join("stdin.json"))).unwrap();
    assert_eq!(doc["decision"]["proposal_id"], "c-1");
    assert_eq!(doc["payload"]["sha"], "9fceb02");
    assert!(d.join("touched").exists(), "argv hooks run without a shell");
}

#[tokio::test]
async fn only_matching_hooks_run_in_config_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut deploy = shell_hook("deploy", d, r#"echo deploy >> "$DIR/log""#);
    deploy.kind = "deploy".into();
    let mut rejected = shell_hook("rejected", d, r#"echo rejected >> "$DIR/log""#);
    rejected.outcome = OutcomeFilter::Rejected;
    let mut any = shell_hook("any", d, r#"echo any >> "$DIR/log""#);
    any.kind = "*".into();
    any.outcome = OutcomeFilter::Any;
    let first = shell_hook("first", d, r#"echo first >> "$DIR/log""#);
    let r = runner(d, vec![deploy, rejected, any, first]);

    r.on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved)).await.unwrap();
    assert_eq!(read(d.join("log")), "any\nfirst\n");
    r.on_decision(&proposal("c-2", "commit"), &decision("c-2", Outcome::Rejected)).await.unwrap();
    assert_eq!(read(d.join("log")), "any\nfirst\nrejected\nany\n");
    let recent: Vec<_> = r.ledger().recent(10).unwrap().into_iter().map(|r| r.hook).collect();
    assert_eq!(recent, ["any", "rejected", "first", "any"]);
}

#[tokio::test]
async fn failure_records_exit_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fail = shell_hook("fail", d, "echo partial; echo oops >&2; exit 3");
    let missing = HookConfig::command(
        "missing",
        "commit",
        OutcomeFilter::Any,
        vec!["/nonexistent/hook".into()],
    );
    let big = shell_hook("big", d, "head -c 100000 /dev/zero | tr '\\0' x");
    let r = runner(d, vec![fail, missing, big]);
    r.on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved)).await.unwrap();

    let runs = r.ledger().results("c-1").unwrap();
    let fail = &runs[0];
    assert_eq!((fail.status, fail.exit_code, fail.timed_out), (HookStatus::Failed, Some(3), false));
    assert_eq!((fail.stdout.as_str(), fail.stderr.as_str()), ("partial\n", "oops\n"));
    let missing = &runs[1];
    assert_eq!((missing.status, missing.exit_code), (HookStatus::Failed, None));
    assert!(missing.error.as_deref().unwrap().contains("/nonexistent/hook"), "{missing:?}");
    let big = &runs[2];
    assert_eq!(big.status, HookStatus::Ok);
    assert_eq!((big.stdout.len(), big.stdout_bytes), (OUTPUT_BYTES_MAX, 100_000));
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = r#"sleep 30 & echo $! > "$DIR/child"; echo started; sleep 30"#;
    let limit = Duration::from_millis(300);
    let r = runner(d, vec![shell_hook("slow", d, script).with_timeout(limit)]);

    let started = Instant::now();
    let runs = r
        .on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved))
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(took < limit + Duration::from_secs(2), "took {took:?}");
    let run = &runs[0];
    assert_eq!(
        (run.status, run.timed_out, run.exit_code, run.signal),
        (HookStatus::Timeout, true, None, Some(9))
    );
    assert_eq!(run.stdout, "started\n");

    // The background `sleep` forked by the shell died with its group.
    let child = read(d.join("child")).trim().to_owned();
    assert!(!child.is_empty());
    let gone = || {
        let stat = read(format!("/proc/{child}/stat"));
        stat.is_empty() || stat.split(' ').nth(2) == Some("Z")
    };
    let until = Instant::now() + Duration::from_secs(2);
    while !gone() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone(), "child {child} of the timed-out hook is still alive");
}

#[tokio::test]
async fn a_decision_runs_each_hook_once_across_redelivery_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hooks = vec![shell_hook("count", d, r#"echo run >> "$DIR/count""#)];
    let (p, dec) = (proposal("c-1", "commit"), decision("c-1", Outcome::Approved));

    let r = runner(d, hooks.clone());
    assert_eq!(r.on_decision(&p, &dec).await.unwrap().len(), 1);
    assert!(r.on_decision(&p, &dec).await.unwrap().is_empty(), "redelivered decision");
    drop(r);

    // --- restart: the same decision replayed from the log
    let r = runner(d, hooks);
    assert!(r.on_decision(&p, &dec).await.unwrap().is_empty());
    assert_eq!(read(d.join("count")), "run\n");
    let runs = r.ledger().results("c-1").unwrap();
    assert_eq!((runs.len(), runs[0].status), (1, HookStatus::Ok));
}

#[tokio::test]
async fn a_run_cut_by_a_crash_is_interrupted_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The node recorded "started" and died before the result.
    let ledger = HookLedger::open_in(d).unwrap();
    ledger.try_start("c-1", "pull", 1).unwrap().unwrap();
    drop(ledger);

    // --- restart
    let r = runner(d, vec![shell_hook("pull", d, r#"touch "$DIR/ran""#)]);
    assert_eq!(r.ledger().interrupted_at_open().len(), 1);
    let runs = r
        .on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved))
        .await
        .unwrap();
    assert!(runs.is_empty());
    assert!(!d.join("ran").exists(), "an interrupted hook must not run again");
    assert_eq!(r.ledger().results("c-1").unwrap()[0].status, HookStatus::Interrupted);
}

#[tokio::test]
async fn leftovers_holding_the_output_are_killed_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The shell exits at once, but its background child keeps stdout open.
    let script = "sleep 30 & echo done";
    let limit = Duration::from_millis(300);
    let r = runner(d, vec![shell_hook("bg", d, script).with_timeout(limit)]);

    let started = Instant::now();
    let runs = r
        .on_decision(&proposal("c-1", "commit"), &decision("c-1", Outcome::Approved))
        .await
        .unwrap();
    assert!(started.elapsed() < limit + Duration::from_secs(2), "took {:?}", started.elapsed());
    let run = &runs[0];
    assert_eq!((run.status, run.timed_out, run.exit_code), (HookStatus::Ok, false, Some(0)));
    assert_eq!(run.stdout, "done\n");
}
