//! Configuration of one Raft core.

use crate::NodeId;

/// Everything a Raft core needs besides its inputs. Build with
/// [`Config::new`], adjust fields, then [`Config::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This node's id.
    pub id: NodeId,
    /// Lower bound of the randomized election timeout (§5.2).
    pub election_timeout_ms_min: u64,
    /// Upper bound (exclusive) of the randomized election timeout.
    pub election_timeout_ms_max: u64,
    /// Interval between leader heartbeats; well below the election timeout.
    pub heartbeat_interval_ms: u64,
    /// Run a PreVote round before incrementing the term (thesis §9.6).
    pub pre_vote: bool,
    /// A leader steps down when it has not heard from a quorum within an
    /// election timeout; followers ignore vote requests while they hear from
    /// a leader (thesis §6.2, §4.2.3).
    pub check_quorum: bool,
    /// Serve reads from a leader lease instead of a heartbeat round
    /// (thesis §6.4.1). Relies on bounded clock drift; off by default.
    pub lease_reads: bool,
    /// Fraction of the minimum election timeout, in percent, that a lease
    /// lasts after a quorum acknowledged a heartbeat; covers clock drift.
    pub lease_percent: u64,
    /// Appends in flight to one follower before the leader waits for acks.
    pub inflight_msgs_max: usize,
    /// Bytes of entry payload in one AppendEntries message (at least one
    /// entry is always sent, however large).
    pub batch_bytes_max: usize,
    /// Bytes of snapshot data in one InstallSnapshot chunk.
    pub snapshot_chunk_bytes_max: usize,
    /// A learner is promoted to voter only when at most this many entries
    /// behind the leader (thesis §4.2.1).
    pub learner_lag_entries_max: u64,
    /// Seed of the core's RNG (election timeouts).
    pub rng_seed: u64,
    /// Deliberate protocol violations for testing the checkers.
    #[cfg(feature = "bug-injection")]
    pub bugs: Bugs,
}

/// Switches that break the protocol on purpose, so tests can show that the
/// simulator's safety checkers catch each violation.
#[cfg(feature = "bug-injection")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Commit entries of older terms by counting replicas (breaks §5.4.2).
    pub commit_old_term_by_count: bool,
    /// Grant a vote to every candidate of a term (breaks §5.2).
    pub grant_two_votes_per_term: bool,
    /// Send vote grants without persisting the vote first (breaks §5.2 across crashes).
    pub skip_vote_persist: bool,
    /// Serve ReadIndex reads without a heartbeat round (breaks thesis §6.4).
    pub read_without_heartbeat: bool,
}

/// Why a [`Config`] was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The node id 0 is reserved.
    #[error("id: node id must not be 0")]
    ZeroNodeId,
    /// The election timeout range is empty or zero.
    #[error("election_timeout_ms_min ({min}) must be positive and below election_timeout_ms_max ({max})")]
    ElectionTimeoutRange {
        /// The configured minimum.
        min: u64,
        /// The configured maximum.
        max: u64,
    },
    /// Heartbeats are too slow to keep followers from timing out.
    #[error("heartbeat_interval_ms ({heartbeat}) must be positive and at most a third of election_timeout_ms_min ({min})")]
    HeartbeatTooSlow {
        /// The configured heartbeat interval.
        heartbeat: u64,
        /// The configured minimum election timeout.
        min: u64,
    },
    /// A limit that must be positive is zero.
    #[error("{field} must be positive")]
    ZeroLimit {
        /// The offending field.
        field: &'static str,
    },
    /// Lease reads need CheckQuorum, and a lease shorter than the timeout.
    #[error(
        "lease_reads requires check_quorum and lease_percent in 1..=100 (got {lease_percent})"
    )]
    LeaseWithoutCheckQuorum {
        /// The configured lease fraction.
        lease_percent: u64,
    },
}

impl Config {
    /// Defaults for a LAN cluster: 1–2 s election timeout, 100 ms heartbeats.
    pub fn new(id: NodeId) -> Config {
        Config {
            id,
            election_timeout_ms_min: 1000,
            election_timeout_ms_max: 2000,
            heartbeat_interval_ms: 100,
            pre_vote: true,
            check_quorum: true,
            lease_reads: false,
            lease_percent: 90,
            inflight_msgs_max: 64,
            batch_bytes_max: 1 << 20,
            snapshot_chunk_bytes_max: 1 << 20,
            learner_lag_entries_max: 64,
            rng_seed: id.0,
            #[cfg(feature = "bug-injection")]
            bugs: Bugs::default(),
        }
    }

    /// Rejects impossible or unsafe combinations with a message naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.id.0 == 0 {
            return Err(ConfigError::ZeroNodeId);
        }
        let (min, max) = (self.election_timeout_ms_min, self.election_timeout_ms_max);
        if min == 0 || max <= min {
            return Err(ConfigError::ElectionTimeoutRange { min, max });
        }
        let heartbeat = self.heartbeat_interval_ms;
        if heartbeat == 0 || heartbeat.saturating_mul(3) > min {
            return Err(ConfigError::HeartbeatTooSlow { heartbeat, min });
        }
        for (field, value) in [
            ("inflight_msgs_max", self.inflight_msgs_max),
            ("batch_bytes_max", self.batch_bytes_max),
            ("snapshot_chunk_bytes_max", self.snapshot_chunk_bytes_max),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit { field });
            }
        }
        if self.lease_reads
            && (!self.check_quorum || self.lease_percent == 0 || self.lease_percent > 100)
        {
            return Err(ConfigError::LeaseWithoutCheckQuorum { lease_percent: self.lease_percent });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::new(NodeId(1)).validate().unwrap();
    }

    #[test]
    fn rejects_heartbeat_close_to_election_timeout() {
        let mut config = Config::new(NodeId(1));
        config.heartbeat_interval_ms = 500;
        let err = config.validate().unwrap_err();
        assert_eq!(err, ConfigError::HeartbeatTooSlow { heartbeat: 500, min: 1000 });
        assert!(err.to_string().contains("heartbeat_interval_ms (500)"));
    }

    #[test]
    fn rejects_bad_values() {
        let mut config = Config::new(NodeId(0));
        assert_eq!(config.validate(), Err(ConfigError::ZeroNodeId));
        config.id = NodeId(1);
        config.election_timeout_ms_max = config.election_timeout_ms_min;
        assert!(matches!(config.validate(), Err(ConfigError::ElectionTimeoutRange { .. })));
        let mut config = Config::new(NodeId(1));
        config.inflight_msgs_max = 0;
        assert_eq!(config.validate(), Err(ConfigError::ZeroLimit { field: "inflight_msgs_max" }));
        let mut config = Config::new(NodeId(1));
        config.lease_reads = true;
        config.check_quorum = false;
        assert!(matches!(config.validate(), Err(ConfigError::LeaseWithoutCheckQuorum { .. })));
    }
}
