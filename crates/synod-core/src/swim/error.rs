//! Errors of a SWIM member's commands.

/// Why a command was refused. None of them changes any state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SwimError {
    /// The metadata payload exceeds `SwimConfig::metadata_bytes_max`.
    #[error("metadata of {bytes} bytes exceeds metadata_bytes_max ({max})")]
    MetadataTooLarge {
        /// The payload's size.
        bytes: usize,
        /// The configured bound.
        max: usize,
    },
    /// The member is leaving or has left; it announces nothing new.
    #[error("this member is leaving the cluster")]
    Leaving,
}
