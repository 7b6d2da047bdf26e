//! Lease reads (thesis §6.4.1): reads served from a leader lease, without
//! a heartbeat round, while followers cannot elect another leader.

use super::read_index::{read, ready};
use super::*;

fn lease(c: &mut Config) {
    c.lease_reads = true;
}

#[test]
fn lease_read_is_served_without_a_round_while_the_lease_holds() {
    // Thesis §6.4.1: after a majority acknowledged a heartbeat round, no other leader can be
    // elected for an election timeout (less drift), so reads need no new round until then.
    let mut cluster = Cluster::with(3, &lease);
    cluster.elect(1);
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    let mark = cluster.sent.len();
    read(&mut cluster, 1, 3);
    let commit = cluster.node(1).commit_index().0;
    assert_eq!(ready(&cluster, 1), vec![(3, commit)]);
    assert_eq!(cluster.sent.len(), mark, "no heartbeat round was needed");
}

#[test]
fn lease_read_needs_a_round_once_the_lease_expired() {
    // Thesis §6.4.1: the lease lasts from the start of the last acknowledged round; once it
    // ran out, a read falls back to a ReadIndex round.
    // A short lease, so it runs out well before CheckQuorum deposes the leader.
    let mut cluster = Cluster::with(3, &|c: &mut Config| {
        c.lease_reads = true;
        c.lease_percent = 50;
    });
    cluster.elect(1);
    let hb = cluster.configs[&n(1)].heartbeat_interval_ms;
    cluster.run_for(hb);
    cluster.isolate(1);
    cluster.run_for(cluster.configs[&n(1)].election_timeout_ms_min * 7 / 10 - hb);
    assert!(cluster.node(1).is_leader(), "CheckQuorum has not fired yet");
    read(&mut cluster, 1, 4);
    assert_eq!(ready(&cluster, 1), vec![]);
}

#[test]
fn lease_read_is_refused_once_a_transfer_started() {
    // Thesis §6.4.1 with §3.10: the lease relies on followers refusing votes while they hear
    // from the leader, which a transfer's election skips; a leader that sent TimeoutNow may
    // already be replaced, so it must not serve reads from its lease.
    let mut cluster = Cluster::with(3, &lease);
    let term = cluster.elect(1);
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    cluster.node_mut(1).transfer_leader(n(2)).unwrap();
    cluster.collect(1);
    // --- hold the TimeoutNow back while a heartbeat round is acknowledged
    let timeout_now = cluster.queue.iter().position(|m| m.body == Body::TimeoutNow).unwrap();
    let timeout_now = cluster.queue.remove(timeout_now).unwrap();
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    // --- n2 wins the next term; n1 hears nothing of it
    cluster.filter = Some(Box::new(move |m: &Message| !(m.to == n(1) && m.term > term)));
    cluster.queue.push_back(timeout_now);
    cluster.deliver_all();
    assert_eq!(cluster.leader(), Some(2));
    let x = cluster.propose(2, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(2).commit_index(), x);
    // --- n1 still believes it leads; a lease read there would miss "x"
    assert!(cluster.node(1).is_leader());
    read(&mut cluster, 1, 6);
    assert_eq!(ready(&cluster, 1), vec![], "stale read served from the lease");
}

#[test]
fn restarted_follower_cannot_help_elect_a_leader_within_the_lease() {
    // Thesis §6.4.1: the lease holds because a follower that acknowledged the leader refuses
    // to vote for an election timeout; a follower that restarts must keep that promise, or
    // another leader can commit writes while the old one still serves lease reads.
    let mut cluster = Cluster::with(3, &lease);
    let term = cluster.elect(1);
    // --- n3 lost its link to n1 long ago and keeps probing; n2 still hears n1
    cluster.cut(1, 3);
    cluster.run_for(3000);
    let probe_at = cluster.node(3).next_deadline().unwrap();
    cluster.run_for(probe_at.0 - cluster.now.0 - 50);
    assert_eq!(cluster.leader(), Some(1));
    // --- n2 restarts just before n3's next probe; n1's next heartbeats to it are late
    cluster.crash(2);
    cluster.restart(2);
    cluster.filter = Some(Box::new(|m: &Message| !(m.from == n(1) && m.to == n(2))));
    cluster.fire(3);
    cluster.deliver_all();
    if cluster.node(3).is_leader() {
        let w = cluster.propose(3, "w");
        cluster.deliver_all();
        assert_eq!(cluster.node(3).commit_index(), w);
    }
    // --- n1 has heard of no newer term and its lease has not run out
    assert!(cluster.node(1).is_leader() && cluster.node(1).term() == term);
    read(&mut cluster, 1, 8);
    let newest = cluster.nodes.values().map(Raft::commit_index).max().unwrap();
    let stale: Vec<_> = ready(&cluster, 1).into_iter().filter(|(_, i)| *i < newest.0).collect();
    assert_eq!(stale, vec![], "read served from the lease misses writes up to {newest}");
}
