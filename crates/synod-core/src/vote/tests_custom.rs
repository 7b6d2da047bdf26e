//! Custom algorithms registered by name, and snapshots that need them.

use std::collections::BTreeMap;

use super::test_support::{book, id, node, proposal, refused};
use super::{Algorithm, Choice, Outcome, Params, Participant, Proposal, Verdict, Vote, VoteError};
use crate::{NodeId, Time};

/// A custom rule: approved by the proposer's own vote, rejected by it,
/// and everything else waits; `max_voters` in the custom params is
/// checked at creation. It decides an empty ballot when the proposer is
/// not a participant (so a create may decide at once).
#[derive(Debug)]
struct ProposerDecides;

impl Algorithm for ProposerDecides {
    fn validate(&self, p: &Proposal) -> Result<(), VoteError> {
        let max: usize =
            p.params.custom.get("max_voters").and_then(|v| v.parse().ok()).unwrap_or(9);
        if p.participants.len() > max {
            let reason = format!("at most {max} voters");
            return Err(VoteError::InvalidParams { algorithm: p.algorithm.clone(), reason });
        }
        Ok(())
    }

    fn decide(
        &self,
        p: &Proposal,
        votes: &BTreeMap<Participant, Vote>,
        _: bool,
    ) -> Option<Verdict> {
        if !p.is_participant(&p.proposer) {
            return Some(Verdict::Rejected);
        }
        votes.get(&p.proposer).map(|v| match v.choice {
            Choice::For => Verdict::Approved,
            _ => Verdict::Rejected,
        })
    }
}

// Issue 6, item 2: custom algorithms registered by name through the Rust API.
#[test]
fn custom_algorithm_by_name() {
    let mut b = book();
    b.register("proposer", Box::new(ProposerDecides)).unwrap();
    let taken = VoteError::AlgorithmExists { name: "quorum".into() };
    assert_eq!(b.register("quorum", Box::new(ProposerDecides)), Err(taken));
    assert_eq!(b.register("", Box::new(ProposerDecides)), Err(VoteError::EmptyAlgorithmName));
    assert!(b.registry().names().eq(["proposer", "quorum", "score", "unanimous", "weighted"]));

    b.create(proposal("c", "proposer", 3, Params::default())).unwrap();
    assert_eq!(b.cast(&id("c"), Vote::reject(node(1)), Time(1)), Ok(None));
    let d = b.cast(&id("c"), Vote::approve(node(0)), Time(2)).unwrap().unwrap();
    assert_eq!((d.outcome, d.algorithm.as_str()), (Outcome::Approved, "proposer"));

    let mut params = Params::default();
    params.custom.insert("max_voters".into(), "2".into());
    let e = VoteError::InvalidParams {
        algorithm: "proposer".into(),
        reason: "at most 2 voters".into(),
    };
    refused(&mut b, e, |b| b.create(proposal("x", "proposer", 3, params)));

    // Not a participant: settled at creation.
    let outsider = Proposal::new("o", NodeId(7), "deploy", "proposer", vec![node(0)], Time(5));
    let d = b.create(outsider).unwrap().expect("decided on creation");
    assert_eq!((d.outcome, d.duration_ms), (Outcome::Rejected, 0));
    assert_eq!(b.stats().by_algorithm["proposer"].rejected, 1);
}

#[test]
fn restore_rebuilds_deadlines_and_refuses_unknown_algorithms() {
    let mut a = book();
    a.register("proposer", Box::new(ProposerDecides)).unwrap();
    a.create(proposal("p", "quorum", 3, Params::default()).with_deadline_ms(70)).unwrap();
    a.create(proposal("c", "proposer", 3, Params::default())).unwrap();
    let snapshot = a.state().clone();

    let mut plain = book();
    let e = VoteError::UnknownAlgorithm { name: "proposer".into() };
    assert_eq!(plain.restore(snapshot.clone()), Err(e));
    assert_eq!(plain.state(), &Default::default());

    let mut b = book();
    b.register("proposer", Box::new(ProposerDecides)).unwrap();
    b.restore(snapshot).unwrap();
    assert_eq!(b.state(), a.state());
    assert_eq!(b.next_deadline(), Some(Time(70)));
    assert_eq!(b.tick(Time(70)), a.tick(Time(70)));
}
