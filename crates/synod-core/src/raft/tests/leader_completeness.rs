//! Leader completeness (Raft §5.4): a leader holds every committed entry.

use super::*;

fn no_pre_vote(c: &mut Config) {
    c.pre_vote = false;
    c.check_quorum = false;
}

/// n1 leads and commits "x" with n2 while n3 is cut off; n1 then crashes.
fn committed_without_n3(tweak: &dyn Fn(&mut Config)) -> (Cluster, LogIndex) {
    let mut cluster = Cluster::with(3, tweak);
    cluster.elect(1);
    cluster.isolate(3);
    let index = cluster.propose(1, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(1).commit_index(), index);
    cluster.crash(1);
    cluster.heal();
    (cluster, index)
}

#[test]
fn node_missing_a_committed_entry_cannot_win() {
    // Raft §5.4.1: a candidate must be at least as up-to-date as a majority to win, so a
    // node that lacks a committed entry cannot become leader.
    let (mut cluster, index) = committed_without_n3(&no_pre_vote);
    // --- n3 campaigns again and again: n2, which holds "x", refuses every time
    for _ in 0..4 {
        cluster.fire(3);
        cluster.deliver_all();
        assert!(!cluster.node(3).is_leader());
        assert_ne!(cluster.node(2).voted_for(), Some(n(3)));
    }
    assert!(cluster.node(3).term() >= Term(5), "n3 did campaign");
    // --- n2 can win, and brings "x" to n3
    cluster.elect(2);
    let entry = cluster.node(3).entry(index).unwrap();
    assert_eq!(entry.payload, EntryPayload::Command(data("x")));
}

#[test]
fn pre_vote_of_node_missing_a_committed_entry_is_refused() {
    // Raft §5.4.1 with thesis §9.6: the PreVote applies the same up-to-date check, so the
    // lagging node cannot even start a real election.
    let (mut cluster, _) = committed_without_n3(&|_| {});
    let term = cluster.node(3).term();
    for _ in 0..4 {
        cluster.fire(3);
        cluster.deliver_all();
    }
    assert!(!cluster.node(3).is_leader());
    assert_eq!(cluster.node(3).term(), term);
    assert_eq!(cluster.node(2).term(), term);
}

#[test]
fn every_leader_holds_every_applied_entry() {
    // Raft §5.4 (Leader Completeness) and §5.4.3 (State Machine Safety): across leader
    // crashes and partitions, every later leader holds what any server applied, and no two
    // servers apply different entries at the same index.
    let mut cluster = Cluster::new(5);
    let mut proposed = 0;
    for round in 0..8u64 {
        cluster.run_until(cluster.now.plus_ms(5000), |c| c.leader().is_some());
        let leader = cluster.leader().expect("a leader");
        for _ in 0..3 {
            proposed += 1;
            cluster.propose(leader, &format!("v{proposed}"));
        }
        cluster.run_for(150);
        // --- cut the leader off with one follower; it keeps an uncommitted suffix
        let buddy = (leader + round % 4) % 5 + 1;
        cluster.isolate(leader);
        cluster.isolate(buddy);
        cluster.cut(leader, buddy); // no-op when buddy == leader
        if cluster.node(leader).is_leader() {
            cluster.propose(leader, "lost");
        }
        cluster.run_for(4000);
        cluster.heal();
        cluster.run_for(2000);
        check_completeness(&cluster);
    }
    assert!(cluster.node(1).commit_index() >= LogIndex(24));
}

fn check_completeness(cluster: &Cluster) {
    let mut by_index: BTreeMap<u64, &Entry> = BTreeMap::new();
    for applied in cluster.applied.values() {
        for entry in applied {
            let first = by_index.entry(entry.index.0).or_insert(entry);
            assert_eq!(*first, entry, "two entries applied at {}", entry.index);
        }
    }
    let leader = cluster.leader().expect("a leader after healing");
    let raft = cluster.node(leader);
    for entry in by_index.values().filter(|e| e.index > raft.snapshot_meta().index) {
        assert_eq!(raft.entry(entry.index), Some(*entry), "leader n{leader} lacks {}", entry.index);
    }
}
