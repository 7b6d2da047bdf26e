//! Tests of the anti-entropy session, driven by a tiny in-memory network.

use std::collections::{BTreeMap, VecDeque};

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::merkle::{entry_digest, MerkleTree, VerifyError};
use crate::{NodeId, Time};

pub(super) const A: NodeId = NodeId(1);
pub(super) const B: NodeId = NodeId(2);

/// A last-writer-wins register per key: `(version, value)`, the larger pair
/// wins, so merging is idempotent and commutative.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Store {
    pub(super) values: BTreeMap<Vec<u8>, (u64, Vec<u8>)>,
    pub(super) tree: MerkleTree,
}

impl Store {
    pub(super) fn new(depth: u8) -> Store {
        Store { values: BTreeMap::new(), tree: MerkleTree::new(depth).unwrap() }
    }

    pub(super) fn put(&mut self, key: &[u8], version: u64, value: &[u8]) -> bool {
        let mine = self.values.get(key);
        if mine.is_some_and(|(v, val)| (*v, val.as_slice()) >= (version, value)) {
            return false;
        }
        let value_digest: [u8; 32] = Sha256::digest(value).into();
        self.tree.upsert(key, entry_digest(key, &version.to_be_bytes(), &value_digest));
        self.values.insert(key.to_vec(), (version, value.to_vec()));
        true
    }
}

impl Replica for Store {
    fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    fn delta_for(&self, key: &[u8], _peer: Option<&crate::merkle::Digest>) -> Option<Vec<u8>> {
        let (version, value) = self.values.get(key)?;
        let mut payload = version.to_be_bytes().to_vec();
        payload.extend_from_slice(value);
        Some(payload)
    }

    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
        if payload.len() < 8 {
            return Err(ApplyError(format!("payload of {} bytes", payload.len())));
        }
        let version = u64::from_be_bytes(payload[..8].try_into().unwrap());
        Ok(self.put(key, version, &payload[8..]))
    }
}

pub(super) struct Run {
    pub(super) a: Result<Outcome, SessionError>,
    pub(super) b: Result<Outcome, SessionError>,
    /// Every message put on the network (delivered or not), with its sender.
    pub(super) sent: Vec<(NodeId, Message)>,
}

/// Runs a session from A to B until both finish. `deliver(n, msg)` decides
/// whether the n-th message sent (from 0) arrives; `copies` delivers each
/// arriving message that many times.
pub(super) fn run_with(
    a: &mut Store,
    b: &mut Store,
    auth_a: Auth,
    auth_b: Auth,
    config: Config,
    deliver: impl FnMut(usize, &Message) -> bool,
    copies: usize,
) -> Run {
    drive(a, b, 42, (auth_a, auth_b), config, deliver, copies)
}

/// [`run_with`] for any replica and session id (which picks the digest
/// windows the session compares).
pub(super) fn drive<R: Replica>(
    a: &mut R,
    b: &mut R,
    session: u64,
    (auth_a, auth_b): (Auth, Auth),
    config: Config,
    mut deliver: impl FnMut(usize, &Message) -> bool,
    copies: usize,
) -> Run {
    let mut now = Time(0);
    let mut sa = AntiEntropySession::initiate(config.clone(), A, B, session, auth_a, a, now);
    let mut sb = AntiEntropySession::respond(config, B, A, session, auth_b);
    let (mut out_a, mut out_b) = (None, None);
    let mut sent = Vec::new();
    let mut network: VecDeque<(NodeId, Message)> = VecDeque::new();
    for _step in 0..100_000 {
        for (from, session, out) in [(A, &mut sa, &mut out_a), (B, &mut sb, &mut out_b)] {
            for effect in session.take_effects() {
                match effect {
                    Effect::Send { msg, .. } => {
                        if deliver(sent.len(), &msg) {
                            for _ in 0..copies {
                                network.push_back((from, msg.clone()));
                            }
                        }
                        sent.push((from, msg));
                    }
                    Effect::Done(outcome) => *out = Some(Ok(outcome)),
                    Effect::Failed(error) => *out = Some(Err(error)),
                }
            }
        }
        if let (Some(a_out), Some(b_out)) = (&out_a, &out_b) {
            if network.is_empty() {
                return Run { a: a_out.clone(), b: b_out.clone(), sent };
            }
        }
        match network.pop_front() {
            Some((from, msg)) if from == A => sb.handle_message(b, A, msg, now),
            Some((_, msg)) => sa.handle_message(a, B, msg, now),
            None => {
                let deadline = [sa.next_deadline(), sb.next_deadline()].into_iter().flatten().min();
                now = deadline.expect("a session is stuck with nothing in flight and no timer");
                sa.handle_timeout(now);
                sb.handle_timeout(now);
            }
        }
    }
    panic!("session did not finish");
}

