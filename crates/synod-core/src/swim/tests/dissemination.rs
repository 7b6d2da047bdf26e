//! Dissemination: piggybacking, the gossip tick, retransmit limits and
//! datagram sizes.

use super::net::{addr, id, Net};
use super::{config, SEED};
use crate::swim::{MemberInfo, MemberState, Message, Metadata, PushPull, Update};
use crate::NodeId;

/// How many messages each node sent that carry `wanted`.
fn carriers(net: &Net, wanted: &Update) -> Vec<usize> {
    let carries = |m: &Message| m.updates().contains(wanted);
    net.nodes.iter().map(|n| n.sent.iter().filter(|(_, _, m)| carries(m)).count()).collect()
}

// SWIM §4.1: updates ride on the probe traffic itself; with the gossip
// tick effectively off, a metadata change still reaches everyone.
#[test]
fn updates_piggyback_on_probes_and_acks() {
    let config = config(|c| c.gossip_interval_ms = 3_600_000);
    let mut net = Net::joined(5, &config, SEED, 3_000);
    net.nodes[1].swim.set_metadata(Metadata::new(&b"v1"[..]), net.now).unwrap();
    net.run_for(10_000);
    assert!((0..5).all(|i| net.view(i, 1).unwrap().meta.version == 1));
    let gossip = net.nodes.iter().flat_map(|n| &n.sent);
    assert!(
        gossip.filter(|(at, _, m)| at.0 > 3_000 && matches!(m, Message::Gossip { .. })).count()
            == 0
    );
}

// SWIM §4.1: each member sends an update at most `λ log N` times
// (retransmit_mult * ceil(log10(N + 1)) = 4 with 5 members).
#[test]
fn retransmit_limit_is_respected() {
    let mut net = Net::joined(5, &config(|_| {}), SEED, 3_000);
    let limit = net.nodes[0].swim.config().retransmit_limit(5);
    assert_eq!(limit, 4);
    net.nodes[1].swim.set_metadata(Metadata::new(&b"v1"[..]), net.now).unwrap();
    let wanted = match net.nodes[1].swim.my_alive() {
        update @ Update::Alive { .. } => update,
        other => panic!("{other:?}"),
    };
    net.run_for(30_000);
    let sent = carriers(&net, &wanted);
    assert_eq!(sent[1], limit as usize, "the originator uses its full budget: {sent:?}");
    assert!(sent.iter().all(|s| *s <= limit as usize), "{sent:?}");
    assert!((0..5).all(|i| net.view(i, 1).unwrap().meta.version == 1));
}

// Messages never exceed `datagram_bytes_max`, even when every member
// announces maximal metadata at once (the network asserts every datagram).
#[test]
fn message_size_is_bounded() {
    let mut net = Net::joined(30, &config(|_| {}), SEED, 10_000);
    for i in 0..30 {
        let meta = Metadata::new(vec![i as u8; 512]);
        net.nodes[i].swim.set_metadata(meta, net.now).unwrap();
        net.pump(i);
    }
    net.run_for(20_000);
    let sizes = net.nodes.iter().flat_map(|n| &n.sent).map(|(_, _, m)| m.size_bytes());
    let largest = sizes.max().unwrap();
    assert!(largest <= 1_400 && largest > 1_000, "largest datagram {largest}");
    for i in 0..30 {
        assert!((0..30).all(|j| net.view(i, j).unwrap().meta.data.len() == 512), "node {i}");
    }
}

// memberlist-style gossip tick: every 200 ms, pending broadcasts go to 3
// random live members. An update must reach 99.9 % of 1,000 members
// within 10 gossip intervals.
#[test]
fn gossip_reaches_999_of_1000_members_within_10_rounds() {
    const N: usize = 1_000;
    let config = config(|c| {
        c.probe_interval_ms = 3_600_000; // isolate the gossip tick
        c.probe_timeout_ms = 1_000;
        c.push_pull_interval_ms = 3_600_000;
    });
    let mut net = Net::new(N, &config, SEED);
    // Everyone knows everyone, with nothing pending.
    let members: Vec<MemberInfo> = (0..N).map(|i| net.nodes[i].swim.my_info().clone()).collect();
    let view = PushPull { from: NodeId(1_000_000), members };
    for node in &mut net.nodes {
        node.swim.merge_push_pull(addr(N + 1), view.clone(), net.now);
        node.swim.broadcasts = Default::default();
        node.swim.take_effects();
    }
    assert!(net.nodes.iter().all(|n| n.swim.live_members() == N));

    let start = net.now;
    net.nodes[0].swim.set_metadata(Metadata::new(&b"news"[..]), start).unwrap();
    let informed =
        |net: &Net| (0..N).filter(|i| net.view(*i, 0).unwrap().meta.version == 1).count();
    let mut rounds = 0;
    while informed(&net) < N * 999 / 1_000 && rounds < 20 {
        net.run_for(config.gossip_interval_ms);
        rounds += 1;
    }
    println!("99.9 % informed after {rounds} gossip intervals ({} of {N})", informed(&net));
    assert!(rounds <= 10, "took {rounds} rounds");
    assert!(net.all_events(|e| e.member().state != MemberState::Alive).is_empty());
    assert_eq!(net.view(N - 1, 0).unwrap().id, id(0));
}
