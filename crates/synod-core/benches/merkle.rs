//! Merkle tree costs on the anti-entropy path (issue item 11), at the
//! default depth of 12 (4,096 leaves):
//!
//! * `merkle/upsert/N`: change one key's entry digest in a tree of N keys
//!   (one leaf rehash plus 12 node hashes) — target < 5 µs;
//! * `merkle/root_compare`: are two replicas' roots equal — target < 100 ns;
//! * `merkle/diff_1pct/N`: the keys that differ between two trees of N keys
//!   that disagree on 1 % of them — target < 1 ms at N = 100,000;
//! * `merkle/build/N`: a tree built from scratch, for context (a node
//!   rebuilds its tree at start-up).
//!
//! Keys look like `key/00001234`; entry digests come from
//! [`entry_digest`]. Run with
//! `cargo bench -p synod-core --bench merkle -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use synod_core::merkle::{entry_digest, Digest, MerkleTree, DEPTH_DEFAULT, EMPTY};

const SIZES: [usize; 2] = [4_096, 100_000];

fn key(i: usize) -> Vec<u8> {
    format!("key/{i:08}").into_bytes()
}

fn digest(i: usize, version: u64) -> Digest {
    entry_digest(&key(i), &version.to_be_bytes(), &EMPTY)
}

fn tree(n: usize) -> MerkleTree {
    MerkleTree::from_entries(DEPTH_DEFAULT, (0..n).map(|i| (key(i), digest(i, 1))))
        .expect("default depth is valid")
}

/// A copy of `tree(n)` that disagrees on 1 % of the keys: half of them
/// updated, a quarter missing, a quarter extra.
fn diverged(n: usize) -> (MerkleTree, usize) {
    let mut b = tree(n);
    let changed = n / 100;
    for j in 0..changed {
        // Spread the changed keys over the key space.
        let i = j * 100 + 37;
        match j % 4 {
            0 | 1 => b.upsert(&key(i), digest(i, 2)),
            2 => b.remove(&key(i)),
            _ => b.upsert(&key(n + j), digest(n + j, 1)),
        };
    }
    (b, changed)
}

fn upsert(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle/upsert");
    for n in SIZES {
        let mut t = tree(n);
        let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
        let mut round = 0u64;
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                // A fresh digest every time, so that every upsert rehashes.
                round += 1;
                let mut d = [0u8; 32];
                d[..8].copy_from_slice(&round.to_le_bytes());
                let k = &keys[(round as usize).wrapping_mul(7919) % n];
                black_box(t.upsert(k, d))
            })
        });
    }
    group.finish();
}

fn root_compare(c: &mut Criterion) {
    let (a, b) = (tree(100_000), tree(100_000));
    c.bench_function("merkle/root_compare", |bench| {
        bench.iter(|| black_box(&a).root() == black_box(&b).root())
    });
}

fn diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle/diff_1pct");
    for n in SIZES {
        let a = tree(n);
        let (b, changed) = diverged(n);
        assert_eq!(a.diff(&b).len(), changed, "the diff finds every changed key");
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| black_box(&a).diff(black_box(&b)))
        });
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle/build");
    group.sample_size(10);
    for n in SIZES {
        let entries: Vec<(Vec<u8>, Digest)> = (0..n).map(|i| (key(i), digest(i, 1))).collect();
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter_batched(
                || entries.clone(),
                |entries| MerkleTree::from_entries(DEPTH_DEFAULT, entries),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, upsert, root_compare, diff, build);
criterion_main!(benches);
