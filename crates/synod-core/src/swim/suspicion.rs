//! One running suspicion and its deadline.
//!
//! SWIM (§4.2) gives a suspect a fixed time to refute before it is
//! declared dead. Lifeguard ("Local Health Aware Suspicion") starts the
//! timer long and shortens it as *independent* members report the same
//! suspicion: a lone suspector may be the sick one, while several
//! agreeing suspectors are unlikely to all be wrong. The formula lives in
//! [`SwimConfig::suspicion_timeout_ms`]; this type counts confirmations.

use super::SwimConfig;
use crate::{NodeId, Time};

/// A suspicion of one member at one incarnation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Suspicion {
    /// The incarnation suspected.
    pub(crate) incarnation: u64,
    started: Time,
    /// Cluster size when the suspicion started; fixes min and max timeouts.
    members: usize,
    /// Confirmations that still shorten the timeout (`K`).
    expected: u32,
    /// The first suspector, then each distinct confirmer; at most `K + 1`.
    suspectors: Vec<NodeId>,
    deadline: Time,
}

impl Suspicion {
    /// A suspicion raised by `from` at `now` in a cluster of `members`.
    pub(crate) fn new(
        config: &SwimConfig,
        incarnation: u64,
        from: NodeId,
        members: usize,
        now: Time,
    ) -> Suspicion {
        let expected = config.suspicion_confirmations_expected(members);
        let deadline = now.plus_ms(config.suspicion_timeout_ms(members, 0));
        Suspicion { incarnation, started: now, members, expected, suspectors: vec![from], deadline }
    }

    /// When the suspect is declared dead unless it refutes.
    pub(crate) fn deadline(&self) -> Time {
        self.deadline
    }

    /// Independent confirmations counted so far.
    pub(crate) fn confirmations(&self) -> u32 {
        self.suspectors.len() as u32 - 1
    }

    /// Counts `from` as a confirmation if it is new and still shortens the
    /// timeout; returns whether it did (then it is worth re-gossiping).
    pub(crate) fn confirm(&mut self, config: &SwimConfig, from: NodeId) -> bool {
        if self.confirmations() >= self.expected || self.suspectors.contains(&from) {
            return false;
        }
        self.suspectors.push(from);
        let timeout = config.suspicion_timeout_ms(self.members, self.confirmations());
        self.deadline = self.started.plus_ms(timeout);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: u64) -> NodeId {
        NodeId(id)
    }

    // Lifeguard, "Local Health Aware Suspicion": the timeout falls from
    // max to min as log(C + 1) / log(K + 1), C confirmations of K expected.
    #[test]
    fn timeout_shrinks_logarithmically_with_confirmations() {
        let config = SwimConfig::default();
        // 100 members: min = 4 * log10(100) * 1 s = 8 s, max = 6 * min, K = 2.
        assert_eq!(config.suspicion_min_ms(100), 8_000);
        assert_eq!(config.suspicion_max_ms(100), 48_000);
        assert_eq!(config.suspicion_confirmations_expected(100), 2);
        let expect = |c: u32| {
            let fraction = f64::from(c + 1).ln() / 3f64.ln();
            48_000 - (40_000.0 * fraction) as u64
        };
        assert_eq!(config.suspicion_timeout_ms(100, 0), 48_000);
        assert_eq!(config.suspicion_timeout_ms(100, 1), expect(1));
        assert_eq!(config.suspicion_timeout_ms(100, 1), 22_763);
        assert_eq!(config.suspicion_timeout_ms(100, 2), 8_000);
        assert_eq!(config.suspicion_timeout_ms(100, 9), 8_000, "never below the minimum");
        // Small clusters: log10 is clamped to 1; too few members to confirm.
        assert_eq!(config.suspicion_min_ms(3), 4_000);
        assert_eq!(config.suspicion_confirmations_expected(3), 0);
        assert_eq!(config.suspicion_timeout_ms(3, 0), 4_000);
        // Plain SWIM: the fixed minimum whatever the confirmations.
        let plain = SwimConfig::plain_swim();
        assert_eq!(plain.suspicion_timeout_ms(100, 0), 8_000);
    }

    #[test]
    fn only_distinct_confirmations_up_to_k_shorten_the_deadline() {
        let config = SwimConfig::default();
        let mut s = Suspicion::new(&config, 3, n(1), 100, Time(1_000));
        assert_eq!(s.deadline(), Time(49_000));
        assert!(!s.confirm(&config, n(1)), "the first suspector does not confirm itself");
        assert!(s.confirm(&config, n(2)));
        assert_eq!(s.deadline(), Time(1_000 + 22_763));
        assert!(!s.confirm(&config, n(2)), "a repeated confirmer counts once");
        assert!(s.confirm(&config, n(3)));
        assert_eq!(s.deadline(), Time(9_000));
        assert!(!s.confirm(&config, n(4)), "beyond K nothing changes");
        assert_eq!(s.confirmations(), 2);
    }
}
