//! Crash faults on real processes: writes through any node, kill -9 of the
//! leader under load (nothing acknowledged may be lost), restart and
//! catch-up, and a node whose data was wiped caught up by snapshot.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_serves_a_write, bounded, CATCH_UP_TIMEOUT, ELECTION_TIMEOUT};
use synod_chaos::cluster::{binary_has_flag, Cluster, ClusterOptions};
use synod_chaos::load::{run_writers, write_many, LoadSpec};

/// Raft §5.1: any server may receive a client request; a follower sends the
/// client to the leader (here with the `synod-leader-address` hint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_any_node_reach_the_leader() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        for id in cluster.ids() {
            let role = if id == leader { "leader" } else { "follower" };
            cluster.phase(&format!("write through n{id} ({role})"));
            let client =
                cluster.client_to(&[id], cluster.client_options(Duration::from_secs(3), 5));
            let key = format!("any/n{id}");
            let revision = client.put(key.as_bytes(), role.as_bytes()).await.unwrap();
            let kv = client.get(key.as_bytes()).await.unwrap().expect("just written");
            assert_eq!((kv.value.as_ref(), kv.mod_revision), (role.as_bytes(), revision));
        }
        cluster.phase("every replica holds the three writes");
        cluster.wait_converged(&cluster.ids(), CATCH_UP_TIMEOUT).await.unwrap();
        for id in cluster.ids() {
            let data = cluster.read_prefix(id, b"any/", true).await.unwrap();
            assert_eq!(data.len(), 3, "n{id} serves {data:?}");
        }
    })
    .await;
}

/// Raft §5.4 (Leader Completeness): a write acknowledged as committed is in
/// every later leader's log, so killing the leader loses none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_of_the_leader_under_load_loses_no_acknowledged_write() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let ids = cluster.ids();
        let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();

        cluster.phase("write load: 4 writers for 8 s; kill -9 of the leader after 2.5 s");
        let clients = (0..4)
            .map(|_| cluster.client_to(&ids, cluster.client_options(Duration::from_secs(2), 20)))
            .collect();
        let spec = LoadSpec {
            prefix: "load/".into(),
            duration: Duration::from_secs(8),
            writes_per_writer_max: 50_000,
            write_timeout: Duration::from_secs(15),
        };
        let load = tokio::spawn(run_writers(clients, spec));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let killed_at = Instant::now();
        cluster.kill9(old);
        cluster.phase(&format!("killed leader n{old}"));
        let new = cluster.new_leader_without(old, ELECTION_TIMEOUT).await.unwrap();
        let elected_after = killed_at.elapsed();
        cluster.phase(&format!("new leader n{new} after {elected_after:.2?}"));
        let ledger = load.await.unwrap();
        let paused = ledger.longest_gap_after(killed_at);
        cluster.phase(&format!(
            "load done: {} acknowledged ({} after the kill; longest pause {paused:.2?}), {} ambiguous, {} refused; errors {:?}",
            ledger.acked.len(),
            ledger.acked_after(killed_at),
            ledger.ambiguous.len(),
            ledger.refused.len(),
            ledger.errors
        ));
        assert_ne!(new, old);
        assert!(ledger.acked_after(killed_at) > 0, "no write acknowledged after the kill");

        cluster.phase(&format!("restart n{old}; it catches up"));
        cluster.restart(old).unwrap();
        let index = cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
        cluster.phase(&format!("all nodes applied index {index}"));

        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let data = cluster.read_prefix(leader, b"load/", false).await.unwrap();
        let verdict = ledger.check("load/", &data);
        cluster.phase(&format!(
            "linearizable read on n{leader}: {} of {} acknowledged writes present; ambiguous: {} present, {} absent",
            verdict.acked_present, verdict.acked, verdict.ambiguous_present, verdict.ambiguous_absent
        ));
        assert!(verdict.is_ok(), "{verdict:#?}");
        for id in ids {
            let replica = cluster.read_prefix(id, b"load/", true).await.unwrap();
            assert_eq!(replica, data, "n{id}'s replica differs from the leader's");
        }
        cluster.phase("every replica equals the leader's state");
    })
    .await;
}

/// A node that lost its disk rejoins empty after the cluster moved on past
/// a compaction: the leader no longer has the entries it lacks, so only a
/// snapshot (Raft §7) can bring it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiped_node_rejoins_and_is_caught_up_by_snapshot() {
    bounded(wipe_and_rejoin(WhileDown::PastCompaction)).await;
}

