//! Property tests for pruning the state of a node removed from the
//! cluster. Node 3 works alongside nodes 1 and 2, its last updates reach
//! every replica (the agreed point), then every replica prunes it into a
//! survivor. Pruning must keep the value, stop naming node 3, commute
//! with merge (so pruned replicas keep converging) and commute with the
//! operations that follow.

use super::proptests_causal::{flag_op, map_op, mv_op, ops, run_from, set_op, Nested, Op};
use super::proptests_lattice::{check_delta, check_laws};
use super::{Causal, Crdt, DotStore, Flag, GCounter, MvRegister, OrSet, PnCounter};
use crate::NodeId;
use proptest::prelude::*;
use std::fmt::Debug;

const GONE: NodeId = NodeId(3);

fn joined<C: Crdt>(a: &C, b: &C) -> C {
    let mut c = a.clone();
    c.merge(b);
    c
}

/// True when a dot of the store or of the context names `node`.
fn names<S: DotStore>(x: &Causal<S>, node: NodeId) -> bool {
    let mut dots = Vec::new();
    x.store.collect_dots(&mut dots);
    dots.iter().chain(x.context.cloud()).any(|d| d.node == node)
        || x.context.version_vector().get(node) > 0
}

/// The pruning laws for one causal CRDT; `read` is its observable value.
fn check_prune<S, V>(
    ops: &[Op],
    later: &[Op],
    survivor: NodeId,
    mutate: impl Fn(&mut Causal<S>, NodeId, u8, u8) -> Causal<S>,
    read: impl Fn(&Causal<S>) -> V,
) -> Result<(), TestCaseError>
where
    S: DotStore + Debug,
    V: PartialEq + Debug,
{
    let prune = |x: &Causal<S>| {
        let mut y = x.clone();
        y.prune(GONE, survivor).expect("every dot of the removed node has arrived");
        y
    };
    // --- node 3's last updates reach every replica: the agreed point
    let [a, b, gone] = run_from(Default::default(), ops, &mutate);
    let (a, b) = (joined(&a, &gone), joined(&b, &gone));
    let states = [a.clone(), b.clone(), joined(&a, &b)];
    let pruned = states.clone().map(|x| prune(&x));
    for (x, p) in states.iter().zip(&pruned) {
        prop_assert_eq!(read(p), read(x), "pruning changed the value");
        prop_assert!(!names(p, GONE), "pruned state still names {}: {:?}", GONE, p);
    }
    // Replicas that prune at different states still converge: pruning
    // their join gives the join of their pruned states.
    prop_assert_eq!(
        &pruned[2],
        &joined(&pruned[0], &pruned[1]),
        "prune(a ⊔ b) = prune(a) ⊔ prune(b)"
    );
    check_laws(&pruned[0], &pruned[1], &pruned[2])?;

    // --- nodes 1 and 2 carry on from the pruned states
    let later: Vec<Op> = later.iter().map(|&(i, kind, v)| (i % 2, kind, v)).collect();
    let continued = run_from(pruned, &later, &mutate);
    let pruned_at_end = run_from(states, &later, &mutate).map(|x| prune(&x));
    prop_assert_eq!(&continued, &pruned_at_end, "pruning does not commute with later operations");
    check_laws(&continued[0], &continued[1], &continued[2])?;
    let [mut x, y, _] = continued;
    let y = joined(&y, &x);
    let delta = mutate(&mut x, survivor, 1, 0);
    check_delta(&x, &y, &delta)
}

fn mv_values(r: &MvRegister<u8>) -> Vec<u8> {
    let mut v: Vec<u8> = r.values().copied().collect();
    v.sort_unstable();
    v
}

fn map_value(m: &Nested) -> Vec<(u8, Vec<u8>)> {
    m.store.iter().map(|(k, set)| (*k, set.iter().map(|(e, _)| *e).collect())).collect()
}

/// A counter: each `(node, up, amount)` of `ops`, then node 3's `gone`.
fn pn_counter(ops: &[(u64, bool, u64)], gone: &[(bool, u64)]) -> PnCounter {
    let mut p = PnCounter::new();
    let all = ops.iter().copied().chain(gone.iter().map(|&(up, k)| (GONE.0, up, k)));
    for (n, up, k) in all {
        if up {
            p.increment(NodeId(n), k)
        } else {
            p.decrement(NodeId(n), k)
        };
    }
    p
}

fn counter_ops() -> impl Strategy<Value = Vec<(u64, bool, u64)>> {
    prop::collection::vec((1u64..3, any::<bool>(), 0u64..10), 0..6)
}

proptest! {
    #[test]
    fn flag_prune(ops in ops(), later in ops(), survivor in 1u64..3) {
        check_prune(&ops, &later, NodeId(survivor), flag_op, Flag::is_enabled)?;
    }

    #[test]
    fn mv_register_prune(ops in ops(), later in ops(), survivor in 1u64..3) {
        check_prune(&ops, &later, NodeId(survivor), mv_op, mv_values)?;
    }

    #[test]
    fn or_set_prune(ops in ops(), later in ops(), survivor in 1u64..3) {
        let elements = |s: &OrSet<u8>| s.elements().copied().collect::<Vec<_>>();
        check_prune(&ops, &later, NodeId(survivor), set_op, elements)?;
    }

    #[test]
    fn or_map_prune(ops in ops(), later in ops(), survivor in 1u64..3) {
        check_prune(&ops, &later, NodeId(survivor), map_op, map_value)?;
    }

    // GCounter::prune, same laws: two replicas that hold the same final
    // entry of node 3 prune to states that still merge to the pruned join.
    #[test]
    fn counter_prune_commutes_with_merge(
        a in counter_ops(),
        b in counter_ops(),
        gone in prop::collection::vec((any::<bool>(), 0u64..10), 0..4),
        survivor in 1u64..3,
    ) {
        let (a, b) = (pn_counter(&a, &gone), pn_counter(&b, &gone));
        let states = [a.clone(), b.clone(), joined(&a, &b)];
        let pruned = states.clone().map(|mut x| {
            x.prune(GONE, NodeId(survivor));
            x
        });
        for (x, p) in states.iter().zip(&pruned) {
            prop_assert_eq!(p.value(), x.value());
        }
        prop_assert_eq!(&pruned[2], &joined(&pruned[0], &pruned[1]));
        check_laws(&pruned[0], &pruned[1], &pruned[2])?;

        let mut g = GCounter::new();
        g.increment(GONE, 4);
        g.increment(NodeId(survivor), 1);
        g.prune(GONE, NodeId(survivor));
        prop_assert_eq!((g.get(GONE), g.get(NodeId(survivor)), g.value()), (0, 5, 5));
    }
}
