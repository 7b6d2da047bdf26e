//! Tests of the descent with digest windows and levels below the stored
//! leaves: what a window collision costs, how far the descent narrows a
//! busy leaf, and what a faulty peer cannot make it do.

use super::tests::{drive, populated, run, A, B};
use super::*;
use crate::merkle::{Digest, MerkleTree, PartialDigest, Window};
use crate::Time;

/// A store whose entry digests the test picks: the payload is the digest,
/// and the larger digest wins a merge.
#[derive(Clone, Debug, PartialEq)]
struct Raw(MerkleTree);

impl Replica for Raw {
    fn tree(&self) -> &MerkleTree {
        &self.0
    }

    fn delta_for(&self, key: &[u8], _peer: Option<&Digest>) -> Option<Vec<u8>> {
        self.0.get(key).map(|d| d.to_vec())
    }

    fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
        let theirs: Digest = payload.try_into().map_err(|_| ApplyError("not 32 bytes".into()))?;
        Ok(self.0.get(key).is_none_or(|mine| *mine < theirs) && self.0.upsert(key, theirs))
    }
}

fn raw_pair(depth: u8) -> (Raw, Raw) {
    let mut tree = MerkleTree::new(depth).unwrap();
    for k in 0..50u8 {
        tree.upsert(&[b'k', k], [k; 32]);
    }
    (Raw(tree.clone()), Raw(tree))
}

fn session(a: &mut Raw, b: &mut Raw, id: u64) -> (Outcome, Outcome) {
    let auth = (Auth::default(), Auth::default());
    let run = drive(a, b, id, auth, Config::default(), |_, _| true, 1);
    (run.a.expect("a finishes"), run.b.expect("b finishes"))
}

/// The first session id at or after `from` whose window starts at byte
/// `offset` (or, with `!=`, does not).
fn session_with(from: u64, offset: usize, equal: bool) -> u64 {
    (from..).find(|&id| (PartialDigest::new(id, [0; 8]).offset() == offset) == equal).unwrap()
}

#[test]
fn windows_rotate_even_when_a_peer_gets_every_fourth_session() {
    // A node numbers its sessions from one counter; a peer taken every
    // 4th (or 8th) time must still see all four windows.
    for stride in [1, 2, 4, 8] {
        let offsets: std::collections::BTreeSet<usize> =
            (0..16).map(|i| PartialDigest::new(100 + i * stride, [0; 8]).offset()).collect();
        assert_eq!(offsets.len(), 4, "stride {stride}: {offsets:?}");
    }
}

#[test]
fn a_window_collision_delays_the_repair_by_one_session() {
    // Two digests of one key that agree in bytes 0..8 and differ
    // everywhere else.
    let (mut a, mut b) = raw_pair(4);
    let mut newer = [7; 32];
    newer[8..].fill(9);
    a.0.upsert(b"k7", [7; 32]);
    b.0.upsert(b"k7", newer);
    assert_ne!(a.0.root(), b.0.root());

    // --- a session that compares bytes 0..8 descends to the key (the node
    // hashes differ in every window) but takes the key for equal.
    let (out_a, out_b) = session(&mut a, &mut b, session_with(1, 0, true));
    assert_eq!((out_a.keys_repaired, out_b.keys_repaired), (0, 0));
    assert_ne!(a.0.root(), b.0.root(), "the full roots still tell them apart");

    // --- a later session compares another window and repairs it.
    let (out_a, _) = session(&mut a, &mut b, session_with(1, 0, false));
    assert_eq!(out_a.keys_repaired, 1);
    assert_eq!(a, b);
}

#[test]
fn busy_leaves_are_narrowed_below_the_stored_leaves() {
    // 16 leaves of ~125 keys each; 10 keys differ.
    let mut a = populated(4, 0..2000, 1);
    let mut b = a.clone();
    for k in (0..2000).step_by(200) {
        b.put(format!("key-{k}").as_bytes(), 2, b"newer");
    }
    let run = run(&mut a, &mut b);
    assert_eq!(a, b);
    assert_eq!(run.a.as_ref().unwrap().keys_repaired, 10);

    let deepest = run.sent.iter().filter_map(|(_, m)| match &m.body {
        Body::Children { level, .. } => Some(*level),
        _ => None,
    });
    assert!(deepest.max().unwrap() > 4, "the descent went below the stored leaves");
    let listed: Vec<usize> = run
        .sent
        .iter()
        .flat_map(|(_, m)| match &m.body {
            Body::Keys { nodes } => nodes.iter().map(|(_, _, e)| e.len()).collect(),
            _ => vec![],
        })
        .collect();
    assert!(listed.iter().all(|&n| n <= 4), "{listed:?}");
    // Listing the (up to 10) differing leaves whole would cost ~2,400
    // bytes each; the whole session costs a fraction of one such list per
    // differing key.
    let bytes = run.a.unwrap().bytes_sent + run.b.unwrap().bytes_sent;
    assert!(bytes < 10 * 800, "{bytes} bytes");
}

