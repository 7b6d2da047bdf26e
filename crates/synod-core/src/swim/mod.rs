//! SWIM membership and failure detection with Lifeguard, as a sans-IO core.
//!
//! Each member runs [`Swim`]. It follows SWIM (Das, Gupta & Motivala,
//! "SWIM: Scalable Weakly-consistent Infection-style Process Group
//! Membership Protocol", DSN 2002; cited as §N) and Lifeguard (Dadgar,
//! Phillips & Currey, "Lifeguard: Local Health Awareness for More Accurate
//! Failure Detection", 2018; cited by part name), with the operational
//! additions of HashiCorp's memberlist (gossip tick, push-pull, leave):
//!
//! * **Failure detection** (§3.1): once per protocol period a member pings
//!   the next member of a randomized round-robin order (§4.3); without an
//!   ack in time it asks `indirect_checks` others to ping the target for
//!   it; still nothing by the end of the period, and the target becomes
//!   suspect.
//! * **Suspicion** (§4.2): a suspect is declared dead only if it does not
//!   refute in time, by gossiping itself alive with a higher incarnation.
//! * **Dissemination** (§4.1): membership [`Update`]s ride on pings, acks
//!   and nacks, and on a separate gossip tick to `gossip_fanout` random
//!   members, each sent `retransmit_mult * ceil(log10(N + 1))` times.
//!   Messages never exceed `datagram_bytes_max`.
//! * **Push-pull**: on join and periodically, two members exchange their
//!   full views over a reliable channel — anti-entropy for lost gossip.
//! * **Lifeguard** ([`Lifeguard`], each part switchable): a local health
//!   score stretches this member's own timeouts when it shows signs of
//!   being the slow one (missed nacks, refuted suspicions); suspicion
//!   timeouts start long and shrink as independent suspectors confirm;
//!   and a suspect is told directly (buddy system).
//! * **Metadata**: each member carries small versioned [`Metadata`]
//!   (Raft role, addresses, Merkle roots), gossiped with its `Alive`
//!   updates.
//!
//! # Driving a member
//!
//! Addresses are [`Address`]es (IP bytes and a port, plain data: the
//! driver converts them to its sockets' type); members are named
//! by [`NodeId`](crate::NodeId). After every input — [`Swim::join`],
//! [`Swim::handle_message`], [`Swim::handle_timeout`] (at
//! [`Swim::next_deadline`]), [`Swim::merge_push_pull`], [`Swim::leave`],
//! [`Swim::set_metadata`] — drain [`Swim::take_effects`]:
//!
//! * [`Effect::Send`] — one unreliable datagram;
//! * [`Effect::PushPull`] — a full-state exchange over a reliable channel;
//! * [`Effect::Event`] — a [`MemberEvent`] for the application;
//! * [`Effect::LeaveDone`] — a graceful leave finished.
//!
//! ```
//! use synod_core::swim::{Address, Effect, MemberState, Metadata, Swim, SwimConfig};
//! use synod_core::{NodeId, Time};
//!
//! let addr = |i: u8| Address::from_ipv4([10, 0, 0, i], 7946);
//! let meta = Metadata::new(&b"role=voter"[..]);
//! let mut a = Swim::new(SwimConfig::default(), NodeId(1), addr(1), meta, 7);
//! let mut b = Swim::new(SwimConfig::default(), NodeId(2), addr(2), Metadata::default(), 7);
//! let mut now = Time(0);
//! a.join(&[], now);
//! b.join(&[addr(1)], now);
//!
//! // Join: the driver carries the push-pull over a reliable channel.
//! for effect in b.take_effects() {
//!     if let Effect::PushPull { to } = effect {
//!         assert_eq!(to, addr(1));
//!         a.merge_push_pull(addr(2), b.push_pull_state(), now);
//!         b.merge_push_pull(addr(1), a.push_pull_state(), now);
//!     }
//! }
//! assert_eq!(b.member(NodeId(1)).unwrap().meta.data, &b"role=voter"[..]);
//!
//! // Run for ten seconds, delivering every datagram at once.
//! let mut nodes = [a, b];
//! while now < Time(10_000) {
//!     now = nodes.iter().filter_map(Swim::next_deadline).min().unwrap();
//!     for node in nodes.iter_mut() {
//!         if node.next_deadline() <= Some(now) {
//!             node.handle_timeout(now);
//!         }
//!     }
//!     let mut in_flight: Vec<_> = (0..2).map(|i| (i, nodes[i].take_effects())).collect();
//!     while let Some((i, effects)) = in_flight.pop() {
//!         for effect in effects {
//!             if let Effect::Send { to, msg } = effect {
//!                 let j = usize::from(to == addr(2));
//!                 nodes[j].handle_message(addr(i as u8 + 1), msg, now);
//!                 in_flight.push((j, nodes[j].take_effects()));
//!             }
//!         }
//!     }
//! }
//! assert!(nodes.iter().all(|n| n.members().all(|m| m.state == MemberState::Alive)));
//! ```

mod address;
mod awareness;
mod broadcast;
mod config;
mod effect;
mod error;
mod member;
mod message;
mod node;
mod probe;
mod probe_order;
mod suspicion;
mod sync;
#[cfg(test)]
mod tests;
mod update;

pub use address::Address;
pub use config::{ConfigError, Lifeguard, SwimConfig};
pub use effect::{Effect, MemberEvent};
pub use error::SwimError;
pub use member::{MemberInfo, MemberState, Metadata};
pub use message::{Message, PushPull, Update};
pub use node::Swim;
