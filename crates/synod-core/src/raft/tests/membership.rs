//! Single-server membership changes with learners (thesis §4.1–4.2).

use std::collections::BTreeSet;

use super::super::{MembershipChange, MembershipError, ProposeError};
use super::*;

fn change(
    cluster: &mut Cluster,
    leader: u64,
    change: MembershipChange,
) -> Result<LogIndex, ProposeError> {
    let result = cluster.node_mut(leader).propose_membership(change);
    cluster.collect(leader);
    result
}

fn ids(set: &BTreeSet<NodeId>) -> Vec<u64> {
    set.iter().map(|id| id.0).collect()
}

#[test]
fn learner_is_added_catches_up_and_is_promoted() {
    // Thesis §4.2.1: a new server joins as a non-voting learner, receives the log, and is
    // made a voter only once caught up.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    for i in 0..5 {
        cluster.propose(1, &format!("v{i}"));
    }
    cluster.add_joining(4);
    change(&mut cluster, 1, MembershipChange::AddLearner(n(4))).unwrap();
    cluster.run_for(300);
    assert_eq!(cluster.log_terms(4), cluster.log_terms(1), "the learner caught up");
    assert_eq!(ids(&cluster.node(4).membership().learners), vec![4]);
    assert_eq!(cluster.applied_indexes(4).len() as u64, cluster.node(1).commit_index().0);
    // --- a learner's acknowledgement does not count towards a commit
    cluster.isolate(2);
    cluster.isolate(3);
    let index = cluster.propose(1, "needs a voter");
    cluster.deliver_all();
    assert_eq!(cluster.node(4).last_index(), index);
    assert!(cluster.node(1).commit_index() < index);
    cluster.heal();
    cluster.run_for(200);
    // --- promotion
    change(&mut cluster, 1, MembershipChange::PromoteLearner(n(4))).unwrap();
    cluster.run_for(200);
    for id in 1..=4 {
        assert_eq!(ids(&cluster.node(id).membership().voters), vec![1, 2, 3, 4], "n{id}");
    }
}

#[test]
fn promoting_a_lagging_learner_is_refused() {
    // Thesis §4.2.1: promoting a learner that is far behind would leave the cluster unable
    // to commit until it catches up, so the change is refused (NotCaughtUp).
    let mut cluster = Cluster::with(3, &|c| c.learner_lag_entries_max = 3);
    cluster.elect(1);
    cluster.add_joining(4);
    change(&mut cluster, 1, MembershipChange::AddLearner(n(4))).unwrap();
    cluster.run_for(300);
    cluster.isolate(4);
    for i in 0..5 {
        cluster.propose(1, &format!("v{i}"));
    }
    cluster.deliver_all();
    let promote = MembershipChange::PromoteLearner(n(4));
    let refused = MembershipError::NotCaughtUp { id: n(4), lag: 5 };
    assert_eq!(change(&mut cluster, 1, promote), Err(refused.into()));
    // --- once the learner caught up, the same change is accepted
    cluster.heal();
    cluster.run_for(300);
    assert!(change(&mut cluster, 1, promote).is_ok());
}

#[test]
fn second_change_is_refused_while_one_is_uncommitted() {
    // Thesis §4.1: a leader starts a configuration change only after the previous one has
    // committed; otherwise two changes could add up to a non-overlapping majority.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolate(2);
    cluster.isolate(3);
    let first = change(&mut cluster, 1, MembershipChange::AddLearner(n(4))).unwrap();
    let second = change(&mut cluster, 1, MembershipChange::AddLearner(n(5)));
    assert_eq!(second, Err(MembershipError::ChangePending(first).into()));
    // --- the first change commits; the next one may start
    cluster.heal();
    cluster.run_for(200);
    assert!(cluster.node(1).commit_index() >= first);
    assert!(change(&mut cluster, 1, MembershipChange::AddLearner(n(5))).is_ok());
}

