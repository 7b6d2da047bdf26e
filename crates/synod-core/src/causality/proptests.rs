//! Property tests: vector clock order laws, causal context compaction,
//! hybrid logical clock monotonicity and causality.

use super::{CausalContext, Dot, Hlc, HlcTimestamp, NodeFold, PruneError, VectorClock};
use crate::NodeId;
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeSet;

fn clock() -> impl Strategy<Value = VectorClock> {
    prop::collection::vec((1u64..4, 0u64..4), 0..5).prop_map(|entries| {
        let mut vc = VectorClock::new();
        for (n, c) in entries {
            vc.observe(NodeId(n), c);
        }
        vc
    })
}

fn dots() -> impl Strategy<Value = Vec<Dot>> {
    prop::collection::vec((1u64..4, 1u64..8), 0..20)
        .prop_map(|v| v.into_iter().map(|(n, c)| Dot::new(NodeId(n), c)).collect())
}

proptest! {
    #[test]
    fn vector_clock_order_is_antisymmetric(a in clock(), b in clock()) {
        if a <= b && b <= a {
            prop_assert_eq!(&a, &b);
        }
        prop_assert_eq!(a.partial_cmp(&b).map(Ordering::reverse), b.partial_cmp(&a));
    }

    #[test]
    fn vector_clock_order_is_transitive(a in clock(), b in clock(), c in clock()) {
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
        if a.happens_before(&b) && b.happens_before(&c) {
            prop_assert!(a.happens_before(&c));
        }
    }

    #[test]
    fn vector_clock_merge_is_least_upper_bound(a in clock(), b in clock(), c in clock()) {
        let mut m = a.clone();
        m.merge(&b);
        prop_assert!(a <= m && b <= m);
        if a <= c && b <= c {
            prop_assert!(m <= c);
        }
        let mut n = b.clone();
        n.merge(&a);
        prop_assert_eq!(&m, &n);
    }

    #[test]
    fn vector_clock_concurrency_is_incomparability(a in clock(), b in clock()) {
        prop_assert_eq!(a.is_concurrent(&b), a.partial_cmp(&b).is_none());
        prop_assert_eq!(a.is_concurrent(&b), !a.is_dominated_by(&b) && !b.is_dominated_by(&a));
        let mut later = a.clone();
        later.increment(NodeId(1));
        prop_assert!(a.happens_before(&later));
    }

    // Almeida et al. 2018 §6.1: compaction changes the representation, never the set.
    #[test]
    fn context_compaction_preserves_dot_set(a in dots(), b in dots()) {
        let mut cc: CausalContext = a.iter().copied().collect();
        let other: CausalContext = b.iter().copied().collect();
        cc.merge(&other);
        let all: BTreeSet<Dot> = a.iter().chain(&b).copied().collect();
        for n in 1..4 {
            for c in 1..9 {
                let d = Dot::new(NodeId(n), c);
                prop_assert_eq!(cc.contains(&d), all.contains(&d));
            }
        }
        for d in cc.cloud() {
            prop_assert!(d.counter > cc.version_vector().get(d.node) + 1);
        }
        let mut rebuilt = CausalContext::new();
        for d in all.iter().rev() {
            rebuilt.insert(*d);
        }
        prop_assert_eq!(&cc, &rebuilt);
    }

    // Pruning renames the set of dots and nothing else: a dot is in the
    // pruned context exactly when its preimage under the fold was in the
    // original, and no dot of the removed node is left.
    #[test]
    fn context_prune_is_a_renaming(others in dots(), removed_dots in 0u64..5, survivor in 1u64..3) {
        let removed = NodeId(3);
        let survivor = NodeId(survivor);
        let mut cc: CausalContext = others.iter().copied().filter(|d| d.node != removed).collect();
        for c in 1..=removed_dots {
            cc.insert(Dot::new(removed, c));
        }
        let mut pruned = cc.clone();
        let fold = pruned.prune(removed, survivor).unwrap();
        prop_assert_eq!(fold, NodeFold::new(removed, survivor, removed_dots));
        for n in 1..4 {
            for c in 1..9 {
                let d = Dot::new(NodeId(n), c);
                if n != removed.0 {
                    prop_assert_eq!(pruned.contains(&fold.apply(d)), cc.contains(&d));
                }
                prop_assert!(!pruned.contains(&Dot::new(removed, c)));
            }
        }
        for c in 1..=removed_dots {
            prop_assert!(pruned.contains(&Dot::new(survivor, c)));
        }
        prop_assert_eq!(pruned.next_dot(survivor), fold.apply(cc.next_dot(survivor)));
    }

    // Kulkarni et al. 2014 §3: l.e >= pt.e, and e hb f => (l,c).e < (l,c).f.
    #[test]
    fn hlc_is_monotonic_and_follows_causality(
        events in prop::collection::vec((any::<bool>(), 0u64..50, 0u64..60, 0u32..4, 1u64..4), 1..40),
    ) {
        let mut hlc = Hlc::new(NodeId(2));
        let mut prev = hlc.last();
        for (receive, physical_ms, remote_wall, remote_logical, remote_node) in events {
            let ts = if receive {
                let remote = HlcTimestamp { wall_ms: remote_wall, logical: remote_logical, node: NodeId(remote_node) };
                let ts = hlc.observe(remote, physical_ms);
                prop_assert!(ts > remote);
                prop_assert!((ts.wall_ms, ts.logical) > (remote.wall_ms, remote.logical));
                ts
            } else {
                hlc.now(physical_ms)
            };
            prop_assert!(ts > prev);
            prop_assert!(ts.wall_ms >= physical_ms);
            prop_assert_eq!(ts.node, NodeId(2));
            prev = ts;
        }
    }
}

#[test]
fn hlc_logical_overflow_advances_wall() {
    let mut hlc = Hlc::new(NodeId(1));
    let remote = HlcTimestamp { wall_ms: 5, logical: u32::MAX, node: NodeId(2) };
    let ts = hlc.observe(remote, 5);
    assert!(ts > remote);
    assert_eq!((ts.wall_ms, ts.logical), (6, 0));
}

#[test]
fn vector_clock_prune_forgets_removed_node() {
    let mut a = VectorClock::new();
    a.increment(NodeId(1));
    let mut b = a.clone();
    b.increment(NodeId(9));
    assert!(a.happens_before(&b));
    b.prune(NodeId(9));
    assert_eq!(a, b);
}

#[test]
fn context_prune_refuses_a_gap_in_the_removed_nodes_dots() {
    let mut cc: CausalContext =
        [Dot::new(NodeId(3), 1), Dot::new(NodeId(3), 3)].into_iter().collect();
    let before = cc.clone();
    let missing = Dot::new(NodeId(3), 2);
    assert_eq!(cc.prune(NodeId(3), NodeId(1)), Err(PruneError::MissingDot { missing }));
    assert_eq!(cc, before);
}
