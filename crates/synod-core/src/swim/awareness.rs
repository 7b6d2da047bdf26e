//! Local health awareness (Lifeguard, "Local Health Aware Probe").
//!
//! SWIM assumes a member that fails to hear an ack is healthy and its
//! target is not. When the prober itself is slow (CPU starved, paused,
//! dropping its inbound packets) that assumption produces false
//! suspicions of healthy members. Lifeguard keeps a saturating score of
//! evidence that *this* member is unwell and multiplies its probe interval
//! and probe timeout by `score + 1`, so a sick member probes less often
//! and waits longer before blaming others.

/// Evidence the score reacts to, with Lifeguard's deltas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HealthEvent {
    /// A probe was acked: −1.
    ProbeAcked,
    /// A probe failed and nacks were not in use: +1.
    ProbeFailed,
    /// A probe failed and `missing` of the expected nacks never came:
    /// +missing. Nacks that did come prove our links work, so a probe
    /// whose intermediaries all nacked costs nothing.
    NacksMissed {
        /// Expected nacks that did not arrive.
        missing: u32,
    },
    /// We had to refute a suspicion about ourselves: +1.
    Refuted,
}

/// The local health score: 0 is healthy, `max - 1` is the worst.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Awareness {
    score: u32,
    max: u32,
    enabled: bool,
}

impl Awareness {
    /// A healthy score bounded by `max` (at least 1); a disabled one stays 0.
    pub(crate) fn new(max: u32, enabled: bool) -> Awareness {
        Awareness { score: 0, max: max.max(1), enabled }
    }

    pub(crate) fn score(&self) -> u32 {
        self.score
    }

    /// Applies the delta of `event`, saturating in `0..max`.
    pub(crate) fn record(&mut self, event: HealthEvent) {
        if !self.enabled {
            return;
        }
        self.score = match event {
            HealthEvent::ProbeAcked => self.score.saturating_sub(1),
            HealthEvent::ProbeFailed | HealthEvent::Refuted => self.score.saturating_add(1),
            HealthEvent::NacksMissed { missing } => self.score.saturating_add(missing),
        }
        .min(self.max - 1);
    }

    /// `ms` stretched by the score: `ms * (score + 1)`.
    pub(crate) fn scale_ms(&self, ms: u64) -> u64 {
        ms.saturating_mul(u64::from(self.score) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_saturates_and_scales_timeouts() {
        let mut health = Awareness::new(8, true);
        assert_eq!(health.scale_ms(500), 500);
        health.record(HealthEvent::NacksMissed { missing: 3 });
        assert_eq!(health.score(), 3);
        assert_eq!(health.scale_ms(500), 2_000);
        for _ in 0..10 {
            health.record(HealthEvent::ProbeFailed);
        }
        assert_eq!(health.score(), 7, "saturates at awareness_max - 1");
        health.record(HealthEvent::ProbeAcked);
        assert_eq!(health.score(), 6);
        health.record(HealthEvent::NacksMissed { missing: 0 });
        assert_eq!(health.score(), 6, "a probe every intermediary nacked costs nothing");
    }

    #[test]
    fn disabled_score_stays_zero() {
        let mut health = Awareness::new(8, false);
        health.record(HealthEvent::Refuted);
        assert_eq!((health.score(), health.scale_ms(1_000)), (0, 1_000));
    }
}
