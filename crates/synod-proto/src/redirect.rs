//! Telling a client where the leader is.
//!
//! A follower that cannot serve a call fails it with `FAILED_PRECONDITION`
//! (it knows the leader) or `UNAVAILABLE` (it does not) and puts the
//! leader's id and address in the response metadata under
//! [`LEADER_ID_METADATA`] and [`LEADER_ADDRESS_METADATA`].

use synod_core::NodeId;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

/// Metadata key of the leader's node id, in decimal.
pub const LEADER_ID_METADATA: &str = "synod-leader-id";

/// Metadata key of an address the leader's gRPC server listens on.
pub const LEADER_ADDRESS_METADATA: &str = "synod-leader-address";

/// Where a follower believes the leader is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderHint {
    /// The leader's node id.
    pub id: NodeId,
    /// An address its gRPC server listens on, when known.
    pub address: Option<String>,
}

impl LeaderHint {
    /// The status a follower answers with when it cannot serve a call:
    /// `FAILED_PRECONDITION` carrying the hint when a leader is known,
    /// `UNAVAILABLE` without metadata when none is.
    pub fn not_leader(leader: Option<&LeaderHint>, message: impl Into<String>) -> Status {
        match leader {
            Some(hint) => {
                let mut status = Status::failed_precondition(message);
                hint.attach_to(&mut status);
                status
            }
            None => Status::unavailable(message),
        }
    }

    /// Adds the hint to `status`'s metadata. An address that is not valid
    /// metadata (non-printable ASCII) is left out.
    pub fn attach_to(&self, status: &mut Status) {
        let metadata = status.metadata_mut();
        metadata.insert(LEADER_ID_METADATA, MetadataValue::from(self.id.0));
        if let Some(address) = self.address.as_deref() {
            if let Ok(value) = MetadataValue::try_from(address) {
                metadata.insert(LEADER_ADDRESS_METADATA, value);
            }
        }
    }

    /// The hint carried by `status`, if it is a redirect with a valid,
    /// non-zero leader id. Any other status gives `None`.
    pub fn from_status(status: &Status) -> Option<LeaderHint> {
        if !matches!(status.code(), Code::FailedPrecondition | Code::Unavailable) {
            return None;
        }
        let metadata = status.metadata();
        let id: u64 = metadata.get(LEADER_ID_METADATA)?.to_str().ok()?.parse().ok()?;
        if id == 0 {
            return None;
        }
        let address = metadata
            .get(LEADER_ADDRESS_METADATA)
            .and_then(|v| v.to_str().ok())
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        Some(LeaderHint { id: NodeId(id), address })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_survives_a_status_round_trip() {
        let hint = LeaderHint { id: NodeId(3), address: Some("127.0.0.1:7400".into()) };
        let status = LeaderHint::not_leader(Some(&hint), "not the leader");
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(LeaderHint::from_status(&status), Some(hint));
    }

    #[test]
    fn no_leader_means_unavailable_and_no_hint() {
        let status = LeaderHint::not_leader(None, "election in progress");
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(LeaderHint::from_status(&status), None);
    }

    #[test]
    fn garbage_metadata_gives_no_hint() {
        for bad in ["", "0", "-1", "n3", "18446744073709551616"] {
            let mut status = Status::failed_precondition("x");
            status.metadata_mut().insert(LEADER_ID_METADATA, bad.parse().unwrap());
            assert_eq!(LeaderHint::from_status(&status), None, "id {bad:?}");
        }
    }

    #[test]
    fn unprintable_address_is_left_out() {
        let hint = LeaderHint { id: NodeId(2), address: Some("bad\naddress".into()) };
        let status = LeaderHint::not_leader(Some(&hint), "x");
        assert_eq!(
            LeaderHint::from_status(&status),
            Some(LeaderHint { id: NodeId(2), address: None })
        );
    }
}
