//! Lifeguard: local health, nacks and dynamic suspicion, each compared
//! with plain SWIM.

use super::net::{id, Net};
use super::{config, is_dead, is_suspect, SEED};
use crate::swim::node::Timer;
use crate::swim::{Lifeguard, Message, SwimConfig};
use crate::Time;

/// Lifeguard with suspicions too slow to end within the tests below.
fn patient(lifeguard: Lifeguard) -> SwimConfig {
    config(|c| {
        c.lifeguard = lifeguard;
        c.suspicion_mult = 100;
    })
}

// Lifeguard, "Local Health Aware Probe": helpers that nack prove the
// prober's own links work, so a probe of a dead member costs it nothing.
#[test]
fn nacks_from_helpers_keep_the_prober_healthy() {
    let mut net = Net::joined(5, &patient(Lifeguard::ALL), SEED, 5_000);
    net.crash(4);
    net.run_for(10_000);
    let nacks: usize = (0..4)
        .flat_map(|i| net.nodes[i].sent.iter())
        .filter(|(_, _, m)| matches!(m, Message::Nack { .. }))
        .count();
    assert!(nacks > 0, "helpers nacked the probes of the crashed member");
    for i in 0..4 {
        assert_eq!(net.nodes[i].swim.local_health(), 0, "node {i}");
    }
}

// Lifeguard, "Local Health Aware Probe": a prober that hears neither acks
// nor nacks is the likely culprit; each missing nack raises its score.
#[test]
fn missing_nacks_raise_the_probers_local_health() {
    let mut net = Net::joined(5, &patient(Lifeguard::ALL), SEED, 5_000);
    net.cut_inbound(0);
    // One full period (at most 1 s until the current one ends, then 1 s).
    net.run_for(2_000);
    let score = net.nodes[0].swim.local_health();
    assert!(score >= 3, "three helpers asked, no nack came back: score {score}");
    net.run_for(20_000);
    assert_eq!(net.nodes[0].swim.local_health(), 7, "saturates at awareness_max - 1");

    // --- plain SWIM has no score
    let mut net = Net::joined(5, &patient(Lifeguard::OFF), SEED, 5_000);
    net.cut_inbound(0);
    net.run_for(20_000);
    assert_eq!(net.nodes[0].swim.local_health(), 0);
}

// Lifeguard, "Local Health Aware Probe": the probe interval and timeout
// are multiplied by score + 1, and recover as probes succeed again.
#[test]
fn local_health_stretches_the_probe_interval() {
    let mut net = Net::joined(5, &patient(Lifeguard::ALL), SEED, 5_000);
    net.cut_inbound(0);
    net.run_for(30_000);
    assert_eq!(net.nodes[0].swim.local_health(), 7);
    let since = net.now;
    net.run_for(40_000);

    let pings = probe_times(&net, since);
    assert!(pings.len() >= 4, "{pings:?}");
    for pair in pings.windows(2) {
        assert_eq!(pair[1].ms_since(pair[0]), 8_000, "period of 8 x 1 s: {pings:?}");
    }
    // The direct-ack timeout is stretched alike: 8 x 500 ms after the ping.
    let timers = |net: &Net| {
        let t = &net.nodes[0].swim.timers;
        (t.get(Timer::ProbeTimeout), t.get(Timer::Probe))
    };
    assert!(net.run_until_cond(net.now.plus_ms(10_000), |net| timers(net).0.is_some()));
    let ping = *probe_times(&net, since).last().unwrap();
    assert_eq!(timers(&net), (Some(ping.plus_ms(4_000)), Some(ping.plus_ms(8_000))));

    // --- healed, acks bring the score down one step per probe
    net.heal();
    net.run_for(60_000);
    assert_eq!(net.nodes[0].swim.local_health(), 0);
    let pings = probe_times(&net, Time(net.now.0 - 5_000));
    for pair in pings.windows(2) {
        assert_eq!(pair[1].ms_since(pair[0]), 1_000, "back to 1 s: {pings:?}");
    }
}

/// Times node 0 started a probe (a direct ping of its own) after `since`.
fn probe_times(net: &Net, since: Time) -> Vec<Time> {
    net.nodes[0]
        .sent
        .iter()
        .filter(|(at, _, m)| *at > since && matches!(m, Message::Ping { .. }))
        .map(|(at, _, _)| *at)
        .collect()
}

// Lifeguard, "Local Health Aware Suspicion", in a cluster: with 10 members
// the timeout starts at 24 s and shrinks to 4 s once two other members
// confirm; plain SWIM waits its fixed 4 s.
#[test]
fn suspicion_timeout_shrinks_as_confirmations_arrive() {
    for lifeguard in [Lifeguard::ALL, Lifeguard::OFF] {
        let config = config(|c| c.lifeguard = lifeguard);
        let mut net = Net::joined(10, &config, SEED, 10_000);
        net.crash(9);
        net.run_for(60_000);
        // (suspected at, waited until dead) per member that suspected it
        let mut waits = Vec::new();
        for i in 0..9 {
            let suspect = net.event_times(i, 9, is_suspect);
            let dead = net.event_times(i, 9, is_dead);
            assert_eq!(dead.len(), 1, "node {i}");
            if let Some(s) = suspect.first() {
                waits.push((*s, dead[0].ms_since(*s)));
            }
        }
        waits.sort();
        let (first, longest) = (waits[0].1, waits.iter().map(|w| w.1).max().unwrap());
        if lifeguard == Lifeguard::ALL {
            assert!(first >= 4_000, "the first suspector waits at least the minimum: {waits:?}");
            assert!(longest < 24_000, "confirmations shortened every wait: {waits:?}");
        } else {
            assert_eq!(first, 4_000, "plain SWIM: a fixed 4 s: {waits:?}");
            assert!(longest <= 4_000, "{waits:?}");
        }
        assert!(net.all_events(|e| is_dead(e) && e.member().id != id(9)).is_empty());
    }
}

// Buddy system, the other way round: a member that gossips a suspicion of
// us older than our refutation missed the refutation (it was starved or
// cut off meanwhile); we tell it directly, so its stale suspicion does not
// run to the timeout and end in a false "dead".
#[test]
fn a_stale_accusation_is_answered_with_our_current_alive() {
    use crate::swim::{Effect, Update};
    for lifeguard in [Lifeguard::ALL, Lifeguard::OFF] {
        let mut net = Net::joined(3, &patient(lifeguard), SEED, 5_000);
        let now = Time(6_000);
        let accuse = |inc| Message::Gossip {
            from: id(1),
            updates: vec![Update::Suspect { id: id(0), incarnation: inc, from: id(1) }],
        };
        let node = &mut net.nodes[0].swim;
        node.handle_message(super::net::addr(1), accuse(0), now);
        assert_eq!(node.incarnation(), 1, "refuted the fresh suspicion");
        node.take_effects();
        node.handle_message(super::net::addr(2), accuse(0), now);
        let answered = node.take_effects().into_iter().any(|e| match e {
            Effect::Send { to, msg } => to == super::net::addr(2)
                && msg.updates().iter().any(
                    |u| matches!(u, Update::Alive { id: who, incarnation: 1, .. } if *who == id(0)),
                ),
            _ => false,
        });
        assert_eq!(answered, lifeguard.buddy_system, "lifeguard {lifeguard:?}");
        assert_eq!(node.incarnation(), 1, "a stale accusation raises nothing");
    }
}
