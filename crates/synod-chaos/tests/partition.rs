//! Network and scheduling faults: a leader cut off from the majority by the
//! proxies, and a leader frozen by SIGSTOP past the election timeout. A
//! stale leader must acknowledge nothing; after healing every log agrees.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_serves_a_write, bounded, CATCH_UP_TIMEOUT, ELECTION_TIMEOUT};
use synod_chaos::cluster::{Cluster, ClusterOptions};
use synod_chaos::load::{put, run_writers, LoadSpec, WriteError};
use synod_chaos::proxy::LinkMode;
use tokio::task::JoinSet;

/// Writes `keys` through `client` (one attempt each, no redirects) and
/// returns each key's outcome.
async fn write_each(
    client: Arc<synod_client::Client>,
    keys: Vec<String>,
    within: Duration,
) -> BTreeMap<String, Result<u64, WriteError>> {
    let mut tasks = JoinSet::new();
    for key in keys {
        let client = client.clone();
        tasks.spawn(async move {
            let outcome = put(&client, &key, "from a stale leader", within).await;
            (key, outcome)
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (key, outcome) = done.unwrap();
        outcomes.insert(key, outcome);
    }
    outcomes
}

/// Counts outcomes by kind, for the report.
fn summary(outcomes: &BTreeMap<String, Result<u64, WriteError>>) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for outcome in outcomes.values() {
        let kind = match outcome {
            Ok(_) => "ACKNOWLEDGED".to_string(),
            Err(WriteError::Ambiguous(m)) => {
                format!("ambiguous: {}", m.chars().take(60).collect::<String>())
            }
            Err(WriteError::Refused(m)) => {
                format!("refused: {}", m.chars().take(60).collect::<String>())
            }
        };
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

/// After healing: every node applied the same index, holds the same last
/// index, and serves the same data under `prefix`; none of `absent` is
/// anywhere.
async fn assert_logs_converged(cluster: &Cluster, prefix: &[u8], absent: &[String]) {
    let ids = cluster.ids();
    let index = cluster.wait_converged(&ids, CATCH_UP_TIMEOUT).await.unwrap();
    let reference = cluster.read_prefix(ids[0], prefix, true).await.unwrap();
    for &id in &ids {
        let last = cluster.metric(id, "synod_raft_last_index").await.unwrap();
        assert_eq!(
            last as u64, index,
            "n{id}'s log ends at {last}, not at the commit index {index}"
        );
        let replica = cluster.read_prefix(id, prefix, true).await.unwrap();
        assert_eq!(replica, reference, "n{id}'s replica differs from n{}'s", ids[0]);
        for key in absent {
            assert!(!replica.contains_key(key.as_bytes()), "n{id} holds unacknowledged {key}");
        }
    }
    cluster
        .phase(&format!("logs converged at index {index}: {} keys on every node", reference.len()));
}

/// Raft §5.2 and thesis §6.2 (CheckQuorum): a leader cut off from the
/// majority cannot commit, so it acknowledges nothing, while the majority
/// elects a leader of a higher term and goes on; healing brings the old
/// leader's log in line (§5.3: its uncommitted entries are overwritten).
/// The proxies reset the links: peers see errors at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_acknowledges_nothing_while_the_majority_moves_on() {
    bounded(isolation_scenario(LinkMode::Cut)).await;
}

/// The same partition as silence: the proxies swallow every byte, so the
/// old connections stay open and only keepalives and timeouts reveal it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_behind_a_blackhole_acknowledges_nothing_while_the_majority_moves_on() {
    bounded(isolation_scenario(LinkMode::Blackhole)).await;
}

/// Isolates the leader with `mode`, writes to both sides, heals, checks.
async fn isolation_scenario(mode: LinkMode) {
    let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
    let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
    let old_term = cluster.status(old).await.unwrap().term;
    let majority: Vec<u64> = cluster.ids().into_iter().filter(|&id| id != old).collect();
    // Straight to the old leader's own port, never redirected.
    let to_old = Arc::new(cluster.single_shot(old, Duration::from_secs(2)));
    to_old.put(b"part/warm", b"x").await.unwrap();

    cluster.phase(&format!("isolate leader n{old} (term {old_term}) from {majority:?}: {mode:?}"));
    let cut_at = Instant::now();
    cluster.isolate_with(old, mode);
    let stale_keys: Vec<String> = (0..20).map(|i| format!("part/stale/{i:02}")).collect();
    let early =
        tokio::spawn(write_each(to_old.clone(), stale_keys[..10].to_vec(), Duration::from_secs(5)));
    let new = cluster.new_leader_without(old, ELECTION_TIMEOUT).await.unwrap();
    let new_term = cluster.status(new).await.unwrap().term;
    cluster.phase(&format!(
        "majority elected n{new} (term {new_term}) after {:.2?}",
        cut_at.elapsed()
    ));
    assert!(new_term > old_term);

    cluster.phase("the majority serves writes; the old leader gets some too");
    let late =
        tokio::spawn(write_each(to_old.clone(), stale_keys[10..].to_vec(), Duration::from_secs(5)));
    let clients = (0..2)
        .map(|_| cluster.client_to(&majority, cluster.client_options(Duration::from_secs(2), 20)))
        .collect();
    let spec = LoadSpec {
        prefix: "part/major/".into(),
        duration: Duration::from_secs(3),
        writes_per_writer_max: 10_000,
        write_timeout: Duration::from_secs(10),
    };
    let ledger = run_writers(clients, spec).await;
    let mut stale = early.await.unwrap();
    stale.extend(late.await.unwrap());
    cluster.phase(&format!(
        "majority: {} acknowledged; old leader: {:?}",
        ledger.acked.len(),
        summary(&stale)
    ));
    assert!(!ledger.acked.is_empty(), "the majority acknowledged nothing");
    let acked: Vec<&String> = stale.iter().filter(|(_, o)| o.is_ok()).map(|(k, _)| k).collect();
    assert!(acked.is_empty(), "the isolated leader acknowledged {acked:?}");
    let view = cluster.status(old).await.unwrap();
    assert_ne!(view.leader_id, old, "n{old} still believes it leads: {view:?}");

    cluster.phase("heal every link");
    cluster.heal();
    assert_logs_converged(&cluster, b"part/", &stale_keys).await;
    let data = cluster.read_prefix(new, b"part/major/", true).await.unwrap();
    let verdict = ledger.check("part/major/", &data);
    assert!(verdict.is_ok(), "{verdict:#?}");
    assert_serves_a_write(&cluster, "part/done").await;
}

/// A leader frozen past the election timeout wakes up believing it still
/// leads (a long GC pause, a VM migration). Raft §5.1: the higher term it
/// meets makes it step down; it must not acknowledge a write or serve a
/// stale linearizable read in between (§8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstopped_leader_acknowledges_nothing_after_sigcont() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let old = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let to_old = Arc::new(cluster.single_shot(old, Duration::from_secs(6)));
        to_old.put(b"stop/x", b"before").await.unwrap();

        cluster.phase(&format!("SIGSTOP of leader n{old}"));
        let stopped_at = Instant::now();
        cluster.sigstop(old).unwrap();
        let new = cluster.new_leader_without(old, ELECTION_TIMEOUT).await.unwrap();
        cluster.phase(&format!("n{new} elected after {:.2?}", stopped_at.elapsed()));
        // Only the live nodes: a request to the frozen one would just wait.
        let others: Vec<u64> = cluster.ids().into_iter().filter(|&id| id != old).collect();
        let live = cluster.client_to(&others, cluster.client_options(Duration::from_secs(3), 20));
        let revision = live.put(b"stop/x", b"after").await.unwrap();
        cluster.phase(&format!("stop/x = after at revision {revision} through n{new}"));

        cluster
            .phase(&format!("queue writes and a linearizable read at frozen n{old}, then SIGCONT"));
        let stale_keys: Vec<String> = (0..8).map(|i| format!("stop/stale/{i}")).collect();
        let writes =
            tokio::spawn(write_each(to_old.clone(), stale_keys.clone(), Duration::from_secs(8)));
        let reader = to_old.clone();
        let read = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(8), reader.get(b"stop/x")).await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.sigcont(old).unwrap();
        let stale = writes.await.unwrap();
        let read = read.await.unwrap();
        cluster.phase(&format!(
            "after SIGCONT: writes {:?}; read {:?}",
            summary(&stale),
            read.as_ref().map(|r| r
                .as_ref()
                .map(|kv| kv.as_ref().map(|kv| String::from_utf8_lossy(&kv.value).into_owned())))
        ));
        let acked: Vec<&String> = stale.iter().filter(|(_, o)| o.is_ok()).map(|(k, _)| k).collect();
        assert!(acked.is_empty(), "the stale leader acknowledged {acked:?}");
        if let Ok(Ok(Some(kv))) = &read {
            assert_eq!(kv.value.as_ref(), b"after", "stale linearizable read from n{old}");
        }

        cluster.phase("the cluster goes on; every log agrees");
        assert_serves_a_write(&cluster, "stop/done").await;
        assert_logs_converged(&cluster, b"stop/", &stale_keys).await;
        let x = cluster.read_prefix(old, b"stop/x", true).await.unwrap();
        assert_eq!(
            x.get(b"stop/x".as_slice()).map(|kv| kv.value.as_ref()),
            Some(b"after".as_slice())
        );
    })
    .await;
}

