//! Linearizable reads: ReadIndex and leases (thesis §6.4).

use super::*;

pub(super) fn ready(cluster: &Cluster, id: u64) -> Vec<(u64, u64)> {
    let reads = cluster.reads.get(&n(id)).map(Vec::as_slice).unwrap_or_default();
    let ready = reads.iter().filter_map(|r| match r {
        Effect::ReadReady { ctx, index } => Some((*ctx, index.0)),
        _ => None,
    });
    ready.collect()
}

fn failed(cluster: &Cluster, id: u64) -> Vec<(u64, Option<NodeId>)> {
    let reads = cluster.reads.get(&n(id)).map(Vec::as_slice).unwrap_or_default();
    let failed = reads.iter().filter_map(|r| match r {
        Effect::ReadFailed { ctx, leader_hint } => Some((*ctx, *leader_hint)),
        _ => None,
    });
    failed.collect()
}

pub(super) fn read(cluster: &mut Cluster, id: u64, ctx: u64) {
    cluster.node_mut(id).read_index(ctx).unwrap();
    cluster.collect(id);
}

#[test]
fn read_waits_for_a_heartbeat_round_acked_by_a_majority() {
    // Thesis §6.4 step 3: the leader serves a read only after a round of heartbeats, sent
    // after the read arrived, is acknowledged by a majority: it was still leader then.
    let mut cluster = Cluster::new(5);
    cluster.elect(1);
    let commit = cluster.node(1).commit_index().0;
    for id in [3, 4, 5] {
        cluster.isolate(id);
    }
    read(&mut cluster, 1, 7);
    assert_eq!(ready(&cluster, 1), vec![], "no round yet");
    // --- only n2 answers: two of five is not a majority
    cluster.deliver_all();
    assert_eq!(ready(&cluster, 1), vec![]);
    // --- n3 answers the next heartbeat round too
    cluster.heal();
    cluster.isolate(4);
    cluster.isolate(5);
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    assert_eq!(ready(&cluster, 1), vec![(7, commit)]);
}

#[test]
fn read_index_is_the_commit_index_at_registration() {
    // Thesis §6.4 step 1: the read index is the leader's commit index when the read
    // arrives; writes committed while the round is under way do not move it.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    let commit = cluster.node(1).commit_index();
    read(&mut cluster, 1, 1);
    let index = cluster.propose(1, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(1).commit_index(), index);
    assert_eq!(ready(&cluster, 1), vec![(1, commit.0)]);
}

#[test]
fn new_leader_serves_no_read_before_committing_an_entry_of_its_term() {
    // Thesis §6.4 step 1: a new leader does not know the commit index until an entry of its
    // own term (the no-op of §8) has committed; reads wait for that.
    let mut cluster = Cluster::new(3);
    cluster.filter =
        Some(Box::new(|m: &Message| !matches!(m.body, Body::AppendEntriesResponse { .. })));
    let term = cluster.elect(1);
    assert_eq!(cluster.node(1).commit_index(), LogIndex(0));
    read(&mut cluster, 1, 5);
    cluster.deliver_all();
    assert_eq!(ready(&cluster, 1), vec![]);
    // --- the no-op commits at the next heartbeat; then the read gets its round
    cluster.heal();
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    let commit = cluster.node(1).commit_index();
    assert_eq!(cluster.node(1).term_at(commit), Some(term));
    assert_eq!(ready(&cluster, 1), vec![(5, commit.0)]);
}

/// n1 leads with a read pending while cut off; n2 wins a later term.
fn deposed_with_pending_read() -> Cluster {
    let mut cluster = Cluster::with(3, &|c| c.check_quorum = false);
    cluster.elect(1);
    cluster.isolate(1);
    read(&mut cluster, 1, 9);
    cluster.deliver_all();
    cluster.elect(2);
    assert!(cluster.node(1).is_leader(), "n1 has not noticed yet");
    // --- n1 hears from n2
    cluster.heal();
    cluster.run_for(cluster.configs[&n(2)].heartbeat_interval_ms);
    assert_eq!(cluster.node(1).leader(), Some(n(2)));
    cluster
}

