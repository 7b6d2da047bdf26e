//! Applying membership updates: the precedence rules of SWIM §4.2,
//! suspicion timers, refutation, and the events they produce.
//!
//! At equal incarnation `Suspect` beats `Alive` and `Dead`/`Left` beat
//! both; an older incarnation never wins; only an `Alive` with a higher
//! incarnation — which only the member itself issues — revives a suspect,
//! dead or departed member. Every update that changes our view is
//! re-broadcast (infection-style, SWIM §4.1); one that changes nothing is
//! dropped, which is what ends an epidemic.

use super::address::Address;
use super::awareness::HealthEvent;
use super::node::{Phase, Timer};
use super::suspicion::Suspicion;
use super::{MemberEvent, MemberInfo, MemberState, Metadata, Swim, Update};
use crate::NodeId;

impl Swim {
    /// Applies one update received by gossip, piggyback or push-pull.
    pub(super) fn apply_update(&mut self, update: Update) {
        match update {
            Update::Alive { id, addr, incarnation, meta } => {
                self.apply_alive(id, addr, incarnation, meta)
            }
            Update::Suspect { id, incarnation, from } => self.apply_suspect(id, incarnation, from),
            Update::Dead { id, incarnation, from } => self.apply_dead(id, incarnation, from),
            Update::Left { id, incarnation } => self.apply_left(id, incarnation),
        }
    }

    fn apply_alive(&mut self, id: NodeId, addr: Address, incarnation: u64, meta: Metadata) {
        if id == self.me {
            if self.phase != Phase::Active {
                return;
            }
            let mine = self.my_info();
            let conflicting = addr != mine.addr || meta != mine.meta;
            if incarnation > mine.incarnation || (incarnation == mine.incarnation && conflicting) {
                // Someone holds a newer (or a forged) view of us: outbid it.
                self.refute(incarnation, false);
            }
            return;
        }
        if meta.data.len() > self.config.metadata_bytes_max {
            return;
        }
        let Some(old) = self.members.info(id) else {
            if self.members.len() >= self.config.members_max {
                return;
            }
            let info = MemberInfo { id, addr, state: MemberState::Alive, incarnation, meta };
            self.members.insert(info.clone(), self.now);
            self.probe_order.insert(id, &mut self.rng);
            self.broadcast(Update::Alive { id, addr, incarnation, meta: info.meta.clone() });
            self.emit(MemberEvent::Joined(info));
            return;
        };
        if incarnation <= old.incarnation {
            return;
        }
        let (old_state, meta_changed) = (old.state, old.meta != meta);
        self.suspicions.remove(&id);
        self.arm_suspicion_timer();
        let update = Update::Alive { id, addr, incarnation, meta: meta.clone() };
        let info = self.members.modify(id, self.now, |m| {
            m.addr = addr;
            m.incarnation = incarnation;
            m.meta = meta;
            m.state = MemberState::Alive;
        });
        let info = info.expect("member is known").clone();
        self.broadcast(update);
        match old_state {
            MemberState::Alive => {}
            MemberState::Suspect => self.emit(MemberEvent::Alive(info.clone())),
            MemberState::Dead | MemberState::Left => {
                self.probe_order.insert(id, &mut self.rng);
                self.emit(MemberEvent::Joined(info.clone()));
                return;
            }
        }
        if meta_changed {
            self.emit(MemberEvent::Updated(info));
        }
    }

    /// `from` suspects `id`: start suspecting it, or count a confirmation
    /// of a running suspicion (Lifeguard shortens the timeout). Suspicions
    /// of this member are refuted.
    pub(super) fn apply_suspect(&mut self, id: NodeId, incarnation: u64, from: NodeId) {
        if id == self.me {
            if self.phase == Phase::Active && incarnation >= self.incarnation() {
                self.refute(incarnation, true);
            }
            return;
        }
        let Some(info) = self.members.info(id) else { return };
        if incarnation < info.incarnation || !info.state.is_live() {
            return;
        }
        let running = self.suspicions.get_mut(&id).filter(|s| s.incarnation == incarnation);
        if info.state == MemberState::Suspect && incarnation == info.incarnation {
            // Re-gossip only confirmations that still shorten the timeout.
            let counted = running.is_some_and(|s| s.confirm(&self.config, from));
            if counted {
                self.broadcast(Update::Suspect { id, incarnation, from });
                // The shorter timeout may already have passed.
                self.expire_suspicions();
            }
            return;
        }
        let was_alive = info.state == MemberState::Alive;
        let live = self.members.live_count();
        let suspicion = Suspicion::new(&self.config, incarnation, from, live, self.now);
        self.suspicions.insert(id, suspicion);
        let info = self.members.modify(id, self.now, |m| {
            m.incarnation = incarnation;
            m.state = MemberState::Suspect;
        });
        let info = info.expect("member is known").clone();
        self.broadcast(Update::Suspect { id, incarnation, from });
        if was_alive {
            self.emit(MemberEvent::Suspect(info));
        }
        self.arm_suspicion_timer();
    }

