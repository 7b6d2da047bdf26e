//! One peer's φ accrual failure detector.

use super::config::{Config, ConfigError};
use super::phi::phi;
use super::window::IntervalWindow;
use crate::Time;

/// The φ accrual failure detector of Hayashibara, Défago, Yared and
/// Katayama (SRDS 2004) for one monitored peer.
///
/// Instead of a yes/no verdict after a fixed timeout, it reports a
/// suspicion level φ that grows continuously with the silence since the
/// last heartbeat, scaled by how regular the peer's heartbeats have been:
/// after a steady history a short silence is already suspicious, after a
/// jittery one it is not. Applications pick their own trade-off between
/// detection speed and false suspicions through [`Config::threshold`].
///
/// Sans-IO: the driver passes in the time of each heartbeat and of each
/// query; nothing here reads a clock.
#[derive(Clone, Debug)]
pub struct PhiAccrualDetector {
    config: Config,
    window: IntervalWindow,
    last_heartbeat: Option<Time>,
}

impl PhiAccrualDetector {
    /// A detector that has seen no heartbeat yet.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::new_validated(config))
    }

    /// For the per-peer table, which validates its config once.
    pub(crate) fn new_validated(config: Config) -> Self {
        let window = IntervalWindow::new(config.samples_max);
        PhiAccrualDetector { config, window, last_heartbeat: None }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Records a heartbeat received at `now` (paper §4.1: each arrival
    /// adds the interval since the previous one to the window).
    ///
    /// A heartbeat stamped before the last one is ignored: time only moves
    /// forward for a driver, and a stale call must not rewind the detector.
    pub fn heartbeat(&mut self, now: Time) {
        match self.last_heartbeat {
            Some(last) if now < last => return,
            Some(last) => self.window.push(now.ms_since(last)),
            None => {}
        }
        self.last_heartbeat = Some(now);
    }

    /// The suspicion level at `now`: 0 before the first heartbeat (nothing
    /// is known, so nothing is suspected), then `−log10` of the probability
    /// that a heartbeat would still arrive after the current silence.
    /// Always finite and ≥ 0, never NaN, and non-decreasing in `now`
    /// until the next heartbeat.
    pub fn phi(&self, now: Time) -> f64 {
        let Some(last) = self.last_heartbeat else {
            return 0.0;
        };
        let (mean_ms, std_ms) = self.distribution_ms();
        let expected_ms = mean_ms + self.config.acceptable_pause_ms as f64;
        phi(now.ms_since(last) as f64, expected_ms, std_ms)
    }

    /// Whether the peer is trusted at `now`: φ is below the threshold.
    pub fn is_available(&self, now: Time) -> bool {
        self.phi(now) < self.config.threshold
    }

    /// The earliest time at which φ reaches the threshold if no heartbeat
    /// arrives; `None` before the first heartbeat, or if φ stays below the
    /// threshold until the end of representable time. A driver can arm a
    /// timer for it instead of polling [`phi`](Self::phi).
    pub fn suspect_at(&self) -> Option<Time> {
        let last = self.last_heartbeat?;
        // φ is monotone in the silence, so bisect on whole milliseconds.
        let (mut low, mut high) = (0u64, u64::MAX - last.0);
        if self.is_available(last.plus_ms(high)) {
            return None;
        }
        while low < high {
            let mid = low + (high - low) / 2;
            if self.is_available(last.plus_ms(mid)) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Some(last.plus_ms(low))
    }

    /// When the last heartbeat arrived.
    pub fn last_heartbeat(&self) -> Option<Time> {
        self.last_heartbeat
    }

    /// How many intervals the window holds (at most `samples_max`).
    pub fn samples(&self) -> usize {
        self.window.len()
    }

    /// Mean and standard deviation of the interval in ms, as φ uses them:
    /// the bootstrap estimate until an interval is measured, and the
    /// standard deviation never below `std_deviation_ms_min`.
    pub fn distribution_ms(&self) -> (f64, f64) {
        let (mean, std) = match (self.window.mean_ms(), self.window.variance_ms2()) {
            (Some(mean), Some(variance)) => (mean, variance.sqrt()),
            _ => {
                let estimate = self.config.first_heartbeat_estimate_ms as f64;
                (estimate, estimate / 4.0)
            }
        };
        (mean, std.max(self.config.std_deviation_ms_min))
    }
}
