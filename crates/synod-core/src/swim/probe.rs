//! Failure detection: one probe per protocol period (SWIM §3.1), indirect
//! probes through `k` members, nacks and local health (Lifeguard, "Local
//! Health Aware Probe").
//!
//! A period starts by pinging the next target of the round-robin order.
//! Without an ack within the probe timeout, `indirect_checks` random alive
//! members are asked to ping the target for us and forward its ack; with
//! Lifeguard they also answer with a nack if the target stays silent. At
//! the end of the period a target that acked nowhere is suspected. Both
//! the timeout and the period are stretched by the local health score.

use super::address::Address;
use super::awareness::HealthEvent;
use super::node::{Phase, Timer};
use super::{MemberState, Message, Swim};
use crate::{NodeId, Time};

/// The probe of the current protocol period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) target: NodeId,
    pub(crate) seq: u64,
    pub(crate) acked: bool,
    /// Members asked to probe indirectly.
    pub(crate) asked: Vec<NodeId>,
    /// Whether they were asked for nacks.
    pub(crate) nacks_requested: bool,
    /// Members among `asked` whose nack arrived.
    pub(crate) nacked: Vec<NodeId>,
}

/// A probe this member runs on behalf of another (an indirect ping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Relay {
    /// Where the request came from; acks and nacks go there.
    pub(crate) requester: Address,
    /// The requester's sequence number.
    pub(crate) requester_seq: u64,
    /// When to nack if the target has not acked; `None` once sent or if
    /// no nack was asked for.
    pub(crate) nack_at: Option<Time>,
    /// When to forget the request.
    pub(crate) expires: Time,
}

impl Swim {
    /// End of a protocol period: judge the finished probe, forget old
    /// tombstones, and probe the next member.
    pub(super) fn probe_tick(&mut self) {
        self.finish_probe();
        if let Some(before) = self.now.0.checked_sub(self.config.dead_reclaim_ms) {
            self.members.reap(Time(before));
        }
        if self.phase != Phase::Active {
            return;
        }
        let period = self.awareness.scale_ms(self.config.probe_interval_ms);
        self.timers.set(Timer::Probe, self.now.plus_ms(period));
        let Some(target) = self.probe_order.next(&self.members, self.me, &mut self.rng) else {
            return;
        };
        let seq = self.next_seq();
        let addr = self.members.info(target).expect("probe targets are known").addr;
        self.probe = Some(Probe {
            target,
            seq,
            acked: false,
            asked: Vec::new(),
            nacks_requested: false,
            nacked: Vec::new(),
        });
        let piggyback = self.buddy_notice(target).into_iter().collect();
        self.send(addr, Message::Ping { seq, from: self.me, to: target, piggyback });
        let timeout = self.awareness.scale_ms(self.config.probe_timeout_ms);
        self.timers.set(Timer::ProbeTimeout, self.now.plus_ms(timeout));
    }

    /// No direct ack in time: ask up to `indirect_checks` random alive
    /// members to probe the target (SWIM §3.1's ping-req).
    pub(super) fn probe_timed_out(&mut self) {
        let Some(probe) = &self.probe else { return };
        let (target, seq) = (probe.target, probe.seq);
        let Some(info) = self.members.info(target) else { return };
        if probe.acked || !info.state.is_live() {
            return;
        }
        let target_addr = info.addr;
        let (me, members) = (self.me, &self.members);
        let helpers = self.probe_order.sample(self.config.indirect_checks, &mut self.rng, |id| {
            id != target
                && id != me
                && members.info(id).is_some_and(|m| m.state == MemberState::Alive)
        });
        let nack = self.config.lifeguard.local_health;
        for &helper in &helpers {
            let addr = self.members.info(helper).expect("sampled members are known").addr;
            let msg = Message::IndirectPing {
                seq,
                from: self.me,
                target,
                target_addr,
                nack,
                piggyback: Vec::new(),
            };
            self.send(addr, msg);
        }
        if let Some(probe) = &mut self.probe {
            probe.asked = helpers;
            probe.nacks_requested = nack;
        }
    }

