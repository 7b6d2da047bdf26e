//! What the driver publishes: the member table with phi values, and its
//! conversion to the wire.

use std::net::SocketAddr;
use std::sync::Arc;

use synod_core::swim::{MemberEvent, MemberInfo, MemberState, Metadata};
use synod_core::NodeId;
use synod_proto::membership::v1 as pb;

/// The member table as of the driver's last change.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// Every member with this node's phi for it.
    pub members: Arc<Vec<(MemberInfo, f64)>>,
    /// Lifeguard's local health score of this node.
    pub local_health: u32,
}

/// `alive`, `suspect`, `dead` or `left`.
pub fn state_name(state: MemberState) -> &'static str {
    match state {
        MemberState::Alive => "alive",
        MemberState::Suspect => "suspect",
        MemberState::Dead => "dead",
        MemberState::Left => "left",
    }
}

/// The event's kind as a word.
pub fn event_name(event: &MemberEvent) -> &'static str {
    match event {
        MemberEvent::Joined(_) => "joined",
        MemberEvent::Suspect(_) => "suspect",
        MemberEvent::Alive(_) => "alive",
        MemberEvent::Dead(_) => "dead",
        MemberEvent::Left(_) => "left",
        MemberEvent::Updated(_) => "updated",
    }
}

/// The gRPC address a member announces in its metadata (`grpc=IP:PORT`).
pub fn metadata_grpc(meta: &Metadata) -> Option<SocketAddr> {
    let text = std::str::from_utf8(&meta.data).ok()?;
    text.split(';').find_map(|kv| kv.strip_prefix("grpc=")).and_then(|a| a.parse().ok())
}

/// The wire form of a member.
pub fn member_to_proto(m: &MemberInfo, phi: f64) -> pb::Member {
    let state = match m.state {
        MemberState::Alive => pb::MemberState::Alive,
        MemberState::Suspect => pb::MemberState::Suspect,
        MemberState::Dead => pb::MemberState::Dead,
        MemberState::Left => pb::MemberState::Left,
    };
    pb::Member {
        id: m.id.0,
        address: m.addr.to_string(),
        state: state as i32,
        incarnation: m.incarnation,
        metadata: m.meta.data.clone(),
        metadata_version: m.meta.version,
        phi: if phi.is_finite() { phi } else { f64::MAX },
    }
}

/// The wire form of an event observed by `me`.
pub fn to_proto_event(me: NodeId, event: &MemberEvent, unix_ms: u64) -> pb::MemberEvent {
    let kind = match event {
        MemberEvent::Joined(_) => pb::EventKind::Joined,
        MemberEvent::Suspect(_) => pb::EventKind::Suspect,
        MemberEvent::Alive(_) => pb::EventKind::Alive,
        MemberEvent::Dead(_) => pb::EventKind::Dead,
        MemberEvent::Left(_) => pb::EventKind::Left,
        MemberEvent::Updated(_) => pb::EventKind::Updated,
    };
    pb::MemberEvent {
        kind: kind as i32,
        member: Some(member_to_proto(event.member(), 0.0)),
        node_id: me.0,
        unix_ms,
    }
}
