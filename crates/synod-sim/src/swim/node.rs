//! One simulated member: a real [`Swim`] core plus what the simulator
//! needs around it — whether it crashed, when its timer event is due, and
//! the datagrams that queue up while it is starved.

use bytes::Bytes;
use synod_core::swim::{Address, Message, Metadata, Swim, SwimConfig};
use synod_core::Time;

use super::network::{addr, node_id};

/// A member and its driver state.
#[derive(Debug)]
pub struct SimNode {
    /// The protocol core.
    pub swim: Swim,
    /// Crashed: handles nothing, sends nothing, forever.
    pub crashed: bool,
    /// The `Timer` event currently scheduled for it, if any.
    pub timer_at: Option<Time>,
    /// A late timer is pending (starved member): no `Timer` event until it ran.
    pub late_timer: bool,
    /// While starved, the end of the current episode.
    pub starved_until: Option<u64>,
    /// Datagrams that arrived while starved, in arrival order.
    pub inbox: Vec<(Address, Message)>,
}

/// The metadata member `i` announces at `version`: the kind of small
/// record synod gossips (role and service address).
pub fn metadata(i: usize, version: u64) -> Metadata {
    let a = addr(i);
    let role = if version == 0 { "voter" } else { "leader" };
    let ip = a.to_string();
    let ip = ip.rsplit_once(':').map_or(ip.as_str(), |(ip, _)| ip);
    let data = format!("role={role};rpc={ip}:7000;v={version}");
    Metadata { version, data: Bytes::from(data) }
}

impl SimNode {
    /// Member `i` with `config`; the core's RNG is derived from `seed`.
    pub fn new(i: usize, config: &SwimConfig, seed: u64) -> SimNode {
        SimNode {
            swim: Swim::new(config.clone(), node_id(i), addr(i), metadata(i, 0), seed),
            crashed: false,
            timer_at: None,
            late_timer: false,
            starved_until: None,
            inbox: Vec::new(),
        }
    }

    /// Whether its packet handling is starved at `now`.
    pub fn is_starved(&self, now: u64) -> bool {
        self.starved_until.is_some_and(|until| now < until)
    }

    /// Whether it can take part in a push-pull exchange at `now`.
    pub fn is_responsive(&self, now: u64) -> bool {
        !self.crashed && !self.is_starved(now)
    }
}
