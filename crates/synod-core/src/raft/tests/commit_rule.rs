//! The commit rule of Raft §5.4.2, on the scenario of Figure 8.

use std::cell::Cell;

use super::*;

/// Figure 8 (a)-(b) as durable state: S1 led term 2 and replicated index 2
/// to S2; S5 then led term 3 and wrote its own index 2. Everyone is at term 3.
fn figure_8_cluster(tweak: &dyn Fn(&mut Config)) -> Cluster {
    let voters = [1, 2, 3, 4, 5];
    let states = vec![
        durable(&voters, (3, None, 1), &[1, 2]),
        durable(&voters, (3, None, 1), &[1, 2]),
        durable(&voters, (3, Some(5), 1), &[1]),
        durable(&voters, (3, Some(5), 1), &[1]),
        durable(&voters, (3, Some(5), 1), &[1, 3]),
    ];
    // Without PreVote and CheckQuorum, as in the paper; one entry per append
    // so each replica can be steered entry by entry.
    Cluster::from_durable(states, &|c| {
        c.pre_vote = false;
        c.check_quorum = false;
        c.batch_bytes_max = 1;
        tweak(c);
    })
}

/// Figure 8 (c): S5 is down, S1 leads term 4 and brings index 2 (term 2)
/// to S3, so S1, S2, S3 hold it; S1's own index 3 (term 4) does not reach S3.
pub(super) fn figure_8_c(tweak: &dyn Fn(&mut Config)) -> Cluster {
    let mut cluster = figure_8_cluster(tweak);
    cluster.crash(5);
    cluster.isolate(4);
    // Once S3 acknowledges index 2, drop every append that would bring it index 3.
    let s3_holds_2 = Cell::new(false);
    cluster.filter = Some(Box::new(move |m: &Message| {
        if let Body::AppendEntriesResponse { success: true, index, .. } = m.body {
            s3_holds_2.set(s3_holds_2.get() || (m.from == n(3) && index >= LogIndex(2)));
        }
        let carries_term_4 = matches!(&m.body, Body::AppendEntries { entries, .. }
            if entries.iter().any(|e| e.term == Term(4)));
        !(m.to == n(3) && carries_term_4 && s3_holds_2.get())
    }));
    assert_eq!(cluster.elect(1), Term(4));
    assert_eq!(cluster.log_terms(1), vec![1, 2, 4]);
    assert_eq!(cluster.log_terms(2), vec![1, 2, 4]);
    assert_eq!(cluster.log_terms(3), vec![1, 2]);
    assert_eq!(cluster.node(1).progress_of(n(3)).unwrap().0, LogIndex(2));
    cluster
}

#[test]
fn old_term_entry_on_a_majority_is_not_committed() {
    // Raft §5.4.2: a leader never commits an entry from an older term by counting replicas.
    let cluster = figure_8_c(&|_| {});
    // --- index 2 (term 2) is on S1, S2, S3: a majority of five, yet not committed
    assert_eq!(cluster.node(1).commit_index(), LogIndex(1));
    assert!(cluster.applied_indexes(1).iter().all(|i| *i < 2));
}

#[test]
fn old_term_entry_on_a_majority_can_still_be_overwritten() {
    // Raft §5.4.2 (Figure 8 d): why the rule exists — S5 can still be elected and replace
    // the term-2 entry everywhere, so committing it in (c) would have lost a committed entry.
    let mut cluster = figure_8_c(&|_| {});
    // --- S1 crashes; S5 comes back and wins with the votes of S3 and S4
    cluster.crash(1);
    cluster.heal();
    cluster.restart(5);
    let term = cluster.elect(5);
    assert!(term >= Term(5));
    for id in [2, 3, 4, 5] {
        assert_eq!(cluster.node(id).term_at(LogIndex(2)), Some(Term(3)), "n{id}");
    }
    // No server ever applied the term-2 entry at index 2.
    for id in [2, 3, 4, 5] {
        let applied = cluster.applied.get(&n(id)).cloned().unwrap_or_default();
        assert!(applied.iter().all(|e| e.index.0 != 2 || e.term == Term(3)), "n{id}");
    }
}

#[test]
fn old_term_entry_commits_with_an_entry_of_the_current_term() {
    // Raft §5.4.2 (Figure 8 e): once an entry of the leader's current term is stored on a
    // majority, it and every entry before it are committed (Log Matching, §5.3).
    let mut cluster = figure_8_c(&|_| {});
    // --- the term-4 entry reaches S3 at the next heartbeat
    cluster.heal();
    cluster.isolate(4);
    cluster.run_for(cluster.configs[&n(1)].heartbeat_interval_ms);
    assert_eq!(cluster.log_terms(3), vec![1, 2, 4]);
    assert_eq!(cluster.node(1).commit_index(), LogIndex(3));
    let applied = &cluster.applied[&n(1)];
    let applied: Vec<(u64, u64)> = applied.iter().map(|e| (e.index.0, e.term.0)).collect();
    assert_eq!(applied, vec![(1, 1), (2, 2), (3, 4)]);
}

#[test]
fn entry_of_current_term_commits_on_a_bare_majority() {
    // Raft §5.3: an entry of the leader's term is committed once stored on a majority
    // (here three of five, the other two unreachable).
    let mut cluster = Cluster::new(5);
    cluster.elect(1);
    cluster.isolate(4);
    cluster.isolate(5);
    let index = cluster.propose(1, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(1).commit_index(), index);
    assert_eq!(cluster.applied_indexes(1).last(), Some(&index.0));
}
