//! [`HookConfig`]: which decisions start which command, and its limits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use synod_core::vote::{Decision, Outcome, Proposal};

use super::HookConfigError;

/// A hook's time limit when the configuration gives none.
pub const HOOK_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// The longest time limit a hook may ask for: a hook holds up the hooks
/// after it on the same decision, so it must not run for hours.
pub const HOOK_TIMEOUT_MAX: Duration = Duration::from_secs(600);
/// The most hooks one node may configure.
pub const HOOKS_MAX: usize = 64;
/// The longest hook name, in bytes (names are ledger keys and metric labels).
pub const HOOK_NAME_BYTES_MAX: usize = 64;
/// The longest proposal kind a hook may match, in bytes (the vote core's limit).
pub const HOOK_KIND_BYTES_MAX: usize = 64;

/// The kind that matches every proposal kind.
pub const ANY_KIND: &str = "*";

/// Which outcomes a hook runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeFilter {
    /// Only approved proposals.
    Approved,
    /// Only rejected proposals.
    Rejected,
    /// Only proposals whose deadline came first.
    Timeout,
    /// Every outcome.
    Any,
}

impl OutcomeFilter {
    /// Whether `outcome` passes this filter.
    pub fn matches(self, outcome: Outcome) -> bool {
        matches!(
            (self, outcome),
            (OutcomeFilter::Any, _)
                | (OutcomeFilter::Approved, Outcome::Approved)
                | (OutcomeFilter::Rejected, Outcome::Rejected)
                | (OutcomeFilter::Timeout, Outcome::Timeout)
        )
    }
}

/// One decision hook of a node (issue 6, item 5): a command run when a
/// decision on a proposal of `kind` ends with `outcome`.
///
/// Exactly one of `command` (an argv, run without a shell, so payload
/// text can never be interpreted as shell syntax) and `shell` (a script
/// for `sh -c`, for pipelines and redirections) is given.
///
/// ```yaml
/// name: pull-agents
/// kind: commit
/// outcome: approved
/// command: [git, -C, /srv/agents, pull, --ff-only]
/// timeout: 2m
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// Unique among the node's hooks; `[A-Za-z0-9_.-]`, at most 64 bytes.
    pub name: String,
    /// The proposal kind to match exactly, or `*` for every kind.
    pub kind: String,
    /// The outcomes to run on.
    pub outcome: OutcomeFilter,
    /// Program and arguments, run directly (no shell).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// A script run with `sh -c`.
    #[serde(default)]
    pub shell: Option<String>,
    /// The time limit, after which the hook's whole process group is
    /// killed; default 30 s, at most 10 min.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra environment variables; names may not start with `SYNOD_`,
    /// which are the decision's.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_timeout() -> Duration {
    HOOK_TIMEOUT_DEFAULT
}

impl HookConfig {
    /// A hook running `argv` on `kind` and `outcome`, with the default
    /// time limit and no extra environment.
    pub fn command(
        name: impl Into<String>,
        kind: impl Into<String>,
        outcome: OutcomeFilter,
        argv: Vec<String>,
    ) -> HookConfig {
        HookConfig {
            name: name.into(),
            kind: kind.into(),
            outcome,
            command: Some(argv),
            shell: None,
            timeout: HOOK_TIMEOUT_DEFAULT,
            env: BTreeMap::new(),
        }
    }

    /// A hook running `script` with `sh -c` on `kind` and `outcome`.
    pub fn shell(
        name: impl Into<String>,
        kind: impl Into<String>,
        outcome: OutcomeFilter,
        script: impl Into<String>,
    ) -> HookConfig {
        HookConfig {
            shell: Some(script.into()),
            command: None,
            ..HookConfig::command(name, kind, outcome, Vec::new())
        }
    }

    /// This hook with time limit `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> HookConfig {
        self.timeout = timeout;
        self
    }

    /// Whether this hook runs on `decision` of `proposal`.
    pub fn matches(&self, proposal: &Proposal, decision: &Decision) -> bool {
        (self.kind == ANY_KIND || self.kind == proposal.kind)
            && self.outcome.matches(decision.outcome)
    }

    /// The program and its arguments: the argv, or `sh -c <script>`.
    pub fn argv(&self) -> Vec<String> {
        match (&self.command, &self.shell) {
            (Some(argv), _) => argv.clone(),
            (None, Some(script)) => vec!["sh".into(), "-c".into(), script.clone()],
            (None, None) => Vec::new(),
        }
    }

    /// Checks this hook alone; [`validate_hooks`] also checks the list.
    pub fn validate(&self) -> Result<(), HookConfigError> {
        let hook = || self.name.clone();
        validate_name(&self.name)?;
        if self.kind.is_empty() || self.kind.len() > HOOK_KIND_BYTES_MAX {
            return Err(HookConfigError::BadKind { hook: hook(), max: HOOK_KIND_BYTES_MAX });
        }
        match (&self.command, &self.shell) {
            (Some(_), Some(_)) => return Err(HookConfigError::CommandAndShell { hook: hook() }),
            (None, None) => return Err(HookConfigError::NoCommand { hook: hook() }),
            (Some(argv), None) if argv.first().is_none_or(|p| p.trim().is_empty()) => {
                return Err(HookConfigError::EmptyCommand { hook: hook() })
            }
            (None, Some(script)) if script.trim().is_empty() => {
                return Err(HookConfigError::EmptyShell { hook: hook() })
            }
            _ => {}
        }
        if self.argv().iter().any(|a| a.contains('\0')) {
            return Err(HookConfigError::NulInCommand { hook: hook() });
        }
        if self.timeout.is_zero() {
            return Err(HookConfigError::ZeroTimeout { hook: hook() });
        }
        if self.timeout > HOOK_TIMEOUT_MAX {
            return Err(HookConfigError::TimeoutTooLong {
                hook: hook(),
                timeout: self.timeout,
                max: HOOK_TIMEOUT_MAX,
            });
        }
        for (name, value) in &self.env {
            validate_env(&self.name, name, value)?;
        }
        Ok(())
    }
}

/// Checks every hook, and that names are unique and the list not too long.
pub fn validate_hooks(hooks: &[HookConfig]) -> Result<(), HookConfigError> {
    if hooks.len() > HOOKS_MAX {
        return Err(HookConfigError::TooMany { count: hooks.len(), max: HOOKS_MAX });
    }
    let mut seen = BTreeSet::new();
    for hook in hooks {
        hook.validate()?;
        if !seen.insert(hook.name.as_str()) {
            return Err(HookConfigError::DuplicateName { hook: hook.name.clone() });
        }
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<(), HookConfigError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > HOOK_NAME_BYTES_MAX || !name.chars().all(ok_char) {
        return Err(HookConfigError::BadName { hook: name.to_owned(), max: HOOK_NAME_BYTES_MAX });
    }
    Ok(())
}

fn validate_env(hook: &str, name: &str, value: &str) -> Result<(), HookConfigError> {
    if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
        return Err(HookConfigError::BadEnv { hook: hook.to_owned(), name: name.to_owned() });
    }
    if name.starts_with("SYNOD_") {
        return Err(HookConfigError::ReservedEnv { hook: hook.to_owned(), name: name.to_owned() });
    }
    Ok(())
}
