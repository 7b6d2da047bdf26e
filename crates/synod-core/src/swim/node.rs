//! [`Swim`], one member's protocol state: construction, commands, input
//! dispatch, timers and outgoing messages. The protocol's parts live in
//! sibling files as further `impl Swim` blocks: `probe.rs` (failure
//! detection), `update.rs` (applying membership updates) and `sync.rs`
//! (gossip tick, push-pull, leave).

use super::address::Address;
use std::collections::BTreeMap;

use rand::Rng;

use super::awareness::Awareness;
use super::broadcast::BroadcastQueue;
use super::member::Members;
use super::probe::{Probe, Relay};
use super::probe_order::ProbeOrder;
use super::suspicion::Suspicion;
use super::{
    Effect, MemberEvent, MemberInfo, MemberState, Message, Metadata, SwimConfig, SwimError, Update,
};
use crate::rng::core_rng;
use crate::{CoreRng, NodeId, Time, TimerKind, TimerTable};

/// The member's timers. Per-member suspicion deadlines and per-request
/// relay deadlines are kept with their records; the table holds only the
/// earliest of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// The earliest suspicion deadline: declare the suspect dead.
    Suspicion,
    /// The earliest nack or expiry of a probe relayed for another member.
    Relay,
    /// No direct ack in time: ask others to probe (SWIM §3.1).
    ProbeTimeout,
    /// End of the protocol period: judge the probe, start the next.
    Probe,
    /// Send pending broadcasts to random members.
    Gossip,
    /// Exchange full state with a random member.
    PushPull,
    /// Give up waiting for the `Left` broadcast to go out.
    Leave,
}

impl TimerKind for Timer {
    const ALL: &'static [Timer] = &[
        Timer::Suspicion,
        Timer::Relay,
        Timer::ProbeTimeout,
        Timer::Probe,
        Timer::Gossip,
        Timer::PushPull,
        Timer::Leave,
    ];
    fn index(self) -> usize {
        self as usize
    }
}

/// Where the member is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Phase {
    /// Probing, gossiping, refuting.
    Active,
    /// Spreading its `Left` update; no longer probes.
    Leaving,
    /// Left: silent.
    Done,
}

/// One member of a SWIM cluster with Lifeguard, as a sans-IO state
/// machine. See the [module docs](super) for how to drive it.
#[derive(Clone, Debug)]
pub struct Swim {
    pub(super) config: SwimConfig,
    pub(super) me: NodeId,
    pub(super) rng: CoreRng,
    pub(super) now: Time,
    pub(super) started: bool,
    pub(super) phase: Phase,
    pub(super) members: Members,
    pub(super) probe_order: ProbeOrder,
    pub(super) broadcasts: BroadcastQueue,
    pub(super) suspicions: BTreeMap<NodeId, Suspicion>,
    pub(super) awareness: Awareness,
    pub(super) probe: Option<Probe>,
    pub(super) relays: BTreeMap<u64, Relay>,
    pub(super) seq: u64,
    pub(super) seeds: Vec<Address>,
    pub(super) timers: TimerTable<Timer, 7>,
    pub(super) effects: Vec<Effect>,
}

impl Swim {
    /// A member `me` reachable at `addr`, announcing `meta`, that knows no
    /// one yet. Its timers start with the first input; call
    /// [`join`](Self::join) (with no seeds for the first member).
    ///
    /// # Panics
    ///
    /// If `config` does not [validate](SwimConfig::validate), `me` is the
    /// reserved id 0, or `meta` exceeds `metadata_bytes_max`: all are
    /// programming errors of the caller.
    pub fn new(
        config: SwimConfig,
        me: NodeId,
        addr: Address,
        meta: Metadata,
        rng_seed: u64,
    ) -> Swim {
        if let Err(err) = config.validate() {
            panic!("invalid SwimConfig: {err}");
        }
        assert_ne!(me.0, 0, "node id 0 is reserved");
        assert!(
            meta.data.len() <= config.metadata_bytes_max,
            "metadata of {} bytes exceeds metadata_bytes_max ({})",
            meta.data.len(),
            config.metadata_bytes_max
        );
        let mut members = Members::default();
        let info = MemberInfo { id: me, addr, state: MemberState::Alive, incarnation: 0, meta };
        members.insert(info, Time(0));
        Swim {
            rng: core_rng(rng_seed, me.0),
            awareness: Awareness::new(config.awareness_max, config.lifeguard.local_health),
            config,
            me,
            now: Time(0),
            started: false,
            phase: Phase::Active,
            members,
            probe_order: ProbeOrder::default(),
            broadcasts: BroadcastQueue::default(),
            suspicions: BTreeMap::new(),
            probe: None,
            relays: BTreeMap::new(),
            seq: 0,
            seeds: Vec::new(),
            timers: TimerTable::default(),
            effects: Vec::new(),
        }
    }

