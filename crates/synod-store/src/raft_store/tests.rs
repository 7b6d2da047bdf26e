//! Tests of [`RaftStore`]: persist/load against the `DurableState::apply`
//! model, group commit, corruption detection, crash durability.

use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use synod_core::raft::{
    Config, DurableState, Entry, EntryPayload, HardState, Membership, PersistRequest, Raft,
};
use synod_core::{LogIndex, NodeId, Term};

use super::RaftStore;
use crate::test_util::{
    crash, crash_child_dir, entry, flip_bit_in_file, request, run_crash_child, snapshot,
};
use crate::StoreError;

fn open(dir: &Path) -> RaftStore {
    RaftStore::open(&dir.join("raft.redb")).unwrap()
}

/// Persists `reqs` in one call and applies them to `model`.
fn persist(store: &RaftStore, model: &mut DurableState, reqs: Vec<PersistRequest>) {
    store.persist(&reqs).unwrap();
    for req in &reqs {
        model.apply(req);
    }
}

fn entries(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    indexes.map(|i| entry(term, i, format!("cmd {i}").as_bytes())).collect()
}

#[test]
fn a_new_store_loads_the_empty_state() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(open(dir.path()).load().unwrap(), DurableState::default());
}

#[test]
fn hard_state_and_entries_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let hs = HardState { term: Term(3), vote: Some(NodeId(2)), commit: LogIndex(1) };
    let mut first = request(1);
    first.hard_state = Some(hs);
    first.entries = entries(3, 1..=4);
    let mut second = request(2);
    second.entries = vec![Entry { term: Term(3), index: LogIndex(5), payload: EntryPayload::Noop }];
    let mut third = request(3);
    third.entries = vec![Entry {
        term: Term(3),
        index: LogIndex(6),
        payload: EntryPayload::Membership(Membership::with_voters([NodeId(1), NodeId(2)])),
    }];
    persist(&store, &mut model, vec![first, second]);
    persist(&store, &mut model, vec![third]);
    drop(store);
    assert_eq!(open(dir.path()).load().unwrap(), model);
}

// Raft §5.3: a follower deletes a conflicting entry and all that follow it.
#[test]
fn truncation_replaces_a_conflicting_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let mut first = request(1);
    first.entries = entries(1, 1..=5);
    persist(&store, &mut model, vec![first]);
    let mut second = request(2);
    second.truncate_from = Some(LogIndex(3));
    second.entries = entries(2, 3..=4);
    persist(&store, &mut model, vec![second]);
    drop(store);
    let loaded = open(dir.path()).load().unwrap();
    assert_eq!(loaded, model);
    let terms: Vec<u64> = loaded.entries.iter().map(|e| e.term.0).collect();
    assert_eq!(terms, [1, 1, 2, 2]);
}

// Raft §7: a snapshot replaces the entries it covers; later ones are kept.
#[test]
fn compaction_keeps_entries_after_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let mut first = request(1);
    first.entries = entries(1, 1..=10);
    let mut second = request(2);
    // Several MiB of snapshot data, written in one record.
    let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    second.snapshot = Some(snapshot(6, 1, &data));
    persist(&store, &mut model, vec![first, second]);
    drop(store);
    let loaded = open(dir.path()).load().unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.entries.first().unwrap().index, LogIndex(7));
    assert_eq!(loaded.snapshot.unwrap().data.len(), 3 << 20);
}

// Raft §7: a follower that installs a snapshot past its log discards the log.
#[test]
fn installing_a_snapshot_past_the_log_discards_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let mut first = request(1);
    first.entries = entries(1, 1..=3);
    let mut install = request(2);
    install.snapshot = Some(snapshot(10, 2, b"state at 10"));
    install.truncate_from = Some(LogIndex(11));
    let mut next = request(3);
    next.entries = entries(2, 11..=12);
    persist(&store, &mut model, vec![first]);
    persist(&store, &mut model, vec![install, next]);
    drop(store);
    let loaded = open(dir.path()).load().unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.entries.iter().map(|e| e.index.0).collect::<Vec<_>>(), [11, 12]);
}

