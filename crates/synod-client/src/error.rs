//! Errors of client calls.

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No endpoint could be reached. Nothing was sent.
    #[error("cluster unreachable: {0}")]
    Unreachable(String),
    /// The cluster has no leader right now (election in progress, or no
    /// majority). Nothing took effect.
    #[error("no leader: {0}")]
    NoLeader(String),
    /// The request was refused as invalid; nothing took effect.
    #[error("{0}")]
    Invalid(String),
    /// The request may or may not have taken effect (the link broke or the
    /// deadline passed after it was sent). Read before retrying a write.
    #[error("outcome unknown: {0}")]
    Ambiguous(String),
    /// Any other failure reported by the server.
    #[error("{0}")]
    Server(String),
}
