//! One version of a semantic pattern, as written by one replica.

use crate::causality::HlcTimestamp;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

/// A semantic pattern: what a node learned, how sure it is, where it saw
/// it, and its vector embedding. The value of a
/// [`PatternRegister`](super::PatternRegister).
///
/// Floats are compared by their bits (`f32::total_cmp`), never by `==`:
/// equality, hashing and the order below are total even with NaN, and
/// `-0.0` differs from `0.0`. That keeps [`Eq`] and [`Hash`] lawful, which
/// the CRDT laws (and their tests) rely on.
///
/// The [`Ord`] order is the canonical order used to break ties and to sum
/// embeddings: timestamp (so node id breaks equal times), then confidence,
/// then id, citations and embedding.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatternRecord {
    /// The pattern's identifier.
    pub id: String,
    /// How sure the writer is, conventionally in `[0, 1]`. Any `f32` is
    /// accepted; in a vote a NaN ranks below every number.
    pub confidence: f32,
    /// When the version was written, from the writer's
    /// [`Hlc`](crate::causality::Hlc).
    pub timestamp: HlcTimestamp,
    /// Identifiers of the sources supporting the pattern.
    pub citations: BTreeSet<String>,
    /// The pattern's vector embedding (any dimension, possibly empty).
    pub embedding: Vec<f32>,
}

impl PatternRecord {
    /// A record without citations or embedding.
    pub fn new(id: impl Into<String>, confidence: f32, timestamp: HlcTimestamp) -> PatternRecord {
        PatternRecord { id: id.into(), confidence, timestamp, ..PatternRecord::default() }
    }

    /// The record with `citations` added.
    pub fn with_citations<I, S>(mut self, citations: I) -> PatternRecord
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.citations.extend(citations.into_iter().map(Into::into));
        self
    }

    /// The record with `embedding` as its embedding.
    pub fn with_embedding(mut self, embedding: Vec<f32>) -> PatternRecord {
        self.embedding = embedding;
        self
    }
}

/// Lexicographic `total_cmp` order on float slices.
fn cmp_floats(a: &[f32], b: &[f32]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.total_cmp(y) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for PatternRecord {
    fn cmp(&self, other: &PatternRecord) -> Ordering {
        self.timestamp
            .cmp(&other.timestamp)
            .then_with(|| self.confidence.total_cmp(&other.confidence))
            .then_with(|| self.id.cmp(&other.id))
            .then_with(|| self.citations.cmp(&other.citations))
            .then_with(|| cmp_floats(&self.embedding, &other.embedding))
    }
}

impl PartialOrd for PatternRecord {
    fn partial_cmp(&self, other: &PatternRecord) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Bitwise equality (`total_cmp` is equal exactly when the bits are).
impl PartialEq for PatternRecord {
    fn eq(&self, other: &PatternRecord) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PatternRecord {}

impl Hash for PatternRecord {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
        self.confidence.to_bits().hash(state);
        self.timestamp.hash(state);
        self.citations.hash(state);
        self.embedding.len().hash(state);
        for x in &self.embedding {
            x.to_bits().hash(state);
        }
    }
}
