//! Who takes part in a vote: a node or an agent, by name.

use std::fmt;

use crate::NodeId;

/// The most bytes of a participant's name.
pub const PARTICIPANT_BYTES_MAX: usize = 64;

/// A participant (or proposer) of a vote, named as its mTLS certificate
/// names it: node `7` is `n7` (the node certificates' `CN=n7`), an agent
/// is the name of its client certificate (`CN=reviewer-3`).
///
/// One string type for both, so that a proposal may mix nodes and agents
/// and the node can check a vote's participant against the caller's
/// certificate by plain comparison. Names are ASCII letters, digits and
/// `_ . -`, not starting with `.` or `-`, at most
/// [`PARTICIPANT_BYTES_MAX`] bytes ([`Participant::check`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Participant(pub String);

impl Participant {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why this name is not a valid participant name, if it is not.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.0;
        if name.is_empty() {
            return Err("is empty".into());
        }
        if name.len() > PARTICIPANT_BYTES_MAX {
            return Err(format!("is {} bytes, over {PARTICIPANT_BYTES_MAX}", name.len()));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if let Some((i, c)) = name.chars().enumerate().find(|&(_, c)| !allowed(c)) {
            return Err(format!("has {c:?} at position {} (use A-Z a-z 0-9 _ . -)", i + 1));
        }
        if name.starts_with(['.', '-']) {
            return Err("starts with '.' or '-'".into());
        }
        Ok(())
    }
}

impl From<NodeId> for Participant {
    /// Node `7` is `n7`.
    fn from(node: NodeId) -> Participant {
        Participant(format!("n{}", node.0))
    }
}

impl From<&str> for Participant {
    fn from(name: &str) -> Participant {
        Participant(name.to_owned())
    }
}

impl From<String> for Participant {
    fn from(name: String) -> Participant {
        Participant(name)
    }
}

impl fmt::Display for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_like_their_certificates() {
        assert_eq!(Participant::from(NodeId(7)).as_str(), "n7");
    }

    #[test]
    fn names_are_checked() {
        for good in ["n1", "reviewer-3", "agent.eu_1"] {
            assert_eq!(Participant::from(good).check(), Ok(()), "{good}");
        }
        let long = "a".repeat(PARTICIPANT_BYTES_MAX + 1);
        for bad in ["", "-x", ".x", "a b", "ü", long.as_str()] {
            assert!(Participant::from(bad).check().is_err(), "{bad:?}");
        }
    }
}