pub(super) fn run(a: &mut Store, b: &mut Store) -> Run {
    run_with(a, b, Auth::default(), Auth::default(), Config::default(), |_, _| true, 1)
}

pub(super) fn populated(depth: u8, keys: std::ops::Range<u32>, version: u64) -> Store {
    let mut store = Store::new(depth);
    for k in keys {
        store.put(format!("key-{k}").as_bytes(), version, format!("v{k}-{version}").as_bytes());
    }
    store
}

#[test]
fn identical_trees_exchange_one_message_each_way() {
    let mut a = populated(12, 0..500, 1);
    let mut b = a.clone();
    let run = run(&mut a, &mut b);
    let bodies: Vec<_> = run.sent.iter().map(|(from, m)| (*from, m.seq, m.body.clone())).collect();
    assert_eq!(run.sent.len(), 2, "{bodies:?}");
    assert!(matches!(run.sent[0].1.body, Body::Root(_)));
    assert_eq!(run.sent[1].1.body, Body::Done);
    assert_eq!(run.a.unwrap().keys_repaired, 0);
    assert_eq!(run.b.unwrap().keys_repaired, 0);
}

#[test]
fn one_differing_key_descends_a_single_path() {
    let mut a = populated(12, 0..2000, 1);
    let mut b = a.clone();
    b.put(b"key-7", 2, b"newer");
    let run = run(&mut a, &mut b);

    assert_eq!(a, b);
    assert_eq!(run.a.unwrap().keys_repaired, 1);
    assert_eq!(run.b.unwrap().keys_repaired, 0);
    // Every Children message names exactly one node, one level after the
    // other: the descent never enters a subtree whose hashes agree. It
    // stops where the subtree is down to about one key, and lists it.
    let children: Vec<_> = run
        .sent
        .iter()
        .filter_map(|(_, m)| match &m.body {
            Body::Children { level, nodes } => Some((*level, nodes.len())),
            _ => None,
        })
        .collect();
    let levels = children.len() as u8;
    assert!((8..=12).contains(&levels), "{children:?}");
    assert_eq!(children, (0..levels).map(|level| (level, 1)).collect::<Vec<_>>());
    let lists: Vec<_> = run
        .sent
        .iter()
        .flat_map(|(_, m)| match &m.body {
            Body::Keys { nodes } => nodes.iter().map(|(level, _, e)| (*level, e.len())).collect(),
            _ => vec![],
        })
        .collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert!(lists[0].0 == levels && lists[0].1 <= 4, "{lists:?}");
    // Root, Root, the levels, Keys, then Want + Deltas one way (the key
    // differs on both sides, so each ships its state), Deltas back, Ack,
    // Done — and nothing else.
    let bodies: Vec<_> = run
        .sent
        .iter()
        .map(|(_, m)| {
            format!("{}:{}", m.seq, format!("{:?}", m.body).split([' ', '{', '(']).next().unwrap())
        })
        .collect();
    assert_eq!(run.sent.len(), 2 + children.len() + 6, "{bodies:?}");
}

#[test]
fn divergent_replicas_converge_both_ways() {
    let mut a = populated(6, 0..300, 1);
    let mut b = populated(6, 200..500, 1);
    b.put(b"key-250", 5, b"b wins");
    a.put(b"key-260", 5, b"a wins");
    let run = run(&mut a, &mut b);
    assert_eq!(a, b);
    assert_eq!(a.values.len(), 500);
    assert_eq!(a.values[b"key-250".as_slice()].1, b"b wins");
    assert_eq!(b.values[b"key-260".as_slice()].1, b"a wins");
    assert_eq!(run.a.unwrap().keys_repaired, 200 + 1);
    assert_eq!(run.b.unwrap().keys_repaired, 200 + 1);
}

