//! Property tests for the causal CRDTs: semilattice laws and delta-merge =
//! full-state merge (Almeida et al. 2018, §6). States are produced by
//! random operations on three replicas (nodes 1..=3) with random merges in
//! between, so every state is one a real replica could reach.

use super::proptests_lattice::{check_delta, check_laws};
use super::{Crdt, DotMap, DotSet, Flag, MvRegister, OrMap, OrSet};
use crate::NodeId;
use proptest::prelude::*;

/// `(replica, op kind, value)`; op kind `MERGE` merges another replica in.
pub(super) type Op = (usize, u8, u8);
const MERGE: u8 = 0;

pub(super) fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0usize..3, 0u8..5, 0u8..3), 0..25)
}

/// Runs `ops` on three replicas; `mutate(state, node, kind, value)` applies
/// every non-merge op and returns its delta.
fn run<C: Crdt + Default>(ops: &[Op], mutate: impl Fn(&mut C, NodeId, u8, u8) -> C) -> [C; 3] {
    run_from(Default::default(), ops, mutate)
}

/// [`run`] from the given replica states (replica `i` is node `i + 1`).
pub(super) fn run_from<C: Crdt>(
    mut r: [C; 3],
    ops: &[Op],
    mutate: impl Fn(&mut C, NodeId, u8, u8) -> C,
) -> [C; 3] {
    for &(i, kind, v) in ops {
        if kind == MERGE {
            let other = r[usize::from(v) % 3].clone();
            r[i].merge(&other);
        } else {
            mutate(&mut r[i], NodeId(i as u64 + 1), kind, v);
        }
    }
    r
}

pub(super) fn flag_op(f: &mut Flag, node: NodeId, kind: u8, _: u8) -> Flag {
    if kind % 2 == 1 {
        f.enable(node)
    } else {
        f.disable()
    }
}

pub(super) fn mv_op(r: &mut MvRegister<u8>, node: NodeId, kind: u8, v: u8) -> MvRegister<u8> {
    if kind == 4 {
        r.clear()
    } else {
        r.write(node, v)
    }
}

pub(super) fn set_op(s: &mut OrSet<u8>, node: NodeId, kind: u8, v: u8) -> OrSet<u8> {
    match kind {
        1 | 2 => s.add(node, v),
        3 => s.remove(&v),
        _ => s.clear(),
    }
}

/// A map of sets of small numbers: key `v % 2`, element `v`.
pub(super) type Nested = OrMap<u8, DotMap<u8, DotSet>>;

pub(super) fn map_op(m: &mut Nested, node: NodeId, kind: u8, v: u8) -> Nested {
    match kind {
        1 | 2 => m.apply(v % 2, |set| set.add(node, v)),
        3 => m.apply(v % 2, |set| set.remove(&v)),
        _ => m.remove(&(v % 2)),
    }
}

/// Laws on the three replicas reached by `ops`, and the delta property for
/// one more op on replica `a` against replica `b` that has merged `a`.
fn check_all<C: Crdt + Default + PartialEq + std::fmt::Debug>(
    ops: &[Op],
    extra: Op,
    mutate: impl Fn(&mut C, NodeId, u8, u8) -> C,
) -> Result<(), TestCaseError> {
    let [x, y, z] = run(ops, &mutate);
    check_laws(&x, &y, &z)?;
    let (i, kind, v) = extra;
    let kind = kind.max(1);
    let [mut a, mut b, _] = run(ops, &mutate);
    b.merge(&a);
    let delta = mutate(&mut a, NodeId(i as u64 + 1), kind, v);
    check_delta(&a, &b, &delta)
}

proptest! {
    #[test]
    fn flag_laws_and_delta(ops in ops(), extra in (0usize..1, 1u8..5, 0u8..3)) {
        check_all(&ops, extra, flag_op)?;
    }

    #[test]
    fn mv_register_laws_and_delta(ops in ops(), extra in (0usize..1, 1u8..5, 0u8..3)) {
        check_all(&ops, extra, mv_op)?;
    }

    #[test]
    fn or_set_laws_and_delta(ops in ops(), extra in (0usize..1, 1u8..5, 0u8..3)) {
        check_all(&ops, extra, set_op)?;
    }

    #[test]
    fn or_map_laws_and_delta(ops in ops(), extra in (0usize..1, 1u8..5, 0u8..3)) {
        check_all(&ops, extra, map_op)?;
    }

    // No tombstones that grow without bound: once every replica has merged
    // every other, the context is a bare version vector (empty dot cloud).
    #[test]
    fn or_set_context_compacts_after_full_exchange(ops in ops()) {
        let mut r = run(&ops, set_op);
        for _ in 0..2 {
            for i in 0..3 {
                for j in 0..3 {
                    let other = r[j].clone();
                    r[i].merge(&other);
                }
            }
        }
        prop_assert_eq!(&r[0], &r[1]);
        prop_assert_eq!(&r[1], &r[2]);
        prop_assert!(r[0].context.cloud().is_empty());
    }
}
