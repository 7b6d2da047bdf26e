//! Limits of a [`VoteBook`](super::VoteBook).

/// Bounds on everything a client can make the vote book store.
///
/// The book lives inside the replicated state machine, so every byte a
/// proposal or a vote carries is written to the log of every replica and
/// kept in memory until the node prunes it. Each text field therefore has
/// a size bound, each collection a count bound, and a proposal that
/// exceeds one is refused before anything is recorded. Sizes are UTF-8
/// bytes, not characters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Deadline of a proposal that names none (issue 6: 30 s).
    pub deadline_ms_default: u64,
    /// Longest deadline a proposal may ask for (issue 6: 300 s). Open
    /// proposals hold memory and block their participants' attention, so
    /// they may not linger.
    pub deadline_ms_max: u64,
    /// Most participants of one proposal.
    pub participants_max: usize,
    /// Most proposals open (undecided) at once; a create beyond it is
    /// refused until some deadline passes.
    pub open_proposals_max: usize,
    /// Longest proposal id.
    pub id_bytes_max: usize,
    /// Longest proposal kind (`commit`, `deploy`, ...).
    pub kind_bytes_max: usize,
    /// Longest proposal payload (JSON text, validated by the node).
    pub payload_bytes_max: usize,
    /// Longest algorithm name, both in proposals and in the registry.
    pub algorithm_name_bytes_max: usize,
    /// Largest sum of key and value sizes of a proposal's custom
    /// algorithm parameters.
    pub custom_params_bytes_max: usize,
    /// Longest reason attached to a vote.
    pub reason_bytes_max: usize,
    /// Longest metadata attached to a vote.
    pub metadata_bytes_max: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            deadline_ms_default: 30_000,
            deadline_ms_max: 300_000,
            participants_max: 1_024,
            open_proposals_max: 10_000,
            id_bytes_max: 128,
            kind_bytes_max: 64,
            payload_bytes_max: 64 * 1024,
            algorithm_name_bytes_max: 64,
            custom_params_bytes_max: 4 * 1024,
            reason_bytes_max: 1_024,
            metadata_bytes_max: 4 * 1024,
        }
    }
}

/// A [`Config`] that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `deadline_ms_default` is 0 or above `deadline_ms_max`: a proposal
    /// that names no deadline would be refused, or expire at once.
    #[error("deadline_ms_default ({default}) must be between 1 and deadline_ms_max ({max})")]
    BadDefaultDeadline {
        /// The configured default.
        default: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A count or size bound is 0, so nothing could ever be accepted.
    #[error("{0} must be positive")]
    Zero(&'static str),
}

impl Config {
    /// Rejects impossible values; nothing is changed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (default, max) = (self.deadline_ms_default, self.deadline_ms_max);
        if default == 0 || default > max {
            return Err(ConfigError::BadDefaultDeadline { default, max });
        }
        let bounds = [
            ("participants_max", self.participants_max),
            ("open_proposals_max", self.open_proposals_max),
            ("id_bytes_max", self.id_bytes_max),
            ("kind_bytes_max", self.kind_bytes_max),
            ("algorithm_name_bytes_max", self.algorithm_name_bytes_max),
        ];
        match bounds.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(ConfigError::Zero(name)),
            None => Ok(()),
        }
    }
}
