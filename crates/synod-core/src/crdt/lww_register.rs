//! Last-writer-wins register (Shapiro et al. 2011, Spec. 8), stamped with
//! hybrid logical clock timestamps.

use super::Crdt;
use crate::causality::HlcTimestamp;

/// A register whose value is the one written with the greatest
/// [`HlcTimestamp`]. Timestamps with equal `(wall_ms, logical)` are ordered
/// by node id, so concurrent writes resolve the same way everywhere; two
/// writes with the very same timestamp (which a correct [`Hlc`] never
/// issues) resolve by the greater value, to keep merge commutative.
///
/// [`Hlc`]: crate::causality::Hlc
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LwwRegister<T> {
    entry: Option<(HlcTimestamp, T)>,
}

impl<T> Default for LwwRegister<T> {
    fn default() -> Self {
        LwwRegister { entry: None }
    }
}

impl<T: Clone + Ord> LwwRegister<T> {
    /// An empty register.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value, if any was written.
    pub fn get(&self) -> Option<&T> {
        self.entry.as_ref().map(|(_, v)| v)
    }

    /// The timestamp of the current value.
    pub fn timestamp(&self) -> Option<HlcTimestamp> {
        self.entry.as_ref().map(|(t, _)| *t)
    }

    /// Writes `value` at `ts` (from the writer's `Hlc::now`); returns the
    /// delta. A write older than the current value changes nothing.
    pub fn set(&mut self, value: T, ts: HlcTimestamp) -> Self {
        let delta = LwwRegister { entry: Some((ts, value)) };
        self.merge(&delta);
        delta
    }
}

impl<T: Clone + Ord> Crdt for LwwRegister<T> {
    fn merge(&mut self, other: &Self) {
        if let Some(theirs) = &other.entry {
            let newer = match &self.entry {
                None => true,
                Some(ours) => (theirs.0, &theirs.1) > (ours.0, &ours.1),
            };
            if newer {
                self.entry = Some(theirs.clone());
            }
        }
    }
}
