//! Tests of [`KvStore`]: etcd-like semantics, ranges, snapshots, corruption
//! detection, crash recovery by replay, and a model-based property test.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use synod_core::raft::{Entry, EntryPayload, Membership};
use synod_core::{LogIndex, NodeId, Term};

use super::{Expect, KeyValue, KvCommand, KvOptions, KvResult, KvStore, RANGE_LIMIT_MAX};
use crate::test_util::{crash, crash_child_dir, flip_bit_in_file, run_crash_child};
use crate::StoreError;

fn open(dir: &Path) -> KvStore {
    KvStore::open(&dir.join("kv.redb")).unwrap()
}

fn command(index: u64, cmd: &KvCommand) -> Entry {
    Entry {
        term: Term(1),
        index: LogIndex(index),
        payload: EntryPayload::Command(cmd.encode().into()),
    }
}

fn put(key: &str, value: &str) -> KvCommand {
    KvCommand::Put { key: key.into(), value: value.into() }
}

fn delete(key: &str) -> KvCommand {
    KvCommand::Delete { key: key.into() }
}

fn cas(key: &str, expect: Expect, value: &str) -> KvCommand {
    KvCommand::CompareAndSwap { key: key.into(), expect, value: value.into() }
}

/// Applies `cmds` as entries `applied + 1 ..` in one batch; their results.
fn apply(store: &mut KvStore, cmds: &[KvCommand]) -> Vec<KvResult> {
    let start = store.applied_index().0 + 1;
    let entries: Vec<Entry> = cmds.iter().zip(start..).map(|(cmd, i)| command(i, cmd)).collect();
    let results = store.apply(&entries).unwrap();
    assert_eq!(
        results.iter().map(|(i, _)| i.0).collect::<Vec<_>>(),
        (start..start + cmds.len() as u64).collect::<Vec<_>>()
    );
    results.into_iter().map(|(_, r)| r).collect()
}

fn kv(key: &str, value: &str, create_revision: u64, mod_revision: u64, version: u64) -> KeyValue {
    KeyValue { key: key.into(), value: value.into(), create_revision, mod_revision, version }
}

/// Everything the store holds, to compare states.
fn dump(store: &KvStore) -> (LogIndex, Vec<KeyValue>) {
    (store.applied_index(), store.range(b"", 0).unwrap())
}

#[test]
fn revisions_are_log_indexes_and_versions_count_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let results = apply(&mut store, &[put("a", "1"), put("b", "x"), put("a", "2")]);
    assert_eq!(results[0], KvResult::Put { revision: 1, prev: None });
    assert_eq!(results[2], KvResult::Put { revision: 3, prev: Some(kv("a", "1", 1, 1, 1)) });
    assert_eq!(store.get(b"a").unwrap(), Some(kv("a", "2", 1, 3, 2)));
    assert_eq!(store.get(b"b").unwrap(), Some(kv("b", "x", 2, 2, 1)));
    assert_eq!(store.get(b"c").unwrap(), None);
    assert_eq!(store.applied_index(), LogIndex(3));
}

#[test]
fn delete_returns_the_previous_key_and_recreation_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("a", "1"), put("a", "2")]);
    let results = apply(&mut store, &[delete("a"), delete("a"), put("a", "3")]);
    assert_eq!(results[0], KvResult::Delete { revision: 3, prev: Some(kv("a", "2", 1, 2, 2)) });
    assert_eq!(results[1], KvResult::Delete { revision: 4, prev: None });
    assert_eq!(store.get(b"a").unwrap(), Some(kv("a", "3", 5, 5, 1)));
}

#[test]
fn compare_and_swap_by_value_revision_and_absence() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let r = apply(
        &mut store,
        &[
            cas("k", Expect::Absent, "v1"),             // 1: created
            cas("k", Expect::Absent, "no"),             // 2: exists
            cas("k", Expect::Value("v1".into()), "v2"), // 3: matches
            cas("k", Expect::Value("v1".into()), "no"), // 4: stale value
            cas("k", Expect::Revision(3), "v3"),        // 5: matches mod_revision 3
            cas("k", Expect::Revision(3), "no"),        // 6: stale revision
            cas("n", Expect::Revision(0), "new"),       // 7: revision 0 = absent
            cas("m", Expect::Value(Vec::new()), "no"),  // 8: absent is not ""
        ],
    );
    let succeeded: Vec<bool> = r.iter().map(KvResult::is_success).collect();
    assert_eq!(succeeded, [true, false, true, false, true, false, true, false]);
    assert_eq!(
        r[3],
        KvResult::CompareAndSwap {
            revision: 4,
            succeeded: false,
            prev: Some(kv("k", "v2", 1, 3, 2))
        }
    );
    assert_eq!(store.get(b"k").unwrap(), Some(kv("k", "v3", 1, 5, 3)));
    assert_eq!(store.get(b"n").unwrap(), Some(kv("n", "new", 7, 7, 1)));
    assert_eq!(store.get(b"m").unwrap(), None);
}

