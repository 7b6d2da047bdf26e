//! Unit tests of decision hooks: configuration, matching, inputs, ledger.

use std::time::Duration;

use synod_core::vote::{Decision, Outcome, Proposal, ProposalId, Tally};
use synod_core::{NodeId, Time};

use super::input::{decision_env, decision_json};
use super::*;

fn proposal(kind: &str) -> Proposal {
    Proposal::new("c-42", NodeId(7), kind, "quorum", [NodeId(1), NodeId(2), NodeId(3)], Time(0))
        .with_payload(r#"{"sha":"9fceb02"}"#)
}

fn decision(outcome: Outcome) -> Decision {
    Decision {
        proposal_id: ProposalId::from("c-42"),
        outcome,
        algorithm: "quorum".into(),
        tally: Tally { in_favor: 2, against: 0, abstain: 0, missing: 1, ..Tally::default() },
        voters: vec![NodeId(1).into(), NodeId(2).into()],
        decided_at: Time(250),
        duration_ms: 250,
    }
}

fn hook(name: &str) -> HookConfig {
    HookConfig::shell(name, "commit", OutcomeFilter::Approved, "true")
}

fn err(hooks: &[HookConfig]) -> String {
    validate_hooks(hooks).unwrap_err().to_string()
}

#[test]
fn matching_by_kind_and_outcome() {
    let p = proposal("commit");
    let approved = decision(Outcome::Approved);
    let rejected = decision(Outcome::Rejected);
    assert!(hook("a").matches(&p, &approved));
    assert!(!hook("a").matches(&p, &rejected));
    assert!(!hook("a").matches(&proposal("deploy"), &approved));
    let any = HookConfig::shell("b", ANY_KIND, OutcomeFilter::Any, "true");
    for outcome in [Outcome::Approved, Outcome::Rejected, Outcome::Timeout] {
        assert!(any.matches(&proposal("deploy"), &decision(outcome)));
    }
    assert!(OutcomeFilter::Timeout.matches(Outcome::Timeout));
    assert!(!OutcomeFilter::Timeout.matches(Outcome::Approved));
}

#[test]
fn validation_names_the_fault() {
    assert_eq!(validate_hooks(&[hook("a"), hook("b")]), Ok(()));
    assert!(err(&[hook("a"), hook("a")]).contains("\"a\": name used by more than one hook"));
    assert!(err(&[hook("")]).contains("name must be 1 to 64 bytes"));
    assert!(err(&[hook("a b")]).contains("name must be"));
    let empty = HookConfig::command("e", "commit", OutcomeFilter::Any, vec![]);
    assert!(err(&[empty]).contains("\"e\": command is empty"));
    let blank = HookConfig::command("e", "commit", OutcomeFilter::Any, vec![" ".into()]);
    assert!(err(&[blank]).contains("command is empty"));
    assert!(err(&[HookConfig::shell("s", "commit", OutcomeFilter::Any, "  ")])
        .contains("shell script is empty"));
    let both = HookConfig { command: Some(vec!["true".into()]), ..hook("b") };
    assert!(err(&[both]).contains("either command or shell, not both"));
    let neither = HookConfig { shell: None, ..hook("n") };
    assert!(err(&[neither]).contains("give a command"));
    assert!(err(&[hook("z").with_timeout(Duration::ZERO)])
        .contains("\"z\": timeout must be more than 0"));
    let long = hook("l").with_timeout(Duration::from_secs(601));
    assert!(err(&[long]).contains("timeout 601s is above the maximum 600s"));
    let kind = HookConfig { kind: String::new(), ..hook("k") };
    assert!(err(&[kind]).contains("kind must be 1 to 64 bytes"));
    let mut reserved = hook("r");
    reserved.env.insert("SYNOD_OUTCOME".into(), "x".into());
    assert!(err(&[reserved]).contains("\"SYNOD_OUTCOME\" uses the reserved prefix"));
    let mut bad_env = hook("v");
    bad_env.env.insert("A=B".into(), "x".into());
    assert!(err(&[bad_env]).contains("invalid environment variable \"A=B\""));
    let many: Vec<_> = (0..=HOOKS_MAX).map(|i| hook(&format!("h{i}"))).collect();
    assert!(err(&many).contains("65 hooks configured, at most 64"));
}

#[test]
fn deserializes_with_defaults_and_refuses_unknown_fields() {
    let yaml = "name: pull\nkind: commit\noutcome: approved\ncommand: [git, pull]\ntimeout: 2m\nenv: {REPO: /srv}\n";
    let h: HookConfig = serde_yaml_ng::from_str(yaml).unwrap();
    assert_eq!(h.timeout, Duration::from_secs(120));
    assert_eq!(h.argv(), ["git", "pull"]);
    assert_eq!(h.env["REPO"], "/srv");
    let toml_text = "name = \"s\"\nkind = \"*\"\noutcome = \"any\"\nshell = \"echo hi\"\n";
    let h: HookConfig = toml::from_str(toml_text).unwrap();
    assert_eq!(
        (h.timeout, h.argv()),
        (HOOK_TIMEOUT_DEFAULT, vec!["sh".into(), "-c".into(), "echo hi".into()])
    );
    let bad = serde_yaml_ng::from_str::<HookConfig>("name: a\nkind: x\noutcome: maybe\nshell: x\n");
    assert!(bad.unwrap_err().to_string().contains("unknown variant `maybe`"));
    let unknown = serde_yaml_ng::from_str::<HookConfig>(
        "name: a\nkind: x\noutcome: any\nshell: x\nretries: 3\n",
    );
    assert!(unknown.unwrap_err().to_string().contains("unknown field `retries`"));
}

#[test]
fn decision_reaches_env_and_json() {
    let (p, d) = (proposal("commit"), decision(Outcome::Approved));
    let env: std::collections::BTreeMap<_, _> = decision_env("pull", &p, &d).into_iter().collect();
    assert_eq!(env["SYNOD_PROPOSAL_ID"], "c-42");
    assert_eq!(env["SYNOD_OUTCOME"], "approved");
    assert_eq!(env["SYNOD_PROPOSER"], "n7");
    assert_eq!(env["SYNOD_VOTES_MISSING"], "1");
    assert_eq!(env["SYNOD_APPROVAL_PERCENT"], "66.67");
    assert_eq!(env["SYNOD_PAYLOAD"], r#"{"sha":"9fceb02"}"#);
    assert!(!env.contains_key("SYNOD_AVERAGE_SCORE"), "no votes carried a score");
    let doc: serde_json::Value = serde_json::from_slice(&decision_json("pull", &p, &d)).unwrap();
    assert_eq!(doc["payload"]["sha"], "9fceb02");
    assert_eq!(doc["decision"]["outcome"], "Approved");
    assert_eq!(doc["proposal"]["kind"], "commit");
    assert_eq!(doc["hook"], "pull");

    // Weights are a map keyed by participant name: still valid JSON.
    let mut weighted = p.clone();
    weighted.params.weights.insert(NodeId(1).into(), 3);
    let doc: serde_json::Value =
        serde_json::from_slice(&decision_json("pull", &weighted, &d)).unwrap();
    assert_eq!(doc["proposal"]["params"]["weights"]["n1"], 3);
}

#[test]
fn ledger_claims_once_and_reports_interrupted_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = HookLedger::open_in(dir.path()).unwrap();
    let run = ledger.try_start("p1", "a", 1).unwrap().expect("first claim");
    assert_eq!((run.seq, run.status), (1, HookStatus::Running));
    assert_eq!(ledger.try_start("p1", "a", 2).unwrap(), None);
    let mut done = ledger.try_start("p1", "b", 3).unwrap().unwrap();
    done.status = HookStatus::Ok;
    done.exit_code = Some(0);
    ledger.finish(&done).unwrap();
    ledger.try_start("p2", "a", 4).unwrap().unwrap();
    drop(ledger);

    // --- restart: the unfinished runs of p1/a and p2/a are interrupted
    let ledger = HookLedger::open_in(dir.path()).unwrap();
    let interrupted: Vec<_> = ledger
        .interrupted_at_open()
        .iter()
        .map(|r| (r.proposal_id.as_str(), r.hook.as_str()))
        .collect();
    assert_eq!(interrupted, [("p1", "a"), ("p2", "a")]);
    let statuses: Vec<_> =
        ledger.results("p1").unwrap().into_iter().map(|r| (r.hook, r.status)).collect();
    assert_eq!(statuses, [("a".into(), HookStatus::Interrupted), ("b".into(), HookStatus::Ok)]);
    assert_eq!(ledger.try_start("p1", "a", 5).unwrap(), None, "interrupted is never re-claimed");
    let recent: Vec<_> = ledger.recent(2).unwrap().into_iter().map(|r| r.seq).collect();
    assert_eq!(recent, [3, 2]);
    assert!(ledger.results("p").unwrap().is_empty(), "prefix of another id does not match");
    drop(ledger);

    // --- a second restart finds nothing pending
    assert!(HookLedger::open_in(dir.path()).unwrap().interrupted_at_open().is_empty());
}