/// The same node rejoining at once, before the leader compacts again. Its
/// old acknowledgements are still in the leader's `match_index`, which Raft
/// never lowers (a follower never loses durable entries, §5.3), so the
/// leader keeps probing above the compacted prefix and never sends the
/// snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiped_node_rejoining_at_once_is_caught_up() {
    bounded(wipe_and_rejoin(WhileDown::Nothing)).await;
}

/// What the cluster does while the wiped node is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WhileDown {
    /// Writes more entries than the compaction interval.
    PastCompaction,
    /// Nothing: the node comes straight back.
    Nothing,
}

async fn wipe_and_rejoin(while_down: WhileDown) {
    // Without the flag the node compacts every 10,000 entries.
    let has_flag = binary_has_flag("--snapshot-every").unwrap();
    let every = if has_flag { 500 } else { 10_000 };
    let options =
        ClusterOptions { snapshot_every: has_flag.then_some(every), ..Default::default() };
    let cluster = Cluster::start(options).await.unwrap();
    let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
    let victim = cluster.ids().into_iter().find(|&id| id != leader).unwrap();
    let client = Arc::new(cluster.client());

    cluster.phase(&format!("write 1000 keys (compaction every {every} entries)"));
    let before = write_many(client.clone(), "bulk/", 1000, 48, Duration::from_secs(60)).await;
    assert_eq!(before.acked.len(), 1000, "errors: {:?}", before.errors);

    cluster.phase(&format!("kill -9 of n{victim} and wipe its data"));
    cluster.kill9(victim);
    cluster.wipe(victim).unwrap();
    let down_keys = match while_down {
        WhileDown::PastCompaction => every + 500,
        WhileDown::Nothing => 0,
    };
    let started = Instant::now();
    let down = write_many(client, "down/", down_keys, 48, Duration::from_secs(60)).await;
    cluster.phase(&format!(
        "{} keys written while n{victim} is down, in {:.1?}",
        down.acked.len(),
        started.elapsed()
    ));
    assert_eq!(down.acked.len() as u64, down_keys, "errors: {:?}", down.errors);

    cluster.phase(&format!("restart n{victim} with an empty data directory"));
    let target = cluster.status(leader).await.unwrap().commit_index;
    cluster.restart(victim).unwrap();
    let restarted = Instant::now();
    cluster.wait_applied(victim, target, Duration::from_secs(20)).await.unwrap();
    cluster.phase(&format!(
        "n{victim} applied {target} and is ready after {:.1?}",
        restarted.elapsed()
    ));
    if let Ok(one_by_one) = cluster.metric(victim, "synod_applied_entries_total").await {
        // Entries it applied one by one; the rest came in the snapshot.
        cluster.phase(&format!("n{victim} applied {one_by_one} of them one by one"));
        assert!(one_by_one < target as f64, "n{victim} replayed the whole log");
    }
    for (prefix, ledger) in [("bulk/", &before), ("down/", &down)] {
        let data = cluster.read_prefix(victim, prefix.as_bytes(), true).await.unwrap();
        let verdict = ledger.check(prefix, &data);
        cluster.phase(&format!(
            "serializable read on n{victim}: {} of {} {prefix} keys",
            verdict.acked_present, verdict.acked
        ));
        assert!(verdict.is_ok(), "{verdict:#?}");
    }
    assert_serves_a_write(&cluster, "bulk-done").await;
}

/// The client's contract: after a leader dies, a client that only writes
/// finds the new leader by itself ("talks to any node, follows redirects").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_client_fails_over_after_kill9_of_the_leader() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let client = cluster.client();
        client.put(b"pin/before", b"x").await.unwrap();
        cluster.kill9(old);
        let new = cluster.new_leader_without(old, ELECTION_TIMEOUT).await.unwrap();
        cluster.phase(&format!("killed n{old}; n{new} leads; now only writes"));
        let mut failures = Vec::new();
        for i in 0..20 {
            let key = format!("pin/after/{i}");
            match tokio::time::timeout(Duration::from_secs(5), client.put(key.as_bytes(), b"x"))
                .await
            {
                Ok(Ok(revision)) => {
                    cluster.phase(&format!("write {i} acknowledged at {revision}"));
                    return;
                }
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(_) => failures.push("no answer in 5 s".into()),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("20 writes after the failover, none acknowledged: {failures:?}");
    })
    .await;
}
