//! Errors of decision hooks: bad configuration and ledger failures.

use std::path::PathBuf;
use std::time::Duration;

/// Why a hook configuration is refused. Found at startup, before any
/// hook runs; each names the hook at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookConfigError {
    /// The name is empty, too long or has characters outside `[A-Za-z0-9_.-]`.
    #[error("hook {hook:?}: name must be 1 to {max} bytes of [A-Za-z0-9_.-]")]
    BadName {
        /// The name given.
        hook: String,
        /// The longest name allowed.
        max: usize,
    },
    /// Two hooks have the same name.
    #[error("hook {hook:?}: name used by more than one hook")]
    DuplicateName {
        /// The name.
        hook: String,
    },
    /// More hooks than allowed.
    #[error("{count} hooks configured, at most {max} allowed")]
    TooMany {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The kind is empty or too long.
    #[error("hook {hook:?}: kind must be 1 to {max} bytes (or \"*\" for any kind)")]
    BadKind {
        /// The hook.
        hook: String,
        /// The longest kind allowed.
        max: usize,
    },
    /// Neither `command` nor `shell` is given.
    #[error("hook {hook:?}: give a command (argv list) or a shell script")]
    NoCommand {
        /// The hook.
        hook: String,
    },
    /// Both `command` and `shell` are given.
    #[error("hook {hook:?}: give either command or shell, not both")]
    CommandAndShell {
        /// The hook.
        hook: String,
    },
    /// The argv is empty or its program is blank.
    #[error("hook {hook:?}: command is empty (its first element names the program)")]
    EmptyCommand {
        /// The hook.
        hook: String,
    },
    /// The shell script is blank.
    #[error("hook {hook:?}: shell script is empty")]
    EmptyShell {
        /// The hook.
        hook: String,
    },
    /// An argument contains a NUL byte, which no process can receive.
    #[error("hook {hook:?}: command contains a NUL byte")]
    NulInCommand {
        /// The hook.
        hook: String,
    },
    /// The time limit is zero.
    #[error("hook {hook:?}: timeout must be more than 0")]
    ZeroTimeout {
        /// The hook.
        hook: String,
    },
    /// The time limit is above the maximum.
    #[error("hook {hook:?}: timeout {timeout:?} is above the maximum {max:?}")]
    TimeoutTooLong {
        /// The hook.
        hook: String,
        /// The limit asked for.
        timeout: Duration,
        /// The maximum.
        max: Duration,
    },
    /// An environment variable name is empty or contains `=` or NUL, or
    /// its value contains NUL.
    #[error("hook {hook:?}: invalid environment variable {name:?}")]
    BadEnv {
        /// The hook.
        hook: String,
        /// The variable.
        name: String,
    },
    /// An environment variable name starts with `SYNOD_`, reserved for the decision.
    #[error("hook {hook:?}: environment variable {name:?} uses the reserved prefix SYNOD_")]
    ReservedEnv {
        /// The hook.
        hook: String,
        /// The variable.
        name: String,
    },
}

/// Why the hook ledger failed. A failure to record "started" means the
/// hook did not run; a failure to record the result leaves the run
/// "started", reported as interrupted after a restart.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The ledger file could not be opened, read or written.
    #[error("hook ledger {path}: {source}")]
    Storage {
        /// The ledger file.
        path: PathBuf,
        /// What redb reported.
        source: redb::Error,
    },
    /// A ledger record failed its checksum or did not decode; nothing changed.
    #[error("hook ledger {path}: corrupt record for {key}: {reason}")]
    Corrupt {
        /// The ledger file.
        path: PathBuf,
        /// Which run: `proposal/hook`, or a sequence number.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A blocking ledger task was cancelled or panicked.
    #[error("hook ledger task failed: {0}")]
    Task(String),
}
