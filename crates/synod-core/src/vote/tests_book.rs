//! The vote book as a state machine: early decisions, deadlines,
//! refusals that change nothing, statistics.

use super::test_support::{book, id, node, proposal, refused};
use super::{Config, Outcome, Params, Vote, VoteBook, VoteError};
use crate::{NodeId, Time};

// Issue 6, item 2: decided as soon as the outcome can no longer change.
#[test]
fn quorum_decides_at_the_settling_vote() {
    let mut b = book();
    assert_eq!(b.create(proposal("p", "quorum", 5, Params::default())), Ok(None));
    assert_eq!(b.cast(&id("p"), Vote::approve(node(0)), Time(10)), Ok(None));
    assert_eq!(b.cast(&id("p"), Vote::reject(node(1)), Time(20)), Ok(None));
    assert_eq!(b.cast(&id("p"), Vote::approve(node(2)), Time(30)), Ok(None));
    let d = b.cast(&id("p"), Vote::approve(node(3)).with_reason("lgtm"), Time(40)).unwrap();
    let d = d.expect("3 of 5 in favour settles it");
    assert_eq!(d.outcome, Outcome::Approved);
    assert_eq!((d.tally.in_favor, d.tally.against, d.tally.abstain, d.tally.missing), (3, 1, 0, 1));
    assert_eq!(d.voters, vec![node(0), node(1), node(2), node(3)]);
    assert_eq!((d.decided_at, d.duration_ms, d.algorithm.as_str()), (Time(40), 40, "quorum"));
    assert_eq!(d.approval_percent(), 60.0);
    assert_eq!(d.weighted_approval_percent(), 60.0);
    assert_eq!(d.average_score(), None);
    assert_eq!(b.get(&id("p")).unwrap().decision.as_ref(), Some(&d));
    assert_eq!(b.next_deadline(), None, "a decided proposal has no deadline");
}

#[test]
fn early_rejection_before_everyone_voted() {
    let mut b = book();
    b.create(proposal("u", "unanimous", 4, Params::default())).unwrap();
    b.cast(&id("u"), Vote::approve(node(0)), Time(5)).unwrap();
    let d = b.cast(&id("u"), Vote::reject(node(3)), Time(6)).unwrap().unwrap();
    assert_eq!((d.outcome, d.tally.missing), (Outcome::Rejected, 2));
}

// Issue 6, item 2: at the deadline a reached quorum is approved, otherwise
// TIMEOUT with the partial tallies.
#[test]
fn deadline_gives_timeout_with_partial_tally() {
    let mut b = book();
    let p = proposal("p", "quorum", 4, Params::default()).with_deadline_ms(1_000);
    b.create(p).unwrap();
    b.cast(&id("p"), Vote::approve(node(0)).with_score(90), Time(100)).unwrap();
    b.cast(&id("p"), Vote::abstain(node(1)), Time(200)).unwrap();
    assert_eq!(b.next_deadline(), Some(Time(1_000)));
    let d = b.expire(&id("p"), Time(1_003)).unwrap();
    assert_eq!(d.outcome, Outcome::Timeout);
    assert_eq!((d.tally.in_favor, d.tally.abstain, d.tally.missing), (1, 1, 2));
    assert_eq!((d.decided_at, d.duration_ms), (Time(1_003), 1_003));
    assert_eq!(d.average_score(), Some(90.0));
    assert_eq!(d.approval_percent(), 25.0);
}

#[test]
fn deadline_approves_what_the_votes_carry() {
    // score judges the votes as they stand at the deadline.
    let mut b = book();
    b.create(proposal("s", "score", 4, Params::default()).with_deadline_ms(500)).unwrap();
    b.cast(&id("s"), Vote::approve(node(0)).with_score(90), Time(1)).unwrap();
    assert_eq!(b.cast(&id("s"), Vote::approve(node(1)).with_score(80), Time(2)), Ok(None));
    let d = b.tick(Time(500));
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].outcome, d[0].tally.missing), (Outcome::Approved, 2));
    assert_eq!(d[0].average_score(), Some(85.0));
}

#[test]
fn votes_close_at_the_deadline_and_expiry_waits_for_it() {
    let mut b = book();
    b.create(proposal("p", "quorum", 3, Params::default()).with_deadline_ms(100)).unwrap();
    let p = id("p");
    let early = VoteError::DeadlineNotReached { id: p.clone(), deadline: Time(100), now: Time(99) };
    refused(&mut b, early, |b| b.expire(&p, Time(99)));
    let late = VoteError::DeadlinePassed { id: p.clone(), deadline: Time(100), now: Time(100) };
    refused(&mut b, late, |b| b.cast(&p, Vote::approve(node(0)), Time(100)));
    assert_eq!(b.cast(&p, Vote::approve(node(0)), Time(99)), Ok(None));
    assert_eq!(b.expire(&p, Time(100)).unwrap().outcome, Outcome::Timeout);
}

#[test]
fn tick_expires_everything_due_in_deadline_order() {
    let mut b = book();
    for (name, ms) in [("c", 300), ("a", 200), ("b", 200), ("d", 400)] {
        b.create(proposal(name, "quorum", 3, Params::default()).with_deadline_ms(ms)).unwrap();
    }
    assert_eq!(b.tick(Time(199)), vec![]);
    let ids: Vec<_> = b.tick(Time(300)).into_iter().map(|d| d.proposal_id).collect();
    assert_eq!(ids, vec![id("a"), id("b"), id("c")]);
    assert_eq!(b.next_deadline(), Some(Time(400)));
    assert_eq!(b.list().filter(|r| r.is_open()).count(), 1);
}