#[test]
fn deposed_leader_fails_its_pending_reads() {
    // Thesis §6.4: a read is served only if the leader is confirmed for its term; a leader
    // that learns of a newer term must fail the reads it could not confirm.
    let cluster = deposed_with_pending_read();
    assert_eq!(ready(&cluster, 1), vec![]);
    assert_eq!(failed(&cluster, 1).iter().map(|f| f.0).collect::<Vec<_>>(), vec![9]);
}

#[test]
fn failed_read_names_the_new_leader() {
    // Thesis §6.4 and the ReadFailed contract ("the leader, if known"): a leader deposed by
    // an append of the new leader knows where the read should be retried.
    let mut cluster = Cluster::with(3, &|c| c.check_quorum = false);
    cluster.elect(1);
    cluster.isolate(1);
    read(&mut cluster, 1, 9);
    cluster.deliver_all();
    cluster.elect(2);
    // --- n1 hears n2's heartbeat before anyone answers it
    cluster.heal();
    cluster.filter = Some(Box::new(|m: &Message| m.from != n(1)));
    cluster.run_for(cluster.configs[&n(2)].heartbeat_interval_ms);
    assert_eq!(cluster.node(1).leader(), Some(n(2)));
    assert_eq!(failed(&cluster, 1), vec![(9, Some(n(2)))]);
}

#[test]
fn sole_voter_serves_reads_at_once() {
    // Thesis §6.4: in a single-server cluster the leader is trivially confirmed.
    let mut cluster = Cluster::new(1);
    cluster.elect(1);
    cluster.run_for(10);
    read(&mut cluster, 1, 2);
    assert_eq!(ready(&cluster, 1), vec![(2, cluster.node(1).commit_index().0)]);
}

#[test]
fn later_read_does_not_ride_on_a_round_sent_before_it_arrived() {
    // Thesis §6.4 step 3: leadership must be confirmed by heartbeats sent *after* the read
    // arrived. Acknowledgements of a round sent before it may predate a newer leader's
    // election, and so cannot prove that no newer leader committed a write since.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    let hb_at = cluster.node(1).next_deadline().unwrap();
    // --- read A: its round reaches n2, whose acknowledgement is delayed in the network
    read(&mut cluster, 1, 1);
    let to_n2 = cluster.queue.iter().position(|m| m.to == n(2)).unwrap();
    let heartbeat = cluster.queue.remove(to_n2).unwrap();
    cluster.queue.clear();
    cluster.queue.push_back(heartbeat);
    cluster.step();
    let delayed_ack = cluster.queue.pop_front().unwrap();
    assert_eq!(delayed_ack.from, n(2));
    // --- n1 hands over to n3 (a round trip that n1 never sees the end of)
    cluster.filter = Some(Box::new(move |m: &Message| !(m.to == n(1) && m.term > term)));
    cluster.node_mut(1).transfer_leader(n(3)).unwrap();
    cluster.collect(1);
    cluster.deliver_all();
    assert_eq!(cluster.leader(), Some(3));
    let w = cluster.propose(3, "w");
    cluster.deliver_all();
    assert_eq!(cluster.node(3).commit_index(), w, "w is committed");
    // --- read B arrives at n1 after w committed, before n1's next heartbeat tick
    assert!(cluster.now < hb_at && cluster.node(1).is_leader());
    read(&mut cluster, 1, 2);
    cluster.queue.push_back(delayed_ack);
    cluster.deliver_all();
    let served_b: Vec<(u64, u64)> = ready(&cluster, 1).into_iter().filter(|r| r.0 == 2).collect();
    assert!(
        served_b.iter().all(|(_, index)| *index >= w.0),
        "stale read of B: {served_b:?}, w at {w}"
    );
}
