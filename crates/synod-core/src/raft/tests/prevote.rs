//! PreVote (thesis §9.6): a node that could not win does not disturb terms.

use super::*;

fn is_pre_vote_request(m: &Message) -> bool {
    matches!(m.body, Body::RequestVote { pre_vote: true, .. })
}

#[test]
fn partitioned_node_rejoining_does_not_disrupt_the_leader() {
    // Thesis §9.6: with PreVote, a server that was partitioned away cannot win a pre-vote,
    // so it never increments its term and cannot depose a stable leader when it returns.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    // --- n3 is partitioned for many election timeouts
    cluster.isolate(3);
    cluster.run_for(10_000);
    assert_eq!(cluster.node(3).term(), term, "pre-votes do not change the term");
    assert!(!cluster.node(3).is_leader());
    let pre_votes = cluster.sent_since(0, |m| m.from == n(3) && is_pre_vote_request(m));
    assert!(pre_votes.len() >= 8, "n3 kept probing: {}", pre_votes.len());
    // --- n3 rejoins
    cluster.heal();
    cluster.run_for(3000);
    assert_eq!(cluster.leader(), Some(1));
    for id in 1..=3 {
        assert_eq!(cluster.node(id).term(), term, "n{id}");
    }
    assert_eq!(cluster.node(3).leader(), Some(n(1)));
    let index = cluster.propose(1, "after");
    cluster.run_for(200);
    assert!(cluster.applied_indexes(3).contains(&index.0));
}

#[test]
fn without_pre_vote_the_rejoining_node_deposes_the_leader() {
    // Thesis §9.6 (the problem PreVote solves): a partitioned server keeps incrementing its
    // term; when it rejoins, its higher term forces the leader to step down.
    let mut cluster = Cluster::with(3, &|c| c.pre_vote = false);
    let term = cluster.elect(1);
    cluster.isolate(3);
    cluster.run_for(10_000);
    assert!(cluster.node(3).term() > term);
    cluster.heal();
    cluster.run_for(300);
    assert!(cluster.node(1).term() > term, "n1 adopted the higher term");
}

#[test]
fn pre_vote_changes_no_term_and_no_vote() {
    // Thesis §9.6: a PreVote asks whether a vote would be granted; neither the
    // pre-candidate nor the servers it asks change their term or vote.
    let mut cluster = Cluster::new(3);
    cluster.fire(1);
    assert_eq!(cluster.node(1).role(), Role::PreCandidate);
    assert_eq!(cluster.node(1).term(), Term(0));
    assert_eq!(cluster.node(1).voted_for(), None);
    let requests = cluster.sent_since(0, is_pre_vote_request);
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|m| m.term == Term(1)), "asks for the next term");
    // --- deliver the two probes only
    cluster.step();
    cluster.step();
    for id in [2, 3] {
        assert_eq!((cluster.node(id).term(), cluster.node(id).voted_for()), (Term(0), None));
    }
    let granted =
        |m: &Message| matches!(m.body, Body::RequestVoteResponse { granted: true, pre_vote: true });
    assert_eq!(cluster.sent_since(0, granted).len(), 2);
    // --- the grants let n1 start the real election, in term 1
    cluster.deliver_all();
    assert!(cluster.node(1).is_leader());
    assert_eq!(cluster.node(1).term(), Term(1));
}

#[test]
fn pre_vote_refused_while_the_leader_is_heard() {
    // Thesis §9.6 with §4.2.3: a server that heard from the leader within the minimum
    // election timeout refuses to help a pre-candidate, so a node that lost only its link
    // to the leader cannot start an election.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    cluster.cut(1, 3);
    cluster.run_for(10_000);
    assert_eq!(cluster.leader(), Some(1));
    assert_eq!(cluster.node(2).term(), term);
    assert_eq!(cluster.node(3).term(), term);
    let pre_votes = cluster.sent_since(0, |m| m.from == n(3) && is_pre_vote_request(m));
    assert!(!pre_votes.is_empty());
}
