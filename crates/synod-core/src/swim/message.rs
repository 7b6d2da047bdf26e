//! Messages between SWIM members, the membership updates they piggyback,
//! and conservative size estimates that keep every message inside one
//! datagram.
//!
//! Sizes are upper bounds of the postcard encoding the node uses: every
//! integer is counted as a maximal varint, every enum tag and length
//! prefix at its widest, every socket address as IPv6. A driver that adds
//! framing (a checksum, a label, encryption) must leave room for it when
//! choosing `datagram_bytes_max`.

use super::address::Address;
use super::member::{MemberInfo, Metadata};
use crate::NodeId;

/// Widest varint of a `u64` (and of `NodeId`, `usize` lengths).
pub(crate) const U64_BYTES: usize = 10;
/// Widest enum tag (a `u32` varint).
pub(crate) const TAG_BYTES: usize = 5;
/// An IPv6 socket address: tag, 16 address bytes, port varint, with slack.
pub(crate) const ADDR_BYTES: usize = 32;

/// One fact about one member, disseminated infection-style (SWIM §4.1):
/// piggybacked on probes, acks and nacks, and sent by the gossip tick.
///
/// At the same incarnation `Suspect` overrides `Alive`, and `Dead` and
/// `Left` override both; only an `Alive` with a higher incarnation, which
/// only the member itself issues, overrides them back (SWIM §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Update {
    /// `id` is alive at `incarnation`, reachable at `addr`, with `meta`.
    /// Announces joins, refutes suspicions, carries metadata changes.
    Alive {
        /// The member.
        id: NodeId,
        /// Where it receives datagrams.
        addr: Address,
        /// Its incarnation number.
        incarnation: u64,
        /// Its metadata.
        meta: Metadata,
    },
    /// `from` suspects `id` at `incarnation`.
    Suspect {
        /// The suspect.
        id: NodeId,
        /// The incarnation suspected.
        incarnation: u64,
        /// Who suspects it (Lifeguard counts distinct suspectors).
        from: NodeId,
    },
    /// `from` declared `id` dead at `incarnation` (SWIM's "confirm").
    Dead {
        /// The member declared dead.
        id: NodeId,
        /// The incarnation declared dead.
        incarnation: u64,
        /// Who declared it.
        from: NodeId,
    },
    /// `id` left the cluster gracefully at `incarnation`.
    Left {
        /// The member that left.
        id: NodeId,
        /// Its incarnation when leaving.
        incarnation: u64,
    },
}

impl Update {
    /// The member this update is about.
    pub fn subject(&self) -> NodeId {
        match self {
            Update::Alive { id, .. }
            | Update::Suspect { id, .. }
            | Update::Dead { id, .. }
            | Update::Left { id, .. } => *id,
        }
    }

    /// The incarnation this update is about.
    pub fn incarnation(&self) -> u64 {
        match self {
            Update::Alive { incarnation, .. }
            | Update::Suspect { incarnation, .. }
            | Update::Dead { incarnation, .. }
            | Update::Left { incarnation, .. } => *incarnation,
        }
    }

    /// Conservative encoded size.
    pub fn size_bytes(&self) -> usize {
        match self {
            Update::Alive { meta, .. } => Update::alive_bytes(meta.data.len()),
            Update::Suspect { .. } | Update::Dead { .. } => Update::suspect_bytes(),
            Update::Left { .. } => TAG_BYTES + 2 * U64_BYTES,
        }
    }

    /// Size of an `Alive` update carrying `meta_bytes` of metadata.
    pub(crate) fn alive_bytes(meta_bytes: usize) -> usize {
        TAG_BYTES + U64_BYTES + ADDR_BYTES + U64_BYTES + Metadata::size_bytes_for(meta_bytes)
    }

    /// Size of a `Suspect` or `Dead` update.
    pub(crate) fn suspect_bytes() -> usize {
        TAG_BYTES + 3 * U64_BYTES
    }
}

