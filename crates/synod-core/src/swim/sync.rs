//! Dissemination outside the probe cycle: the gossip tick, periodic
//! push-pull, and graceful leave.

use super::address::Address;
use rand::Rng;

use super::node::{Phase, Timer};
use super::{Effect, MemberInfo, MemberState, Message, PushPull, Swim, Update};
use crate::{Time, TimerTable};

impl Swim {
    /// This member's full view, for a push-pull exchange.
    pub fn push_pull_state(&self) -> PushPull {
        PushPull { from: self.me, members: self.members().cloned().collect() }
    }

    /// Merges a peer's full view received in a push-pull exchange from
    /// `from`, as if each entry had been gossiped — except that a peer's
    /// `Dead` verdict only makes us suspect the member (our own timer
    /// decides), as memberlist does. At most `members_max` entries are read;
    /// a state from our own id or address is ignored.
    pub fn merge_push_pull(&mut self, from: Address, remote: PushPull, now: Time) {
        self.touch(now);
        if self.phase == Phase::Done || remote.from == self.me || from == self.addr() {
            return;
        }
        for info in remote.members.into_iter().take(self.config.members_max) {
            if info.id == self.me {
                self.check_own_entry(&info);
                continue;
            }
            let MemberInfo { id, addr, state, incarnation, meta } = info;
            let update = match state {
                MemberState::Alive => Update::Alive { id, addr, incarnation, meta },
                MemberState::Suspect | MemberState::Dead => {
                    Update::Suspect { id, incarnation, from: remote.from }
                }
                MemberState::Left => Update::Left { id, incarnation },
            };
            self.apply_update(update);
        }
        self.maybe_finish_leave();
    }

    /// Every `gossip_interval_ms`: send pending broadcasts to
    /// `gossip_fanout` random live members. Piggybacking alone spreads
    /// news at one probe per period; the tick (as in memberlist) makes
    /// dissemination independent of the probe rate.
    pub(super) fn gossip_tick(&mut self) {
        self.timers.set(Timer::Gossip, self.now.plus_ms(self.config.gossip_interval_ms));
        self.gossip_round();
    }

    fn gossip_round(&mut self) {
        if self.broadcasts.is_empty() {
            return;
        }
        let (me, members) = (self.me, &self.members);
        let targets = self.probe_order.sample(self.config.gossip_fanout, &mut self.rng, |id| {
            id != me && members.info(id).is_some_and(|m| m.state.is_live())
        });
        let limit = self.retransmit_limit();
        let empty = Message::Gossip { from: self.me, updates: Vec::new() };
        let budget = self.config.datagram_bytes_max.saturating_sub(empty.size_bytes());
        for id in targets {
            let updates = self.broadcasts.select(budget, limit, None);
            if updates.is_empty() {
                break;
            }
            let to = self.members.info(id).expect("sampled members are known").addr;
            self.effects.push(Effect::Send { to, msg: Message::Gossip { from: self.me, updates } });
        }
    }

    /// Every push-pull interval: exchange full state with one random
    /// member. Dead members stay candidates, so that two sides of a healed
    /// partition, which declared each other dead, find each other again;
    /// while no other member is live, the join seeds are retried.
    pub(super) fn push_pull_tick(&mut self) {
        let interval = self.config.push_pull_interval_for(self.members.live_count());
        self.timers.set(Timer::PushPull, self.now.plus_ms(interval));
        let me = self.me;
        let mut pool: Vec<Address> = self
            .members()
            .filter(|m| m.id != me && m.state != MemberState::Left)
            .map(|m| m.addr)
            .collect();
        if self.members.live_count() <= 1 {
            let seeds: Vec<Address> =
                self.seeds.iter().copied().filter(|s| !pool.contains(s)).collect();
            pool.extend(seeds);
        }
        if pool.is_empty() {
            return;
        }
        let to = pool[self.rng.random_range(0..pool.len())];
        self.effects.push(Effect::PushPull { to });
    }

    /// Stops probing and starts spreading this member's `Left` update.
    pub(super) fn start_leave(&mut self) {
        self.phase = Phase::Leaving;
        let incarnation = self.incarnation();
        self.members.modify(self.me, self.now, |m| m.state = MemberState::Left);
        self.probe = None;
        for timer in [Timer::Probe, Timer::ProbeTimeout, Timer::PushPull] {
            self.timers.stop(timer);
        }
        self.timers.set(Timer::Leave, self.now.plus_ms(self.config.leave_timeout_ms));
        self.broadcast(Update::Left { id: self.me, incarnation });
        self.gossip_round();
    }

    /// Ends the leave once the `Left` update was fully retransmitted or
    /// nobody is left to tell.
    pub(super) fn maybe_finish_leave(&mut self) {
        if self.phase == Phase::Leaving
            && (!self.broadcasts.contains(self.me) || self.members.live_count() == 0)
        {
            self.finish_leave();
        }
    }

    /// Ends the leave now: all timers stop and the member falls silent.
    pub(super) fn finish_leave(&mut self) {
        if self.phase != Phase::Leaving {
            return;
        }
        self.phase = Phase::Done;
        self.timers = TimerTable::default();
        self.probe = None;
        self.relays.clear();
        self.suspicions.clear();
        self.effects.push(Effect::LeaveDone);
    }
}