#[test]
fn batches_stay_within_batch_bytes_max() {
    let mut a = Store::new(8);
    for k in 0..200u32 {
        a.put(format!("k{k}").as_bytes(), 1, &[k as u8; 100]);
    }
    let mut b = Store::new(8);
    let config = Config { batch_bytes_max: 1024, ..Config::default() };
    let run = run_with(&mut a, &mut b, Auth::default(), Auth::default(), config, |_, _| true, 1);
    assert_eq!(a, b);
    let deltas: Vec<usize> = run
        .sent
        .iter()
        .filter(|(_, m)| matches!(m.body, Body::Deltas { .. }))
        .map(|(_, m)| m.body.size_bytes())
        .collect();
    assert!(deltas.len() >= 200 * 100 / 1024, "{deltas:?}");
    assert!(deltas.iter().all(|&bytes| bytes <= 1024), "{deltas:?}");
    let bodies_bounded = run.sent.iter().all(|(_, m)| m.body.size_bytes() <= 1024);
    assert!(bodies_bounded);
}

#[test]
fn session_converges_when_every_kth_message_is_lost() {
    // Dropping every 2nd message starves any stop-and-wait exchange (each
    // answer needs two consecutive deliveries), so k starts at 3.
    for k in [3, 4, 5, 7, 10] {
        let mut a = populated(5, 0..120, 1);
        let mut b = populated(5, 60..200, 2);
        let config = Config { batch_bytes_max: 512, ..Config::default() };
        let run = run_with(
            &mut a,
            &mut b,
            Auth::default(),
            Auth::default(),
            config,
            |n, _| (n + 1) % k != 0,
            1,
        );
        assert!(run.a.is_ok() && run.b.is_ok(), "k = {k}: {:?} {:?}", run.a, run.b);
        assert!(a == b, "k = {k}: replicas differ");
    }
}

#[test]
fn duplicated_messages_apply_once() {
    let (mut a1, mut b1) = (populated(5, 0..100, 1), populated(5, 50..150, 1));
    let (mut a2, mut b2) = (a1.clone(), b1.clone());
    let once = run(&mut a1, &mut b1);
    let twice = run_with(
        &mut a2,
        &mut b2,
        Auth::default(),
        Auth::default(),
        Config::default(),
        |_, _| true,
        2,
    );
    assert_eq!((&a1, &b1), (&a2, &b2));
    assert_eq!(once.a.unwrap().keys_repaired, twice.a.unwrap().keys_repaired);
    assert_eq!(once.b.unwrap().keys_repaired, twice.b.unwrap().keys_repaired);
}

#[test]
fn silent_peer_times_out_after_bounded_attempts() {
    let mut a = populated(4, 0..10, 1);
    let mut b = Store::new(4);
    let config = Config { attempts_max: 3, ..Config::default() };
    let run = run_with(&mut a, &mut b, Auth::default(), Auth::default(), config, |n, _| n == 0, 1);
    assert_eq!(run.a, Err(SessionError::Timeout { peer: B, attempts: 4 }));
    assert_eq!(run.b, Err(SessionError::Timeout { peer: A, attempts: 4 }));
}