    /// Judges the period's probe: an unacknowledged live target becomes
    /// suspect, and the local health score learns from missing nacks.
    fn finish_probe(&mut self) {
        self.timers.stop(Timer::ProbeTimeout);
        let Some(probe) = self.probe.take() else { return };
        let Some(info) = self.members.info(probe.target) else { return };
        if probe.acked || !info.state.is_live() {
            return;
        }
        let incarnation = info.incarnation;
        let event = if probe.nacks_requested && !probe.asked.is_empty() {
            HealthEvent::NacksMissed { missing: (probe.asked.len() - probe.nacked.len()) as u32 }
        } else {
            HealthEvent::ProbeFailed
        };
        self.awareness.record(event);
        self.apply_suspect(probe.target, incarnation, self.me);
    }

    /// Answers a ping meant for this member; the buddy system adds what we
    /// hold against the sender, so it can refute.
    pub(super) fn on_ping(&mut self, from: Address, sender: NodeId, seq: u64, to: NodeId) {
        if to != self.me {
            return;
        }
        let piggyback = self.buddy_notice(sender).into_iter().collect();
        self.send(from, Message::Ack { seq, from: self.me, piggyback });
    }

    /// Probes `target` for `sender`, within `relays_max` requests at once.
    pub(super) fn on_indirect_ping(
        &mut self,
        from: Address,
        sender: NodeId,
        seq: u64,
        target: NodeId,
        target_addr: Address,
        nack: bool,
    ) {
        if target == self.me || target == sender || self.relays.len() >= self.config.relays_max {
            return;
        }
        // Prefer the address we know: a forged request cannot redirect
        // our ping for a known member elsewhere.
        let addr = self.members.info(target).map_or(target_addr, |m| m.addr);
        let relay_seq = self.next_seq();
        let nack_ms = self.config.probe_timeout_ms * 4 / 5;
        let relay = Relay {
            requester: from,
            requester_seq: seq,
            nack_at: nack.then(|| self.now.plus_ms(nack_ms)),
            expires: self.now.plus_ms(self.config.probe_interval_ms),
        };
        self.relays.insert(relay_seq, relay);
        self.arm_relay_timer();
        let piggyback = self.buddy_notice(target).into_iter().collect();
        self.send(addr, Message::Ping { seq: relay_seq, from: self.me, to: target, piggyback });
    }

    /// An ack for our probe, or for one we relay (then forwarded). Acks
    /// matching neither are ignored.
    pub(super) fn on_ack(&mut self, seq: u64) {
        if let Some(probe) = &mut self.probe {
            if probe.seq == seq {
                if !probe.acked {
                    probe.acked = true;
                    self.awareness.record(HealthEvent::ProbeAcked);
                }
                return;
            }
        }
        if let Some(relay) = self.relays.remove(&seq) {
            self.arm_relay_timer();
            let ack =
                Message::Ack { seq: relay.requester_seq, from: self.me, piggyback: Vec::new() };
            self.send(relay.requester, ack);
        }
    }

    /// A nack for our probe from a member we asked.
    pub(super) fn on_nack(&mut self, seq: u64, sender: NodeId) {
        let Some(probe) = &mut self.probe else { return };
        if probe.seq == seq && probe.asked.contains(&sender) && !probe.nacked.contains(&sender) {
            probe.nacked.push(sender);
        }
    }

    /// Sends due nacks and forgets expired relays.
    pub(super) fn expire_relays(&mut self) {
        let now = self.now;
        let mut nacks = Vec::new();
        for relay in self.relays.values_mut() {
            if relay.nack_at.is_some_and(|at| at <= now) {
                relay.nack_at = None;
                nacks.push((relay.requester, relay.requester_seq));
            }
        }
        self.relays.retain(|_, relay| relay.expires > now);
        for (to, seq) in nacks {
            self.send(to, Message::Nack { seq, from: self.me, piggyback: Vec::new() });
        }
        self.arm_relay_timer();
    }

    fn arm_relay_timer(&mut self) {
        let next =
            self.relays.values().map(|r| r.nack_at.unwrap_or(r.expires).min(r.expires)).min();
        match next {
            Some(at) => self.timers.set(Timer::Relay, at),
            None => self.timers.stop(Timer::Relay),
        }
    }
}
