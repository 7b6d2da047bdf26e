//! SWIM membership across five real node processes: a killed node is
//! declared dead by every other within the bound, rejoins alive with a
//! higher incarnation after a restart; a node frozen past the suspicion
//! timeout refutes once it runs again; datagrams sealed with another key,
//! truncated, malformed, oversized or carrying oversized metadata are
//! dropped with a counted reason and change nothing.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::bounded;
use synod_chaos::cluster::{Cluster, ClusterOptions};
use synod_client::membership_proto as pb;
use synod_core::swim::{Message, Metadata, Update};
use synod_core::NodeId;
use synod_node::membership::codec::encode_message;
use synod_node::membership::seal::{parse_key, Sealer};

const PROBE: Duration = Duration::from_millis(200);
/// The bound on declaring a killed node dead: a full round-robin pass of
/// probes (5 periods) plus Lifeguard's longest suspicion timeout for five
/// members (6 × 4 × 1 × probe interval), plus slack for a loaded machine.
const DEAD_BOUND: Duration = Duration::from_secs(12);

/// `member`'s (state, incarnation) in node `viewer`'s table.
async fn seen(cluster: &Cluster, viewer: u64, member: u64) -> Option<(i32, u64)> {
    let client = cluster.client_to(&[viewer], cluster.client_options(Duration::from_secs(2), 1));
    let r = client.members().await.ok()?;
    r.members.iter().find(|m| m.id == member).map(|m| (m.state, m.incarnation))
}

/// Waits until every viewer sees `member` in a state accepted by `ok`;
/// returns the time it took.
async fn until_all(
    cluster: &Cluster,
    viewers: &[u64],
    member: u64,
    within: Duration,
    ok: impl Fn(i32, u64) -> bool,
) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let mut pending = Vec::new();
        for &v in viewers {
            match seen(cluster, v, member).await {
                Some((state, inc)) if ok(state, inc) => {}
                other => pending.push(format!("n{v} sees {other:?}")),
            }
        }
        if pending.is_empty() {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            return Err(format!("n{member} after {within:?}: {}", pending.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn alive(state: i32) -> bool {
    state == pb::MemberState::Alive as i32
}

fn dead(state: i32) -> bool {
    state == pb::MemberState::Dead as i32
}

async fn dropped(cluster: &Cluster, id: u64, reason: &str) -> u64 {
    let metrics = synod_chaos::observe::http_get(cluster.node(id).http, "/metrics")
        .await
        .map(|(_, body)| body)
        .unwrap_or_default();
    let line = format!("synod_swim_datagrams_dropped_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_restart_freeze_and_hostile_datagrams() {
    bounded(async {
        let options = ClusterOptions {
            nodes: 5,
            tls: true,
            cluster_key: true,
            probe_interval: Some(PROBE),
            seed: 6,
            ..ClusterOptions::default()
        };
        let cluster = Cluster::start(options).await.unwrap();
        let all = [1, 2, 3, 4, 5];
        for member in all {
            until_all(&cluster, &all, member, Duration::from_secs(20), |s, _| alive(s))
                .await
                .unwrap();
        }
        cluster.phase("all five see all five alive");

        let watcher = cluster.client_to(&[1], cluster.client_options(Duration::from_secs(2), 1));
        let mut events = watcher.watch_members().await.unwrap();
        cluster.kill9(5);
        let took = until_all(&cluster, &[1, 2, 3, 4], 5, DEAD_BOUND, |s, _| dead(s)).await.unwrap();
        cluster.phase(&format!("n5 killed: dead everywhere after {:.2}s", took.as_secs_f64()));
        // n1's event stream told of it.
        let dead_event = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(event) = events.message().await.unwrap() {
                let member = event.member.clone().unwrap_or_default();
                if event.kind == pb::EventKind::Dead as i32 && member.id == 5 {
                    return event;
                }
            }
            panic!("event stream ended");
        })
        .await
        .expect("a Dead event for n5 on n1's stream");
        assert_eq!(dead_event.node_id, 1);

        cluster.restart(5).unwrap();
        let took =
            until_all(&cluster, &all, 5, Duration::from_secs(20), |s, inc| alive(s) && inc > 0)
                .await
                .unwrap();
        let (_, inc) = seen(&cluster, 1, 5).await.unwrap();
        cluster.phase(&format!(
            "n5 restarted: alive everywhere with incarnation {inc} after {:.2}s",
            took.as_secs_f64()
        ));

        let (_, before) = seen(&cluster, 1, 4).await.unwrap();
        cluster.sigstop(4).unwrap();
        let took =
            until_all(&cluster, &[1, 2, 3, 5], 4, DEAD_BOUND, |s, _| !alive(s)).await.unwrap();
        cluster.phase(&format!("n4 frozen: suspected everywhere after {:.2}s", took.as_secs_f64()));
        tokio::time::sleep(Duration::from_secs(6)).await; // past the suspicion timeout
        cluster.sigcont(4).unwrap();
        let took = until_all(&cluster, &all, 4, Duration::from_secs(20), |s, inc| {
            alive(s) && inc > before
        })
        .await
        .unwrap();
        cluster.phase(&format!(
            "n4 resumed: refuted, alive everywhere after {:.2}s",
            took.as_secs_f64()
        ));

        // Hostile datagrams at n1's SWIM port (its gRPC address, over UDP).
        let target: SocketAddr = cluster.endpoint(1).parse().unwrap();
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let key = parse_key(&std::fs::read_to_string(cluster.root().join("cluster.key")).unwrap())
            .unwrap();
        let ours = Sealer::new(Some(key));
        let stranger = Sealer::new(Some([0xAB; 32]));
        let ping = Message::Ping { seq: 1, from: NodeId(9), to: NodeId(1), piggyback: vec![] };
        let big_meta = Message::Gossip {
            from: NodeId(9),
            updates: vec![Update::Alive {
                id: NodeId(9),
                addr: synod_node::membership::to_address(socket.local_addr().unwrap()),
                incarnation: 1,
                meta: Metadata::new(vec![b'x'; 900]),
            }],
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("bad_tag", stranger.seal(&encode_message(&ping))),
            ("unsealed", Sealer::new(None).seal(&encode_message(&ping))),
            ("truncated", vec![1, 2, 3]),
            ("unknown_version", vec![7; 40]),
            ("empty", vec![]),
            ("malformed", ours.seal(&[0xff; 64])),
            ("oversized", vec![1; 1_500]),
            ("oversized_metadata", ours.seal(&encode_message(&big_meta))),
        ];
        for (reason, datagram) in &cases {
            let before = dropped(&cluster, 1, reason).await;
            socket.send_to(datagram, target).await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while dropped(&cluster, 1, reason).await <= before {
                assert!(Instant::now() < deadline, "no drop counted for {reason}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        cluster.phase("every hostile datagram dropped and counted");
        // Nothing changed: no n9, everyone still alive, the node serves.
        let view = cluster.client_to(&[1], cluster.client_options(Duration::from_secs(2), 1));
        let members = view.members().await.unwrap().members;
        assert!(members.iter().all(|m| m.id != 9), "a hostile datagram added a member");
        assert_eq!(members.iter().filter(|m| alive(m.state)).count(), 5);
        cluster.check_alive().unwrap();
    })
    .await;
}
