//! Joining, metadata and graceful leave.

use super::net::{addr, id, Net};
use super::{config, is_dead, is_suspect, SEED};
use crate::swim::{Effect, MemberEvent, MemberState, Metadata, Swim, SwimError};
use crate::Time;

// Join: a push-pull with the seed gives the joiner the whole view at once;
// the seed's `Alive` broadcast about the joiner spreads it (SWIM §4.1).
#[test]
fn members_join_through_a_seed_and_push_pull() {
    let mut net = Net::new(5, &config(|_| {}), SEED);
    net.join_all();

    // --- right after the exchanges: the seed knows everyone, the joiners
    // at least the seed and the members that joined before them
    assert_eq!(net.nodes[0].swim.members().count(), 5);
    for i in 1..5 {
        assert_eq!(net.nodes[i].swim.members().count(), i + 1, "node {i}");
        assert_eq!(net.state(i, 0), Some(MemberState::Alive));
    }

    // --- gossip (or, for what it missed, the periodic push-pull) tells
    // everyone about everyone
    assert!(net.run_until_cond(Time(30_000), Net::converged));
    println!("converged after {}", net.now);
    for i in 0..5 {
        for j in 0..5 {
            let view = net.view(i, j).unwrap_or_else(|| panic!("{i} does not know {j}"));
            assert_eq!((view.state, view.addr), (MemberState::Alive, addr(j)));
            assert_eq!(view.meta.data, format!("node-{j}").as_bytes());
        }
        assert_eq!(net.nodes[i].swim.live_members(), 5);
        let joined =
            net.nodes[i].events.iter().filter(|(_, e)| matches!(e, MemberEvent::Joined(_)));
        assert_eq!(joined.count(), 4, "node {i} reports each other member joining once");
    }
}

// Two clusters formed apart merge when a member of one joins through a
// member of the other: push-pull carries the full views both ways.
#[test]
fn joining_through_another_cluster_merges_the_views() {
    let mut net = Net::new(4, &config(|_| {}), SEED);
    let now = net.now;
    net.nodes[0].swim.join(&[], now);
    net.nodes[2].swim.join(&[], now);
    net.nodes[1].swim.join(&[addr(0)], now);
    net.nodes[3].swim.join(&[addr(2)], now);
    for i in 0..4 {
        net.pump(i);
    }
    net.run_for(2_000);
    assert_eq!(net.state(0, 2), None, "the clusters are apart");

    net.nodes[1].swim.join(&[addr(2)], net.now);
    net.pump(1);
    assert!(net.run_until_cond(Time(40_000), Net::converged));
}

// The first member can also be contacted by a joiner it has never heard
// of; the periodic push-pull retries the seeds while nobody answered.
#[test]
fn push_pull_retries_seeds_until_someone_answers() {
    let mut net = Net::new(2, &config(|c| c.push_pull_interval_ms = 2_000), SEED);
    net.crash(0);
    net.nodes[1].swim.join(&[addr(0)], net.now);
    net.pump(1);
    net.run_for(5_000);
    assert_eq!(net.nodes[1].swim.live_members(), 1, "the seed is down");

    net.nodes[0].up = true;
    net.nodes[0].swim.join(&[], net.now);
    net.pump(0);
    net.run_for(5_000);
    assert_eq!(net.nodes[1].swim.live_members(), 2);
    assert_eq!(net.nodes[0].swim.live_members(), 2);
}

// Metadata rides on `Alive` updates with a raised incarnation, so the new
// version overrides the old everywhere and each observer reports it once.
#[test]
fn metadata_update_propagates_with_its_version() {
    let mut net = Net::joined(6, &config(|_| {}), SEED, 5_000);
    let before = net.nodes[2].swim.incarnation();

    let meta = Metadata::new(&b"role=leader;raft=10.0.0.3:7000"[..]);
    net.nodes[2].swim.set_metadata(meta, net.now).unwrap();
    assert_eq!(net.nodes[2].swim.metadata().version, 1);
    assert_eq!(net.nodes[2].swim.incarnation(), before + 1);
    net.run_for(3_000);

    for i in 0..6 {
        let view = net.view(i, 2).unwrap();
        assert_eq!(view.meta.version, 1, "node {i}");
        assert_eq!(view.meta.data, &b"role=leader;raft=10.0.0.3:7000"[..]);
        if i != 2 {
            let updated = net.event_times(i, 2, |e| matches!(e, MemberEvent::Updated(_)));
            assert_eq!(updated.len(), 1, "node {i} reports the change once");
        }
    }

    // --- a version given by the caller is kept if it is ahead
    let meta = Metadata { version: 9, data: b"v9".to_vec().into() };
    net.nodes[2].swim.set_metadata(meta, net.now).unwrap();
    net.run_for(3_000);
    assert!((0..6).all(|i| net.view(i, 2).unwrap().meta.version == 9));
}

