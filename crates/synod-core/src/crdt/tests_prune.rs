//! Unit tests: pruning the state of a node removed from the cluster.

use super::{Crdt, MvRegister, OrSet};
use crate::causality::{Dot, PruneError};
use crate::NodeId;

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const GONE: NodeId = NodeId(3);

fn joined<C: Crdt>(a: &C, b: &C) -> C {
    let mut c = a.clone();
    c.merge(b);
    c
}

// Almeida et al. 2018 §6.2: a dot one replica removed and the other still
// holds is dropped by the join because the remover's context has seen it.
// Pruning renames the dot in both context and store, so the removal still
// wins; forgetting the removed node's context entry instead would bring
// the element back.
#[test]
fn removal_of_a_removed_nodes_element_survives_pruning() {
    let mut gone: OrSet<&str> = OrSet::default();
    gone.add(GONE, "x");
    gone.add(GONE, "y");
    let mut a = OrSet::default();
    a.merge(&gone);
    let mut b = a.clone();

    // --- b removes x, a has not heard of it yet; GONE leaves the cluster
    b.remove(&"x");
    a.prune(GONE, N1).unwrap();
    b.prune(GONE, N1).unwrap();

    // --- after exchange, x stays removed and y stays
    for m in [joined(&a, &b), joined(&b, &a)] {
        assert_eq!(m.elements().copied().collect::<Vec<_>>(), vec!["y"]);
        assert_eq!(m.context.version_vector().get(GONE), 0);
        assert_eq!(m.context.version_vector().get(N1), 2);
    }
}

// The survivor's own dots move past the removed node's, so a survivor
// that keeps writing after the prune never reuses a dot.
#[test]
fn survivor_keeps_writing_after_pruning() {
    let mut a: MvRegister<u8> = MvRegister::default();
    let mut b: MvRegister<u8> = MvRegister::default();
    a.write(N1, 1);
    b.write(GONE, 3);
    b.write(GONE, 4);
    let mut m = joined(&a, &b);
    m.prune(GONE, N1).unwrap();
    let mut values: Vec<u8> = m.values().copied().collect();
    values.sort_unstable();
    assert_eq!(values, vec![1, 4]);
    // GONE's two dots became N1:1..=2, N1's own dot became N1:3.
    assert_eq!(m.context.version_vector().iter().collect::<Vec<_>>(), vec![(N1, 3)]);

    let delta = m.write(N1, 5);
    assert_eq!(delta.store.iter().map(|(d, _)| *d).collect::<Vec<_>>(), vec![Dot::new(N1, 4)]);
    assert_eq!(m.values().copied().collect::<Vec<_>>(), vec![5]);
}

// Replicas that reach the same state by different merge orders prune to
// the same state: the fold depends only on the state.
#[test]
fn equal_states_prune_to_equal_states() {
    let mut x: OrSet<u8> = OrSet::default();
    let mut y: OrSet<u8> = OrSet::default();
    let mut z: OrSet<u8> = OrSet::default();
    x.add(N1, 1);
    y.add(N2, 2);
    z.add(GONE, 3);
    z.add(GONE, 4);
    let mut a = joined(&joined(&x, &y), &z);
    let mut b = joined(&z, &joined(&y, &x));
    assert_eq!(a, b);
    a.prune(GONE, N2).unwrap();
    b.prune(GONE, N2).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.elements().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
}

// Pruning before every dot of the removed node has arrived is refused.
#[test]
fn pruning_waits_for_the_removed_nodes_missing_dots() {
    let mut gone: OrSet<u8> = OrSet::default();
    let first = gone.add(GONE, 1);
    let second = gone.add(GONE, 2);
    let mut a = OrSet::default();
    a.merge_delta(&second);
    let before = a.clone();
    assert_eq!(a.prune(GONE, N1), Err(PruneError::MissingDot { missing: Dot::new(GONE, 1) }));
    assert_eq!(a, before);

    a.merge_delta(&first);
    a.prune(GONE, N1).unwrap();
    assert_eq!(a.elements().copied().collect::<Vec<_>>(), vec![1, 2]);
}