// Issue 6, item 3: one vote per participant, participants only, nothing
// after the decision, and a refusal changes nothing.
#[test]
fn second_late_and_foreign_votes_are_refused_without_trace() {
    let mut b = book();
    b.create(proposal("p", "quorum", 3, Params::default())).unwrap();
    let p = id("p");
    b.cast(&p, Vote::reject(node(0)), Time(1)).unwrap();
    let again = VoteError::AlreadyVoted { id: p.clone(), participant: node(0) };
    refused(&mut b, again.clone(), |b| b.cast(&p, Vote::approve(node(0)), Time(2)));
    refused(&mut b, again, |b| b.cast(&p, Vote::reject(node(0)), Time(2)));
    let stranger = VoteError::NotParticipant { id: p.clone(), participant: NodeId(9).into() };
    refused(&mut b, stranger, |b| b.cast(&p, Vote::approve(NodeId(9)), Time(2)));
    let unknown = VoteError::UnknownProposal { id: id("nope") };
    refused(&mut b, unknown, |b| b.cast(&id("nope"), Vote::approve(node(1)), Time(2)));

    let d = b.cast(&p, Vote::reject(node(1)), Time(3)).unwrap().unwrap();
    assert_eq!(d.outcome, Outcome::Rejected);
    let closed = VoteError::AlreadyDecided { id: p.clone(), outcome: Outcome::Rejected };
    refused(&mut b, closed.clone(), |b| b.cast(&p, Vote::approve(node(2)), Time(4)));
    refused(&mut b, closed.clone(), |b| b.expire(&p, Time(1_000_000)));
    assert_eq!(b.tick(Time(1_000_000)), vec![], "a decision is never reversed");
    assert_eq!(b.get(&p).unwrap().decision.as_ref(), Some(&d));
}

#[test]
fn bad_votes_are_refused_without_trace() {
    let config = Config { reason_bytes_max: 4, metadata_bytes_max: 2, ..Config::default() };
    let mut b = VoteBook::new(config).unwrap();
    b.create(proposal("s", "score", 3, Params::default())).unwrap();
    let s = id("s");
    let e = VoteError::ScoreOutOfRange { score: 101 };
    refused(&mut b, e, |b| b.cast(&s, Vote::approve(node(0)).with_score(101), Time(1)));
    let e = VoteError::ScoreRequired { id: s.clone() };
    refused(&mut b, e, |b| b.cast(&s, Vote::reject(node(0)), Time(1)));
    let e = VoteError::TooLarge { field: "reason", bytes: 5, max: 4 };
    refused(&mut b, e, |b| b.cast(&s, Vote::abstain(node(0)).with_reason("12345"), Time(1)));
    let e = VoteError::TooLarge { field: "metadata", bytes: 3, max: 2 };
    refused(&mut b, e, |b| b.cast(&s, Vote::abstain(node(0)).with_metadata("{ }"), Time(1)));
    assert_eq!(b.cast(&s, Vote::abstain(node(0)), Time(1)), Ok(None), "abstain needs no score");
}

// Issue 6, item 2: stats — totals, approval rate, average duration, per algorithm.
#[test]
fn stats_arithmetic() {
    let mut b = book();
    for (name, alg) in [("a", "quorum"), ("b", "quorum"), ("c", "unanimous"), ("d", "quorum")] {
        b.create(proposal(name, alg, 2, Params::default()).with_deadline_ms(1_000)).unwrap();
    }
    b.cast(&id("a"), Vote::approve(node(0)), Time(100)).unwrap();
    b.cast(&id("a"), Vote::approve(node(1)), Time(300)).unwrap(); // approved after 300
    b.cast(&id("b"), Vote::reject(node(0)), Time(500)).unwrap(); // rejected after 500
    b.expire(&id("c"), Time(1_000)).unwrap(); // timeout after 1000
    let s = b.stats();
    assert_eq!((s.total.proposals, s.total.decided(), s.total.open()), (4, 3, 1));
    assert_eq!((s.total.approved, s.total.rejected, s.total.timeouts), (1, 1, 1));
    assert_eq!(s.total.approval_rate(), Some(1.0 / 3.0));
    assert_eq!(s.total.average_duration_ms(), Some(600.0));
    let q = &s.by_algorithm["quorum"];
    assert_eq!((q.proposals, q.approved, q.rejected, q.timeouts, q.open()), (3, 1, 1, 0, 1));
    assert_eq!((q.approval_rate(), q.average_duration_ms()), (Some(0.5), Some(400.0)));
    let u = &s.by_algorithm["unanimous"];
    assert_eq!((u.proposals, u.timeouts, u.approval_rate()), (1, 1, Some(0.0)));
    assert!(!s.by_algorithm.contains_key("score"));
    assert_eq!(book().stats().total.approval_rate(), None, "no decision, no rate");
}

#[test]
fn open_proposals_are_bounded() {
    let mut b = VoteBook::new(Config { open_proposals_max: 2, ..Config::default() }).unwrap();
    b.create(proposal("a", "quorum", 1, Params::default())).unwrap();
    b.create(proposal("b", "quorum", 1, Params::default())).unwrap();
    let e = VoteError::TooManyOpen { max: 2 };
    refused(&mut b, e, |b| b.create(proposal("c", "quorum", 1, Params::default())));
    b.cast(&id("a"), Vote::approve(node(0)), Time(1)).unwrap();
    b.create(proposal("c", "quorum", 1, Params::default())).unwrap();
}
