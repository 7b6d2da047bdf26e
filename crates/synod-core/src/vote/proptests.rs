//! Property tests: the outcome does not depend on the order of the votes,
//! and an early decision is taken exactly when the outcome is settled.
//!
//! A failing case is saved under `proptest-regressions/` and replayed
//! first on the next run; replay a whole run with
//! `PROPTEST_RNG_SEED=<seed> cargo test -p synod-core vote::proptests`.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::test_support::{judge, node, proposal};
use super::{
    Choice, Config, Decision, Outcome, Params, Participant, Proposal, Vote, VoteBook, VoteError,
};
use crate::Time;

const ALGORITHMS: [&str; 4] = ["quorum", "weighted", "unanimous", "score"];

/// A proposal and the votes some of its participants will cast.
#[derive(Clone, Debug)]
struct Case {
    proposal: Proposal,
    votes: Vec<Vote>,
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![Just(Choice::For), Just(Choice::Against), Just(Choice::Abstain)]
}

/// Valid parameters for `algorithm` over `n` participants.
fn params(algorithm: &'static str, n: usize) -> BoxedStrategy<Params> {
    match algorithm {
        "quorum" => (0u8..100)
            .prop_map(|t| Params { threshold_percent: Some(t), ..Params::default() })
            .boxed(),
        "weighted" => (0u8..100, prop::collection::vec(0u32..6, n))
            .prop_map(|(t, mut ws)| {
                if ws.iter().all(|w| *w == 0) {
                    ws[0] = 1;
                }
                let weights = ws.into_iter().enumerate().map(|(i, w)| (node(i), w)).collect();
                Params { threshold_percent: Some(t), weights, ..Params::default() }
            })
            .boxed(),
        "score" => (0u8..=100, 0u8..=100)
            .prop_map(|(a, p)| Params {
                min_average_score: Some(a),
                min_approval_percent: Some(p),
                ..Params::default()
            })
            .boxed(),
        _ => Just(Params::default()).boxed(),
    }
}

/// A vote by `who` that `algorithm` accepts (score: for and against carry
/// a score).
fn vote(algorithm: &'static str, who: Participant) -> impl Strategy<Value = Vote> {
    (choice(), 0u8..=100, any::<bool>()).prop_map(move |(choice, score, scored)| {
        let scored = scored || (algorithm == "score" && choice != Choice::Abstain);
        Vote { score: scored.then_some(score), ..Vote::new(who.clone(), choice) }
    })
}

fn case(n_max: usize) -> impl Strategy<Value = Case> {
    (0..ALGORITHMS.len(), 1..=n_max).prop_flat_map(|(a, n)| {
        let algorithm = ALGORITHMS[a];
        let votes: Vec<_> = (0..n).map(|i| prop::option::of(vote(algorithm, node(i)))).collect();
        (params(algorithm, n), votes).prop_map(move |(params, votes)| Case {
            proposal: proposal("p", algorithm, n, params),
            votes: votes.into_iter().flatten().collect(),
        })
    })
}

/// The case with its votes in two independent random orders.
fn shuffled() -> impl Strategy<Value = (Case, Vec<Vote>, Vec<Vote>)> {
    case(7).prop_flat_map(|c| {
        let v = c.votes.clone();
        (Just(c), Just(v.clone()).prop_shuffle(), Just(v).prop_shuffle())
    })
}

/// Creates the proposal, casts `order` one vote per ms, and expires it
/// at the deadline if the votes left it open.
fn run(proposal: &Proposal, order: &[Vote]) -> Decision {
    let mut book = VoteBook::new(Config::default()).unwrap();
    let p = proposal.clone().with_deadline_ms(1_000);
    let id = p.id.clone();
    let mut decision = book.create(p).unwrap();
    for (t, v) in order.iter().enumerate() {
        match book.cast(&id, v.clone(), Time(t as u64 + 1)) {
            Ok(d) if d.is_some() => decision = d,
            Ok(_) => {}
            Err(VoteError::AlreadyDecided { .. }) => assert!(decision.is_some()),
            Err(e) => panic!("vote {v:?} refused: {e}"),
        }
    }
    decision.unwrap_or_else(|| book.expire(&id, Time(1_000)).unwrap())
}

/// Every way to give the participants missing from `votes` a vote,
/// using values at and around the algorithm's bars.
fn completions(
    p: &Proposal,
    votes: &BTreeMap<Participant, Vote>,
) -> Vec<BTreeMap<Participant, Vote>> {
    let a = p.params.min_average_score.unwrap_or(70);
    let mut options: Vec<(Choice, Option<u8>)> = vec![(Choice::Abstain, None)];
    if p.algorithm == "score" {
        for s in [0, a.saturating_sub(1), a, 100] {
            options.extend([(Choice::For, Some(s)), (Choice::Against, Some(s))]);
        }
        options.extend([(Choice::Abstain, Some(0)), (Choice::Abstain, Some(100))]);
    } else {
        options.extend([(Choice::For, None), (Choice::Against, None)]);
    }
    let mut all = vec![votes.clone()];
    for who in p.participants.iter().filter(|w| !votes.contains_key(w)) {
        let mut next = Vec::with_capacity(all.len() * options.len());
        for partial in &all {
            for &(choice, score) in &options {
                let mut v = partial.clone();
                v.insert(who.clone(), Vote { score, ..Vote::new(who.clone(), choice) });
                next.push(v);
            }
        }
        all = next;
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    // Issue 6, item 2: "given the same votes, the decision is always the
    // same" — whatever order they reach the log in.
    #[test]
    fn outcome_does_not_depend_on_vote_order((c, one, two) in shuffled()) {
        let (d1, d2) = (run(&c.proposal, &one), run(&c.proposal, &two));
        prop_assert_eq!(d1.outcome, d2.outcome);
        let all: BTreeMap<_, _> = c.votes.iter().map(|v| (v.participant.clone(), v.clone())).collect();
        let reference = judge(&c.proposal, &all, false)
            .or_else(|| judge(&c.proposal, &all, true))
            .unwrap();
        prop_assert_eq!(d1.outcome, reference);
        if c.votes.len() == c.proposal.participants.len() {
            prop_assert_ne!(d1.outcome, Outcome::Timeout, "a full ballot is always settled");
        }
        for d in [&d1, &d2] {
            prop_assert_eq!(d.tally.participants() as usize, c.proposal.participants.len());
            prop_assert_eq!(d.tally.voted() as usize, d.voters.len());
            prop_assert_eq!(d.tally.weight_total, c.proposal.total_weight());
        }
    }

    // Issue 6, item 2: "a decision is taken as soon as the outcome can no
    // longer change" — and only then: the early verdict is `v` exactly
    // when every completion of the ballot ends in `v`.
    #[test]
    fn early_decision_iff_every_completion_agrees(c in case(4)) {
        let votes: BTreeMap<_, _> = c.votes.iter().map(|v| (v.participant.clone(), v.clone())).collect();
        let finals: Vec<_> = completions(&c.proposal, &votes)
            .iter()
            .map(|full| judge(&c.proposal, full, false).expect("full ballots are settled"))
            .collect();
        let settled = finals.iter().all(|o| *o == finals[0]).then_some(finals[0]);
        prop_assert_eq!(judge(&c.proposal, &votes, false), settled);
    }
}