/// Raft assumes an asynchronous network (§5.1: messages may be delayed or
/// lost). Every link slow and flaky for a while: progress may slow down,
/// but nothing acknowledged is lost and the logs converge once it heals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_lossy_links_lose_no_acknowledged_write() {
    bounded(async {
        let seed = 7;
        let cluster =
            Cluster::start(ClusterOptions { seed, ..ClusterOptions::default() }).await.unwrap();
        let ids = cluster.ids();
        cluster.phase(&format!(
            "every link: +25 ms per chunk, reset with p=0.01 per chunk (proxy seed {seed})"
        ));
        cluster.degrade_links(Duration::from_millis(25), 0.01);
        let clients = (0..3)
            .map(|_| cluster.client_to(&ids, cluster.client_options(Duration::from_secs(3), 20)))
            .collect();
        let spec = LoadSpec {
            prefix: "lossy/".into(),
            duration: Duration::from_secs(6),
            writes_per_writer_max: 10_000,
            write_timeout: Duration::from_secs(15),
        };
        let started = Instant::now();
        let ledger = run_writers(clients, spec).await;
        let resets: u64 = cluster.proxies().values().map(|p| p.stats().resets_by_drop).sum();
        cluster.phase(&format!(
            "{} acknowledged, {} ambiguous in {:.1?}; {resets} link resets; longest pause {:.2?}",
            ledger.acked.len(),
            ledger.ambiguous.len(),
            started.elapsed(),
            ledger.longest_gap_after(started)
        ));
        assert!(!ledger.acked.is_empty(), "nothing acknowledged over slow, lossy links");
        assert!(resets > 0, "the proxies reset no connection");

        cluster.phase("heal; every acknowledged write is on every node");
        cluster.heal();
        assert_logs_converged(&cluster, b"lossy/", &[]).await;
        let data = cluster
            .read_prefix(cluster.leader(ELECTION_TIMEOUT).await.unwrap(), b"lossy/", false)
            .await
            .unwrap();
        let verdict = ledger.check("lossy/", &data);
        cluster.phase(&format!(
            "{} of {} acknowledged writes present",
            verdict.acked_present, verdict.acked
        ));
        assert!(verdict.is_ok(), "{verdict:#?}");
    })
    .await;
}
