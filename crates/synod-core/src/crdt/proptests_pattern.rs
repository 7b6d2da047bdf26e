//! Property tests for the [`PatternRegister`]: semilattice laws, delta
//! merge = full-state merge (Almeida et al. 2018, §3), and resolvers that
//! read bit-identical records whatever the order, grouping or duplication
//! of the merges (Shapiro et al. 2011, §2.2). Writes come from three
//! replicas (nodes 1..=3) with random merges in between; confidences and
//! timestamps are drawn from small sets so that ties happen, embeddings
//! from arbitrary floats so that summation order would show.

use super::proptests_lattice::{check_delta, check_laws};
use super::{Crdt, PatternRecord, PatternRegister, Resolver};
use crate::causality::HlcTimestamp;
use crate::NodeId;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// `(replica, kind, record, other replica)`: kind 0 merges `other` into
/// `replica`, kind 1 clears, any other kind writes `record`.
type Op = (usize, u8, PatternRecord, usize);

fn float() -> impl Strategy<Value = f32> {
    prop_oneof![8 => -1.0e3f32..1.0e3, 1 => Just(-0.0f32), 1 => any::<f32>()]
}

fn record() -> impl Strategy<Value = PatternRecord> {
    let confidence = prop_oneof![Just(0.5f32), Just(-0.0), Just(f32::NAN), 0.0f32..1.0];
    let stamp = (0u64..3, 0u32..2, 1u64..4).prop_map(|(wall_ms, logical, n)| HlcTimestamp {
        wall_ms,
        logical,
        node: NodeId(n),
    });
    let citations = prop::collection::btree_set("[a-d]", 0..3);
    let embedding = prop::collection::vec(float(), 2..=3);
    ("[pq]", confidence, stamp, citations, embedding).prop_map(|(id, c, ts, cites, e)| {
        PatternRecord::new(id, c, ts).with_citations(cites).with_embedding(e)
    })
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0usize..3, 0u8..5, record(), 0usize..3), 0..20)
}

/// Runs `ops` on three replicas; returns them and every delta produced.
fn run(ops: &[Op]) -> ([PatternRegister; 3], Vec<PatternRegister>) {
    let mut r: [PatternRegister; 3] = Default::default();
    let mut deltas = Vec::new();
    for (i, kind, record, other) in ops {
        match kind {
            0 => {
                let other = r[*other].clone();
                r[*i].merge(&other);
            }
            1 => deltas.push(r[*i].clear()),
            _ => deltas.push(r[*i].write(NodeId(*i as u64 + 1), record.clone())),
        }
    }
    (r, deltas)
}

fn join_all<'a>(states: impl IntoIterator<Item = &'a PatternRegister>) -> PatternRegister {
    let mut acc = PatternRegister::new();
    for s in states {
        acc.merge(s);
    }
    acc
}

/// A resolved record with its floats as raw bits: id, confidence,
/// embedding, citations.
type Bits = (String, u32, Vec<u32>, BTreeSet<String>);

/// The resolved records of both resolvers as raw bits, so that equality
/// below is bit-identity, not float `==`.
fn resolved_bits(r: &PatternRegister) -> Vec<Option<Bits>> {
    [Resolver::LastWriterWins, Resolver::ConfidenceVoting]
        .into_iter()
        .map(|resolver| {
            r.resolve(resolver).map(|p| {
                let bits = p.embedding.iter().map(|x| x.to_bits()).collect();
                (p.id, p.confidence.to_bits(), bits, p.citations)
            })
        })
        .collect()
}

