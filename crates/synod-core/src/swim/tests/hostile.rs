//! Malformed and hostile inputs: none may panic, corrupt the view or
//! make the member amplify traffic.

use super::net::{addr, id};
use super::{config, SEED};
use crate::swim::Address;
use crate::swim::{
    Effect, MemberInfo, MemberState, Message, Metadata, PushPull, Swim, SwimConfig, Update,
};
use crate::{NodeId, Time};

/// Node 0 of a two-member cluster with node 1, effects drained.
fn member_with_peer(config: SwimConfig) -> Swim {
    let mut swim = Swim::new(config, id(0), addr(0), Metadata::new(&b"m0"[..]), SEED);
    swim.join(&[], Time(0));
    swim.handle_message(addr(1), gossip(vec![alive(1, 0, b"m1")]), Time(1));
    swim.take_effects();
    swim
}

fn alive(i: usize, incarnation: u64, meta: &[u8]) -> Update {
    let meta = Metadata::new(meta.to_vec());
    Update::Alive { id: id(i), addr: addr(i), incarnation, meta }
}

fn gossip(updates: Vec<Update>) -> Message {
    Message::Gossip { from: id(1), updates }
}

fn sends(effects: &[Effect]) -> usize {
    effects.iter().filter(|e| matches!(e, Effect::Send { .. })).count()
}

#[test]
fn unknown_acks_and_nacks_are_ignored() {
    let mut swim = member_with_peer(config(|_| {}));
    for seq in [0, 7, u64::MAX] {
        swim.handle_message(addr(1), Message::Ack { seq, from: id(1), piggyback: vec![] }, Time(2));
        let nack = Message::Nack { seq, from: NodeId(99), piggyback: vec![] };
        swim.handle_message(addr(9), nack, Time(2));
    }
    assert!(swim.take_effects().is_empty());
    assert_eq!(swim.local_health(), 0, "stray acks do not count as successful probes");
}

#[test]
fn messages_claiming_to_come_from_ourselves_are_dropped() {
    let mut swim = member_with_peer(config(|_| {}));
    let forged = vec![Update::Dead { id: id(1), incarnation: 5, from: id(0) }];
    let ping = Message::Ping { seq: 1, from: id(0), to: id(0), piggyback: forged };
    swim.handle_message(addr(1), ping, Time(2));
    assert!(swim.take_effects().is_empty(), "no ack, no state change");
    assert_eq!(swim.member(id(1)).unwrap().state, MemberState::Alive);
}

#[test]
fn pings_meant_for_another_member_are_not_answered() {
    let mut swim = member_with_peer(config(|_| {}));
    let ping = Message::Ping { seq: 1, from: id(1), to: NodeId(42), piggyback: vec![] };
    swim.handle_message(addr(1), ping, Time(2));
    assert_eq!(sends(&swim.take_effects()), 0);
    let ping = Message::Ping { seq: 1, from: id(1), to: id(0), piggyback: vec![] };
    swim.handle_message(addr(1), ping, Time(2));
    assert_eq!(sends(&swim.take_effects()), 1, "a ping meant for us is acked");
}

// SWIM §4.2: an update about an older incarnation never wins.
#[test]
fn stale_incarnations_and_unknown_members_change_nothing() {
    let mut swim = member_with_peer(config(|_| {}));
    swim.handle_message(addr(1), gossip(vec![alive(1, 5, b"m1")]), Time(2));
    let before: Vec<MemberInfo> = swim.members().cloned().collect();
    swim.take_effects();
    let stale = vec![
        Update::Suspect { id: id(1), incarnation: 4, from: id(1) },
        Update::Dead { id: id(1), incarnation: 0, from: id(1) },
        Update::Left { id: id(1), incarnation: 3 },
        alive(1, 5, b"other"),
        Update::Suspect { id: NodeId(77), incarnation: 9, from: id(1) },
        Update::Dead { id: NodeId(78), incarnation: 9, from: id(1) },
        Update::Left { id: NodeId(79), incarnation: 9 },
    ];
    swim.handle_message(addr(1), gossip(stale), Time(3));
    assert_eq!(swim.members().cloned().collect::<Vec<_>>(), before);
    assert!(swim.take_effects().is_empty());
}

#[test]
fn oversized_metadata_from_peers_is_rejected() {
    let mut swim = member_with_peer(config(|_| {}));
    let big = vec![0u8; 513];
    swim.handle_message(addr(1), gossip(vec![alive(1, 9, &big), alive(2, 0, &big)]), Time(2));
    assert_eq!(swim.member(id(1)).unwrap().incarnation, 0, "not applied");
    assert!(swim.member(id(2)).is_none(), "not added");
    let view = PushPull { from: id(3), members: vec![info(3, &big)] };
    swim.merge_push_pull(addr(3), view, Time(3));
    assert!(swim.member(id(3)).is_none());
}

