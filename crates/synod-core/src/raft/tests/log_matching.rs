//! Log matching (Raft §5.3): the consistency check, truncation of
//! conflicting entries, and fast backtracking.

use super::*;

fn follower(term: u64, terms: &[u64]) -> Raft {
    Raft::restart(config(2, &|_| {}), durable(&[1, 2, 3], (term, None, 0), terms))
}

fn append(term: u64, prev: (u64, u64), sent: Vec<Entry>) -> Message {
    let body = Body::AppendEntries {
        prev_log_index: LogIndex(prev.0),
        prev_log_term: Term(prev.1),
        entries: sent,
        leader_commit: LogIndex(0),
        read_seq: 0,
    };
    Message { from: n(1), to: n(2), term: Term(term), body }
}

/// Delivers `msg`, persists into `state`, returns the follower's answer
/// as (success, index, conflict_term, conflict_index).
fn answer(
    raft: &mut Raft,
    state: &mut DurableState,
    msg: Message,
) -> (bool, u64, Option<u64>, u64) {
    raft.handle_message(msg, Time(0));
    let mut reply = None;
    for _ in 0..2 {
        for effect in raft.take_effects() {
            match effect {
                Effect::Persist(req) => {
                    state.apply(&req);
                    raft.on_persisted(req.seq, Time(0));
                }
                Effect::Send(Message { body: Body::AppendEntriesResponse { .. }, .. }) => {
                    let Effect::Send(Message { body, .. }) = effect else { unreachable!() };
                    let Body::AppendEntriesResponse {
                        success,
                        index,
                        conflict_term,
                        conflict_index,
                        ..
                    } = body
                    else {
                        unreachable!()
                    };
                    reply = Some((success, index.0, conflict_term.map(|t| t.0), conflict_index.0));
                }
                _ => {}
            }
        }
    }
    reply.expect("an append response")
}

fn terms_of(raft: &Raft) -> Vec<u64> {
    (1..=raft.last_index().0).map(|i| raft.term_at(LogIndex(i)).unwrap().0).collect()
}

#[test]
fn rejects_append_whose_prev_entry_is_missing() {
    // Raft §5.3: the follower refuses new entries unless it holds prev_log_index with
    // prev_log_term; the hint is its last index plus one.
    let mut raft = follower(1, &[1, 1]);
    let mut state = DurableState::default();
    let reply = answer(&mut raft, &mut state, append(1, (5, 1), entries(&[1, 1, 1, 1, 1, 1])));
    assert_eq!(reply, (false, 5, None, 3));
    assert_eq!(terms_of(&raft), vec![1, 1]);
}

#[test]
fn rejects_append_whose_prev_term_differs() {
    // Raft §5.3: a prev entry of another term fails the check; the hint names that term
    // and the first index the follower stores for it.
    let mut raft = follower(3, &[1, 2, 2, 2]);
    let mut state = DurableState::default();
    let reply = answer(&mut raft, &mut state, append(3, (4, 3), vec![]));
    assert_eq!(reply, (false, 4, Some(2), 2));
    assert_eq!(terms_of(&raft), vec![1, 2, 2, 2]);
}

#[test]
fn conflicting_suffix_is_truncated_and_replaced() {
    // Raft §5.3 (Figure 2, receiver rule 3): if an existing entry conflicts with a new one
    // (same index, different term), delete it and all that follow it.
    let mut raft = follower(3, &[1, 2, 2]);
    let mut state = durable(&[1, 2, 3], (3, None, 0), &[1, 2, 2]);
    let new = entries(&[1, 3]).split_off(1);
    assert_eq!(answer(&mut raft, &mut state, append(3, (1, 1), new)), (true, 2, None, 0));
    assert_eq!(terms_of(&raft), vec![1, 3]);
    // The write told storage to drop the old suffix: a restart sees the same log.
    let stored: Vec<u64> = state.entries.iter().map(|e| e.term.0).collect();
    assert_eq!(stored, vec![1, 3]);
}

#[test]
fn delayed_append_does_not_truncate_matching_entries() {
    // Raft §5.3 (Figure 2): only a conflicting entry truncates; an older, shorter append
    // that matches must not drop entries received after it.
    let mut raft = follower(1, &[1, 1, 1]);
    let mut state = DurableState::default();
    let old = entries(&[1, 1]).split_off(1);
    assert_eq!(answer(&mut raft, &mut state, append(1, (1, 1), old)), (true, 2, None, 0));
    assert_eq!(terms_of(&raft), vec![1, 1, 1]);
    assert!(state.entries.is_empty(), "nothing to write");
}

/// The rejections n2 sent as (conflict_term, conflict_index).
fn rejections(cluster: &Cluster) -> Vec<(Option<u64>, u64)> {
    let from_n2 = |m: &Message| m.from == n(2);
    let rejected = cluster.sent_since(0, from_n2).into_iter().filter_map(|m| match m.body {
        Body::AppendEntriesResponse { success: false, conflict_term, conflict_index, .. } => {
            Some((conflict_term.map(|t| t.0), conflict_index.0))
        }
        _ => None,
    });
    rejected.collect()
}

#[test]
fn fast_backtracking_skips_terms_the_leader_lacks() {
    // Raft §5.3: with the conflicting term and its first index, the leader "bypass[es] all of
    // the conflicting entries in that term", one round trip per term instead of per entry.
    let leader_log = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let follower_log = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]; // Figure 7 (f)
    let states = vec![
        durable(&[1, 2, 3], (6, None, 3), &leader_log),
        durable(&[1, 2, 3], (6, None, 3), &follower_log),
        durable(&[1, 2, 3], (6, None, 3), &leader_log),
    ];
    let mut cluster = Cluster::from_durable(states, &|_| {});
    cluster.elect(1);
    // Terms 3 and 2 are skipped whole: two rejections for seven conflicting entries.
    assert_eq!(rejections(&cluster), vec![(Some(3), 7), (Some(2), 4)]);
    assert_eq!(cluster.log_terms(2), cluster.log_terms(1));
    assert_eq!(cluster.log_terms(2), vec![1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7]);
}

#[test]
fn fast_backtracking_resumes_after_leaders_last_entry_of_shared_term() {
    // Raft §5.3 (fast backtracking, as in the thesis §5.3 refinement): when the leader also
    // has the conflicting term, it resumes right after its own last entry of that term.
    let states = vec![
        durable(&[1, 2, 3], (4, None, 1), &[1, 2, 2, 4]),
        durable(&[1, 2, 3], (4, None, 1), &[1, 2, 2, 2, 2, 3]),
        durable(&[1, 2, 3], (4, None, 1), &[1, 2, 2, 4]),
    ];
    let mut cluster = Cluster::from_durable(states, &|_| {});
    cluster.elect(1);
    assert_eq!(rejections(&cluster), vec![(Some(2), 2)]);
    assert_eq!(cluster.log_terms(2), vec![1, 2, 2, 4, 5]);
}
