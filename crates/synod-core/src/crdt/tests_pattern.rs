//! Unit tests: conflict resolution of semantic patterns, rule by rule.

use super::{Crdt, PatternRecord, PatternRegister, Resolver};
use crate::causality::HlcTimestamp;
use crate::NodeId;

const N1: NodeId = NodeId(1);
const N2: NodeId = NodeId(2);
const N3: NodeId = NodeId(3);

fn at(wall_ms: u64, node: NodeId) -> HlcTimestamp {
    HlcTimestamp { wall_ms, logical: 0, node }
}

fn joined(a: &PatternRegister, b: &PatternRegister) -> PatternRegister {
    let mut c = a.clone();
    c.merge(b);
    c
}

fn both(r: &PatternRegister) -> (PatternRecord, PatternRecord) {
    let lww = r.resolve(Resolver::LastWriterWins).unwrap();
    let voted = r.resolve(Resolver::ConfidenceVoting).unwrap();
    (lww, voted)
}

// Shapiro et al. 2011 Spec. 10: a write that has seen a version replaces
// it, so the causally newer version wins even with a lower confidence.
#[test]
fn causally_newer_lower_confidence_wins() {
    let mut a = PatternRegister::new();
    a.write(N1, PatternRecord::new("p", 0.9, at(10, N1)).with_citations(["old"]));
    let mut b = a.clone();

    // --- b has seen a's version and overwrites it with a weaker one
    let newer = PatternRecord::new("p", 0.2, at(20, N2)).with_citations(["new"]);
    b.write(N2, newer.clone());

    // --- whichever side merges, only the newer version is left
    for r in [joined(&a, &b), joined(&b, &a)] {
        assert_eq!(r.versions().count(), 1);
        assert_eq!(both(&r), (newer.clone(), newer.clone()));
    }
}

// Concurrent versions: confidence voting picks the higher confidence,
// last-writer-wins the later timestamp.
#[test]
fn concurrent_versions_higher_confidence_wins() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    a.write(N1, PatternRecord::new("p", 0.4, at(30, N1)));
    b.write(N2, PatternRecord::new("p", 0.8, at(10, N2)));
    for r in [joined(&a, &b), joined(&b, &a)] {
        let (lww, voted) = both(&r);
        assert_eq!((lww.confidence, lww.timestamp), (0.4, at(30, N1)));
        assert_eq!((voted.confidence, voted.timestamp), (0.8, at(10, N2)));
    }
}

// Equal confidence: the later timestamp wins; equal (wall_ms, logical):
// the greater node id; identical otherwise: the canonical record order.
#[test]
fn confidence_tie_broken_deterministically() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    a.write(N1, PatternRecord::new("a", 0.5, at(10, N1)));
    b.write(N2, PatternRecord::new("b", 0.5, at(10, N2)));
    let mut c = PatternRegister::new();
    c.write(N3, PatternRecord::new("c", 0.5, at(9, N3)));
    let r = joined(&joined(&a, &b), &c);
    assert_eq!(r.resolve(Resolver::ConfidenceVoting).unwrap().id, "b");
    assert_eq!(joined(&c, &joined(&b, &a)), r);

    // The same timestamp from two writers (not from a correct Hlc) still
    // resolves the same everywhere: by the rest of the record.
    let mut d = PatternRegister::new();
    d.write(NodeId(4), PatternRecord::new("z", 0.5, at(10, N2)));
    let r = joined(&r, &d);
    assert_eq!(r.resolve(Resolver::ConfidenceVoting).unwrap().id, "z");
    let other_order = joined(&d, &joined(&b, &joined(&c, &a)));
    assert_eq!(
        other_order.resolve(Resolver::ConfidenceVoting),
        r.resolve(Resolver::ConfidenceVoting)
    );
}