#[test]
fn group_commit_writes_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let mut first = request(1);
    first.entries = entries(1, 1..=2);
    persist(&store, &mut model, vec![first]);

    // Two valid requests, then one that would leave a gap (index 6 after 4).
    let mut a = request(2);
    a.hard_state = Some(HardState { term: Term(2), vote: None, commit: LogIndex(2) });
    a.entries = entries(2, 3..=3);
    let mut b = request(3);
    b.snapshot = Some(snapshot(2, 1, b"snap"));
    b.entries = entries(2, 4..=4);
    let mut gap = request(4);
    gap.entries = entries(2, 6..=6);
    let err = store.persist(&[a.clone(), b.clone(), gap]).unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("seq 4"), "{err}");
    assert_eq!(store.load().unwrap(), model, "nothing of the refused batch is visible");

    // Out of seq order: refused whole too.
    let err = store.persist(&[b.clone(), a.clone()]).unwrap_err();
    assert!(err.to_string().contains("out of order"), "{err}");
    assert_eq!(store.load().unwrap(), model);

    // The same valid requests alone go through.
    persist(&store, &mut model, vec![a, b]);
    drop(store);
    assert_eq!(open(dir.path()).load().unwrap(), model);
}

#[test]
fn a_snapshot_that_would_leave_a_gap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut model = DurableState::default();
    let mut first = request(1);
    first.snapshot = Some(snapshot(10, 1, b"s"));
    first.entries = entries(1, 11..=12);
    persist(&store, &mut model, vec![first]);
    // An older snapshot would leave entries 11.. after a snapshot at 5.
    let mut older = request(2);
    older.snapshot = Some(snapshot(5, 1, b"old"));
    assert!(matches!(store.persist(&[older]), Err(StoreError::Rejected { .. })));
    // Entries below the snapshot cannot be appended either.
    let mut below = request(3);
    below.truncate_from = Some(LogIndex(1));
    below.entries = entries(1, 1..=1);
    assert!(matches!(store.persist(&[below]), Err(StoreError::Rejected { .. })));
    assert_eq!(store.load().unwrap(), model);
}

#[test]
fn a_bad_checksum_names_file_table_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut first = request(1);
    first.entries = entries(1, 1..=3);
    store.persist(&[first]).unwrap();
    store.put_raw_log_record(2, &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    let err = store.load().unwrap_err();
    let expected =
        format!("checksum mismatch in {}, table raft_log, record index 2", store.path().display());
    assert_eq!(err.to_string(), expected);
    match err {
        StoreError::Corrupt { file, table, key } => {
            assert_eq!(
                (file.as_path(), table, key.as_str()),
                (store.path(), "raft_log", "index 2")
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_record_copied_under_another_index_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut first = request(1);
    first.entries = entries(1, 1..=2);
    store.persist(&[first]).unwrap();
    // A valid record of index 1, stored as index 2 (a misdirected write).
    let moved = crate::record::encode(&1u64.to_be_bytes(), &entry(1, 1, b"cmd 1"));
    store.put_raw_log_record(2, &moved);
    assert!(matches!(store.load(), Err(StoreError::Corrupt { key, .. }) if key == "index 2"));
}

#[test]
fn a_flipped_bit_in_a_log_record_on_disk_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut first = request(1);
    first.entries =
        vec![entry(1, 1, b"a"), entry(1, 2, b"MARKER-OF-ENTRY-TWO-0123456789"), entry(1, 3, b"c")];
    store.persist(&[first]).unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    flip_bit_in_file(&path, b"MARKER-OF-ENTRY-TWO-0123456789");
    let err = RaftStore::open(&path).unwrap().load().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("checksum mismatch in {}, table raft_log, record index 2", path.display())
    );
}

#[test]
fn a_flipped_bit_in_snapshot_data_on_disk_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut first = request(1);
    first.snapshot = Some(snapshot(4, 1, b"SNAPSHOT-DATA-MARKER-0123456789"));
    store.persist(&[first]).unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    flip_bit_in_file(&path, b"SNAPSHOT-DATA-MARKER-0123456789");
    let err = RaftStore::open(&path).unwrap().load().unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { table: "raft_snapshot", key, .. } if key == "data"),
        "{err}"
    );
}

/// What the child persists; everything it was told is durable.
fn crash_workload(dir: &Path) -> DurableState {
    let store = open(dir);
    let mut model = DurableState::default();
    for seq in 1..=20 {
        let mut req = request(seq);
        req.hard_state =
            Some(HardState { term: Term(seq), vote: Some(NodeId(1)), commit: LogIndex(seq) });
        req.entries = entries(seq, seq..=seq);
        persist(&store, &mut model, vec![req]);
    }
    model
}

// "Nothing acknowledged may be lost": once persist returns, a kill keeps it.
#[test]
fn acknowledged_persists_survive_a_crash() {
    if let Some(dir) = crash_child_dir() {
        crash_workload(&dir);
        crash();
    }
    let dir = tempfile::tempdir().unwrap();
    run_crash_child("raft_store::tests::acknowledged_persists_survive_a_crash", dir.path());
    let model = crash_workload(tempfile::tempdir().unwrap().path());
    assert_eq!(open(dir.path()).load().unwrap(), model);
}

