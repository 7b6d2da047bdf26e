//! Configuration of one SWIM member, with the formulas that derive timeouts
//! and retransmission counts from the cluster size.

use super::message::{Message, Update};

/// Which of Lifeguard's three parts are on (Dadgar, Phillips & Currey,
/// 2018, "Lifeguard: Local Health Awareness for More Accurate Failure
/// Detection"). Each can be switched off on its own so that plain SWIM and
/// Lifeguard can be compared in the same simulated runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lifeguard {
    /// "Local Health Aware Probe": a local health score stretches this
    /// member's probe interval and probe timeout, and indirect probers
    /// send nacks so that a prober can tell a dead target from its own
    /// sluggishness. Off: fixed timeouts, no nacks.
    pub local_health: bool,
    /// "Local Health Aware Suspicion": a suspicion starts with a long
    /// timeout that shrinks logarithmically as independent confirmations
    /// arrive. Off: SWIM's fixed suspicion timeout (the minimum).
    pub dynamic_suspicion: bool,
    /// "Buddy System": a ping to a member we suspect carries the suspicion,
    /// so the suspect learns it at once and can refute. We extend the idea
    /// to acks: an ack to a member we hold suspect or dead carries that
    /// belief too. Off: the suspect learns only through gossip.
    pub buddy_system: bool,
}

impl Lifeguard {
    /// Every part on (the default).
    pub const ALL: Lifeguard =
        Lifeguard { local_health: true, dynamic_suspicion: true, buddy_system: true };
    /// Every part off: plain SWIM (Das, Gupta & Motivala, 2002).
    pub const OFF: Lifeguard =
        Lifeguard { local_health: false, dynamic_suspicion: false, buddy_system: false };
}

impl Default for Lifeguard {
    fn default() -> Self {
        Lifeguard::ALL
    }
}

/// Everything a [`Swim`](super::Swim) member needs besides its inputs.
/// [`SwimConfig::default`] mirrors memberlist's LAN profile; adjust fields,
/// then [`SwimConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwimConfig {
    /// Length of one protocol period: one member is probed per period
    /// (SWIM §3.1). Stretched by the local health score.
    pub probe_interval_ms: u64,
    /// How long to wait for a direct ack before asking `indirect_checks`
    /// members to probe on our behalf. Stretched by the local health score.
    pub probe_timeout_ms: u64,
    /// Members asked to probe a target that missed its direct ack (the
    /// `k` of SWIM §3.1).
    pub indirect_checks: usize,
    /// Minimum suspicion timeout, in probe intervals, per `log10(N)`
    /// (SWIM §4.2; memberlist's `SuspicionMult`). Also sets how many
    /// independent confirmations Lifeguard expects: `suspicion_mult - 2`.
    pub suspicion_mult: u32,
    /// Maximum suspicion timeout as a multiple of the minimum (Lifeguard,
    /// "Local Health Aware Suspicion").
    pub suspicion_max_timeout_mult: u32,
    /// Each broadcast is sent `retransmit_mult * ceil(log10(N + 1))` times
    /// (the `λ log N` of SWIM §4.1).
    pub retransmit_mult: u32,
    /// Period of the gossip tick that sends pending broadcasts which did
    /// not find room on protocol messages (memberlist's `GossipInterval`).
    pub gossip_interval_ms: u64,
    /// Random live members each gossip tick sends to.
    pub gossip_fanout: usize,
    /// Period of the full-state push-pull exchange with one random member,
    /// scaled up for clusters above 32 members.
    pub push_pull_interval_ms: u64,
    /// Local health scores range over `0..awareness_max` (Lifeguard's
    /// saturation limit `S`); timeouts are multiplied by `score + 1`.
    pub awareness_max: u32,
    /// Upper bound of one message's [`Message::size_bytes`]: piggybacked
    /// broadcasts are packed up to it so a message fits one datagram.
    pub datagram_bytes_max: usize,
    /// Upper bound of a member's metadata payload. Larger metadata is
    /// refused locally and ignored when it comes from peers.
    pub metadata_bytes_max: usize,
    /// Upper bound of the member table: updates about new members beyond
    /// it are ignored, so a hostile peer cannot exhaust memory.
    pub members_max: usize,
    /// Indirect probes this member relays for others at once; requests
    /// beyond it are dropped (and get no nack).
    pub relays_max: usize,
    /// Dead and left members are forgotten this long after the change.
    /// Until then their tombstones stop stale gossip from reviving them,
    /// and dead ones remain candidates for push-pull (so partitions heal).
    pub dead_reclaim_ms: u64,
    /// A graceful leave ends when our `Left` broadcast has been sent its
    /// full retransmit count, or after this long at the latest.
    pub leave_timeout_ms: u64,
    /// Which parts of Lifeguard are on.
    pub lifeguard: Lifeguard,
}

