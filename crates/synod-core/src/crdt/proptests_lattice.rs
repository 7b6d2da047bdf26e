//! Property tests for the plain lattices: semilattice laws and
//! delta-merge = full-state merge (Almeida et al. 2018, §3).

use super::{Crdt, GCounter, LwwRegister, PnCounter};
use crate::causality::HlcTimestamp;
use crate::NodeId;
use proptest::prelude::*;
use std::fmt::Debug;

/// Commutativity, associativity and idempotence of `merge`.
pub(super) fn check_laws<C: Crdt + PartialEq + Debug>(
    a: &C,
    b: &C,
    c: &C,
) -> Result<(), TestCaseError> {
    let join = |x: &C, y: &C| {
        let mut z = x.clone();
        z.merge(y);
        z
    };
    prop_assert_eq!(join(a, b), join(b, a), "commutativity");
    prop_assert_eq!(join(&join(a, b), c), join(a, &join(b, c)), "associativity");
    prop_assert_eq!(join(a, a), a.clone(), "idempotence");
    Ok(())
}

/// Merging `delta` into `b` equals merging the full state `a` into `b`.
pub(super) fn check_delta<C: Crdt + PartialEq + Debug>(
    a: &C,
    b: &C,
    delta: &C,
) -> Result<(), TestCaseError> {
    let mut via_delta = b.clone();
    via_delta.merge_delta(delta);
    let mut via_state = b.clone();
    via_state.merge(a);
    prop_assert_eq!(via_delta, via_state);
    Ok(())
}

fn g_counter() -> impl Strategy<Value = GCounter> {
    prop::collection::vec((1u64..4, 0u64..10), 0..6).prop_map(|ops| {
        let mut g = GCounter::new();
        for (n, k) in ops {
            g.increment(NodeId(n), k);
        }
        g
    })
}

fn pn_counter() -> impl Strategy<Value = PnCounter> {
    prop::collection::vec((1u64..4, any::<bool>(), 0u64..10), 0..6).prop_map(|ops| {
        let mut p = PnCounter::new();
        for (n, up, k) in ops {
            if up {
                p.increment(NodeId(n), k)
            } else {
                p.decrement(NodeId(n), k)
            };
        }
        p
    })
}

fn stamp() -> impl Strategy<Value = HlcTimestamp> {
    (0u64..4, 0u32..3, 1u64..4).prop_map(|(wall_ms, logical, n)| HlcTimestamp {
        wall_ms,
        logical,
        node: NodeId(n),
    })
}

fn lww() -> impl Strategy<Value = LwwRegister<u8>> {
    prop::collection::vec((stamp(), 0u8..4), 0..3).prop_map(|writes| {
        let mut r = LwwRegister::new();
        for (ts, v) in writes {
            r.set(v, ts);
        }
        r
    })
}

proptest! {
    #[test]
    fn g_counter_laws(a in g_counter(), b in g_counter(), c in g_counter()) {
        check_laws(&a, &b, &c)?;
    }

    #[test]
    fn g_counter_delta(a in g_counter(), b in g_counter(), n in 1u64..4, k in 0u64..10) {
        let mut b = b;
        b.merge(&a);
        let mut a = a;
        let d = a.increment(NodeId(n), k);
        check_delta(&a, &b, &d)?;
    }

    #[test]
    fn pn_counter_laws(a in pn_counter(), b in pn_counter(), c in pn_counter()) {
        check_laws(&a, &b, &c)?;
    }

    #[test]
    fn pn_counter_delta(a in pn_counter(), b in pn_counter(), n in 1u64..4, up: bool, k in 0u64..10) {
        let mut b = b;
        b.merge(&a);
        let mut a = a;
        let d = if up { a.increment(NodeId(n), k) } else { a.decrement(NodeId(n), k) };
        check_delta(&a, &b, &d)?;
    }

    #[test]
    fn lww_register_laws(a in lww(), b in lww(), c in lww()) {
        check_laws(&a, &b, &c)?;
    }

    #[test]
    fn lww_register_delta(a in lww(), b in lww(), ts in stamp(), v in 0u8..4) {
        let mut b = b;
        b.merge(&a);
        let mut a = a;
        let d = a.set(v, ts);
        check_delta(&a, &b, &d)?;
    }

    // Pruning preserves the value, and replicas that prune the same agreed
    // state stay equal.
    #[test]
    fn counter_prune_preserves_value(a in pn_counter(), removed in 1u64..4, survivor in 1u64..4) {
        let before = a.value();
        let mut x = a.clone();
        let mut y = a;
        x.prune(NodeId(removed), NodeId(survivor));
        y.prune(NodeId(removed), NodeId(survivor));
        prop_assert_eq!(x.value(), before);
        prop_assert_eq!(x, y);
    }
}