/// One step of a random history, turned into a valid request against the
/// model by [`make_request`].
#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    a: u64,
    b: u64,
    hard_state: bool,
    end_batch: bool,
    reopen: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (0u8..5, 0u64..1000, 0u64..1000, any::<bool>(), any::<bool>(), 0u8..4).prop_map(
        |(kind, a, b, hard_state, end_batch, reopen)| Step {
            kind,
            a,
            b,
            hard_state,
            end_batch,
            reopen: reopen == 0,
        },
    );
    proptest::collection::vec(step, 1..40)
}

fn snapshot_index(m: &DurableState) -> u64 {
    m.snapshot.as_ref().map_or(0, |s| s.meta.index.0)
}

fn last_index(m: &DurableState) -> u64 {
    m.entries.last().map_or(snapshot_index(m), |e| e.index.0)
}

fn term_at(m: &DurableState, index: u64) -> u64 {
    m.entries
        .iter()
        .find(|e| e.index.0 == index)
        .map_or_else(|| m.snapshot.as_ref().map_or(0, |s| s.meta.term.0), |e| e.term.0)
}

fn random_entries(from: u64, count: u64, term: u64, seed: u64) -> Vec<Entry> {
    (from..from + count)
        .map(|index| {
            let payload = match (seed + index) % 3 {
                0 => EntryPayload::Noop,
                1 => EntryPayload::Command(Bytes::from(vec![
                    (seed % 256) as u8;
                    ((seed + index) % 200) as usize
                ])),
                _ => EntryPayload::Membership(Membership::with_voters([
                    NodeId(1),
                    NodeId(1 + index % 4),
                ])),
            };
            Entry { term: Term(term), index: LogIndex(index), payload }
        })
        .collect()
}

/// A request that the core could emit against durable state `m`: appends,
/// conflict truncations, compactions and snapshot installs.
fn make_request(m: &DurableState, seq: u64, step: &Step) -> PersistRequest {
    let (snap, last) = (snapshot_index(m), last_index(m));
    let term = m.hard_state.term.0.max(1);
    let mut req = request(seq);
    match step.kind {
        0 => req.entries = random_entries(last + 1, 1 + step.a % 5, term, step.b),
        1 => {
            let from = snap + 1 + step.a % (last - snap + 1);
            req.truncate_from = Some(LogIndex(from));
            req.entries = random_entries(from, step.b % 4, term + 1, step.b);
        }
        2 => {
            let index = snap + step.a % (last - snap + 1);
            req.snapshot =
                Some(snapshot(index, term_at(m, index), &vec![7; (step.b * 3) as usize]));
        }
        3 => {
            let index = snap + step.a % (last - snap + 4);
            req.snapshot = Some(snapshot(index, term + 1, &vec![9; step.b as usize]));
            req.truncate_from = Some(LogIndex((index + 1).saturating_sub(step.a % 3).max(1)));
            req.entries = random_entries(index + 1, step.b % 3, term + 1, step.b);
        }
        _ => {}
    }
    if step.hard_state || step.kind == 4 {
        let vote = (!step.b.is_multiple_of(3)).then_some(NodeId(step.b % 3));
        req.hard_state = Some(HardState {
            term: Term(term + step.a % 2),
            vote,
            commit: LogIndex(last.min(step.b)),
        });
    }
    req
}

fn proptest_config() -> ProptestConfig {
    // Every persist is an fsync: keep the default run short. More cases
    // with PROPTEST_CASES=1000; a failure is saved under
    // proptest-regressions/ and replayed first by the next run.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Random histories of group commits, reopening at random, always load
    /// exactly what `DurableState::apply` says — and `Raft::restart` takes it.
    #[test]
    fn persist_matches_the_durable_state_model(steps in steps()) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let mut model = DurableState::default();
        let mut pending = model.clone();
        let mut batch = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let req = make_request(&pending, i as u64 + 1, step);
            pending.apply(&req);
            batch.push(req);
            if step.end_batch || i + 1 == steps.len() {
                store.persist(&batch).unwrap();
                batch.clear();
                model = pending.clone();
                if step.reopen {
                    drop(store);
                    store = open(dir.path());
                }
                prop_assert_eq!(&store.load().unwrap(), &model);
            }
        }
        drop(store);
        let loaded = open(dir.path()).load().unwrap();
        prop_assert_eq!(&loaded, &model);
        let _ = Raft::restart(Config::new(NodeId(1)), loaded);
    }
}