proptest! {
    #[test]
    fn pattern_register_laws_and_delta(ops in ops(), extra in record(), clear: bool) {
        let ([x, y, z], _) = run(&ops);
        check_laws(&x, &y, &z)?;
        let ([mut a, mut b, _], _) = run(&ops);
        b.merge(&a);
        let delta = if clear { a.clear() } else { a.write(NodeId(1), extra) };
        check_delta(&a, &b, &delta)?;
    }

    // Any permutation and grouping of the same deltas, some delivered
    // twice, gives the same state and bit-identical resolutions.
    #[test]
    fn resolution_is_independent_of_merge_order_and_grouping(
        ops in ops(),
        keys in prop::collection::vec(any::<u32>(), 1..20),
        groups in prop::collection::vec(0usize..3, 1..20),
        duplicates in 0usize..4,
    ) {
        let (replicas, deltas) = run(&ops);
        let reference = join_all(&deltas);
        prop_assert_eq!(&join_all(&replicas), &reference);

        let mut order: Vec<usize> = (0..deltas.len()).collect();
        order.sort_by_key(|&i| (keys[i % keys.len()], i));
        order.extend(0..duplicates.min(deltas.len()));
        let mut parts: [PatternRegister; 3] = Default::default();
        for &i in &order {
            parts[groups[i % groups.len()]].merge(&deltas[i]);
        }
        let regrouped = join_all([&parts[2], &parts[0], &parts[1]]);
        prop_assert_eq!(&regrouped, &reference);
        prop_assert_eq!(resolved_bits(&regrouped), resolved_bits(&reference));
    }

    // Confidence voting: no version outvotes the winner (NaN ranks lowest),
    // citations are the union, the embedding has the winner's dimension
    // and lies between the extremes of the versions it averages.
    #[test]
    fn confidence_voting_follows_its_rules(ops in ops()) {
        let (replicas, _) = run(&ops);
        let r = join_all(&replicas);
        let Some(voted) = r.resolve(Resolver::ConfidenceVoting) else {
            prop_assert_eq!(r.versions().count(), 0);
            return Ok(());
        };
        for v in r.versions() {
            let outvotes = !v.confidence.is_nan()
                && (voted.confidence.is_nan() || v.confidence > voted.confidence);
            prop_assert!(!outvotes, "{v:?} outvotes {voted:?}");
        }
        let union: BTreeSet<String> = r.versions().flat_map(|v| v.citations.clone()).collect();
        prop_assert_eq!(&voted.citations, &union);
        let dim = voted.embedding.len();
        let same_dim: Vec<&PatternRecord> = r.versions().filter(|v| v.embedding.len() == dim).collect();
        prop_assert!(same_dim.iter().any(|v| v.timestamp == voted.timestamp && v.id == voted.id));
        for (k, x) in voted.embedding.iter().enumerate() {
            let column: Vec<f32> = same_dim.iter().map(|v| v.embedding[k]).collect();
            if column.iter().all(|c| c.is_finite()) {
                let lo = column.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = column.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                prop_assert!(lo <= *x && *x <= hi, "{x} outside [{lo}, {hi}]");
            }
        }
    }

    // Pruning a writer renames dots only; resolutions depend on the
    // records alone (summed in their canonical order, not in dot order),
    // so they stay bit-identical.
    #[test]
    fn resolution_survives_pruning(ops in ops(), survivor in 1u64..3) {
        let (replicas, _) = run(&ops);
        let mut r = join_all(&replicas);
        let before = resolved_bits(&r);
        r.prune(NodeId(3), NodeId(survivor)).unwrap();
        prop_assert_eq!(resolved_bits(&r), before);
    }

    // The causally newer version wins: a write by a replica that has seen
    // every version replaces them all, under both resolvers.
    #[test]
    fn write_after_seeing_everything_supersedes_it(ops in ops(), newer in record()) {
        let (replicas, _) = run(&ops);
        let mut r = join_all(&replicas);
        let delta = r.write(NodeId(2), newer.clone());
        let merged = join_all(replicas.iter().chain([&delta]));
        prop_assert_eq!(merged.versions().collect::<Vec<_>>(), vec![&newer]);
        prop_assert_eq!(merged.resolve(Resolver::LastWriterWins), Some(newer.clone()));
        prop_assert_eq!(merged.resolve(Resolver::ConfidenceVoting), Some(newer));
    }
}
