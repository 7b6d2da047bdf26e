//! A register of semantic patterns with read-time conflict resolution
//! (multi-value register: Shapiro et al. 2011, Spec. 10; delta version:
//! Almeida, Shoker, Baquero 2018, Fig. 7).

use super::{Causal, DotFun, PatternRecord, Resolver};
use crate::causality::HlcTimestamp;

/// A register of [`PatternRecord`]s where every replica resolves
/// conflicts the same way.
///
/// The state is a multi-value register: a write (the inherited
/// [`write`](Causal::write)) replaces every version the writer has seen,
/// so the causally newer version always wins, and versions written
/// concurrently are all kept with their dots until a write that has seen
/// them. Merge is the causal join, so it is commutative, associative and
/// idempotent, and deltas merge like full states.
///
/// Conflicts between concurrent versions are settled when reading, by a
/// [`Resolver`]: [`LastWriterWins`](Resolver::LastWriterWins) or
/// [`ConfidenceVoting`](Resolver::ConfidenceVoting) (highest confidence,
/// citations united, embeddings averaged). Resolving on merge instead —
/// say, averaging two embeddings each time two replicas meet — would not
/// be a join: merging the same version twice, or in another grouping,
/// would give another average. Here the resolved record is a function of
/// the set of concurrent versions only.
///
/// A write of the resolved record (`write(node, resolved)`) settles the
/// conflict for good: it has seen every version and replaces them all.
///
/// ```
/// use synod_core::causality::HlcTimestamp;
/// use synod_core::crdt::{Crdt, PatternRecord, PatternRegister, Resolver};
/// use synod_core::NodeId;
///
/// let at = |wall_ms, n| HlcTimestamp { wall_ms, logical: 0, node: NodeId(n) };
/// let mut a = PatternRegister::new();
/// let mut b = PatternRegister::new();
/// a.write(NodeId(1), PatternRecord::new("p", 0.9, at(5, 1)).with_embedding(vec![1.0, 0.0]));
/// b.write(NodeId(2), PatternRecord::new("p", 0.4, at(7, 2)).with_embedding(vec![0.0, 1.0]));
/// a.merge(&b);
///
/// let voted = a.resolve(Resolver::ConfidenceVoting).unwrap();
/// assert_eq!((voted.confidence, voted.embedding), (0.9, vec![0.5, 0.5]));
/// assert_eq!(a.resolve(Resolver::LastWriterWins).unwrap().confidence, 0.4);
/// ```
pub type PatternRegister = Causal<DotFun<PatternRecord>>;

impl Causal<DotFun<PatternRecord>> {
    /// The current concurrent versions, in dot order.
    pub fn versions(&self) -> impl Iterator<Item = &PatternRecord> + '_ {
        self.store.iter().map(|(_, r)| r)
    }

    /// The greatest timestamp among the current versions: observe it with
    /// the writer's [`Hlc`](crate::causality::Hlc) before stamping a new
    /// write, so timestamps follow causality.
    pub fn max_timestamp(&self) -> Option<HlcTimestamp> {
        self.versions().map(|r| r.timestamp).max()
    }

    /// The record read under `resolver`; `None` when nothing was written
    /// (or the register was cleared).
    pub fn resolve(&self, resolver: Resolver) -> Option<PatternRecord> {
        resolver.resolve(self.versions())
    }
}