impl Default for SwimConfig {
    /// memberlist's LAN profile, with Lifeguard fully on.
    fn default() -> Self {
        SwimConfig {
            probe_interval_ms: 1_000,
            probe_timeout_ms: 500,
            indirect_checks: 3,
            suspicion_mult: 4,
            suspicion_max_timeout_mult: 6,
            retransmit_mult: 4,
            gossip_interval_ms: 200,
            gossip_fanout: 3,
            push_pull_interval_ms: 30_000,
            awareness_max: 8,
            datagram_bytes_max: 1_400,
            metadata_bytes_max: 512,
            members_max: 16_384,
            relays_max: 256,
            dead_reclaim_ms: 3_600_000,
            leave_timeout_ms: 5_000,
            lifeguard: Lifeguard::ALL,
        }
    }
}

/// Why a [`SwimConfig`] was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A period, count or limit that must be positive is zero.
    #[error("{field} must be positive")]
    Zero {
        /// The offending field.
        field: &'static str,
    },
    /// The direct probe timeout leaves no time for indirect probes.
    #[error(
        "probe_timeout_ms ({timeout}) must be below probe_interval_ms ({interval}): \
         indirect probes run in the rest of the period"
    )]
    ProbeTimeoutTooLong {
        /// The configured probe timeout.
        timeout: u64,
        /// The configured probe interval.
        interval: u64,
    },
    /// `suspicion_max_timeout_mult` is below 1: the maximum would undercut the minimum.
    #[error("suspicion_max_timeout_mult ({0}) must be at least 1")]
    SuspicionMaxBelowMin(u32),
    /// A datagram cannot carry a probe plus one maximal member update.
    #[error(
        "datagram_bytes_max ({datagram}) must be at least {needed} bytes: a probe with \
         one update carrying metadata_bytes_max ({metadata}) bytes of metadata"
    )]
    DatagramTooSmall {
        /// The configured datagram bound.
        datagram: usize,
        /// The configured metadata bound.
        metadata: usize,
        /// The smallest datagram bound that works with it.
        needed: usize,
    },
    /// The member table could not even hold this member and one peer.
    #[error("members_max ({0}) must be at least 2")]
    MembersMaxTooSmall(usize),
}

impl SwimConfig {
    /// Plain SWIM: the defaults with every Lifeguard part off.
    pub fn plain_swim() -> SwimConfig {
        SwimConfig { lifeguard: Lifeguard::OFF, ..SwimConfig::default() }
    }

    /// Rejects impossible combinations with a message naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("probe_interval_ms", self.probe_interval_ms),
            ("probe_timeout_ms", self.probe_timeout_ms),
            ("gossip_interval_ms", self.gossip_interval_ms),
            ("push_pull_interval_ms", self.push_pull_interval_ms),
            ("leave_timeout_ms", self.leave_timeout_ms),
            ("indirect_checks", self.indirect_checks as u64),
            ("gossip_fanout", self.gossip_fanout as u64),
            ("relays_max", self.relays_max as u64),
            ("suspicion_mult", u64::from(self.suspicion_mult)),
            ("retransmit_mult", u64::from(self.retransmit_mult)),
            ("awareness_max", u64::from(self.awareness_max)),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { field });
            }
        }
        if self.probe_timeout_ms >= self.probe_interval_ms {
            return Err(ConfigError::ProbeTimeoutTooLong {
                timeout: self.probe_timeout_ms,
                interval: self.probe_interval_ms,
            });
        }
        if self.suspicion_max_timeout_mult == 0 {
            return Err(ConfigError::SuspicionMaxBelowMin(self.suspicion_max_timeout_mult));
        }
        if self.members_max < 2 {
            return Err(ConfigError::MembersMaxTooSmall(self.members_max));
        }
        let needed = Message::BASE_BYTES_MAX
            + Update::suspect_bytes()
            + Update::alive_bytes(self.metadata_bytes_max);
        if self.datagram_bytes_max < needed {
            return Err(ConfigError::DatagramTooSmall {
                datagram: self.datagram_bytes_max,
                metadata: self.metadata_bytes_max,
                needed,
            });
        }
        Ok(())
    }

    /// How often a broadcast is sent in a cluster of `members`:
    /// `retransmit_mult * ceil(log10(members + 1))` (SWIM §4.1's `λ log N`).
    pub fn retransmit_limit(&self, members: usize) -> u32 {
        self.retransmit_mult.saturating_mul(ceil_log10(members as u64 + 1).max(1))
    }

    /// The shortest suspicion timeout in a cluster of `members`:
    /// `suspicion_mult * max(1, log10(members)) * probe_interval_ms`
    /// (SWIM §4.2 scales it with `log N` so larger clusters, whose news
    /// travels more rounds, still get to refute).
    pub fn suspicion_min_ms(&self, members: usize) -> u64 {
        let scale = (members.max(1) as f64).log10().max(1.0);
        (f64::from(self.suspicion_mult) * scale * self.probe_interval_ms as f64) as u64
    }

    /// The longest suspicion timeout, which Lifeguard starts from.
    pub fn suspicion_max_ms(&self, members: usize) -> u64 {
        self.suspicion_min_ms(members).saturating_mul(u64::from(self.suspicion_max_timeout_mult))
    }

    /// Independent confirmations that shrink a suspicion to its minimum
    /// timeout: `suspicion_mult - 2` (the suspect and the first suspector
    /// cannot confirm), or 0 when the cluster has too few other members
    /// or Lifeguard's dynamic suspicion is off.
    pub fn suspicion_confirmations_expected(&self, members: usize) -> u32 {
        let k = self.suspicion_mult.saturating_sub(2);
        if !self.lifeguard.dynamic_suspicion || (members as u64) < u64::from(k) + 2 {
            return 0;
        }
        k
    }

    /// The suspicion timeout after `confirmations` independent
    /// confirmations in a cluster of `members` (Lifeguard, "Local Health
    /// Aware Suspicion"):
    /// `max(min, max - (max - min) * ln(C + 1) / ln(K + 1))`. With dynamic
    /// suspicion off, or no confirmations expected, it is the minimum.
    pub fn suspicion_timeout_ms(&self, members: usize, confirmations: u32) -> u64 {
        let min = self.suspicion_min_ms(members);
        let k = self.suspicion_confirmations_expected(members);
        if k == 0 {
            return min;
        }
        let max = self.suspicion_max_ms(members);
        let fraction = f64::from(confirmations.min(k) + 1).ln() / f64::from(k + 1).ln();
        let shrink = ((max - min) as f64 * fraction) as u64;
        max.saturating_sub(shrink).max(min)
    }

    /// The push-pull period in a cluster of `members`: the base interval
    /// up to 32 members, then one more interval per doubling, so the
    /// cluster-wide rate of full-state exchanges grows slowly (as in
    /// memberlist).
    pub fn push_pull_interval_for(&self, members: usize) -> u64 {
        let (mut multiplier, mut capacity) = (1u64, 32usize);
        while capacity < members {
            capacity = capacity.saturating_mul(2);
            multiplier += 1;
        }
        self.push_pull_interval_ms.saturating_mul(multiplier)
    }
}

