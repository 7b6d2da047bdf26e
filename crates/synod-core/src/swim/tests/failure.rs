//! Failure detection: probes, indirect probes, suspicion and refutation.

use super::net::{id, Net};
use super::{config, is_dead, is_suspect, SEED};
use crate::swim::{Lifeguard, MemberEvent, MemberState, Message, SwimConfig, Update};
use crate::Time;

/// Runs 5 members, crashes node 4 at `t0`, and returns, per survivor, the
/// times it reported node 4 suspect and dead.
fn crash_one(config: &SwimConfig) -> (Time, Vec<(Time, Time)>) {
    let mut net = Net::joined(5, config, SEED, 10_000);
    let t0 = net.now;
    net.crash(4);
    net.run_for(60_000);
    let mut times = Vec::new();
    for i in 0..4 {
        assert_eq!(net.state(i, 4), Some(MemberState::Dead), "node {i}");
        let suspect = net.event_times(i, 4, is_suspect);
        let dead = net.event_times(i, 4, is_dead);
        assert_eq!(dead.len(), 1, "node {i} declares it dead once");
        // Everyone either suspected it first or learned the verdict.
        times.push((suspect.first().copied().unwrap_or(dead[0]), dead[0]));
        for j in 0..4 {
            assert_eq!(net.state(i, j), Some(MemberState::Alive), "{i} sees {j}");
        }
    }
    assert!(net.all_events(|e| is_dead(e) && e.member().id != id(4)).is_empty());
    (t0, times)
}

// SWIM §3.1 + §4.2: a crashed member misses its probes, becomes suspect,
// and is declared dead once the suspicion timeout passes. With 5 members
// the minimum timeout is 4 probe intervals (log10 is clamped to 1).
#[test]
fn crashed_member_goes_suspect_then_dead_plain_swim() {
    let config = SwimConfig::plain_swim();
    let (t0, times) = crash_one(&config);
    let first_suspect = times.iter().map(|t| t.0).min().unwrap();
    // Each of 4 probers walks a permutation of 4 members: the crashed one
    // is probed, and its probe judged, within a few periods.
    assert!(
        first_suspect.ms_since(t0) <= 4_000,
        "suspected after {}ms",
        first_suspect.ms_since(t0)
    );
    for (suspect, dead) in &times {
        assert!(dead.ms_since(t0) >= 4_000, "not before the minimum suspicion timeout");
        assert!(dead.ms_since(*suspect) <= 4_000, "fixed timeout of 4 s");
        assert!(dead.ms_since(t0) <= 8_500, "dead after {}ms", dead.ms_since(t0));
    }
}

// Lifeguard, "Local Health Aware Suspicion": the timeout starts at
// 6 x 4 s and falls to 4 s as the other members' suspicions confirm.
#[test]
fn crashed_member_goes_suspect_then_dead_with_lifeguard() {
    let config = config(|_| {});
    assert_eq!(config.suspicion_max_ms(5), 24_000);
    let (t0, times) = crash_one(&config);
    for (suspect, dead) in &times {
        assert!(dead.ms_since(t0) >= 4_000);
        assert!(dead.ms_since(*suspect) <= 24_000);
    }
    let first_dead = times.iter().map(|t| t.1).min().unwrap();
    let first_suspect = times.iter().map(|t| t.0).min().unwrap();
    assert!(
        first_dead.ms_since(first_suspect) < 24_000,
        "independent confirmations cut the timeout below its maximum"
    );
    assert!(first_dead.ms_since(t0) <= 24_000, "dead after {}ms", first_dead.ms_since(t0));
}

// SWIM §4.2: a suspected member that hears of the suspicion gossips itself
// alive with a higher incarnation, which overrides the suspicion.
#[test]
fn suspected_member_refutes_with_higher_incarnation() {
    let mut net = Net::joined(4, &config(|_| {}), SEED, 5_000);
    // --- node 3 stops answering probes (it hears everything else)
    net.filter = Some(Box::new(|_, to, msg| !(to == 3 && matches!(msg, Message::Ping { .. }))));
    let limit = net.now.plus_ms(10_000);
    let suspected = net
        .run_until_cond(limit, |net| (0..3).any(|i| net.state(i, 3) == Some(MemberState::Suspect)));
    assert!(suspected, "someone suspects node 3");
    let old = net.nodes[3].swim.incarnation();

    // --- probes work again; node 3 learns of the suspicion and refutes
    net.heal();
    net.run_for(10_000);
    assert!(net.nodes[3].swim.incarnation() > old);
    for i in 0..4 {
        let view = net.view(i, 3).unwrap();
        assert_eq!(view.state, MemberState::Alive, "node {i}");
        assert_eq!(view.incarnation, net.nodes[3].swim.incarnation());
        assert!(net.event_times(i, 3, is_dead).is_empty());
    }
    let refuted = net.all_events(|e| matches!(e, MemberEvent::Alive(m) if m.id == id(3)));
    assert!(!refuted.is_empty(), "observers report the refutation");
}

