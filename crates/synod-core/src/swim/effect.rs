//! Effects a SWIM member asks its driver to carry out, and the membership
//! events it reports.

use super::address::Address;
use super::member::MemberInfo;
use super::message::Message;

/// One thing the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send `msg` to `to` as one datagram. It may be lost, duplicated or
    /// reordered; the protocol tolerates all three.
    Send {
        /// The destination.
        to: Address,
        /// The message; its `size_bytes()` is within `datagram_bytes_max`.
        msg: Message,
    },
    /// Exchange full state with `to` over a reliable channel: send it
    /// [`Swim::push_pull_state`](super::Swim::push_pull_state) and pass its
    /// answer to [`Swim::merge_push_pull`](super::Swim::merge_push_pull).
    /// The receiving side merges the request the same way and answers with
    /// its own state. A failed exchange needs no report.
    PushPull {
        /// The peer.
        to: Address,
    },
    /// The membership view changed.
    Event(MemberEvent),
    /// A graceful [`leave`](super::Swim::leave) finished: the `Left`
    /// broadcast went out (or the leave timeout passed). The member is now
    /// silent and the driver may shut it down.
    LeaveDone,
}

/// A change in this member's view of another member. Each carries the
/// member's view after the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberEvent {
    /// A member became known, or came back after being dead or gone.
    Joined(MemberInfo),
    /// A member is suspected (SWIM §4.2).
    Suspect(MemberInfo),
    /// A suspected member refuted the suspicion.
    Alive(MemberInfo),
    /// A member was declared dead.
    Dead(MemberInfo),
    /// A member left gracefully.
    Left(MemberInfo),
    /// A member's metadata changed (after `Alive` if it also refuted).
    Updated(MemberInfo),
}

impl MemberEvent {
    /// The member concerned, as seen after the change.
    pub fn member(&self) -> &MemberInfo {
        match self {
            MemberEvent::Joined(m)
            | MemberEvent::Suspect(m)
            | MemberEvent::Alive(m)
            | MemberEvent::Dead(m)
            | MemberEvent::Left(m)
            | MemberEvent::Updated(m) => m,
        }
    }
}