#[test]
fn oversized_metadata_is_refused_and_changes_nothing() {
    let mut net = Net::joined(2, &config(|_| {}), SEED, 2_000);
    let swim = &mut net.nodes[0].swim;
    let (incarnation, meta) = (swim.incarnation(), swim.metadata().clone());
    let err = swim.set_metadata(Metadata::new(vec![0u8; 513]), Time(2_000)).unwrap_err();
    assert_eq!(err, SwimError::MetadataTooLarge { bytes: 513, max: 512 });
    assert_eq!((swim.incarnation(), swim.metadata()), (incarnation, &meta));
    assert!(swim.take_effects().is_empty());
}

// Graceful leave: the `Left` update overrides `Alive` at the same
// incarnation, so nobody suspects the departed member; the leaver reports
// completion once its update has been sent `λ log N` times.
#[test]
fn graceful_leave_marks_left_everywhere() {
    let mut net = Net::joined(5, &config(|_| {}), SEED, 5_000);
    let left_at = net.now;
    net.nodes[3].swim.leave(left_at);
    assert!(net.nodes[3].swim.is_leaving());
    net.pump(3);
    net.run_for(10_000);

    let done = net.nodes[3].leave_done.expect("leave finished");
    assert!(done.ms_since(left_at) < 2_000, "done after {}ms", done.ms_since(left_at));
    assert!(net.nodes[3].swim.has_left());
    assert_eq!(net.nodes[3].swim.next_deadline(), None, "a departed member is silent");
    assert_eq!(net.state(3, 3), Some(MemberState::Left));
    for i in [0, 1, 2, 4] {
        assert_eq!(net.state(i, 3), Some(MemberState::Left), "node {i}");
        assert_eq!(net.event_times(i, 3, |e| matches!(e, MemberEvent::Left(_))).len(), 1);
        assert!(net.event_times(i, 3, |e| is_suspect(e) || is_dead(e)).is_empty());
        assert_eq!(net.nodes[i].swim.live_members(), 4);
    }
    let last_send = net.nodes[3].sent.last().unwrap().0;
    assert!(last_send <= done, "nothing is sent after the leave finished");

    // --- a departed member ignores everything
    let swim = &mut net.nodes[3].swim;
    swim.handle_message(addr(0), ping_from(0, 3), net.now);
    swim.handle_timeout(net.now.plus_ms(60_000));
    assert_eq!(swim.take_effects(), Vec::<Effect>::new());
    assert_eq!(swim.set_metadata(Metadata::default(), net.now), Err(SwimError::Leaving));
}

#[test]
fn the_last_member_leaves_at_once() {
    let mut net = Net::joined(1, &config(|_| {}), SEED, 1_000);
    net.nodes[0].swim.leave(net.now);
    net.pump(0);
    assert_eq!(net.nodes[0].leave_done, Some(net.now));
}

// SWIM §4.2: a member that restarts with incarnation 0 after being
// declared dead learns its old incarnation through push-pull and outbids
// it; the others take it back.
#[test]
fn restarted_member_rejoins_with_a_higher_incarnation() {
    let config = config(|_| {});
    let mut net = Net::joined(4, &config, SEED, 5_000);
    net.crash(3);
    let limit = net.now.plus_ms(60_000);
    let dead = |net: &Net| (0..3).all(|i| net.state(i, 3) == Some(MemberState::Dead));
    assert!(net.run_until_cond(limit, dead));
    let dead_incarnation = net.view(0, 3).unwrap().incarnation;

    // --- same id and address, nothing remembered
    let restart_at = net.now;
    let meta = Metadata::new(&b"node-3"[..]);
    net.nodes[3].swim = Swim::new(config, id(3), addr(3), meta, SEED + 1);
    net.nodes[3].up = true;
    net.nodes[3].swim.join(&[addr(0)], restart_at);
    net.pump(3);
    assert!(net.run_until_cond(restart_at.plus_ms(30_000), Net::converged));
    assert!(net.nodes[3].swim.incarnation() > dead_incarnation);
    for i in 0..3 {
        let rejoined = net.event_times(i, 3, |e| matches!(e, MemberEvent::Joined(_)));
        assert!(rejoined.iter().any(|at| *at >= restart_at), "node {i}");
    }
}

fn ping_from(from: usize, to: usize) -> crate::swim::Message {
    crate::swim::Message::Ping { seq: 1, from: id(from), to: id(to), piggyback: Vec::new() }
}
