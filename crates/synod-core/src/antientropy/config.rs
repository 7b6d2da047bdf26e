//! Configuration of an anti-entropy session.

/// Limits of an [`AntiEntropySession`](super::AntiEntropySession).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long to wait for the peer's answer before sending the last
    /// message again.
    pub retry_ms: u64,
    /// How many times the same message is sent again before the session
    /// fails with [`SessionError::Timeout`](super::SessionError::Timeout).
    pub attempts_max: u32,
    /// Upper bound of the body of one `Children`, `Keys`, `Want` or
    /// `Deltas` message, in estimated encoded bytes. A single entry that is
    /// larger travels alone.
    pub batch_bytes_max: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { retry_ms: 500, attempts_max: 8, batch_bytes_max: 256 * 1024 }
    }
}

/// A [`Config`] that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `retry_ms` is 0: the session would resend in a busy loop.
    #[error("retry_ms must be positive")]
    RetryZero,
    /// `attempts_max` is 0: a single lost message would fail the session.
    #[error("attempts_max must be positive")]
    AttemptsZero,
    /// `batch_bytes_max` is below the given minimum.
    #[error("batch_bytes_max {0} is below the minimum of {min} bytes", min = BATCH_BYTES_MIN)]
    BatchTooSmall(usize),
}

/// The smallest sensible `batch_bytes_max`: a few node hashes.
pub const BATCH_BYTES_MIN: usize = 256;

impl Config {
    /// Rejects impossible combinations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retry_ms == 0 {
            return Err(ConfigError::RetryZero);
        }
        if self.attempts_max == 0 {
            return Err(ConfigError::AttemptsZero);
        }
        if self.batch_bytes_max < BATCH_BYTES_MIN {
            return Err(ConfigError::BatchTooSmall(self.batch_bytes_max));
        }
        Ok(())
    }
}
