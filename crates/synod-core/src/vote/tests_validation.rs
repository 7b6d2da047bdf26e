//! Bad input: every refusal has a precise message and records nothing.

use std::collections::BTreeMap;

use super::test_support::{node, nodes, proposal};
use super::{Config, ConfigError, Params, Participant, Proposal, ProposalId, Vote, VoteBook};
use crate::{NodeId, Time};

fn book_with(config: Config) -> VoteBook {
    VoteBook::new(config).unwrap()
}

/// Creates `p` in a fresh book and returns the refusal's message, after
/// checking that nothing was recorded.
fn create_error(config: Config, p: Proposal) -> String {
    let mut b = book_with(config);
    let e = b.create(p).expect_err("should be refused");
    assert_eq!(b.list().count(), 0);
    assert_eq!(b.stats(), &Default::default());
    e.to_string()
}

fn refusal(p: Proposal) -> String {
    create_error(Config::default(), p)
}

fn params(f: impl FnOnce(&mut Params)) -> Params {
    let mut p = Params::default();
    f(&mut p);
    p
}

fn weights(ws: &[(u64, u32)]) -> BTreeMap<Participant, u32> {
    ws.iter().map(|&(n, w)| (NodeId(n).into(), w)).collect()
}

#[test]
fn algorithm_and_parameter_errors() {
    let p = |alg: &str, n, prm| proposal("p", alg, n, prm);
    assert_eq!(refusal(p("majority", 3, Params::default())), "unknown algorithm `majority`");
    assert_eq!(
        refusal(p("quorum", 3, params(|p| p.threshold_percent = Some(100)))),
        "quorum: threshold_percent must be between 0 and 99, got 100"
    );
    let heavy = params(|p| {
        p.threshold_percent = Some(150);
        p.weights = weights(&[(1, 1)]);
    });
    assert_eq!(
        refusal(p("weighted", 1, heavy)),
        "weighted: threshold_percent must be between 0 and 99, got 150"
    );
    assert_eq!(
        refusal(p("score", 3, params(|p| p.min_average_score = Some(101)))),
        "score: min_average_score must be between 0 and 100, got 101"
    );
    assert_eq!(
        refusal(p("score", 3, params(|p| p.min_approval_percent = Some(200)))),
        "score: min_approval_percent must be between 0 and 100, got 200"
    );
    assert_eq!(
        refusal(p("quorum", 3, params(|p| p.weights = weights(&[(1, 1)])))),
        "quorum: parameter `weights` does not apply to this algorithm"
    );
    assert_eq!(
        refusal(p("unanimous", 3, params(|p| p.threshold_percent = Some(50)))),
        "unanimous: parameter `threshold_percent` does not apply to this algorithm"
    );
    assert_eq!(
        refusal(p("score", 3, params(|p| p.threshold_percent = Some(50)))),
        "score: parameter `threshold_percent` does not apply to this algorithm"
    );
    assert_eq!(
        refusal(p("quorum", 3, params(|p| _ = p.custom.insert("quorum_size".into(), "2".into())))),
        "quorum: parameter `quorum_size` does not apply to this algorithm"
    );
}

#[test]
fn weight_errors() {
    let w = |ws: &[(u64, u32)]| proposal("w", "weighted", 3, params(|p| p.weights = weights(ws)));
    assert_eq!(refusal(w(&[])), "weighted: participant n1 has no weight");
    assert_eq!(refusal(w(&[(1, 2), (2, 1)])), "weighted: participant n3 has no weight");
    assert_eq!(
        refusal(w(&[(1, 2), (2, 1), (3, 1), (9, 4)])),
        "weighted: n9 has a weight but is not a participant"
    );
    assert_eq!(
        refusal(w(&[(1, 0), (2, 0), (3, 0)])),
        "weighted: the total weight must be positive"
    );
    // Zero weights are fine as long as somebody counts.
    let mut b = book_with(Config::default());
    assert_eq!(b.create(w(&[(1, 0), (2, 0), (3, 1)])), Ok(None));
}

