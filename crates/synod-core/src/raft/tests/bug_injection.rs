//! The scenarios above have teeth: with each deliberate protocol violation
//! of `Config::bugs` switched on, the scenario that guards the rule sees
//! the violation. Run with `cargo test -p synod-core --features bug-injection`.

use super::commit_rule::figure_8_c;
use super::read_index::{read, ready};
use super::*;

#[test]
fn commit_by_counting_replicas_is_seen_in_figure_8() {
    // Raft §5.4.2: with the rule broken, S1 commits the term-2 entry in Figure 8 (c), which
    // S5 can still overwrite (d): a committed entry would be lost.
    let mut cluster = figure_8_c(&|c| c.bugs.commit_old_term_by_count = true);
    assert_eq!(cluster.node(1).commit_index(), LogIndex(2));
    cluster.crash(1);
    cluster.heal();
    cluster.restart(5);
    cluster.elect(5);
    assert_eq!(cluster.node(3).term_at(LogIndex(2)), Some(Term(3)), "committed entry replaced");
}

#[test]
fn two_votes_per_term_are_seen_as_two_leaders() {
    // Raft §5.2: with double voting, the race of `one_vote_per_term_first_come_first_served`
    // elects two leaders in term 1.
    let mut cluster = Cluster::with(3, &|c| {
        c.pre_vote = false;
        c.check_quorum = false;
        c.bugs.grant_two_votes_per_term = true;
    });
    cluster.fire(1);
    cluster.fire(2);
    let mut leaders_of_term_1 = std::collections::BTreeSet::new();
    while cluster.step() {
        let leaders = cluster.nodes.values().filter(|r| r.is_leader() && r.term() == Term(1));
        leaders_of_term_1.extend(leaders.map(|r| r.id().0));
    }
    assert_eq!(leaders_of_term_1.len(), 2, "{leaders_of_term_1:?}");
}

#[test]
fn unpersisted_vote_grant_is_seen_leaving_early() {
    // Raft §5 (Figure 2): with the vote not persisted first, the grant leaves in the same
    // batch as the request is handled, and no write carries the vote.
    let mut raft = Raft::restart(
        config(2, &|c| {
            c.pre_vote = false;
            c.bugs.skip_vote_persist = true;
        }),
        durable(&[1, 2, 3], (0, None, 0), &[]),
    );
    let body = Body::RequestVote {
        last_log_index: LogIndex(0),
        last_log_term: Term(0),
        pre_vote: false,
        transfer: false,
    };
    raft.handle_message(Message { from: n(1), to: n(2), term: Term(1), body }, Time(0));
    let effects = raft.take_effects();
    let granted = Body::RequestVoteResponse { granted: true, pre_vote: false };
    assert!(effects.iter().any(|e| matches!(e, Effect::Send(m) if m.body == granted)));
    let vote_written = effects.iter().any(
        |e| matches!(e, Effect::Persist(p) if p.hard_state.is_some_and(|hs| hs.vote.is_some())),
    );
    assert!(!vote_written);
}

#[test]
fn read_without_heartbeat_is_seen_serving_at_once() {
    // Thesis §6.4: with the round skipped, a cut-off leader serves a read nobody confirmed.
    let mut cluster = Cluster::with(3, &|c| c.bugs.read_without_heartbeat = true);
    cluster.elect(1);
    cluster.isolate(1);
    read(&mut cluster, 1, 1);
    assert_eq!(ready(&cluster, 1).len(), 1);
}
