//! Election safety (Raft §5.2) and the voting restriction (§5.4.1).

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::*;

fn no_pre_vote(c: &mut Config) {
    c.pre_vote = false;
    c.check_quorum = false;
}

fn request_vote(from: u64, to: u64, term: u64, last: (u64, u64)) -> Message {
    let body = Body::RequestVote {
        last_log_index: LogIndex(last.0),
        last_log_term: Term(last.1),
        pre_vote: false,
        transfer: false,
    };
    Message { from: n(from), to: n(to), term: Term(term), body }
}

/// Feeds `msg` to `raft`, confirms any persist, returns whether it granted.
fn answer(raft: &mut Raft, msg: Message) -> bool {
    raft.handle_message(msg, Time(0));
    let mut granted = None;
    for _ in 0..2 {
        for effect in raft.take_effects() {
            match effect {
                Effect::Persist(req) => raft.on_persisted(req.seq, Time(0)),
                Effect::Send(Message {
                    body: Body::RequestVoteResponse { granted: g, .. },
                    ..
                }) => granted = Some(g),
                _ => {}
            }
        }
    }
    granted.expect("a vote response")
}

#[test]
fn at_most_one_leader_per_term_across_partitions() {
    // Raft §5.2 (Election Safety): at most one leader can be elected in a given term.
    let mut cluster = Cluster::with(5, &no_pre_vote);
    let leaders: RefCell<BTreeMap<Term, u64>> = RefCell::default();
    let check = |c: &Cluster| {
        for raft in c.nodes.values().filter(|r| r.is_leader()) {
            let mut seen = leaders.borrow_mut();
            let first = *seen.entry(raft.term()).or_insert(raft.id().0);
            assert_eq!(first, raft.id().0, "two leaders in {}", raft.term());
        }
        false
    };
    for round in 0..6u64 {
        // --- isolate whoever leads, and one more node every other round
        cluster.run_until(cluster.now.plus_ms(3000), check);
        if let Some(leader) = cluster.leader() {
            cluster.isolate(leader);
        }
        if round % 2 == 1 {
            cluster.isolate(round % 5 + 1);
        }
        cluster.run_until(cluster.now.plus_ms(5000), check);
        cluster.heal();
    }
    assert!(leaders.borrow().len() >= 4, "elections happened: {:?}", leaders.borrow());
}

#[test]
fn one_vote_per_term_first_come_first_served() {
    // Raft §5.2: each server votes for at most one candidate in a given term.
    let mut cluster = Cluster::with(3, &no_pre_vote);
    // --- n1 and n2 time out before hearing from each other: both campaign in term 1
    cluster.fire(1);
    cluster.fire(2);
    assert_eq!((cluster.node(1).term(), cluster.node(2).term()), (Term(1), Term(1)));
    cluster.deliver_all();
    // n3 received n1's request first and can grant only that one.
    assert_eq!(cluster.node(3).voted_for(), Some(n(1)));
    assert!(cluster.node(1).is_leader());
    assert!(!cluster.node(2).is_leader());
    assert_eq!(cluster.node(2).leader(), Some(n(1)));
}

#[test]
fn vote_is_not_granted_twice_in_a_term() {
    // Raft §5.2: a server that voted in a term refuses every other candidate of that term.
    let mut raft = Raft::restart(config(3, &no_pre_vote), durable(&[1, 2, 3], (1, None, 0), &[1]));
    assert!(answer(&mut raft, request_vote(1, 3, 2, (1, 1))));
    assert!(!answer(&mut raft, request_vote(2, 3, 2, (1, 1))));
    assert_eq!(raft.voted_for(), Some(n(1)));
    // A retransmitted request of the chosen candidate is granted again.
    assert!(answer(&mut raft, request_vote(1, 3, 2, (1, 1))));
}

#[test]
fn vote_refused_to_candidate_with_less_up_to_date_log() {
    // Raft §5.4.1: a vote is denied unless the candidate's log is at least as up-to-date:
    // a later last term wins, and with equal last terms the longer log wins.
    let log = [1, 1, 2]; // last entry: index 3, term 2
    let cases = [
        ((9, 1), false), // longer log, older last term
        ((2, 2), false), // same last term, shorter log
        ((3, 2), true),  // identical
        ((1, 3), true),  // shorter log, newer last term
    ];
    for (last, expected) in cases {
        let state = durable(&[1, 2, 3], (2, None, 0), &log);
        let mut raft = Raft::restart(config(2, &no_pre_vote), state);
        let granted = answer(&mut raft, request_vote(1, 2, 3, last));
        assert_eq!(granted, expected, "candidate last (index, term) = {last:?}");
        // Either way the higher term is adopted (§5.1), but only a grant records a vote.
        assert_eq!(raft.term(), Term(3));
        assert_eq!(raft.voted_for(), expected.then_some(n(1)));
    }
}

#[test]
fn stale_candidate_gets_no_vote() {
    // Raft §5.1: a request with a stale term number is rejected.
    let mut raft = Raft::restart(config(2, &no_pre_vote), durable(&[1, 2, 3], (5, None, 0), &[1]));
    raft.handle_message(request_vote(1, 2, 4, (9, 9)), Time(0));
    assert_eq!(raft.voted_for(), None);
    assert_eq!(raft.term(), Term(5));
}