    fn apply_dead(&mut self, id: NodeId, incarnation: u64, from: NodeId) {
        if id == self.me {
            if self.phase == Phase::Active && incarnation >= self.incarnation() {
                self.refute(incarnation, true);
            }
            return;
        }
        let Some(info) = self.members.info(id) else { return };
        if incarnation < info.incarnation || !info.state.is_live() {
            return;
        }
        self.declare(id, incarnation, MemberState::Dead);
        self.broadcast(Update::Dead { id, incarnation, from });
    }

    fn apply_left(&mut self, id: NodeId, incarnation: u64) {
        if id == self.me {
            // A former instance of this member left; we are back.
            if self.phase == Phase::Active && incarnation >= self.incarnation() {
                self.refute(incarnation, false);
            }
            return;
        }
        let Some(info) = self.members.info(id) else { return };
        if incarnation < info.incarnation || info.state == MemberState::Left {
            return;
        }
        self.declare(id, incarnation, MemberState::Left);
        self.broadcast(Update::Left { id, incarnation });
    }

    /// Marks `id` dead or left at `incarnation`, ending any suspicion.
    fn declare(&mut self, id: NodeId, incarnation: u64, state: MemberState) {
        if self.suspicions.remove(&id).is_some() {
            self.arm_suspicion_timer();
        }
        let info = self.members.modify(id, self.now, |m| {
            m.incarnation = incarnation;
            m.state = state;
        });
        let info = info.expect("member is known").clone();
        self.emit(match state {
            MemberState::Left => MemberEvent::Left(info),
            _ => MemberEvent::Dead(info),
        });
    }

    /// Declares dead every suspect whose timeout passed without a
    /// refutation (SWIM §4.2).
    pub(super) fn expire_suspicions(&mut self) {
        let now = self.now;
        let expired: Vec<(NodeId, u64)> = self
            .suspicions
            .iter()
            .filter(|(_, s)| s.deadline() <= now)
            .map(|(id, s)| (*id, s.incarnation))
            .collect();
        for (id, incarnation) in expired {
            self.declare(id, incarnation, MemberState::Dead);
            self.broadcast(Update::Dead { id, incarnation, from: self.me });
        }
        self.arm_suspicion_timer();
    }

    pub(super) fn arm_suspicion_timer(&mut self) {
        match self.suspicions.values().map(|s| s.deadline()).min() {
            Some(at) => self.timers.set(Timer::Suspicion, at),
            None => self.timers.stop(Timer::Suspicion),
        }
    }

    /// A peer's push-pull entry about this member: refute it if it is
    /// newer than ours, or as new but not alive or not what we announce.
    pub(super) fn check_own_entry(&mut self, entry: &MemberInfo) {
        if self.phase != Phase::Active {
            return;
        }
        let mine = self.my_info();
        let differs =
            entry.state != MemberState::Alive || entry.addr != mine.addr || entry.meta != mine.meta;
        if entry.incarnation > mine.incarnation
            || (entry.incarnation == mine.incarnation && differs)
        {
            self.refute(entry.incarnation, entry.state == MemberState::Suspect);
        }
    }

    /// Announces this member alive with an incarnation above `seen`
    /// (SWIM §4.2). Having been suspected is evidence of our own poor
    /// health (Lifeguard), so `suspected` raises the local health score.
    fn refute(&mut self, seen: u64, suspected: bool) {
        let incarnation = seen.max(self.incarnation()).saturating_add(1);
        self.members.modify(self.me, self.now, |m| m.incarnation = incarnation);
        self.broadcast(self.my_alive());
        if suspected {
            self.awareness.record(HealthEvent::Refuted);
        }
    }
}