fn info(i: usize, meta: &[u8]) -> MemberInfo {
    MemberInfo {
        id: id(i),
        addr: addr(i),
        state: MemberState::Alive,
        incarnation: 0,
        meta: Metadata::new(meta.to_vec()),
    }
}

// SWIM §4.2: claims about ourselves are never applied; we outbid them.
#[test]
fn claims_about_ourselves_are_refuted_not_applied() {
    let mut swim = member_with_peer(config(|_| {}));
    let forged = vec![
        Update::Alive { id: id(0), addr: addr(9), incarnation: 3, meta: Metadata::default() },
        Update::Dead { id: id(0), incarnation: 4, from: id(1) },
        Update::Left { id: id(0), incarnation: 4 },
    ];
    swim.handle_message(addr(1), gossip(forged), Time(2));
    let me = swim.member(id(0)).unwrap();
    assert_eq!((me.state, me.addr, me.incarnation), (MemberState::Alive, addr(0), 5));
    assert_eq!(me.meta.data, &b"m0"[..]);
    // Saturating: a maximal incarnation cannot overflow ours.
    let max = Update::Suspect { id: id(0), incarnation: u64::MAX, from: id(1) };
    swim.handle_message(addr(1), gossip(vec![max]), Time(3));
    assert_eq!(swim.incarnation(), u64::MAX);
    let max = alive(1, u64::MAX, b"m1");
    swim.handle_message(addr(1), gossip(vec![max.clone(), max]), Time(4));
    assert_eq!(swim.member(id(1)).unwrap().incarnation, u64::MAX);
}

#[test]
fn indirect_ping_floods_are_bounded_and_not_amplified() {
    let mut swim = member_with_peer(config(|c| c.relays_max = 8));
    for seq in 0..100 {
        let msg = Message::IndirectPing {
            seq,
            from: id(1),
            target: NodeId(1_000 + seq),
            target_addr: Address::from_ipv4([192, 0, 2, 1], 9),
            nack: true,
            piggyback: vec![],
        };
        swim.handle_message(addr(1), msg, Time(2));
    }
    assert_eq!(sends(&swim.take_effects()), 8, "one ping per accepted request, at most relays_max");
    assert_eq!(swim.relays.len(), 8);
    // Requests to probe ourselves or the requester are ignored.
    for target in [id(0), id(1)] {
        let msg = Message::IndirectPing {
            seq: 1,
            from: id(1),
            target,
            target_addr: addr(0),
            nack: true,
            piggyback: vec![],
        };
        swim.handle_message(addr(1), msg, Time(3));
    }
    assert_eq!(sends(&swim.take_effects()), 0);
    // Nacks go out once, then the relays expire.
    swim.handle_timeout(Time(5_000));
    let nacks = swim
        .take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Send { msg: Message::Nack { .. }, to } if *to == addr(1)));
    assert_eq!(nacks.count(), 8);
    assert!(swim.relays.is_empty());
}

#[test]
fn push_pull_is_bounded_and_ignores_our_own_state() {
    let mut swim = member_with_peer(config(|c| c.members_max = 16));
    let members = (2..10_000).map(|i| info(i, b"x")).collect();
    swim.merge_push_pull(addr(2), PushPull { from: id(2), members }, Time(2));
    assert_eq!(swim.members().count(), 16);
    assert_eq!(swim.push_pull_state().members.len(), 16);
    // A state claiming to be our own is ignored.
    let mut swim = member_with_peer(config(|_| {}));
    let members = vec![info(5, b"x")];
    swim.merge_push_pull(addr(1), PushPull { from: id(0), members }, Time(2));
    assert!(swim.member(id(5)).is_none());
}

#[test]
fn time_going_backwards_does_not_panic_or_rewind() {
    let mut swim = member_with_peer(config(|_| {}));
    swim.handle_timeout(Time(10_000));
    let deadline = swim.next_deadline().unwrap();
    swim.handle_timeout(Time(5));
    swim.handle_message(addr(1), gossip(vec![]), Time(0));
    assert!(swim.next_deadline().unwrap() >= deadline.min(Time(10_000)));
}

#[test]
#[should_panic(expected = "metadata of 600 bytes")]
fn oversized_metadata_at_construction_is_a_bug() {
    let config = SwimConfig::default();
    Swim::new(config, id(0), addr(0), Metadata::new(vec![0u8; 600]), SEED);
}
