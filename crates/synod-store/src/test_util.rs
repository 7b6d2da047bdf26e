//! Helpers shared by this crate's tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use synod_core::raft::{Entry, EntryPayload, Membership, PersistRequest, Snapshot, SnapshotMeta};
use synod_core::{LogIndex, NodeId, Term};

/// Set in the environment of a crash child to the directory it works in.
const CRASH_CHILD_ENV: &str = "SYNOD_STORE_CRASH_CHILD";
/// The exit code of a child that reached its simulated crash.
const CRASH_EXIT_CODE: i32 = 42;

/// A command entry.
pub fn entry(term: u64, index: u64, data: &[u8]) -> Entry {
    Entry {
        term: Term(term),
        index: LogIndex(index),
        payload: EntryPayload::Command(Bytes::copy_from_slice(data)),
    }
}

/// A persist request with only `seq` set.
pub fn request(seq: u64) -> PersistRequest {
    PersistRequest {
        seq,
        hard_state: None,
        snapshot: None,
        truncate_from: None,
        entries: Vec::new(),
    }
}

/// A snapshot at `index` of a three-voter cluster.
pub fn snapshot(index: u64, term: u64, data: &[u8]) -> Snapshot {
    let membership = Membership::with_voters([NodeId(1), NodeId(2), NodeId(3)]);
    Snapshot {
        meta: SnapshotMeta { index: LogIndex(index), term: Term(term), membership },
        data: Bytes::copy_from_slice(data),
    }
}

/// Flips one bit in the middle of every occurrence of `marker` in `file`
/// (redb may keep stale copies in free pages), as a failing disk would.
pub fn flip_bit_in_file(file: &Path, marker: &[u8]) {
    let mut bytes = std::fs::read(file).unwrap();
    let hits: Vec<usize> = bytes
        .windows(marker.len())
        .enumerate()
        .filter(|(_, window)| *window == marker)
        .map(|(i, _)| i)
        .collect();
    assert!(!hits.is_empty(), "marker not found in {}", file.display());
    for hit in hits {
        bytes[hit + marker.len() / 2] ^= 0x01;
    }
    std::fs::write(file, bytes).unwrap();
}

/// When this process is a crash child, the directory it must work in.
pub fn crash_child_dir() -> Option<PathBuf> {
    std::env::var_os(CRASH_CHILD_ENV).map(PathBuf::from)
}

/// Ends a crash child at once: no destructor runs, so no database is
/// closed cleanly, as when a node is killed.
pub fn crash() -> ! {
    std::process::exit(CRASH_EXIT_CODE)
}

/// Runs the test `name` (its path inside this crate) again in a child
/// process working in `dir`, and checks that it reached [`crash`].
pub fn run_crash_child(name: &str, dir: &Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD_ENV, dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(CRASH_EXIT_CODE),
        "crash child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
