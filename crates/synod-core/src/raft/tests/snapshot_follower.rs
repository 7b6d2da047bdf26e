//! The follower side of InstallSnapshot (Raft §7, Figure 13 receiver rules).

use super::*;

/// A follower n2 at term 1 with five entries of term 1, fed one
/// single-chunk snapshot from leader n1; returns it and its storage.
fn install(meta_term: u64, meta_index: u64) -> (Raft, DurableState, Vec<Effect>) {
    let mut state = durable(&[1, 2, 3], (1, Some(1), 2), &[1, 1, 1, 1, 1]);
    let mut raft = Raft::restart(config(2, &|_| {}), state.clone());
    let meta = SnapshotMeta {
        index: LogIndex(meta_index),
        term: Term(meta_term),
        membership: Membership::with_voters([n(1), n(2), n(3)]),
    };
    let body =
        Body::InstallSnapshot { meta, offset: 0, data: data("state"), done: true, read_seq: 0 };
    raft.handle_message(Message { from: n(1), to: n(2), term: Term(1), body }, Time(0));
    let mut effects = Vec::new();
    for _ in 0..2 {
        for effect in raft.take_effects() {
            if let Effect::Persist(req) = &effect {
                state.apply(req);
                raft.on_persisted(req.seq, Time(0));
            }
            effects.push(effect);
        }
    }
    (raft, state, effects)
}

fn terms_after_snapshot(raft: &Raft) -> Vec<u64> {
    let first = raft.snapshot_meta().index.0 + 1;
    (first..=raft.last_index().0).map(|i| raft.term_at(LogIndex(i)).unwrap().0).collect()
}

fn acked(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            Effect::Send(Message { body: Body::InstallSnapshotResponse { done: true, .. }, .. })
        )
    })
}

#[test]
fn snapshot_that_matches_the_log_keeps_the_entries_after_it() {
    // Raft §7 (Figure 13, rule 6): "If existing log entry has same index and term as
    // snapshot's last included entry, retain log entries following it and reply".
    let (raft, state, effects) = install(1, 3);
    assert_eq!(raft.snapshot_meta().index, LogIndex(3));
    assert_eq!(terms_after_snapshot(&raft), vec![1, 1], "entries 4 and 5 kept");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::ApplySnapshot(s) if s.data == data("state"))));
    assert!(acked(&effects));
    // Storage agrees: a restart sees the snapshot and the kept entries.
    let restarted = Raft::restart(config(2, &|_| {}), state);
    assert_eq!(restarted.snapshot_meta().index, LogIndex(3));
    assert_eq!(restarted.last_index(), LogIndex(5));
}

#[test]
fn snapshot_that_conflicts_with_the_log_replaces_it() {
    // Raft §7 (Figure 13, rule 7): otherwise "discard the entire log" and reset the state
    // machine from the snapshot.
    let (raft, state, effects) = install(2, 4);
    assert_eq!(raft.snapshot_meta().index, LogIndex(4));
    assert_eq!(raft.last_index(), LogIndex(4));
    assert_eq!(raft.commit_index(), LogIndex(4));
    assert!(effects.iter().any(|e| matches!(e, Effect::ApplySnapshot(_))));
    assert!(acked(&effects));
    assert!(state.entries.is_empty(), "the stored log is discarded too: {:?}", state.entries);
}

#[test]
fn snapshot_behind_the_commit_index_is_acknowledged_and_ignored() {
    // Raft §7: a snapshot that covers only what the follower has committed changes nothing.
    let (raft, _, effects) = install(1, 2);
    assert_eq!(raft.snapshot_meta().index, LogIndex(0));
    assert_eq!(raft.last_index(), LogIndex(5));
    assert!(!effects.iter().any(|e| matches!(e, Effect::ApplySnapshot(_))));
    assert!(acked(&effects));
}
