//! [`VoteCommand`]: what the leader puts in the replicated log for votes
//! and the quarantine list.

use serde::{Deserialize, Serialize};
use synod_core::vote::{Proposal, ProposalId, Vote};
use synod_core::Time;

/// The first byte of an encoded vote command. KV commands start with 1
/// (`synod_store::KvCommand`), so one log carries both and the state
/// machine tells them apart by this byte.
pub const VOTE_FORMAT: u8 = 0x56;

/// A change to the vote book or the quarantine list, carried by one log
/// entry. Every time in it was stamped by the leader that proposed it, so
/// each replica applies exactly the same thing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum VoteCommand {
    /// Open a proposal (`created_at` is the leader's clock).
    Create {
        /// The proposal, participants resolved.
        proposal: Proposal,
        /// The identifier a rejection puts in quarantine, when the
        /// proposal's kind is one the leader was configured to guard.
        quarantine_id: Option<String>,
    },
    /// Record a vote.
    Cast {
        /// The proposal.
        id: ProposalId,
        /// The vote.
        vote: Vote,
        /// When the leader received it.
        at: Time,
    },
    /// The leader saw the deadline pass.
    Expire {
        /// The proposal.
        id: ProposalId,
        /// The leader's clock at expiry, at or after the deadline.
        at: Time,
    },
    /// Put an identifier in quarantine.
    QuarantineAdd {
        /// The identifier (a commit hash, a version).
        id: String,
        /// Why.
        reason: String,
        /// When.
        at: Time,
    },
    /// Take an identifier out of quarantine.
    QuarantineRemove {
        /// The identifier.
        id: String,
        /// When.
        at: Time,
    },
}

impl VoteCommand {
    /// The bytes to propose: [`VOTE_FORMAT`], then postcard.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_extend(self, vec![VOTE_FORMAT])
            .expect("postcard serializes a VoteCommand into a Vec infallibly")
    }

    /// Whether `bytes` claim to be a vote command.
    pub fn is_vote(bytes: &[u8]) -> bool {
        bytes.first() == Some(&VOTE_FORMAT)
    }

    /// Decodes bytes made by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<VoteCommand, String> {
        match bytes.split_first() {
            Some((&VOTE_FORMAT, body)) => match postcard::take_from_bytes(body) {
                Ok((cmd, [])) => Ok(cmd),
                Ok((_, rest)) => Err(format!("{} trailing bytes", rest.len())),
                Err(e) => Err(e.to_string()),
            },
            _ => Err("not a vote command".into()),
        }
    }

    /// The time the leader stamped on it.
    pub fn at(&self) -> Time {
        match self {
            VoteCommand::Create { proposal, .. } => proposal.created_at,
            VoteCommand::Cast { at, .. }
            | VoteCommand::Expire { at, .. }
            | VoteCommand::QuarantineAdd { at, .. }
            | VoteCommand::QuarantineRemove { at, .. } => *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::NodeId;

    #[test]
    fn round_trip_and_garbage() {
        let proposal = Proposal::new("p", NodeId(1), "commit", "quorum", [NodeId(1)], Time(5));
        let commands = [
            VoteCommand::Create { proposal, quarantine_id: Some("abc".into()) },
            VoteCommand::Cast { id: "p".into(), vote: Vote::approve(NodeId(1)), at: Time(6) },
            VoteCommand::Expire { id: "p".into(), at: Time(7) },
            VoteCommand::QuarantineAdd { id: "abc".into(), reason: "bad".into(), at: Time(8) },
            VoteCommand::QuarantineRemove { id: "abc".into(), at: Time(9) },
        ];
        for cmd in commands {
            let bytes = cmd.encode();
            assert!(VoteCommand::is_vote(&bytes));
            assert_eq!(VoteCommand::decode(&bytes).unwrap(), cmd);
            assert!(VoteCommand::decode(&bytes[..bytes.len() - 1]).is_err());
        }
        assert!(VoteCommand::decode(&[]).is_err());
        assert!(VoteCommand::decode(&[1, 2, 3]).is_err());
        assert!(VoteCommand::decode(&[VOTE_FORMAT, 200, 1]).is_err());
    }
}