#[test]
fn citations_united_and_embeddings_averaged() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    let mut c = PatternRegister::new();
    a.write(N1, PatternRecord::new("p", 0.9, at(1, N1)).with_citations(["x", "y"]));
    a.write(N1, a.resolve(Resolver::LastWriterWins).unwrap().with_embedding(vec![1.0, 2.0]));
    b.write(N2, PatternRecord::new("p", 0.7, at(2, N2)).with_citations(["z"]));
    b.write(N2, b.resolve(Resolver::LastWriterWins).unwrap().with_embedding(vec![3.0, 6.0]));
    // Another dimension: cited, but left out of the mean.
    c.write(N3, PatternRecord::new("p", 0.1, at(3, N3)).with_citations(["w"]));
    c.write(N3, c.resolve(Resolver::LastWriterWins).unwrap().with_embedding(vec![9.0; 3]));

    let r = joined(&joined(&a, &b), &c);
    let voted = r.resolve(Resolver::ConfidenceVoting).unwrap();
    assert_eq!(voted.citations.iter().collect::<Vec<_>>(), ["w", "x", "y", "z"]);
    assert_eq!(voted.embedding, vec![2.0, 4.0]);
    assert_eq!(voted.confidence, 0.9);
    // Last-writer-wins returns the latest version as written.
    let lww = r.resolve(Resolver::LastWriterWins).unwrap();
    assert_eq!((lww.embedding.len(), lww.citations.len()), (3, 1));
}

// A write of the resolved record has seen every version: the conflict is
// settled and stays settled after merging the old versions again.
#[test]
fn writing_the_resolution_supersedes_concurrent_versions() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    a.write(N1, PatternRecord::new("p", 0.3, at(1, N1)).with_embedding(vec![0.0]));
    b.write(N2, PatternRecord::new("p", 0.6, at(2, N2)).with_embedding(vec![1.0]));
    let mut c = joined(&a, &b);
    assert_eq!(c.versions().count(), 2);
    let mut settled = c.resolve(Resolver::ConfidenceVoting).unwrap();
    settled.timestamp = at(3, N3);
    c.write(N3, settled.clone());
    let r = joined(&joined(&c, &a), &b);
    assert_eq!(r.versions().collect::<Vec<_>>(), vec![&settled]);
    assert_eq!(settled.embedding, vec![0.5]);
}

#[test]
fn empty_and_cleared_registers_resolve_to_none() {
    let mut a = PatternRegister::new();
    assert_eq!(a.resolve(Resolver::ConfidenceVoting), None);
    a.write(N1, PatternRecord::new("p", 0.3, at(1, N1)));
    assert_eq!(a.max_timestamp(), Some(at(1, N1)));
    a.clear();
    assert_eq!(a.resolve(Resolver::LastWriterWins), None);
    assert_eq!(a.max_timestamp(), None);
}

// Floats are compared by bits: a NaN confidence neither breaks equality
// (the register still equals itself) nor outvotes a number.
#[test]
fn nan_confidence_ranks_lowest_and_keeps_equality_lawful() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    a.write(N1, PatternRecord::new("nan", f32::NAN, at(9, N1)));
    b.write(N2, PatternRecord::new("num", 0.0, at(1, N2)));
    let r = joined(&a, &b);
    assert_eq!(r, r.clone());
    assert_eq!(r.resolve(Resolver::ConfidenceVoting).unwrap().id, "num");
    assert_eq!(r.resolve(Resolver::LastWriterWins).unwrap().id, "nan");
}

// Pruning the writer's node renames dots only: the resolution, which
// depends on the records alone, is bit-identical.
#[test]
fn pruning_a_writer_keeps_the_resolution() {
    let mut a = PatternRegister::new();
    let mut b = PatternRegister::new();
    a.write(N1, PatternRecord::new("p", 0.5, at(1, N1)).with_embedding(vec![0.1, 0.7]));
    b.write(N3, PatternRecord::new("p", 0.5, at(1, N3)).with_embedding(vec![0.3, 0.2]));
    let mut r = joined(&a, &b);
    let before = both(&r);
    r.prune(N3, N1).unwrap();
    assert_eq!(both(&r), before);
}