fn signing(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn auth(me: u8, peer: u8) -> Auth {
    Auth {
        signing_key: Some(signing(me)),
        root_counter: 1,
        peer_key: Some(signing(peer).verifying_key()),
    }
}

#[test]
fn signed_roots_are_verified_and_state_merges() {
    let (mut a, mut b) = (populated(4, 0..20, 1), populated(4, 10..30, 1));
    let run = run_with(&mut a, &mut b, auth(1, 2), auth(2, 1), Config::default(), |_, _| true, 1);
    assert!(run.a.is_ok() && run.b.is_ok());
    assert_eq!(a, b);
}

#[test]
fn unsigned_root_is_rejected_before_merging() {
    let (mut a, mut b) = (populated(4, 0..20, 1), Store::new(4));
    let run =
        run_with(&mut a, &mut b, Auth::default(), auth(2, 1), Config::default(), |_, _| true, 1);
    let err = run.b.unwrap_err();
    assert_eq!(err, SessionError::Untrusted(VerifyError::Unsigned { peer: A }));
    assert_eq!(err.to_string(), "root from n1 is unsigned");
    assert!(matches!(run.a, Err(SessionError::Aborted { peer: B, .. })));
    assert!(b.values.is_empty(), "nothing merged");
}

#[test]
fn tampered_root_is_rejected_naming_the_peer() {
    let (a, mut b) = (populated(4, 0..20, 1), Store::new(4));
    let mut sa = AntiEntropySession::initiate(Config::default(), A, B, 1, auth(1, 2), &a, Time(0));
    let mut sb = AntiEntropySession::respond(Config::default(), B, A, 1, auth(2, 1));
    let Some(Effect::Send { mut msg, .. }) = sa.take_effects().pop() else { panic!("no root") };
    // --- flip one bit of A's signed root on the way to B
    let Body::Root(root) = &mut msg.body else { panic!("first message is the root") };
    root.root[0] ^= 1;
    sb.handle_message(&mut b, A, msg, Time(0));
    let effects = sb.take_effects();
    let failed = effects.iter().find_map(|e| match e {
        Effect::Failed(err) => Some(err.to_string()),
        _ => None,
    });
    assert_eq!(failed.as_deref(), Some("root from n1 failed signature verification"));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Send { msg: Message { body: Body::Abort { .. }, .. }, .. })));
    assert!(sb.is_finished() && b.values.is_empty(), "nothing merged");
}

#[test]
fn malformed_payload_fails_the_session_naming_peer_and_key() {
    let (a, mut b) = (populated(4, 0..1, 1), Store::new(4));
    let mut sb = AntiEntropySession::respond(Config::default(), B, A, 9, Auth::default());
    let root = crate::merkle::SignedRoot::unsigned(A, a.tree.root(), 4, 0);
    sb.handle_message(&mut b, A, Message { session: 9, seq: 1, body: Body::Root(root) }, Time(0));
    let deltas = Body::Deltas { entries: vec![(b"k".to_vec(), vec![1, 2])] };
    sb.handle_message(&mut b, A, Message { session: 9, seq: 3, body: deltas }, Time(0));
    let err = sb.take_effects().into_iter().find_map(|e| match e {
        Effect::Failed(err) => Some(err),
        _ => None,
    });
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("anti-entropy with n1: cannot apply key [107]: payload of 2 bytes")
    );
}

#[test]
fn config_validation_rejects_impossible_limits() {
    assert_eq!(Config::default().validate(), Ok(()));
    assert_eq!(Config { retry_ms: 0, ..Config::default() }.validate(), Err(ConfigError::RetryZero));
    assert_eq!(
        Config { attempts_max: 0, ..Config::default() }.validate(),
        Err(ConfigError::AttemptsZero)
    );
    assert_eq!(
        Config { batch_bytes_max: 10, ..Config::default() }.validate(),
        Err(ConfigError::BatchTooSmall(10))
    );
}

proptest! {
    // Random replicas, random loss pattern: the session always ends Done on
    // both sides with identical stores (the union, larger versions winning).
    #[test]
    fn random_replicas_converge_under_loss(
        a_keys in prop::collection::btree_map(0u16..300, 0u64..3, 0..80),
        b_keys in prop::collection::btree_map(0u16..300, 0u64..3, 0..80),
        depth in 1u8..7,
        drop_every in 3usize..9,
    ) {
        let build = |keys: &BTreeMap<u16, u64>| {
            let mut s = Store::new(depth);
            for (k, v) in keys { s.put(&k.to_be_bytes(), *v, &[*v as u8]); }
            s
        };
        let (mut a, mut b) = (build(&a_keys), build(&b_keys));
        let mut expected = a.clone();
        for (k, (v, val)) in &b.values { expected.put(k, *v, val); }
        let config = Config { batch_bytes_max: 256, ..Config::default() };
        let run = run_with(&mut a, &mut b, Auth::default(), Auth::default(), config,
            |n, _| (n + 1) % drop_every != 0, 1);
        prop_assert!(run.a.is_ok() && run.b.is_ok(), "{:?} {:?}", run.a, run.b);
        prop_assert_eq!(&a, &expected);
        prop_assert_eq!(&b, &expected);
    }
}