    // ----- inspection -------------------------------------------------------

    /// This member's id.
    pub fn id(&self) -> NodeId {
        self.me
    }

    /// This member's address.
    pub fn addr(&self) -> Address {
        self.my_info().addr
    }

    /// This member's current incarnation number.
    pub fn incarnation(&self) -> u64 {
        self.my_info().incarnation
    }

    /// This member's current metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.my_info().meta
    }

    /// The configuration.
    pub fn config(&self) -> &SwimConfig {
        &self.config
    }

    /// Every member known, this one included, with tombstones of dead and
    /// left members until `dead_reclaim_ms` passes; ordered by id.
    pub fn members(&self) -> impl Iterator<Item = &MemberInfo> {
        self.members.values().map(|m| &m.info)
    }

    /// The view of member `id`, if known.
    pub fn member(&self, id: NodeId) -> Option<&MemberInfo> {
        self.members.info(id)
    }

    /// Alive and suspect members, this one included unless it left.
    pub fn live_members(&self) -> usize {
        self.members.live_count()
    }

    /// Lifeguard's local health score: 0 is healthy, up to
    /// `awareness_max - 1`. Probe interval and timeout are multiplied by
    /// `score + 1`. Always 0 with `lifeguard.local_health` off.
    pub fn local_health(&self) -> u32 {
        self.awareness.score()
    }

    /// Whether [`leave`](Self::leave) was called.
    pub fn is_leaving(&self) -> bool {
        self.phase != Phase::Active
    }

    /// Whether the leave finished ([`Effect::LeaveDone`] was emitted).
    pub fn has_left(&self) -> bool {
        self.phase == Phase::Done
    }

    // ----- commands ---------------------------------------------------------

    /// Joins through `seeds` by exchanging full state with each
    /// ([`Effect::PushPull`]). With no seeds this member starts a cluster.
    /// Seeds are remembered: while no other member is known, the periodic
    /// push-pull retries them.
    pub fn join(&mut self, seeds: &[Address], now: Time) {
        self.touch(now);
        if self.phase != Phase::Active {
            return;
        }
        let my_addr = self.addr();
        for &seed in seeds.iter().filter(|s| **s != my_addr) {
            if !self.seeds.contains(&seed) {
                self.seeds.push(seed);
            }
            self.effects.push(Effect::PushPull { to: seed });
        }
    }

    /// Leaves gracefully: stops probing and gossips a `Left` update, which
    /// every member applies instead of suspecting this one. Ends with
    /// [`Effect::LeaveDone`] once the update was sent its full retransmit
    /// count, or after `leave_timeout_ms`.
    pub fn leave(&mut self, now: Time) {
        self.touch(now);
        if self.phase != Phase::Active {
            return;
        }
        self.start_leave();
        self.maybe_finish_leave();
    }

    /// Replaces this member's metadata and gossips it. The version becomes
    /// the larger of the current version plus one and `meta.version`; the
    /// incarnation is raised too, so the update overrides older ones (and
    /// any suspicion) everywhere.
    pub fn set_metadata(&mut self, meta: Metadata, now: Time) -> Result<(), SwimError> {
        let bytes = meta.data.len();
        if bytes > self.config.metadata_bytes_max {
            return Err(SwimError::MetadataTooLarge { bytes, max: self.config.metadata_bytes_max });
        }
        if self.phase != Phase::Active {
            return Err(SwimError::Leaving);
        }
        self.touch(now);
        let version = meta.version.max(self.metadata().version.saturating_add(1));
        let incarnation = self.incarnation().saturating_add(1);
        self.members.modify(self.me, self.now, |m| {
            m.meta = Metadata { version, data: meta.data };
            m.incarnation = incarnation;
        });
        self.broadcast(self.my_alive());
        Ok(())
    }

    // ----- inputs -----------------------------------------------------------

    /// Processes a datagram from `from`. Piggybacked updates are applied
    /// first, so an answer can already carry a refutation. Messages that
    /// claim to come from this member are dropped.
    pub fn handle_message(&mut self, from: Address, msg: Message, now: Time) {
        self.touch(now);
        if self.phase == Phase::Done || msg.from() == self.me {
            return;
        }
        let (msg, updates) = msg.into_updates();
        // A suspicion or death of ours older than our incarnation: the
        // sender missed our refutation (it was starved or cut off while it
        // went round). With the buddy system on, answer it directly, so its
        // stale verdict does not run to its timeout.
        let mine = self.incarnation();
        let stale = self.config.lifeguard.buddy_system
            && updates.iter().any(|u| match u {
                Update::Suspect { id, incarnation, .. } | Update::Dead { id, incarnation, .. } => {
                    *id == self.me && *incarnation < mine
                }
                _ => false,
            });
        for update in updates {
            self.apply_update(update);
        }
        if stale && !matches!(msg, Message::Ping { .. }) {
            let alive = Message::Gossip { from: self.me, updates: vec![self.my_alive()] };
            self.send(from, alive);
        }
        match msg {
            Message::Ping { seq, from: sender, to, .. } if stale && to == self.me => {
                let mut piggyback: Vec<Update> = self.buddy_notice(sender).into_iter().collect();
                piggyback.insert(0, self.my_alive());
                self.send(from, Message::Ack { seq, from: self.me, piggyback });
            }
            Message::Ping { seq, from: sender, to, .. } => self.on_ping(from, sender, seq, to),
            Message::IndirectPing { seq, from: sender, target, target_addr, nack, .. } => {
                self.on_indirect_ping(from, sender, seq, target, target_addr, nack)
            }
            Message::Ack { seq, .. } => self.on_ack(seq),
            Message::Nack { seq, from: sender, .. } => self.on_nack(seq, sender),
            Message::Gossip { .. } => {}
        }
        self.maybe_finish_leave();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        self.touch(now);
        if self.phase == Phase::Done {
            return;
        }
        for timer in self.timers.take_expired(self.now) {
            match timer {
                Timer::Suspicion => self.expire_suspicions(),
                Timer::Relay => self.expire_relays(),
                Timer::ProbeTimeout => self.probe_timed_out(),
                Timer::Probe => self.probe_tick(),
                Timer::Gossip => self.gossip_tick(),
                Timer::PushPull => self.push_pull_tick(),
                Timer::Leave => self.finish_leave(),
            }
        }
        self.maybe_finish_leave();
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next;
    /// `None` before the first input and after the leave finished.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next_deadline()
    }

    /// The effects produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    // ----- internals shared by the protocol files ---------------------------

    /// Moves time forward (never back) and starts the timers on the first
    /// input, at random offsets so members started together do not probe
    /// and gossip in lockstep.
    pub(super) fn touch(&mut self, now: Time) {
        self.now = self.now.max(now);
        if self.started {
            return;
        }
        self.started = true;
        let probe = self.rng.random_range(1..=self.config.probe_interval_ms);
        let gossip = self.rng.random_range(1..=self.config.gossip_interval_ms);
        let push_pull = self.rng.random_range(1..=self.config.push_pull_interval_ms);
        self.timers.set(Timer::Probe, self.now.plus_ms(probe));
        self.timers.set(Timer::Gossip, self.now.plus_ms(gossip));
        self.timers.set(Timer::PushPull, self.now.plus_ms(push_pull));
    }

    pub(super) fn my_info(&self) -> &MemberInfo {
        self.members.info(self.me).expect("a member always knows itself")
    }

    /// This member's own `Alive` update.
    pub(super) fn my_alive(&self) -> Update {
        let me = self.my_info();
        Update::Alive {
            id: me.id,
            addr: me.addr,
            incarnation: me.incarnation,
            meta: me.meta.clone(),
        }
    }

    pub(super) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn emit(&mut self, event: MemberEvent) {
        self.effects.push(Effect::Event(event));
    }

    /// Queues `update` for dissemination.
    pub(super) fn broadcast(&mut self, update: Update) {
        self.broadcasts.push(update);
    }

    /// The retransmit limit for the current cluster size.
    pub(super) fn retransmit_limit(&self) -> u32 {
        self.config.retransmit_limit(self.members.live_count())
    }

    /// Sends `msg` after topping it up with pending broadcasts up to
    /// `datagram_bytes_max`. Updates already in `msg` (buddy-system
    /// notices) go first; the queued update about the same member is
    /// skipped so it is not sent twice.
    pub(super) fn send(&mut self, to: Address, mut msg: Message) {
        let budget = self.config.datagram_bytes_max.saturating_sub(msg.size_bytes());
        let exclude = msg.updates().first().map(Update::subject);
        let limit = self.retransmit_limit();
        let extra = self.broadcasts.select(budget, limit, exclude);
        msg.updates_mut().extend(extra);
        debug_assert!(msg.size_bytes() <= self.config.datagram_bytes_max);
        self.effects.push(Effect::Send { to, msg });
    }

    /// What the buddy system tells `id` directly: our suspicion or death
    /// verdict about it, so it can refute at once (Lifeguard, "Buddy
    /// System").
    pub(super) fn buddy_notice(&self, id: NodeId) -> Option<Update> {
        if !self.config.lifeguard.buddy_system {
            return None;
        }
        let info = self.members.info(id)?;
        let incarnation = info.incarnation;
        match info.state {
            MemberState::Suspect => Some(Update::Suspect { id, incarnation, from: self.me }),
            MemberState::Dead => Some(Update::Dead { id, incarnation, from: self.me }),
            MemberState::Alive | MemberState::Left => None,
        }
    }
}
