//! One anti-entropy session between this replica and a peer.

use std::collections::VecDeque;

use ed25519_dalek::{SigningKey, VerifyingKey};

use self::held::Held;
use super::message::{Body, Message};
use super::{ApplyError, Config, Replica};
use crate::merkle::{Digest, SignedRoot, VerifyError};
use crate::{NodeId, Time, TimerKind, TimerTable};

mod descent;
mod held;

/// What the driver must do for the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send `msg` to `to`. It may be lost, duplicated or delayed.
    Send {
        /// The peer.
        to: NodeId,
        /// The message.
        msg: Message,
    },
    /// The session finished: both replicas hold the same state for every
    /// key that differed when it started.
    Done(Outcome),
    /// The session failed; state merged so far stays merged.
    Failed(SessionError),
}

/// Statistics of a finished session, seen from one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Keys whose state changed when this side merged the peer's payloads.
    pub keys_repaired: u64,
    /// Estimated bytes this side sent, resends included.
    pub bytes_sent: u64,
}

/// Why a session failed. State already merged stays merged (merges are
/// idempotent), so a new session can simply start over.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The peer's root failed verification; nothing from it was merged.
    #[error(transparent)]
    Untrusted(#[from] VerifyError),
    /// The peer stopped answering.
    #[error("anti-entropy with {peer} timed out after {attempts} attempts")]
    Timeout {
        /// The peer.
        peer: NodeId,
        /// Sends of the last message.
        attempts: u32,
    },
    /// The peer sent something that breaks the protocol.
    #[error("anti-entropy with {peer}: protocol violation: {reason}")]
    Protocol {
        /// The peer.
        peer: NodeId,
        /// What was wrong.
        reason: String,
    },
    /// The store refused a payload from the peer.
    #[error("anti-entropy with {peer}: cannot apply key {key:?}: {error}")]
    Apply {
        /// The peer.
        peer: NodeId,
        /// The key.
        key: Vec<u8>,
        /// The store's error.
        error: ApplyError,
    },
    /// The peer aborted the session.
    #[error("anti-entropy aborted by {peer}: {reason}")]
    Aborted {
        /// The peer.
        peer: NodeId,
        /// The peer's reason.
        reason: String,
    },
}

/// Keys for signed roots. Without `peer_key` the peer's root is accepted
/// unsigned; with it, an unsigned or badly signed root fails the session
/// before anything is merged.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// This node's key, to sign its root; `None` sends it unsigned.
    pub signing_key: Option<SigningKey>,
    /// Counter for this node's root announcement, increasing per session
    /// (kept by the caller).
    pub root_counter: u64,
    /// The public key this node knows for the peer.
    pub peer_key: Option<VerifyingKey>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    Retry,
}

impl TimerKind for Timer {
    const ALL: &'static [Timer] = &[Timer::Retry];
    fn index(self) -> usize {
        0
    }
}

/// A sans-IO anti-entropy session: exchange roots, descend the Merkle
/// trees level by level into differing subtrees only (comparing 8-byte
/// windows of the hashes, and going below the stored leaves while a
/// differing subtree holds more than a key or two), compare the keys of
/// the subtrees reached, then ship deltas both ways (full state for keys
/// the peer lacks) in batches bounded by `batch_bytes_max`.
///
/// The two sides alternate strictly (stop-and-wait); the side whose message
/// is unanswered resends it every `retry_ms`, and a side that receives the
/// message its last one answered sends that answer again (at most once per
/// half `retry_ms`, so that duplicates do not multiply). Each message is
/// processed once, so payloads are applied once per session; a finished
/// side keeps answering resends with its final message.
///
/// Drive it like every core: [`handle_message`](Self::handle_message),
/// [`handle_timeout`](Self::handle_timeout) at
/// [`next_deadline`](Self::next_deadline), and drain
/// [`take_effects`](Self::take_effects). The replica is passed into each
/// call rather than owned, so the store stays usable between messages.
#[derive(Debug)]
pub struct AntiEntropySession {
    config: Config,
    me: NodeId,
    peer: NodeId,
    session: u64,
    auth: Auth,
    /// Whether the peer's root has been received and (if required) verified.
    peer_trusted: bool,
    outbox: VecDeque<Body>,
    /// Lists, wants and deltas held back until they fill a batch or the
    /// outbox runs dry.
    held: Held,
    last_sent: Option<Message>,
    /// When `last_sent` last went out, to answer a burst of stale copies
    /// of the peer's message only once.
    last_sent_at: Time,
    attempts: u32,
    timers: TimerTable<Timer, 1>,
    outcome: Outcome,
    finished: bool,
    effects: Vec<Effect>,
}