#[test]
fn range_selects_by_prefix_in_key_order_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(
        &mut store,
        &[put("b/1", "x"), put("a/2", "x"), put("a/1", "x"), put("a", "x"), put("a/3", "x")],
    );
    let keys = |kvs: Vec<KeyValue>| {
        kvs.into_iter().map(|kv| String::from_utf8(kv.key).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(keys(store.range(b"a/", 0).unwrap()), ["a/1", "a/2", "a/3"]);
    assert_eq!(keys(store.range(b"a/", 2).unwrap()), ["a/1", "a/2"]);
    assert_eq!(keys(store.range(b"a", 0).unwrap()), ["a", "a/1", "a/2", "a/3"]);
    assert_eq!(keys(store.range(b"", 0).unwrap()).len(), 5);
    assert!(store.range(b"c", 0).unwrap().is_empty());
    assert!(store.range(&[0xff], 0).unwrap().is_empty());
}

#[test]
fn range_after_pages_through_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(
        &mut store,
        &[put("a", "x"), put("p/1", "x"), put("p/2", "x"), put("p/3", "x"), put("q", "x")],
    );
    let keys = |kvs: Vec<KeyValue>| {
        kvs.into_iter().map(|kv| String::from_utf8(kv.key).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(keys(store.range_after(b"p/", b"p/1", 0).unwrap()), ["p/2", "p/3"]);
    assert_eq!(keys(store.range_after(b"p/", b"p/2", 1).unwrap()), ["p/3"]);
    assert!(store.range_after(b"p/", b"p/3", 0).unwrap().is_empty());
    // A cursor before the prefix, or empty, starts at the prefix.
    assert_eq!(keys(store.range_after(b"p/", b"a", 0).unwrap()), ["p/1", "p/2", "p/3"]);
    assert_eq!(keys(store.range_after(b"p/", b"", 2).unwrap()), ["p/1", "p/2"]);
}

#[test]
fn range_is_capped_at_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let cmds: Vec<KvCommand> =
        (0..RANGE_LIMIT_MAX + 5).map(|i| put(&format!("k{i:06}"), "")).collect();
    apply(&mut store, &cmds);
    assert_eq!(store.range(b"k", 0).unwrap().len(), RANGE_LIMIT_MAX);
    assert_eq!(store.range(b"k", usize::MAX).unwrap().len(), RANGE_LIMIT_MAX);
}

#[test]
fn noop_membership_and_malformed_entries_advance_the_applied_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let entries = [
        Entry { term: Term(1), index: LogIndex(1), payload: EntryPayload::Noop },
        Entry {
            term: Term(1),
            index: LogIndex(2),
            payload: EntryPayload::Command(Bytes::from_static(b"\x07junk")),
        },
        command(3, &put("a", "1")),
        Entry {
            term: Term(1),
            index: LogIndex(4),
            payload: EntryPayload::Membership(Membership::with_voters([NodeId(1)])),
        },
    ];
    let results = store.apply(&entries).unwrap();
    assert_eq!(results.len(), 2, "one result per command entry");
    assert_eq!(results[0].0, LogIndex(2));
    assert!(
        matches!(&results[0].1, KvResult::Invalid(reason) if reason.contains("format byte 7")),
        "{results:?}"
    );
    assert_eq!(results[1], (LogIndex(3), KvResult::Put { revision: 3, prev: None }));
    assert_eq!(store.applied_index(), LogIndex(4));
}

#[test]
fn replayed_entries_are_skipped_and_gaps_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("a", "1"), put("a", "2")]);
    let before = dump(&store);
    // A replay of 1..=2 changes nothing; 1..=3 applies only 3.
    assert!(store
        .apply(&[command(1, &put("a", "x")), command(2, &put("a", "y"))])
        .unwrap()
        .is_empty());
    assert_eq!(dump(&store), before);
    let results = store.apply(&[command(2, &put("a", "y")), command(3, &put("b", "1"))]).unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, LogIndex(3));
    // Index 5 after 3 is a gap: refused, state unchanged.
    let before = dump(&store);
    let err = store.apply(&[command(5, &put("c", "1"))]).unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    assert_eq!(dump(&store), before);
}

#[test]
fn state_survives_reopen_after_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("a", "1"), put("b", "2"), delete("a")]);
    store.sync().unwrap();
    let before = dump(&store);
    drop(store);
    assert_eq!(dump(&open(dir.path())), before);
}