// SWIM §3.1: when the direct path is broken, `k` members probe on the
// prober's behalf; one forwarded ack keeps the target alive.
#[test]
fn indirect_probe_succeeds_when_the_direct_link_is_cut() {
    let mut net = Net::joined(5, &config(|_| {}), SEED, 5_000);
    net.cut_link(0, 4);
    let start = net.now;
    net.run_for(60_000);

    let indirect: Vec<_> = net.nodes[0]
        .sent
        .iter()
        .filter(|(at, _, m)| {
            *at > start && matches!(m, Message::IndirectPing { target, .. } if *target == id(4))
        })
        .collect();
    assert!(indirect.len() >= 3, "node 0 asked others to probe node 4");
    assert!(net.all_events(|e| is_suspect(e) || is_dead(e)).is_empty(), "no one was suspected");
    assert_eq!(net.nodes[0].swim.local_health(), 0);
    assert_eq!(net.nodes[4].swim.local_health(), 0);
}

// Lifeguard, "Buddy System": a ping to a member we suspect carries the
// suspicion first, whatever the broadcast queue holds.
#[test]
fn buddy_system_puts_the_suspicion_first_on_pings_to_the_suspect() {
    for buddy in [true, false] {
        let lifeguard = Lifeguard { buddy_system: buddy, ..Lifeguard::ALL };
        let mut net = Net::joined(2, &config(|c| c.lifeguard = lifeguard), SEED, 3_000);
        // Node 0 suspects node 1 (as a peer told it), and its queue is empty.
        let incarnation = net.nodes[0].swim.member(id(1)).unwrap().incarnation;
        net.nodes[0].swim.apply_suspect(id(1), incarnation, id(2));
        net.nodes[0].swim.broadcasts = Default::default();
        net.crash(1);
        let from = net.nodes[0].sent.len();
        net.run_for(2_000);

        let pings: Vec<_> = net.nodes[0].sent[from..]
            .iter()
            .filter_map(|(_, _, m)| match m {
                Message::Ping { to, piggyback, .. } if *to == id(1) => Some(piggyback),
                _ => None,
            })
            .collect();
        assert!(!pings.is_empty());
        for piggyback in pings {
            let notice = Update::Suspect { id: id(1), incarnation, from: id(0) };
            assert_eq!(piggyback.first() == Some(&notice), buddy, "buddy {buddy}: {piggyback:?}");
        }
    }
}

// Lifeguard, "Buddy System", end to end: the suspect learns of the
// suspicion from the prober itself even when no gossip reaches it, and
// refutes before it could be declared dead.
#[test]
fn buddy_system_delivers_the_suspicion_to_the_suspect() {
    let mut net = Net::joined(4, &config(|_| {}), SEED, 5_000);
    // --- no gossip reaches node 3: pings keep only their first update,
    // other messages none
    net.filter = Some(Box::new(|_, to, msg| {
        if to != 3 {
            return true;
        }
        match msg {
            Message::Gossip { .. } => false,
            Message::Ping { piggyback, .. } => {
                piggyback.truncate(1);
                true
            }
            Message::IndirectPing { piggyback, .. }
            | Message::Ack { piggyback, .. }
            | Message::Nack { piggyback, .. } => {
                piggyback.clear();
                true
            }
        }
    }));
    // ... and node 0 suspects it.
    let incarnation = net.nodes[0].swim.member(id(3)).unwrap().incarnation;
    net.nodes[0].swim.apply_suspect(id(3), incarnation, id(1));
    net.pump(0);
    net.run_for(20_000);

    assert!(net.nodes[3].swim.incarnation() > incarnation, "node 3 refuted");
    assert!(net.all_events(is_dead).is_empty());
    for i in 0..3 {
        assert_eq!(net.state(i, 3), Some(MemberState::Alive), "node {i}");
    }
}