impl AntiEntropySession {
    /// Starts a session with `peer` by sending this replica's root.
    pub fn initiate<R: Replica>(
        config: Config,
        me: NodeId,
        peer: NodeId,
        session: u64,
        auth: Auth,
        replica: &R,
        now: Time,
    ) -> AntiEntropySession {
        let mut s = AntiEntropySession::respond(config, me, peer, session, auth);
        let root = s.my_root(replica);
        s.send(1, Body::Root(root), now);
        s
    }

    /// The peer's side of a session, to be fed the initiator's first message.
    pub fn respond(
        config: Config,
        me: NodeId,
        peer: NodeId,
        session: u64,
        auth: Auth,
    ) -> AntiEntropySession {
        AntiEntropySession {
            config,
            me,
            peer,
            session,
            auth,
            peer_trusted: false,
            outbox: VecDeque::new(),
            held: Held::default(),
            last_sent: None,
            last_sent_at: Time(0),
            attempts: 0,
            timers: TimerTable::default(),
            outcome: Outcome::default(),
            finished: false,
            effects: Vec::new(),
        }
    }

    /// Whether the session has ended (done or failed).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Statistics so far.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The effects produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next_deadline()
    }

    /// Resends the unanswered message, or fails after `attempts_max` resends.
    pub fn handle_timeout(&mut self, now: Time) {
        if self.timers.take_expired(now).is_empty() || self.finished {
            return;
        }
        if self.attempts >= self.config.attempts_max {
            let attempts = self.attempts + 1;
            self.fail(SessionError::Timeout { peer: self.peer, attempts });
            return;
        }
        self.attempts += 1;
        self.resend_last(now);
        self.timers.set(Timer::Retry, now.plus_ms(self.config.retry_ms));
    }

    /// Processes a message from `from`.
    pub fn handle_message<R: Replica>(
        &mut self,
        replica: &mut R,
        from: NodeId,
        msg: Message,
        now: Time,
    ) {
        if from != self.peer || msg.session != self.session {
            return;
        }
        let expected = self.last_sent.as_ref().map_or(1, |m| m.seq + 1);
        if msg.seq + 2 == expected {
            // The peer did not get our answer to this message: answer again
            // — unless we just did. A peer resends only every `retry_ms`;
            // copies arriving sooner are the network's duplicates, and
            // answering each would double the traffic at every step when
            // the network duplicates everything.
            if now >= self.last_sent_at.plus_ms(self.config.retry_ms / 2) {
                self.resend_last(now);
            }
            return;
        }
        if msg.seq != expected || self.finished {
            return;
        }
        let peer_idle = match self.step(replica, msg.body) {
            Ok(peer_idle) => peer_idle,
            Err(error) => return self.abort(expected + 1, error, now),
        };
        if self.finished {
            return;
        }
        if self.outbox.is_empty() {
            self.release_held(true);
        }
        match self.outbox.pop_front() {
            Some(body) => self.send(expected + 1, body, now),
            None if peer_idle => {
                self.send(expected + 1, Body::Done, now);
                self.finish(Ok(()));
            }
            None => self.send(expected + 1, Body::Ack, now),
        }
    }

    /// Handles one body; returns whether the peer has nothing left to say.
    fn step<R: Replica>(&mut self, replica: &mut R, body: Body) -> Result<bool, SessionError> {
        // Until the peer's root is accepted, nothing but its root or the
        // end of the session is acceptable.
        if !self.peer_trusted && !matches!(body, Body::Root(_) | Body::Done | Body::Abort { .. }) {
            return Err(self.violation("state before a root"));
        }
        match body {
            Body::Root(root) => return self.step_root(replica, root),
            Body::Children { level, nodes } => self.step_children(replica.tree(), level, nodes)?,
            Body::Keys { nodes } => self.step_keys(replica, nodes)?,
            Body::Want { keys } => self.step_want(replica, keys),
            Body::Deltas { entries } => self.step_deltas(replica, entries)?,
            Body::Ack => return Ok(true),
            Body::Done => self.finish(Ok(())),
            Body::Abort { reason } => {
                self.finish(Err(SessionError::Aborted { peer: self.peer, reason }))
            }
        }
        Ok(false)
    }

    fn step_root<R: Replica>(
        &mut self,
        replica: &R,
        root: SignedRoot,
    ) -> Result<bool, SessionError> {
        if self.peer_trusted {
            return Err(self.violation("second root"));
        }
        if let Some(key) = &self.auth.peer_key {
            root.verify(self.peer, key)?;
        } else if root.node != self.peer {
            return Err(VerifyError::WrongSender { peer: self.peer, claimed: root.node }.into());
        }
        let tree = replica.tree();
        if root.depth != tree.depth() {
            return Err(self.violation(&format!("depth {} != {}", root.depth, tree.depth())));
        }
        self.peer_trusted = true;
        if self.last_sent.is_none() {
            // Responder: equal roots end the session at once (the peer sent
            // only its root, so it has nothing else to say).
            if root.root == tree.root() {
                return Ok(true);
            }
            let mine = self.my_root(replica);
            self.outbox.push_back(Body::Root(mine));
        } else {
            self.open(tree, 0, vec![tree.subtree(0, 0)]);
        }
        Ok(false)
    }

    fn step_want<R: Replica>(&mut self, replica: &R, keys: Vec<(Vec<u8>, Option<Digest>)>) {
        let ship: Vec<_> = keys
            .into_iter()
            .filter_map(|(key, hint)| replica.delta_for(&key, hint.as_ref()).map(|p| (key, p)))
            .collect();
        self.hold_deltas(ship);
    }

    fn step_deltas<R: Replica>(
        &mut self,
        replica: &mut R,
        entries: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), SessionError> {
        for (key, payload) in entries {
            match replica.apply(&key, &payload) {
                Ok(changed) => self.outcome.keys_repaired += u64::from(changed),
                Err(error) => return Err(SessionError::Apply { peer: self.peer, key, error }),
            }
        }
        Ok(())
    }

    fn my_root<R: Replica>(&self, replica: &R) -> SignedRoot {
        let tree = replica.tree();
        let counter = self.auth.root_counter;
        match &self.auth.signing_key {
            Some(key) => SignedRoot::sign(self.me, tree.root(), tree.depth(), counter, key),
            None => SignedRoot::unsigned(self.me, tree.root(), tree.depth(), counter),
        }
    }

    fn violation(&self, reason: &str) -> SessionError {
        SessionError::Protocol { peer: self.peer, reason: reason.to_string() }
    }

    fn send(&mut self, seq: u64, body: Body, now: Time) {
        let terminal = matches!(body, Body::Done | Body::Abort { .. });
        self.last_sent = Some(Message { session: self.session, seq, body });
        self.attempts = 0;
        self.resend_last(now);
        if terminal {
            self.timers.stop(Timer::Retry);
        } else {
            self.timers.set(Timer::Retry, now.plus_ms(self.config.retry_ms));
        }
    }

    fn resend_last(&mut self, now: Time) {
        self.last_sent_at = now;
        if let Some(msg) = &self.last_sent {
            self.outcome.bytes_sent += msg.size_bytes() as u64;
            self.effects.push(Effect::Send { to: self.peer, msg: msg.clone() });
        }
    }

    fn abort(&mut self, seq: u64, error: SessionError, now: Time) {
        self.send(seq, Body::Abort { reason: format!("{} says: {error}", self.me) }, now);
        self.fail(error);
    }

    fn fail(&mut self, error: SessionError) {
        self.finish(Err(error));
    }

    fn finish(&mut self, result: Result<(), SessionError>) {
        self.finished = true;
        self.timers.stop(Timer::Retry);
        self.effects.push(match result {
            Ok(()) => Effect::Done(self.outcome),
            Err(error) => Effect::Failed(error),
        });
    }
}
