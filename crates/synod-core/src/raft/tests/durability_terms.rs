//! Durability across terms: a write confirmed for one term must not stand
//! in for a write of a later term (Raft §5.2 with Figure 2).

use super::*;

fn no_pre_vote(c: &mut Config) {
    c.pre_vote = false;
    c.check_quorum = false;
}

/// n1 campaigns in term 1, then in term 2, with neither vote written yet;
/// then the term-1 write completes. n1's requests reach n2 only.
fn two_campaigns_one_write() -> Cluster {
    let mut cluster = Cluster::with(3, &no_pre_vote);
    cluster.manual_persist.insert(n(1));
    cluster.fire(1);
    cluster.queue.clear(); // the term-1 requests are lost
    cluster.fire(1);
    assert_eq!((cluster.node(1).term(), cluster.held[&n(1)].len()), (Term(2), 2));
    cluster.cut(1, 3);
    cluster.confirm_first(1);
    cluster
}

#[test]
fn own_vote_of_an_older_term_does_not_count_in_a_newer_election() {
    // Raft §5.2 with Figure 2: a candidate counts its own vote only once that vote (for this
    // term) is durable; the durable vote of an earlier campaign is no vote for this one.
    let mut cluster = two_campaigns_one_write();
    cluster.deliver_all(); // n2 grants term 2
    assert!(!cluster.node(1).is_leader(), "leads term 2 on a vote for term 2 it has not written");
    cluster.confirm_persists(1);
    assert!(cluster.node(1).is_leader());
}

#[test]
fn crash_after_an_unwritten_self_vote_cannot_make_two_leaders_of_a_term() {
    // Raft §5.2 (Election Safety) and §5.4.3 (State Machine Safety): whatever the timing of
    // writes, two servers never apply different entries at the same index.
    let mut cluster = two_campaigns_one_write();
    cluster.deliver_all();
    if cluster.node(1).is_leader() {
        cluster.propose(1, "x");
        cluster.deliver_all(); // n2 stores x at index 2 of term 2
    }
    // --- n1 crashes: its write of term 2 never completes; it restarts in term 1
    cluster.crash(1);
    cluster.manual_persist.clear();
    cluster.restart(1);
    assert_eq!(cluster.node(1).term(), Term(1));
    cluster.heal();
    cluster.cut(2, 3);
    // --- n3 campaigns in terms 1 and 2; n1 can vote in term 2
    let mut term = Term(0);
    while term < Term(2) {
        cluster.fire(3);
        cluster.deliver_all();
        term = cluster.node(3).term();
    }
    if cluster.node(3).is_leader() {
        cluster.propose(3, "y");
        cluster.deliver_all();
    }
    // --- the partition heals; everyone converges on the leader of the latest term
    cluster.heal();
    cluster.run_for(5000);
    let entry_at =
        |id: u64, i: u64| cluster.applied[&n(id)].iter().find(|e| e.index.0 == i).cloned();
    for i in 1..=cluster.node(2).commit_index().0.min(cluster.node(3).commit_index().0) {
        assert_eq!(entry_at(2, i), entry_at(3, i), "n2 and n3 applied different entries at {i}");
    }
}