#[test]
fn snapshot_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = KvStore::open(&dir.path().join("a.redb")).unwrap();
    apply(&mut source, &[put("a", "1"), put("b", "2"), put("a", "3"), delete("b"), put("c", "")]);
    apply(&mut source, &[cas("c", Expect::Revision(5), "4")]);
    let (index, data) = source.snapshot().unwrap();
    assert_eq!(index, LogIndex(6));

    let mut target = KvStore::open(&dir.path().join("b.redb")).unwrap();
    apply(&mut target, &[put("stale", "x")]);
    target.restore(&data).unwrap();
    assert_eq!(dump(&target), dump(&source), "restore replaces everything");

    // Both go on identically, and the restored state is durable.
    let more = [put("a", "9"), cas("c", Expect::Value("4".into()), "5")];
    assert_eq!(apply(&mut source, &more), apply(&mut target, &more));
    assert_eq!(dump(&target), dump(&source));
    drop(target);
    let target = KvStore::open(&dir.path().join("b.redb")).unwrap();
    assert!(target.applied_index() >= LogIndex(6));
}

#[test]
fn garbage_snapshots_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("a", "1"), put("b", "2")]);
    let (_, good) = store.snapshot().unwrap();
    apply(&mut store, &[put("c", "3")]);
    let before = dump(&store);

    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 0x10;
    let mut trailing = good.clone();
    trailing.push(0);
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("random", (0..500u32).map(|i| (i * 37 % 256) as u8).collect()),
        ("truncated", good[..good.len() - 3].to_vec()),
        ("flipped", flipped),
        ("trailing", trailing),
        ("bad magic", bad_magic),
        ("a command", put("a", "b").encode()),
    ];
    for (name, data) in garbage {
        let err = store.restore(&data).unwrap_err();
        assert!(matches!(err, StoreError::InvalidSnapshot { .. }), "{name}: {err}");
        assert_eq!(dump(&store), before, "{name}");
    }
}

#[test]
fn a_bad_checksum_is_reported_by_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("good", "1"), put("bad/key", "2")]);
    store.put_raw(b"bad/key", &[1, 2, 3, 4, 5, 6]);
    let expected = format!(
        "checksum mismatch in {}, table kv_data, record key \"bad/key\"",
        store.path().display()
    );
    assert_eq!(store.get(b"bad/key").unwrap_err().to_string(), expected);
    assert_eq!(store.range(b"", 0).unwrap_err().to_string(), expected);
    assert_eq!(store.snapshot().unwrap_err().to_string(), expected);
    // A write that reads the record fails too, and applies nothing.
    let err = store
        .apply(&[command(3, &put("good", "x")), command(4, &put("bad/key", "3"))])
        .unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert_eq!(store.applied_index(), LogIndex(2));
    assert_eq!(store.get(b"good").unwrap().unwrap().value, b"1");
}

#[test]
fn a_flipped_bit_in_a_value_on_disk_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    apply(&mut store, &[put("a", "1"), put("victim", "VALUE-MARKER-0123456789"), put("z", "2")]);
    store.sync().unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    flip_bit_in_file(&path, b"VALUE-MARKER-0123456789");
    let store = KvStore::open(&path).unwrap();
    assert_eq!(store.get(b"a").unwrap().unwrap().value, b"1");
    let err = store.get(b"victim").unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { table: "kv_data", key, .. } if key == "key \"victim\""),
        "{err}"
    );
}

/// 10 batches of 3 writes; with `sync_every_batches` 4 the 4th and 8th
/// batches fsync.
fn crash_workload(store: &mut KvStore) {
    for batch in 0..10 {
        let cmds: Vec<KvCommand> =
            (0..3).map(|i| put(&format!("k{i}"), &format!("b{batch}"))).collect();
        apply(store, &cmds);
    }
}

// The log is the source of truth: a crash may lose unsynced batches, the
// applied index says so, and replaying the log from there converges.
#[test]
fn after_a_crash_replay_from_the_applied_index_converges() {
    let options = KvOptions { sync_every_batches: 4 };
    if let Some(dir) = crash_child_dir() {
        let mut store = KvStore::open_with(&dir.join("kv.redb"), options).unwrap();
        crash_workload(&mut store);
        crash();
    }
    let dir = tempfile::tempdir().unwrap();
    run_crash_child("kv::tests::after_a_crash_replay_from_the_applied_index_converges", dir.path());
    let mut reference = KvStore::open_with(&dir.path().join("reference.redb"), options).unwrap();
    crash_workload(&mut reference);

    let mut store = KvStore::open_with(&dir.path().join("kv.redb"), options).unwrap();
    assert_eq!(store.applied_index(), LogIndex(24), "state of the last fsync'd batch (the 8th)");
    // Replay the whole log: entries up to 24 are skipped, 25..=30 re-applied.
    let log: Vec<Entry> = (0..10)
        .flat_map(|batch| (0..3).map(move |i| (batch, i)))
        .zip(1..)
        .map(|((batch, i), index)| command(index, &put(&format!("k{i}"), &format!("b{batch}"))))
        .collect();
    assert_eq!(store.apply(&log).unwrap().len(), 6);
    assert_eq!(dump(&store), dump(&reference));
}

