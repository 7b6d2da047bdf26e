//! One simulated node: its replica, its clock and the anti-entropy
//! sessions it takes part in, routed on `(peer, session id)`.

use std::collections::BTreeMap;

use synod_core::antientropy::{AntiEntropySession, Auth, Body, Config, Effect, Message};
use synod_core::causality::Hlc;
use synod_core::{NodeId, Time};

use super::replica::Store;

/// A session and the driver's bookkeeping for it.
#[derive(Debug)]
struct Slot {
    session: AntiEntropySession,
    /// When it finished; it lingers after that to answer resends.
    finished_at: Option<u64>,
    /// The deadline a timer event is scheduled for.
    timer_at: Option<u64>,
}

/// What one input to a session produced.
#[derive(Debug)]
pub struct Step {
    /// The session's effects.
    pub effects: Vec<Effect>,
    /// A new deadline to schedule a timer event for, if it changed.
    pub timer_at: Option<u64>,
}

/// What became of a message.
#[derive(Debug)]
pub enum Received {
    /// A session handled it.
    Handled {
        /// The session's id.
        session: u64,
        /// What it produced.
        step: Step,
    },
    /// A new session was refused: the node is at `sessions_max`. The
    /// answer to send back is given.
    Busy(Message),
    /// No session wants it (a stale copy for a session already dropped).
    Stale,
}

/// A simulated node.
#[derive(Debug)]
pub struct GossipNode {
    /// Index in the simulation (`id` is `index + 1`).
    pub index: usize,
    /// The node's id.
    pub id: NodeId,
    /// The replica.
    pub store: Store,
    /// The clock stamping register writes.
    pub hlc: Hlc,
    sessions: BTreeMap<(usize, u64), Slot>,
    sessions_started: u64,
}

/// The id of a node index.
pub fn node_id(index: usize) -> NodeId {
    NodeId(index as u64 + 1)
}

impl GossipNode {
    /// Node `index` holding `store`.
    pub fn new(index: usize, store: Store) -> GossipNode {
        let id = node_id(index);
        GossipNode {
            index,
            id,
            store,
            hlc: Hlc::new(id),
            sessions: BTreeMap::new(),
            sessions_started: 0,
        }
    }

    /// Sessions not yet finished.
    pub fn active_sessions(&self) -> usize {
        self.sessions.values().filter(|s| s.finished_at.is_none()).count()
    }

    /// Whether an unfinished session with `peer` exists, in either direction.
    pub fn is_talking_to(&self, peer: usize) -> bool {
        self.sessions.range((peer, 0)..=(peer, u64::MAX)).any(|(_, s)| s.finished_at.is_none())
    }

    /// Starts a session with `peer`. Session ids carry the initiator's
    /// index in the high bits, so they are unique cluster-wide and a pair
    /// of nodes can run one session each way without confusing them.
    pub fn initiate(&mut self, peer: usize, config: &Config, now: u64) -> (u64, Step) {
        self.sessions_started += 1;
        let session = ((self.index as u64) << 32) | self.sessions_started;
        let s = AntiEntropySession::initiate(
            config.clone(),
            self.id,
            node_id(peer),
            session,
            Auth::default(),
            &self.store,
            Time(now),
        );
        self.sessions
            .insert((peer, session), Slot { session: s, finished_at: None, timer_at: None });
        (session, self.step(peer, session, now))
    }

    /// Routes a message from `from` to its session, answering a new
    /// session's opening root unless `sessions_max` sessions are active.
    pub fn receive(
        &mut self,
        from: usize,
        msg: Message,
        config: &Config,
        sessions_max: usize,
        now: u64,
    ) -> Received {
        let key = (from, msg.session);
        if !self.sessions.contains_key(&key) {
            if msg.seq != 1 || !matches!(msg.body, Body::Root(_)) {
                return Received::Stale;
            }
            if self.active_sessions() >= sessions_max {
                let reason = format!("{} busy: {sessions_max} sessions", self.id);
                return Received::Busy(Message {
                    session: msg.session,
                    seq: 2,
                    body: Body::Abort { reason },
                });
            }
            let s = AntiEntropySession::respond(
                config.clone(),
                self.id,
                node_id(from),
                msg.session,
                Auth::default(),
            );
            self.sessions.insert(key, Slot { session: s, finished_at: None, timer_at: None });
        }
        let slot = self.sessions.get_mut(&key).expect("inserted above");
        slot.session.handle_message(&mut self.store, node_id(from), msg, Time(now));
        let session = key.1;
        Received::Handled { session, step: self.step(from, session, now) }
    }

    /// Fires the retry timer of a session, if it still exists and is due.
    pub fn timeout(&mut self, peer: usize, session: u64, now: u64) -> Option<Step> {
        let slot = self.sessions.get_mut(&(peer, session))?;
        if slot.timer_at != Some(now) {
            return None; // superseded by a later deadline
        }
        slot.timer_at = None;
        slot.session.handle_timeout(Time(now));
        Some(self.step(peer, session, now))
    }

    /// Drops sessions that finished more than `linger_ms` ago.
    pub fn collect_finished(&mut self, now: u64, linger_ms: u64) {
        self.sessions.retain(|_, s| s.finished_at.is_none_or(|at| now < at + linger_ms));
    }

    /// Drains the session's effects, notes when it finishes and whether
    /// its deadline moved.
    fn step(&mut self, peer: usize, session: u64, now: u64) -> Step {
        let slot = self.sessions.get_mut(&(peer, session)).expect("session exists");
        let effects = slot.session.take_effects();
        if slot.session.is_finished() && slot.finished_at.is_none() {
            slot.finished_at = Some(now);
        }
        let deadline = slot.session.next_deadline().map(|t| t.0.max(now));
        let timer_at = match deadline {
            Some(at) if slot.timer_at != Some(at) => {
                slot.timer_at = Some(at);
                Some(at)
            }
            Some(_) => None,
            None => {
                slot.timer_at = None;
                None
            }
        };
        Step { effects, timer_at }
    }
}
