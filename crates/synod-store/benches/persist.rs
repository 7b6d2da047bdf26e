//! Group-commit throughput of `RaftStore::persist`, with fsync: one persist
//! call of 1 entry (one commit per fsync) against one of 256 entries.
//! Entries carry a 100-byte command, like a small KV put.
//!
//! `cargo bench -p synod-store --bench persist` (files go to a tempdir
//! under /tmp, or $TMPDIR).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use synod_core::raft::{Entry, EntryPayload, PersistRequest};
use synod_core::{LogIndex, Term};
use synod_store::RaftStore;

const PAYLOAD_BYTES: usize = 100;

fn request(seq: u64, first: u64, count: u64) -> PersistRequest {
    let payload = Bytes::from(vec![0xab; PAYLOAD_BYTES]);
    let entries = (first..first + count)
        .map(|i| Entry {
            term: Term(1),
            index: LogIndex(i),
            payload: EntryPayload::Command(payload.clone()),
        })
        .collect();
    PersistRequest { seq, hard_state: None, snapshot: None, truncate_from: None, entries }
}

fn persist(c: &mut Criterion) {
    let mut group = c.benchmark_group("persist");
    for batch in [1u64, 256] {
        let dir = tempfile::tempdir().unwrap();
        let store = RaftStore::open(&dir.path().join("raft.redb")).unwrap();
        let mut next = 1;
        let mut seq = 0;
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("{batch}_entries_per_fsync"), |b| {
            b.iter_batched(
                || {
                    seq += 1;
                    next += batch;
                    request(seq, next - batch, batch)
                },
                |req| store.persist(black_box(std::slice::from_ref(&req))).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, persist);
criterion_main!(benches);
