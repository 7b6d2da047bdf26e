//! The sliding window of heartbeat inter-arrival times (paper §4.1).

use std::collections::VecDeque;

/// Intervals above this are recorded as this (about 49 days). The cap
/// keeps the running sums exact in `u128`: even a full window of capped
/// samples cannot overflow `samples_max * Σx²`.
pub(crate) const INTERVAL_MS_MAX: u64 = 1 << 32;

/// A bounded window of intervals with running sums, so that the mean and
/// variance cost O(1) per heartbeat whatever the window size.
///
/// The sums are integers: adding and removing samples never drifts, which
/// floating-point running sums would after millions of heartbeats.
#[derive(Clone, Debug)]
pub(crate) struct IntervalWindow {
    samples: VecDeque<u64>,
    samples_max: usize,
    sum: u128,
    sum_sq: u128,
}

impl IntervalWindow {
    pub(crate) fn new(samples_max: usize) -> Self {
        assert!(samples_max > 0, "an empty window has no statistics");
        IntervalWindow { samples: VecDeque::new(), samples_max, sum: 0, sum_sq: 0 }
    }

    /// Records one interval, forgetting the oldest when the window is full.
    pub(crate) fn push(&mut self, interval_ms: u64) {
        if self.samples.len() == self.samples_max {
            let old = self.samples.pop_front().expect("a full window has a front") as u128;
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        let x = interval_ms.min(INTERVAL_MS_MAX);
        self.samples.push_back(x);
        self.sum += x as u128;
        self.sum_sq += (x as u128) * (x as u128);
    }

    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Mean interval in ms, or `None` before the first sample.
    pub(crate) fn mean_ms(&self) -> Option<f64> {
        let n = self.samples.len();
        (n > 0).then(|| self.sum as f64 / n as f64)
    }

    /// Population variance in ms², or `None` before the first sample.
    ///
    /// Computed as `(n·Σx² − (Σx)²) / n²` on exact integers: the numerator
    /// is never negative (Cauchy–Schwarz), so a constant history gives
    /// exactly 0 rather than a tiny negative rounding error.
    pub(crate) fn variance_ms2(&self) -> Option<f64> {
        let n = self.samples.len() as u128;
        (n > 0).then(|| {
            let numerator = n * self.sum_sq - self.sum * self.sum;
            numerator as f64 / (n * n) as f64
        })
    }
}