/// The model: a map of keys to their state, applying commands like etcd.
fn model_apply(model: &mut BTreeMap<Vec<u8>, KeyValue>, rev: u64, cmd: &KvCommand) -> KvResult {
    if let KvCommand::Batch { puts, deletes } = cmd {
        for key in deletes {
            model.remove(key);
        }
        for (key, value) in puts {
            let prev = model.get(key);
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: prev.map_or(rev, |p| p.create_revision),
                mod_revision: rev,
                version: prev.map_or(1, |p| p.version + 1),
            };
            model.insert(key.clone(), kv);
        }
        return KvResult::Batch { revision: rev };
    }
    let prev = cmd.key().and_then(|key| model.get(key)).cloned();
    let mut write = |key: &Vec<u8>, value: &Vec<u8>| {
        let kv = KeyValue {
            key: key.clone(),
            value: value.clone(),
            create_revision: prev.as_ref().map_or(rev, |p| p.create_revision),
            mod_revision: rev,
            version: prev.as_ref().map_or(1, |p| p.version + 1),
        };
        model.insert(key.clone(), kv);
    };
    match cmd {
        KvCommand::Put { key, value } => {
            write(key, value);
            KvResult::Put { revision: rev, prev }
        }
        KvCommand::Delete { key } => {
            model.remove(key);
            KvResult::Delete { revision: rev, prev }
        }
        KvCommand::CompareAndSwap { key, expect, value } => {
            let succeeded = match expect {
                Expect::Value(v) => prev.as_ref().is_some_and(|p| p.value == *v),
                Expect::Revision(r) => prev.as_ref().map_or(0, |p| p.mod_revision) == *r,
                Expect::Absent => prev.is_none(),
            };
            if succeeded {
                write(key, value);
            }
            KvResult::CompareAndSwap { revision: rev, succeeded, prev }
        }
        KvCommand::Batch { .. } => unreachable!("handled above"),
    }
}

fn kv_command() -> impl Strategy<Value = KvCommand> {
    let key =
        prop::sample::select(vec![b"a".to_vec(), b"a/1".to_vec(), b"a/2".to_vec(), b"b".to_vec()]);
    let value = prop::sample::select(vec![b"".to_vec(), b"x".to_vec(), b"y".to_vec()]);
    let expect = prop_oneof![
        value.clone().prop_map(Expect::Value),
        (0u64..12).prop_map(Expect::Revision),
        Just(Expect::Absent),
    ];
    prop_oneof![
        (key.clone(), value.clone()).prop_map(|(key, value)| KvCommand::Put { key, value }),
        key.clone().prop_map(|key| KvCommand::Delete { key }),
        (key.clone(), expect, value.clone())
            .prop_map(|(key, expect, value)| { KvCommand::CompareAndSwap { key, expect, value } }),
        (prop::collection::vec((key.clone(), value), 0..3), prop::collection::vec(key, 0..2))
            .prop_map(|(puts, deletes)| KvCommand::Batch { puts, deletes }),
    ]
}

proptest! {
    /// Random batches of commands give the model's results and state, and
    /// a snapshot taken at any point restores to the same state.
    #[test]
    fn apply_matches_the_model(batches in prop::collection::vec(prop::collection::vec(kv_command(), 0..6), 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let mut model = BTreeMap::new();
        let mut index = 0;
        for batch in &batches {
            let entries: Vec<Entry> = batch.iter().map(|cmd| { index += 1; command(index, cmd) }).collect();
            let results = store.apply(&entries).unwrap();
            for ((at, result), cmd) in results.iter().zip(batch) {
                prop_assert_eq!(result, &model_apply(&mut model, at.0, cmd));
            }
            prop_assert_eq!(store.range(b"", 0).unwrap(), model.values().cloned().collect::<Vec<_>>());
        }
        let (at, data) = store.snapshot().unwrap();
        prop_assert_eq!(at, LogIndex(index));
        let mut restored = KvStore::open(&dir.path().join("restored.redb")).unwrap();
        restored.restore(&data).unwrap();
        prop_assert_eq!(dump(&restored), dump(&store));
    }
}
