//! What a member knows about each member: state, incarnation, address and
//! versioned metadata, in a table that keeps the count of live members.

use super::address::Address;
use std::collections::BTreeMap;

use bytes::Bytes;

use super::message::U64_BYTES;
use crate::{NodeId, Time};

/// A member's state as seen by one member (SWIM §4.2, plus graceful leave).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MemberState {
    /// Answers probes, as far as we know.
    Alive,
    /// Missed a probe; declared dead unless it refutes in time.
    Suspect,
    /// Declared failed (SWIM's "confirm").
    Dead,
    /// Left gracefully.
    Left,
}

impl MemberState {
    /// Alive or suspect: still probed and gossiped to.
    pub fn is_live(self) -> bool {
        matches!(self, MemberState::Alive | MemberState::Suspect)
    }
}

/// Small application data gossiped with a member (later: Raft role,
/// service addresses, Merkle roots). `version` grows with every change so
/// that readers can tell new metadata from old; the payload is opaque
/// here and bounded by `SwimConfig::metadata_bytes_max`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Metadata {
    /// Grows with every change of `data` by its owner.
    pub version: u64,
    /// The payload.
    pub data: Bytes,
}

impl Metadata {
    /// Metadata at version 0 with this payload.
    pub fn new(data: impl Into<Bytes>) -> Metadata {
        Metadata { version: 0, data: data.into() }
    }

    /// Conservative encoded size.
    pub fn size_bytes(&self) -> usize {
        Metadata::size_bytes_for(self.data.len())
    }

    /// Encoded size of metadata with `data_bytes` of payload.
    pub(crate) fn size_bytes_for(data_bytes: usize) -> usize {
        2 * U64_BYTES + data_bytes
    }
}

/// One member as seen by one member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemberInfo {
    /// Its id.
    pub id: NodeId,
    /// Where it receives datagrams.
    pub addr: Address,
    /// Its state.
    pub state: MemberState,
    /// Its incarnation number: only the member raises it, to refute
    /// suspicion or announce new metadata (SWIM §4.2).
    pub incarnation: u64,
    /// Its metadata.
    pub meta: Metadata,
}

/// A table entry: the public view plus when its state last changed.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) info: MemberInfo,
    pub(crate) since: Time,
}

/// Every member known, this one included, keyed by id (ordered, so
/// iteration is deterministic).
#[derive(Clone, Debug, Default)]
pub(crate) struct Members {
    map: BTreeMap<NodeId, Member>,
    live: usize,
}

impl Members {
    pub(crate) fn info(&self, id: NodeId) -> Option<&MemberInfo> {
        self.map.get(&id).map(|m| &m.info)
    }

    /// Members known, tombstones included.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Alive and suspect members, this one included while it has not left.
    pub(crate) fn live_count(&self) -> usize {
        self.live
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Member> {
        self.map.values()
    }

    /// Adds a member not known yet.
    pub(crate) fn insert(&mut self, info: MemberInfo, now: Time) {
        let live = info.state.is_live();
        let old = self.map.insert(info.id, Member { info, since: now });
        assert!(old.is_none(), "member inserted twice");
        self.live += usize::from(live);
    }

    /// Changes a known member through `change`, keeping the live count
    /// and the time of the last state change. Returns the new view.
    pub(crate) fn modify(
        &mut self,
        id: NodeId,
        now: Time,
        change: impl FnOnce(&mut MemberInfo),
    ) -> Option<&MemberInfo> {
        let member = self.map.get_mut(&id)?;
        let before = member.info.state;
        change(&mut member.info);
        assert_eq!(member.info.id, id, "a member's id never changes");
        let after = member.info.state;
        if before != after {
            member.since = now;
            self.live = self.live + usize::from(after.is_live()) - usize::from(before.is_live());
        }
        Some(&member.info)
    }

    /// Forgets dead and left members whose state is older than `before`.
    pub(crate) fn reap(&mut self, before: Time) -> usize {
        let count = self.map.len();
        self.map.retain(|_, m| m.info.state.is_live() || m.since >= before);
        count - self.map.len()
    }
}