#[test]
fn new_leader_changes_nothing_before_committing_an_entry_of_its_term() {
    // Ongaro (raft-dev, 2015), fixing thesis §4.1: a leader may not append a configuration
    // entry until an entry of its own term has committed.
    let mut cluster = Cluster::new(3);
    cluster.filter =
        Some(Box::new(|m: &Message| !matches!(m.body, Body::AppendEntriesResponse { .. })));
    cluster.elect(1);
    let refused = change(&mut cluster, 1, MembershipChange::AddLearner(n(4)));
    assert_eq!(refused, Err(MembershipError::LeaderNotReady.into()));
}

#[test]
fn invalid_changes_are_refused() {
    // Thesis §4.1: each change adds or removes exactly one server of the configuration.
    let mut cluster = Cluster::new(1);
    cluster.elect(1);
    cluster.run_for(10);
    let refused = |c: MembershipError| Err(ProposeError::Membership(c));
    assert_eq!(
        change(&mut cluster, 1, MembershipChange::AddLearner(n(1))),
        refused(MembershipError::AlreadyMember(n(1)))
    );
    assert_eq!(
        change(&mut cluster, 1, MembershipChange::PromoteLearner(n(2))),
        refused(MembershipError::NotLearner(n(2)))
    );
    assert_eq!(
        change(&mut cluster, 1, MembershipChange::Remove(n(2))),
        refused(MembershipError::NotMember(n(2)))
    );
    assert_eq!(
        change(&mut cluster, 1, MembershipChange::Remove(n(1))),
        refused(MembershipError::LastVoter(n(1)))
    );
}

#[test]
fn removed_leader_steps_down_after_commit_and_never_campaigns() {
    // Thesis §4.2.2: a leader removed from the configuration keeps managing the cluster until
    // the new configuration commits, then steps down; a server not in the configuration
    // never starts an election.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    let index = change(&mut cluster, 1, MembershipChange::Remove(n(1))).unwrap();
    assert!(cluster.node(1).is_leader(), "still leads while the change is uncommitted");
    cluster.deliver_all();
    assert!(cluster.node(1).commit_index() >= index);
    assert_eq!(cluster.node(1).role(), Role::Follower);
    // --- n2 and n3 elect a leader of their own; n1 stays quiet
    let mark = cluster.sent.len();
    cluster.run_for(20_000);
    let leader = cluster.leader().expect("the remaining voters elect a leader");
    assert_ne!(leader, 1);
    assert_eq!(ids(&cluster.node(leader).membership().voters), vec![2, 3]);
    let from_n1 =
        cluster.sent_since(mark, |m| m.from == n(1) && matches!(m.body, Body::RequestVote { .. }));
    assert!(from_n1.is_empty(), "n1 campaigned: {from_n1:?}");
    assert_eq!(cluster.node(1).term(), term);
    assert_eq!(cluster.node(1).role(), Role::Follower);
}

#[test]
fn removed_follower_does_not_disrupt_the_cluster() {
    // Thesis §4.2.3: a removed server that misses its removal times out and asks for votes;
    // PreVote and leader stickiness keep it from disrupting the cluster.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    change(&mut cluster, 1, MembershipChange::Remove(n(3))).unwrap();
    cluster.run_for(20_000);
    assert_eq!(cluster.leader(), Some(1));
    assert_eq!(ids(&cluster.node(1).membership().voters), vec![1, 2]);
    for id in 1..=3 {
        assert_eq!(cluster.node(id).term(), term, "n{id}");
    }
}

#[test]
fn isolated_learner_never_campaigns() {
    // Thesis §4.2.1: learners do not vote and never start elections, however long they go
    // without hearing from the leader.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    cluster.add_joining(4);
    change(&mut cluster, 1, MembershipChange::AddLearner(n(4))).unwrap();
    cluster.run_for(300);
    cluster.isolate(4);
    let mark = cluster.sent.len();
    cluster.run_for(20_000);
    assert!(cluster.sent_since(mark, |m| m.from == n(4)).is_empty());
    assert_eq!((cluster.node(4).term(), cluster.node(4).role()), (term, Role::Follower));
}
