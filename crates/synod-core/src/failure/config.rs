//! Configuration of a [`PhiAccrualDetector`](super::PhiAccrualDetector).

/// Parameters of the φ accrual failure detector.
///
/// Durations are whole milliseconds (`u64`), like [`Time`](crate::Time),
/// so they cannot be negative or NaN; the two real-valued knobs are checked
/// by [`Config::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// How many inter-arrival intervals the sliding window keeps (paper
    /// §4.1: "a sampling window of fixed size"). Older samples are
    /// forgotten, so the estimate follows a changing network.
    pub samples_max: usize,
    /// φ at or above which the peer is suspected. φ = 8 means the chance
    /// that the next heartbeat is still coming is about 10⁻⁸ under the
    /// fitted distribution (paper §3: φ = -log10(P_later)).
    pub threshold: f64,
    /// Floor on the standard deviation, in ms. A perfectly regular
    /// history has σ ≈ 0, and then a heartbeat a few ms late would look
    /// infinitely unlikely; the floor keeps φ from exploding on jitter the
    /// window has not seen yet.
    pub std_deviation_ms_min: f64,
    /// Extra silence, in ms, tolerated on top of the mean interval before
    /// φ starts to climb: it covers pauses the samples do not show, such as
    /// a garbage-collection stop or a deliberate batch of missed beats.
    pub acceptable_pause_ms: u64,
    /// Interval, in ms, assumed before the first interval has been
    /// measured (after the first heartbeat only). Its standard deviation is
    /// taken as a quarter of it.
    pub first_heartbeat_estimate_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            samples_max: 1_000,
            threshold: 8.0,
            std_deviation_ms_min: 100.0,
            acceptable_pause_ms: 0,
            first_heartbeat_estimate_ms: 1_000,
        }
    }
}

/// A [`Config`] that cannot work.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `samples_max` is 0: there would be nothing to estimate from.
    #[error("samples_max must be positive")]
    WindowEmpty,
    /// `threshold` is zero, negative, NaN or infinite: φ ≥ 0 always, so a
    /// threshold ≤ 0 suspects every peer, and an infinite one none.
    #[error("threshold must be a positive finite number, got {0}")]
    BadThreshold(f64),
    /// `std_deviation_ms_min` is zero, negative, NaN or infinite: φ divides
    /// by the standard deviation, which must stay positive and finite.
    #[error("std_deviation_ms_min must be a positive finite number of ms, got {0}")]
    BadStdDeviationMin(f64),
    /// `first_heartbeat_estimate_ms` is 0: a zero interval would suspect a
    /// peer the instant after its first heartbeat.
    #[error("first_heartbeat_estimate_ms must be positive")]
    EstimateZero,
}

impl Config {
    /// Rejects impossible values; nothing is changed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.samples_max == 0 {
            return Err(ConfigError::WindowEmpty);
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(ConfigError::BadThreshold(self.threshold));
        }
        let floor = self.std_deviation_ms_min;
        if !(floor.is_finite() && floor > 0.0) {
            return Err(ConfigError::BadStdDeviationMin(floor));
        }
        if self.first_heartbeat_estimate_ms == 0 {
            return Err(ConfigError::EstimateZero);
        }
        Ok(())
    }
}
