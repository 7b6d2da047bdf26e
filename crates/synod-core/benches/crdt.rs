//! Merge throughput of each CRDT type (issue item 11): one element is one
//! `merge` into a fresh copy of a replica's state (the copy is made outside
//! the timed part), so `thrpt` is merges per second.
//!
//! * `delta` — the common case on the fast path: a delta produced by one
//!   mutator on another replica, merged into a state of typical size
//!   (counters of 16 writers; registers of 100-byte strings; a set and a
//!   map of 1,000 entries);
//! * `state` — anti-entropy's case for collections: another replica's full
//!   state of 1,000 entries that differs from ours in 10.
//!
//! Run with
//! `cargo bench -p synod-core --bench crdt -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use synod_core::causality::HlcTimestamp;
use synod_core::crdt::{
    Crdt, DotFun, Flag, GCounter, LwwRegister, MvRegister, OrMap, OrSet, PnCounter,
};
use synod_core::NodeId;

const WRITERS: u64 = 16;
const ENTRIES: usize = 1_000;

fn text(i: u64) -> String {
    format!("{i:08} {}", "x".repeat(91))
}

/// Times `state.merge(other)` on a fresh clone of `state` each time.
fn bench_merge<T: Crdt>(c: &mut Criterion, name: &str, state: &T, other: &T) {
    let mut group = c.benchmark_group("crdt_merge");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter_batched_ref(|| state.clone(), |s| s.merge(black_box(other)), BatchSize::SmallInput)
    });
    group.finish();
}

fn counters(c: &mut Criterion) {
    let mut g = GCounter::new();
    let mut pn = PnCounter::new();
    for n in 1..=WRITERS {
        g.increment(NodeId(n), n * 10);
        pn.increment(NodeId(n), n * 10);
        pn.decrement(NodeId(n), n);
    }
    let (mut g2, mut pn2) = (g.clone(), pn.clone());
    bench_merge(c, "g_counter/delta", &g, &g2.increment(NodeId(3), 1));
    bench_merge(c, "pn_counter/delta", &pn, &pn2.decrement(NodeId(3), 1));
}

fn registers(c: &mut Criterion) {
    let ts = |wall_ms, node| HlcTimestamp { wall_ms, logical: 0, node: NodeId(node) };
    let mut lww = LwwRegister::new();
    lww.set(text(1), ts(1_000, 1));
    let delta = lww.clone().set(text(2), ts(2_000, 2));
    bench_merge(c, "lww_register/delta", &lww, &delta);

    // Three concurrent writes that have not seen each other, then a write
    // that has seen them all and replaces them.
    let mut mv: MvRegister<String> = MvRegister::default();
    for n in 1..=3 {
        let mut other: MvRegister<String> = MvRegister::default();
        mv.merge(&other.write(NodeId(n), text(n)));
    }
    let delta = mv.clone().write(NodeId(4), text(4));
    bench_merge(c, "mv_register/delta", &mv, &delta);
}

fn flag(c: &mut Criterion) {
    let mut flag = Flag::default();
    for n in 1..=3 {
        let mut other = Flag::default();
        flag.merge(&other.enable(NodeId(n)));
    }
    let delta = flag.clone().enable(NodeId(4));
    bench_merge(c, "flag/delta", &flag, &delta);
}

fn collections(c: &mut Criterion) {
    let element = |i: usize| format!("element/{i:06}");
    let mut set: OrSet<String> = OrSet::default();
    for i in 0..ENTRIES {
        set.add(NodeId(1 + i as u64 % WRITERS), element(i));
    }
    let mut other = set.clone();
    let delta = other.add(NodeId(7), element(ENTRIES));
    for i in 0..9 {
        other.add(NodeId(8), element(ENTRIES + 1 + i));
    }
    bench_merge(c, "or_set/delta", &set, &delta);
    bench_merge(c, "or_set/state", &set, &other);

    // A map of multi-value registers, the shape of a document of fields.
    let mut map: OrMap<String, DotFun<String>> = OrMap::default();
    for i in 0..ENTRIES {
        let node = NodeId(1 + i as u64 % WRITERS);
        map.apply(element(i), |reg| reg.write(node, text(i as u64)));
    }
    let mut other = map.clone();
    let delta = other.apply(element(5), |reg| reg.write(NodeId(9), text(5)));
    for i in 0..9 {
        other.apply(element(ENTRIES + i), |reg| reg.write(NodeId(9), text(i as u64)));
    }
    bench_merge(c, "or_map/delta", &map, &delta);
    bench_merge(c, "or_map/state", &map, &other);
}

criterion_group!(benches, counters, registers, flag, collections);
criterion_main!(benches);