/// `ceil(log10(n))` for `n >= 1`, in integers so it is exact.
fn ceil_log10(n: u64) -> u32 {
    let (mut digits, mut power) = (0u32, 1u64);
    while power < n {
        power = power.saturating_mul(10);
        digits += 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_memberlist_lan() {
        let config = SwimConfig::default();
        config.validate().unwrap();
        assert_eq!((config.probe_interval_ms, config.probe_timeout_ms), (1_000, 500));
        assert_eq!((config.indirect_checks, config.suspicion_mult), (3, 4));
        assert_eq!((config.gossip_interval_ms, config.gossip_fanout), (200, 3));
        SwimConfig::plain_swim().validate().unwrap();
    }

    #[test]
    fn rejects_bad_values_with_clear_errors() {
        let config = SwimConfig { probe_timeout_ms: 1_000, ..SwimConfig::default() };
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("probe_timeout_ms (1000)"), "{err}");
        let config = SwimConfig { gossip_fanout: 0, ..SwimConfig::default() };
        assert_eq!(config.validate(), Err(ConfigError::Zero { field: "gossip_fanout" }));
        let config = SwimConfig { datagram_bytes_max: 600, ..SwimConfig::default() };
        assert!(matches!(config.validate(), Err(ConfigError::DatagramTooSmall { .. })));
        let config = SwimConfig { suspicion_max_timeout_mult: 0, ..SwimConfig::default() };
        assert_eq!(config.validate(), Err(ConfigError::SuspicionMaxBelowMin(0)));
        let config = SwimConfig { members_max: 1, ..SwimConfig::default() };
        assert_eq!(config.validate(), Err(ConfigError::MembersMaxTooSmall(1)));
    }

    #[test]
    fn retransmit_limit_is_lambda_log_n() {
        let config = SwimConfig::default();
        assert_eq!(config.retransmit_limit(1), 4);
        assert_eq!(config.retransmit_limit(9), 4);
        assert_eq!(config.retransmit_limit(10), 8);
        assert_eq!(config.retransmit_limit(999), 12);
        assert_eq!(config.retransmit_limit(1_000), 16);
    }

    #[test]
    fn push_pull_interval_grows_per_doubling_above_32() {
        let config = SwimConfig::default();
        assert_eq!(config.push_pull_interval_for(32), 30_000);
        assert_eq!(config.push_pull_interval_for(33), 60_000);
        assert_eq!(config.push_pull_interval_for(1_000), 30_000 * 6);
    }
}
