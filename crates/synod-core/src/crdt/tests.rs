//! Unit tests: the conflict-resolution rules, each with its source.

use super::{
    Crdt, DotFun, DotSet, Flag, GCounter, LwwRegister, MvRegister, OrMap, OrSet, PnCounter,
};
use crate::causality::HlcTimestamp;
use crate::NodeId;

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);

fn joined<C: Crdt>(a: &C, b: &C) -> C {
    let mut c = a.clone();
    c.merge(b);
    c
}

// Almeida et al. 2018 Fig. 8 (AWORSet) / Shapiro et al. 2011 Spec. 15: an
// add concurrent with a remove of the same element wins.
#[test]
fn or_set_add_wins_over_concurrent_remove() {
    let mut a = OrSet::default();
    a.add(N1, "x");
    let mut b = a.clone();

    // --- concurrently: a re-adds "x", b removes the "x" it observed
    a.add(N1, "x");
    b.remove(&"x");
    assert!(!b.contains(&"x"));

    // --- after exchange both hold "x"
    let ab = joined(&a, &b);
    assert!(ab.contains(&"x"));
    assert_eq!(ab, joined(&b, &a));
}

#[test]
fn or_set_remove_of_observed_add_sticks_and_leaves_no_tombstone() {
    let mut a = OrSet::default();
    let d1 = a.add(N1, 7u8);
    let mut b = OrSet::default();
    b.merge_delta(&d1);
    let d2 = b.remove(&7);
    // A duplicated, re-ordered delivery of the old add does not resurrect it.
    a.merge_delta(&d2);
    a.merge_delta(&d1);
    assert!(!a.contains(&7));
    assert!(a.store.is_empty() && a.context.cloud().is_empty());
    assert_eq!(a.context.version_vector().get(N1), 1);
}

// Almeida et al. 2018 Fig. 6 (EWFlag): enable wins over a concurrent disable.
#[test]
fn flag_enable_wins() {
    let mut a = Flag::default();
    a.enable(N1);
    let mut b = a.clone();
    a.enable(N1);
    b.disable();
    assert!(joined(&a, &b).is_enabled());
    assert!(joined(&b, &a).is_enabled());

    // A disable that has seen every enable wins.
    let mut c = joined(&a, &b);
    c.disable();
    assert!(!joined(&a, &c).is_enabled());
}

// Shapiro et al. 2011 Spec. 8, with HLC timestamps: the greatest timestamp
// wins; equal (wall_ms, logical) are ordered by node id.
#[test]
fn lww_ties_broken_by_node_id() {
    let at = |node| HlcTimestamp { wall_ms: 10, logical: 0, node };
    let mut a = LwwRegister::new();
    a.set("from n2", at(N2));
    let mut b = LwwRegister::new();
    b.set("from n3", at(N3));
    assert_eq!(joined(&a, &b).get(), Some(&"from n3"));
    assert_eq!(joined(&b, &a).get(), Some(&"from n3"));

    let later = HlcTimestamp { wall_ms: 10, logical: 1, node: N1 };
    a.set("later", later);
    assert_eq!(joined(&a, &b).get(), Some(&"later"));
}

// Almeida et al. 2018 Fig. 7 / Shapiro et al. 2011 Spec. 10: concurrent
// writes are all kept; a write that saw them replaces them all.
#[test]
fn mv_register_keeps_concurrent_values() {
    let mut a: MvRegister<u8> = MvRegister::default();
    a.write(N1, 1);
    let mut b = a.clone();
    a.write(N1, 2);
    b.write(N2, 3);
    let mut c = joined(&a, &b);
    assert_eq!(c.values().copied().collect::<Vec<_>>(), vec![2, 3]);
    c.write(N3, 4);
    assert_eq!(joined(&c, &a).values().copied().collect::<Vec<_>>(), vec![4]);
}

// Almeida et al. 2018 §7.3: removing a key removes only the observed dots;
// a concurrent nested update survives, without the removed state.
#[test]
fn or_map_remove_vs_concurrent_update() {
    let mut a: OrMap<&str, DotFun<u8>> = OrMap::default();
    a.apply("k", |r| r.write(N1, 1));
    let mut b = a.clone();
    a.remove(&"k");
    b.apply("k", |r| r.write(N2, 2));
    let m = joined(&a, &b);
    let values: Vec<u8> = m.get(&"k").unwrap().iter().map(|(_, v)| *v).collect();
    assert_eq!(values, vec![2]);
    assert_eq!(m, joined(&b, &a));

    let mut flags: OrMap<u8, DotSet> = OrMap::default();
    let d = flags.apply(1, |f| f.enable(N1));
    assert_eq!(d.len(), 1);
    flags.apply(1, |f| f.disable());
    assert!(flags.is_empty());
}

#[test]
fn counters_count_and_prune() {
    let mut a = GCounter::new();
    let mut b = GCounter::new();
    a.increment(N1, 3);
    b.increment(N2, 4);
    let mut c = joined(&a, &b);
    c.merge(&a.increment(N1, 1));
    assert_eq!(c.value(), 8);
    c.prune(N2, N1);
    assert_eq!((c.value(), c.get(N2), c.get(N1)), (8, 0, 8));

    let mut p = PnCounter::new();
    let d = p.decrement(N1, 5);
    let mut q = PnCounter::new();
    q.increment(N2, 2);
    q.merge_delta(&d);
    assert_eq!(q.value(), -3);
}
