//! CheckQuorum (thesis §6.2) and leader stickiness (thesis §4.2.3).

use super::*;

#[test]
fn leader_cut_off_from_the_majority_steps_down_within_the_longest_election_timeout() {
    // Thesis §6.2: a leader steps down if an election timeout elapses without a successful
    // round of heartbeats to a majority of its cluster.
    for offset_ms in [0, 250, 500, 750, 999] {
        let mut cluster = Cluster::new(3);
        let term = cluster.elect(1);
        cluster.run_for(offset_ms);
        // --- n1 loses both followers
        let cut_at = cluster.now;
        cluster.isolate(1);
        let timeout = cluster.configs[&n(1)].election_timeout_ms_max;
        let stepped_down = cluster.run_until(cut_at.plus_ms(timeout), |c| !c.node(1).is_leader());
        assert!(stepped_down, "n1 still leads {timeout} ms after the cut (offset {offset_ms})");
        assert_eq!(cluster.node(1).term(), term, "stepping down alone keeps the term");
        assert_eq!(cluster.node(1).role(), Role::Follower);
        // --- the majority side elects a leader of a later term
        cluster.run_for(5000);
        let leader = cluster.leader().expect("majority elects a leader");
        assert_ne!(leader, 1);
        assert!(cluster.node(leader).term() > term);
    }
}

#[test]
fn leader_steps_down_one_election_timeout_after_its_last_majority_contact() {
    // Thesis §6.2: "if an election timeout elapses without a successful round of heartbeats
    // to a majority", the leader steps down. Followers may elect a new leader as soon as
    // election_timeout_ms_min has passed since they last heard from it.
    for offset_ms in [0, 300, 600, 900] {
        let mut cluster = Cluster::new(3);
        cluster.elect(1);
        cluster.run_for(offset_ms);
        let cut_at = cluster.now; // the last acknowledgements arrived just now
        cluster.isolate(1);
        let cfg = &cluster.configs[&n(1)];
        let bound = cfg.election_timeout_ms_min + cfg.heartbeat_interval_ms;
        let stepped_down = cluster.run_until(cut_at.plus_ms(bound), |c| !c.node(1).is_leader());
        assert!(stepped_down, "n1 still leads {bound} ms after the cut (offset {offset_ms})");
    }
}

#[test]
fn leader_that_hears_from_a_majority_keeps_leading() {
    // Thesis §6.2: losing a minority of followers does not make the leader step down.
    let mut cluster = Cluster::new(5);
    let term = cluster.elect(1);
    cluster.isolate(4);
    cluster.isolate(5);
    cluster.run_for(20_000);
    assert_eq!(cluster.leader(), Some(1));
    assert_eq!(cluster.node(1).term(), term);
}

#[test]
fn check_quorum_off_leaves_an_isolated_leader_in_place() {
    // Thesis §6.2 (contrast): without CheckQuorum, nothing tells a partitioned leader that
    // it lost its majority.
    let mut cluster = Cluster::with(3, &|c| c.check_quorum = false);
    cluster.elect(1);
    cluster.isolate(1);
    cluster.run_for(10_000);
    assert!(cluster.node(1).is_leader());
}

#[test]
fn follower_hearing_from_the_leader_ignores_vote_requests() {
    // Thesis §4.2.3: a server that heard from a current leader within the minimum election
    // timeout neither grants its vote nor updates its term.
    let mut cluster = Cluster::with(3, &|c| c.pre_vote = false);
    let term = cluster.elect(1);
    cluster.cut(1, 3);
    // --- n3 no longer hears n1 and campaigns; n2 still hears n1
    cluster.run_for(5000);
    assert!(cluster.node(3).term() > term);
    assert_eq!(cluster.node(2).term(), term);
    assert_eq!(cluster.node(2).voted_for(), Some(n(1)));
    assert_eq!(cluster.leader(), Some(1));
}