#[test]
fn proposal_field_errors() {
    let base = || proposal("p", "quorum", 3, Params::default());
    assert_eq!(refusal(base().with_deadline_ms(0)), "deadline must be positive");
    assert_eq!(
        refusal(base().with_deadline_ms(300_001)),
        "deadline of 300001 ms exceeds the maximum of 300000 ms"
    );
    let mut none = base();
    none.participants.clear();
    assert_eq!(refusal(none), "a proposal needs at least one participant");
    let mut twice = base();
    twice.participants = vec![node(0), node(1), node(2), node(1)];
    assert_eq!(refusal(twice), "participant n2 is listed more than once");
    let small = Config { participants_max: 3, ..Config::default() };
    let four = proposal("p", "quorum", 4, Params::default());
    assert_eq!(create_error(small, four), "4 participants exceed the limit of 3");
    let mut kind = base();
    kind.kind = " \t".into();
    assert_eq!(refusal(kind), "proposal kind must not be empty");
    kind = base();
    kind.kind = "k".repeat(65);
    assert_eq!(refusal(kind), "kind of 65 bytes exceeds the limit of 64 bytes");
    let mut id = base();
    id.id = ProposalId(String::new());
    assert_eq!(refusal(id), "proposal id must not be empty");
    id = base();
    id.id = ProposalId("i".repeat(129));
    assert_eq!(refusal(id), "id of 129 bytes exceeds the limit of 128 bytes");
    let tiny = Config { payload_bytes_max: 8, ..Config::default() };
    let payload = base().with_payload(r#"{"a":"b"}"#);
    assert_eq!(create_error(tiny, payload), "payload of 9 bytes exceeds the limit of 8 bytes");
    let mut alg = base();
    alg.algorithm = "a".repeat(65);
    assert_eq!(refusal(alg), "algorithm name of 65 bytes exceeds the limit of 64 bytes");
    let mut custom = base();
    custom.params.custom.insert("k".into(), "v".repeat(4_096));
    assert_eq!(refusal(custom), "custom params of 4097 bytes exceeds the limit of 4096 bytes");
}

#[test]
fn limits_are_inclusive_and_duplicates_refused() {
    let mut b = book_with(Config::default());
    let p = Proposal::new("k".repeat(128), NodeId(1), "d".repeat(64), "quorum", nodes(3), Time(0));
    assert_eq!(b.create(p.with_deadline_ms(300_000)), Ok(None));
    assert_eq!(b.get(&ProposalId("k".repeat(128))).unwrap().deadline, Time(300_000));
    let q = proposal("p", "quorum", 3, Params::default());
    b.create(q.clone()).unwrap();
    assert_eq!(b.get(&"p".into()).unwrap().deadline, Time(30_000), "default deadline 30 s");
    let before = b.state().clone();
    assert_eq!(b.create(q).unwrap_err().to_string(), "proposal p already exists");
    assert_eq!(b.state(), &before);
}

fn msg<T: std::fmt::Debug>(r: Result<T, super::VoteError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn vote_errors() {
    let mut b = book_with(Config::default());
    b.create(proposal("p", "quorum", 2, Params::default())).unwrap();
    b.create(proposal("s", "score", 2, Params::default())).unwrap();
    let (p, s) = (ProposalId::from("p"), ProposalId::from("s"));
    let at = Time(10);
    assert_eq!(
        msg(b.cast(&s, Vote::approve(node(0)).with_score(101), at)),
        "score must be between 0 and 100, got 101"
    );
    assert_eq!(
        msg(b.cast(&s, Vote::approve(node(0)), at)),
        "score: a vote for or against proposal s must carry a score"
    );
    assert_eq!(msg(b.cast(&"zz".into(), Vote::approve(node(0)), at)), "unknown proposal zz");
    assert_eq!(
        msg(b.cast(&p, Vote::approve(NodeId(9)), at)),
        "n9 is not a participant of proposal p"
    );
    assert_eq!(
        msg(b.cast(&p, Vote::approve(node(0)), Time(30_000))),
        "proposal p closed for votes at 30000ms; vote stamped 30000ms"
    );
    assert_eq!(
        msg(b.expire(&p, at)),
        "proposal p has its deadline at 30000ms, not reached at 10ms"
    );
    assert_eq!(
        msg(b.cast(&p, Vote::abstain(node(0)).with_reason("r".repeat(1_025)), at)),
        "reason of 1025 bytes exceeds the limit of 1024 bytes"
    );
    assert_eq!(
        msg(b.cast(&p, Vote::abstain(node(0)).with_metadata("m".repeat(4_097)), at)),
        "metadata of 4097 bytes exceeds the limit of 4096 bytes"
    );
    b.cast(&p, Vote::approve(node(0)), at).unwrap();
    assert_eq!(msg(b.cast(&p, Vote::reject(node(0)), at)), "n1 has already voted on proposal p");
    b.cast(&p, Vote::approve(node(1)), at).unwrap();
    assert_eq!(
        msg(b.cast(&p, Vote::approve(node(1)), at)),
        "proposal p is already decided (approved)"
    );
}

#[test]
fn config_errors() {
    let bad = |c: Config| VoteBook::new(c).unwrap_err();
    let e = bad(Config { deadline_ms_default: 0, ..Config::default() });
    assert_eq!(
        e.to_string(),
        "deadline_ms_default (0) must be between 1 and deadline_ms_max (300000)"
    );
    let e = bad(Config { deadline_ms_default: 400_000, ..Config::default() });
    assert!(matches!(e, ConfigError::BadDefaultDeadline { default: 400_000, max: 300_000 }));
    let e = bad(Config { participants_max: 0, ..Config::default() });
    assert_eq!(e.to_string(), "participants_max must be positive");
    assert_eq!(Config::default().validate(), Ok(()));
}
