//! Crash and restart from durable state only (Raft §5, Figure 2: current
//! term, vote and log are persistent).

use super::*;

fn no_pre_vote(c: &mut Config) {
    c.pre_vote = false;
    c.check_quorum = false;
}

/// The log of a live node, entry by entry, after its snapshot.
fn log_of(cluster: &Cluster, id: u64) -> Vec<Entry> {
    let raft = cluster.node(id);
    let first = raft.snapshot_meta().index.0 + 1;
    (first..=raft.last_index().0).map(|i| raft.entry(LogIndex(i)).unwrap().clone()).collect()
}

#[test]
fn restarted_node_keeps_its_term_vote_and_log() {
    // Raft §5 (Figure 2): currentTerm, votedFor and log[] survive a crash.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    for i in 0..3 {
        cluster.propose(1, &format!("v{i}"));
    }
    cluster.run_for(200);
    let before = cluster.node(2);
    let (term, vote, commit) = (before.term(), before.voted_for(), before.commit_index());
    let log = log_of(&cluster, 2);
    assert_eq!(log.len(), 4);
    // --- crash and restart n2 from its durable state
    cluster.crash(2);
    cluster.restart(2);
    let after = cluster.node(2);
    assert_eq!((after.term(), after.voted_for()), (term, vote));
    assert_eq!(vote, Some(n(1)));
    assert_eq!(log_of(&cluster, 2), log);
    // The commit index is volatile (Figure 2); the persisted one is a lower bound that lets
    // the state machine be rebuilt at once, and the leader supplies the rest.
    let stored = cluster.durable[&n(2)].hard_state.commit;
    assert_eq!(after.commit_index(), stored);
    assert!(stored <= commit);
    let rebuilt: Vec<u64> = (1..=stored.0).collect();
    assert_eq!(cluster.applied_indexes(2), rebuilt);
    cluster.run_for(200);
    assert_eq!(cluster.node(2).commit_index(), commit);
    assert_eq!(cluster.applied_indexes(2), (1..=commit.0).collect::<Vec<_>>());
}

#[test]
fn restarted_voter_does_not_vote_twice_in_a_term() {
    // Raft §5.2 with Figure 2: because votedFor is durable, a server that crashes after
    // voting cannot grant a second vote in the same term.
    let mut cluster = Cluster::with(3, &no_pre_vote);
    cluster.fire(1);
    // --- deliver n1's request to n2 only; n2 grants, then crashes and restarts
    let to_n2 = cluster.queue.iter().position(|m| m.to == n(2)).unwrap();
    let request = cluster.queue.remove(to_n2).unwrap();
    cluster.queue.push_front(request);
    cluster.step();
    cluster.crash(2);
    cluster.restart(2);
    assert_eq!((cluster.node(2).term(), cluster.node(2).voted_for()), (Term(1), Some(n(1))));
    // --- n3 campaigns in the same term 1 before hearing from anyone
    cluster.queue.retain(|m| m.to != n(3));
    cluster.fire(3);
    assert_eq!(cluster.node(3).term(), Term(1));
    cluster.deliver_all();
    assert_eq!(cluster.node(2).voted_for(), Some(n(1)));
    assert!(!cluster.node(3).is_leader());
    assert_eq!(cluster.leader(), Some(1));
}

#[test]
fn unconfirmed_writes_are_lost_and_were_never_acknowledged() {
    // Raft §5 (Figure 2): an append is acknowledged only once durable, so what a crash
    // loses was never counted by the leader.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolate(3);
    cluster.manual_persist.insert(n(2));
    let index = cluster.propose(1, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(2).last_index(), index, "in n2's memory");
    assert!(cluster.node(1).progress_of(n(2)).unwrap().0 < index, "not acknowledged");
    assert!(cluster.node(1).commit_index() < index);
    // --- n2 crashes before the write completes
    cluster.crash(2);
    cluster.manual_persist.clear();
    cluster.restart(2);
    assert!(cluster.node(2).last_index() < index);
    cluster.run_for(300);
    assert_eq!(cluster.node(1).commit_index(), index, "re-sent and committed");
}

#[test]
fn durable_state_mirrors_every_log_through_truncations_and_snapshots() {
    // Raft §5 and §7: applying each persist request in order, as storage must, yields
    // exactly the log, term and vote the node holds, even after entries were truncated
    // (§5.3) and the log was compacted (§7).
    let mut cluster = Cluster::new(3);
    for round in 0..6u64 {
        cluster.run_until(cluster.now.plus_ms(5000), |c| c.leader().is_some());
        let leader = cluster.leader().unwrap();
        cluster.propose(leader, &format!("committed {round}"));
        cluster.run_for(200);
        // --- the leader, cut off, writes entries that the next leader will overwrite
        cluster.isolate(leader);
        cluster.propose(leader, "doomed");
        cluster.run_for(3000);
        cluster.heal();
        cluster.run_for(1000);
        if round == 3 {
            for id in 1..=3 {
                let applied = cluster.node(id).applied_index();
                cluster.node_mut(id).compact(applied, data("state"));
                cluster.collect(id);
            }
        }
    }
    for id in 1..=3 {
        let raft = cluster.node(id);
        let stored = &cluster.durable[&n(id)];
        assert_eq!(
            (stored.hard_state.term, stored.hard_state.vote),
            (raft.term(), raft.voted_for())
        );
        assert_eq!(stored.snapshot.as_ref().unwrap().meta, *raft.snapshot_meta(), "n{id}");
        assert_eq!(stored.entries, log_of(&cluster, id), "n{id}");
        assert!(stored.entries.iter().all(|e| e.payload != EntryPayload::Command(data("doomed"))));
    }
}