/// A datagram between two members. Every message names its sender's id;
/// the sender's address is the datagram's source, which the driver passes
/// to [`Swim::handle_message`](super::Swim::handle_message).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Message {
    /// A probe (SWIM §3.1). `to` names the intended member, so a process
    /// that took over the address under another id does not answer.
    Ping {
        /// Probe sequence number, echoed by the ack.
        seq: u64,
        /// The sender.
        from: NodeId,
        /// The member probed.
        to: NodeId,
        /// Piggybacked updates (SWIM §4.1).
        piggyback: Vec<Update>,
    },
    /// Asks the receiver to probe `target` for the sender (SWIM §3.1's
    /// ping-req) and forward the ack.
    IndirectPing {
        /// The sender's probe sequence number, echoed by ack and nack.
        seq: u64,
        /// The sender.
        from: NodeId,
        /// The member to probe.
        target: NodeId,
        /// Its address, used when the receiver does not know `target` yet.
        target_addr: Address,
        /// Send a [`Message::Nack`] if the target stays silent (Lifeguard,
        /// "Local Health Aware Probe").
        nack: bool,
        /// Piggybacked updates.
        piggyback: Vec<Update>,
    },
    /// Answers a ping, directly or forwarded by an indirect prober.
    Ack {
        /// The sequence number of the ping (or of the indirect request).
        seq: u64,
        /// The sender.
        from: NodeId,
        /// Piggybacked updates.
        piggyback: Vec<Update>,
    },
    /// An indirect prober could not reach the target in time: the prober
    /// itself is healthy, so a failed probe is the target's fault.
    Nack {
        /// The sequence number of the indirect request.
        seq: u64,
        /// The sender.
        from: NodeId,
        /// Piggybacked updates.
        piggyback: Vec<Update>,
    },
    /// Updates sent by the gossip tick (or directly to a suspect).
    Gossip {
        /// The sender.
        from: NodeId,
        /// The updates.
        updates: Vec<Update>,
    },
}

impl Message {
    /// Upper bound of the size of any message without its updates.
    pub const BASE_BYTES_MAX: usize = TAG_BYTES + 3 * U64_BYTES + ADDR_BYTES + 1 + U64_BYTES;

    /// The claimed sender.
    pub fn from(&self) -> NodeId {
        match self {
            Message::Ping { from, .. }
            | Message::IndirectPing { from, .. }
            | Message::Ack { from, .. }
            | Message::Nack { from, .. }
            | Message::Gossip { from, .. } => *from,
        }
    }

    /// The piggybacked (or gossiped) updates.
    pub fn updates(&self) -> &[Update] {
        match self {
            Message::Ping { piggyback, .. }
            | Message::IndirectPing { piggyback, .. }
            | Message::Ack { piggyback, .. }
            | Message::Nack { piggyback, .. } => piggyback,
            Message::Gossip { updates, .. } => updates,
        }
    }

    /// Conservative encoded size; never above `datagram_bytes_max` for a
    /// message built by [`Swim`](super::Swim).
    pub fn size_bytes(&self) -> usize {
        self.base_bytes() + self.updates().iter().map(Update::size_bytes).sum::<usize>()
    }

    /// Size without the updates (tag, fields and the list's length prefix).
    pub(crate) fn base_bytes(&self) -> usize {
        let fields = match self {
            Message::Ping { .. } => 3 * U64_BYTES,
            Message::IndirectPing { .. } => 3 * U64_BYTES + ADDR_BYTES + 1,
            Message::Ack { .. } | Message::Nack { .. } => 2 * U64_BYTES,
            Message::Gossip { .. } => U64_BYTES,
        };
        TAG_BYTES + fields + U64_BYTES
    }

    /// The updates, for topping a message up with broadcasts.
    pub(crate) fn updates_mut(&mut self) -> &mut Vec<Update> {
        match self {
            Message::Ping { piggyback, .. }
            | Message::IndirectPing { piggyback, .. }
            | Message::Ack { piggyback, .. }
            | Message::Nack { piggyback, .. } => piggyback,
            Message::Gossip { updates, .. } => updates,
        }
    }

    /// Splits off the updates.
    pub(crate) fn into_updates(mut self) -> (Message, Vec<Update>) {
        let updates = std::mem::take(self.updates_mut());
        (self, updates)
    }
}

/// A member's full view, exchanged over a reliable channel in push-pull
/// (on join and periodically): anti-entropy for whatever gossip missed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PushPull {
    /// The member whose view this is.
    pub from: NodeId,
    /// Every member it knows, itself included, with tombstones.
    pub members: Vec<MemberInfo>,
}
