//! Reading one pattern out of the concurrent versions of a
//! [`PatternRegister`](super::PatternRegister).

use super::PatternRecord;
use std::cmp::Ordering;

/// How a [`PatternRegister`](super::PatternRegister) turns its concurrent
/// versions into one record.
///
/// The register never resolves when it merges: it keeps every causally
/// maximal version, like a multi-value register (Shapiro et al. 2011,
/// Spec. 10), so merge stays a join and "the causally newer version wins"
/// holds by construction — a version that a later write had seen is no
/// longer there. A resolver only *reads*. Its result is a function of the
/// multiset of versions, computed in a canonical order, so replicas that
/// hold the same state read bit-identical records whatever the order and
/// grouping of the merges that built it (Shapiro et al. 2011, §2.2:
/// convergence is a property of the state, so the query must depend on
/// the state alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Resolver {
    /// Among concurrent versions, the one with the greatest HLC timestamp
    /// (Shapiro et al. 2011, Spec. 8; equal `(wall_ms, logical)` broken by
    /// node id, then by the canonical [`Ord`] of [`PatternRecord`]),
    /// returned as written.
    ///
    /// This agrees with a plain last-writer-wins register whenever
    /// timestamps follow causality, as hybrid logical clocks do when the
    /// writer has observed the versions it replaces (feed
    /// [`max_timestamp`](super::PatternRegister::max_timestamp) to
    /// [`Hlc::observe`](crate::causality::Hlc::observe) before writing).
    LastWriterWins,
    /// Among concurrent versions, the highest confidence wins (NaN lowest;
    /// ties broken by timestamp, node id, then the canonical order). The
    /// result carries the winner's id, confidence and timestamp, the union
    /// of every version's citations, and the element-wise mean of the
    /// embeddings that have the winner's dimension (versions of another
    /// dimension cannot be averaged with it and are left out of the mean;
    /// their citations still count). The mean is summed in `f64` in the
    /// canonical order of the versions and rounded once to `f32`.
    ConfidenceVoting,
}

impl Resolver {
    /// Resolves `versions` (in any order) into one record; `None` when
    /// there is none.
    pub fn resolve<'a, I>(self, versions: I) -> Option<PatternRecord>
    where
        I: IntoIterator<Item = &'a PatternRecord>,
    {
        let mut versions: Vec<&PatternRecord> = versions.into_iter().collect();
        versions.sort_unstable();
        match self {
            Resolver::LastWriterWins => versions.last().map(|&r| r.clone()),
            Resolver::ConfidenceVoting => vote(&versions),
        }
    }
}

/// Confidence order: NaN below every number, then `total_cmp`.
fn cmp_confidence(a: f32, b: f32) -> Ordering {
    b.is_nan().cmp(&a.is_nan()).then_with(|| a.total_cmp(&b))
}

/// Confidence voting over `sorted`, in canonical order.
fn vote(sorted: &[&PatternRecord]) -> Option<PatternRecord> {
    let winner = sorted
        .iter()
        .copied()
        .max_by(|a, b| cmp_confidence(a.confidence, b.confidence).then_with(|| a.cmp(b)))?;
    let mut resolved = winner.clone();
    for version in sorted {
        resolved.citations.extend(version.citations.iter().cloned());
    }
    resolved.embedding = mean_embedding(sorted, winner.embedding.len());
    Some(resolved)
}

/// Element-wise mean of the embeddings of dimension `dim` in `sorted`,
/// summed in that (canonical) order. At least one has dimension `dim`.
fn mean_embedding(sorted: &[&PatternRecord], dim: usize) -> Vec<f32> {
    let same_dim: Vec<&[f32]> =
        sorted.iter().map(|r| r.embedding.as_slice()).filter(|e| e.len() == dim).collect();
    if let [only] = same_dim.as_slice() {
        return only.to_vec();
    }
    let mut sum = vec![0.0f64; dim];
    for embedding in &same_dim {
        for (s, &x) in sum.iter_mut().zip(embedding.iter()) {
            *s += f64::from(x);
        }
    }
    let count = same_dim.len() as f64;
    sum.into_iter().map(|s| (s / count) as f32).collect()
}