/// A responder that has accepted a root unlike its own from `A`, for
/// feeding it messages by hand.
fn responder(b: &mut Raw) -> AntiEntropySession {
    let mut sb = AntiEntropySession::respond(Config::default(), B, A, 9, Auth::default());
    let root = crate::merkle::SignedRoot::unsigned(A, [1; 32], b.0.depth(), 0);
    sb.handle_message(b, A, Message { session: 9, seq: 1, body: Body::Root(root) }, Time(0));
    assert!(!sb.is_finished());
    sb.take_effects();
    sb
}

fn failure(session: &mut AntiEntropySession) -> Option<String> {
    session.take_effects().into_iter().find_map(|e| match e {
        Effect::Failed(err) => Some(err.to_string()),
        _ => None,
    })
}

#[test]
fn nodes_past_the_deepest_level_are_violations() {
    let (_, mut b) = raw_pair(4);
    let level_max = b.0.level_max();
    let bad = [
        Body::Children { level: level_max, nodes: vec![(0, [[0; 8]; 2])] },
        Body::Keys { nodes: vec![(level_max + 1, 0, vec![])] },
        Body::Keys { nodes: vec![(2, 1, vec![]), (3, 8, vec![])] },
        Body::Children { level: 3, nodes: vec![(8, [[0; 8]; 2])] },
    ];
    for body in bad {
        let mut sb = responder(&mut b);
        let msg = Message { session: 9, seq: 3, body: body.clone() };
        sb.handle_message(&mut b, A, msg, Time(0));
        let failed = failure(&mut sb).unwrap_or_else(|| panic!("{body:?} accepted"));
        assert!(failed.contains("protocol violation"), "{failed}");
    }
}

#[test]
fn a_key_listed_twice_counts_once() {
    let (_, mut b) = raw_pair(4);
    let window: Window = [0xaa; 8];
    let twice = vec![(b"new".to_vec(), window), (b"new".to_vec(), window)];
    let mut sb = responder(&mut b);
    let keys = Body::Keys { nodes: vec![(0, 0, twice)] };
    sb.handle_message(&mut b, A, Message { session: 9, seq: 3, body: keys }, Time(0));
    let sent: Vec<Body> = sb
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Send { msg, .. } => Some(msg.body),
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![Body::Want { keys: vec![(b"new".to_vec(), None)] }]);
}

#[test]
fn stale_copies_are_answered_once_per_half_retry() {
    let (a, mut b) = raw_pair(4);
    let mut sb = AntiEntropySession::respond(Config::default(), B, A, 9, Auth::default());
    let mut other = a.clone();
    other.0.upsert(b"x", [1; 32]);
    let root = crate::merkle::SignedRoot::unsigned(A, other.0.root(), 4, 0);
    let first = Message { session: 9, seq: 1, body: Body::Root(root) };
    let sends = |s: &mut AntiEntropySession| {
        s.take_effects().iter().filter(|e| matches!(e, Effect::Send { .. })).count()
    };
    sb.handle_message(&mut b, A, first.clone(), Time(0));
    assert_eq!(sends(&mut sb), 1, "the answer");
    // --- a duplicate right behind the original: the network's, not a resend
    sb.handle_message(&mut b, A, first.clone(), Time(1));
    assert_eq!(sends(&mut sb), 0);
    // --- the peer's resend after its retry interval: our answer was lost
    let retry_ms = Config::default().retry_ms;
    sb.handle_message(&mut b, A, first.clone(), Time(retry_ms));
    assert_eq!(sends(&mut sb), 1);
}

proptest::proptest! {
    // Dense leaves (up to 150 keys in 2..16 leaves) force the descent
    // below the stored leaves; whatever the session id (which picks the
    // windows), batch size, loss and duplication, both sides end Done with
    // the union of the two stores.
    #[test]
    fn dense_replicas_converge_whatever_the_session(
        a_keys in proptest::collection::btree_map(0u16..400, 0u8..3, 0..150),
        b_keys in proptest::collection::btree_map(0u16..400, 0u8..3, 0..150),
        depth in 1u8..5,
        session in proptest::prelude::any::<u64>(),
        batch_bytes_max in 256usize..2048,
        drop_every in 3usize..12,
        copies in 1usize..3,
    ) {
        let build = |keys: &std::collections::BTreeMap<u16, u8>| {
            let mut tree = MerkleTree::new(depth).unwrap();
            for (k, v) in keys {
                tree.upsert(&k.to_be_bytes(), [*v; 32]);
            }
            Raw(tree)
        };
        let (mut a, mut b) = (build(&a_keys), build(&b_keys));
        let mut expected = a.clone();
        for (key, digest) in b.0.iter() {
            expected.apply(key, digest).unwrap();
        }
        let config = Config { batch_bytes_max, ..Config::default() };
        let auth = (Auth::default(), Auth::default());
        let run = drive(&mut a, &mut b, session, auth, config, |n, _| (n + 1) % drop_every != 0, copies);
        proptest::prop_assert!(run.a.is_ok() && run.b.is_ok(), "{:?} {:?}", run.a, run.b);
        proptest::prop_assert_eq!(&a, &expected);
        proptest::prop_assert_eq!(&b, &expected);
    }
}
