//! The AP state across real node processes: one node cut off by the
//! proxies while both sides write the same counters, sets, registers and
//! maps; after healing, gossip converges every node to the join of every
//! update, with nothing lost. Bad input through the `synod` CLI is refused
//! with a clear error and changes nothing.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bounded, CATCH_UP_TIMEOUT};
use synod_chaos::cluster::{Cluster, ClusterOptions};
use synod_client::crdt_proto as pb;
use synod_client::crdt_proto::update_request::Op;
use synod_client::Client;

async fn update(client: &Client, name: &str, op: Op) {
    if let Err(e) = client.crdt_update(name, op).await {
        panic!("update of {name} failed: {e}");
    }
}

async fn read(client: &Client, name: &str) -> Option<pb::crdt_value::Value> {
    client.crdt_read(name, pb::CrdtKind::Unspecified).await.unwrap().value?.value
}

async fn root(client: &Client) -> Vec<u8> {
    client.crdt_list().await.unwrap().merkle_root.to_vec()
}

/// Waits until `n`'s committed public key is readable through the log on
/// every node (gossip refuses peers whose key it does not know).
async fn wait_for_keys(cluster: &Cluster) {
    let deadline = Instant::now() + CATCH_UP_TIMEOUT;
    let client = cluster.client();
    for id in cluster.ids() {
        let key = format!("__synod/crdt/keys/n{id}");
        while client.get(key.as_bytes()).await.ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "n{id} never published its key");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits until the given nodes report the same Merkle root; returns how long it took.
async fn converge(clients: &[&Client], within: Duration) -> Result<Duration, Vec<Vec<u8>>> {
    let started = Instant::now();
    loop {
        let mut roots = Vec::new();
        for c in clients {
            roots.push(root(c).await);
        }
        if roots.iter().all(|r| *r == roots[0]) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            return Err(roots);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_writers_converge_after_heal_with_nothing_lost() {
    bounded(async {
        let options = ClusterOptions {
            tls: true,
            gossip_interval: Some(Duration::from_millis(200)),
            seed: 4,
            ..ClusterOptions::default()
        };
        let cluster = Cluster::start(options).await.unwrap();
        wait_for_keys(&cluster).await;
        let opts = || cluster.client_options(Duration::from_secs(5), 1);
        let (c1, c2, c3) = (
            cluster.client_to(&[1], opts()),
            cluster.client_to(&[2], opts()),
            cluster.client_to(&[3], opts()),
        );
        // Shared state before the partition.
        update(&c1, "agents", Op::SetAdd("shared".into())).await;
        update(&c1, "hits", Op::CounterAdd(100)).await;
        converge(&[&c1, &c2, &c3], CATCH_UP_TIMEOUT).await.unwrap();
        assert_eq!(read(&c3, "hits").await, Some(pb::crdt_value::Value::Counter(100)));

        cluster.phase("cut n3 off; both sides write");
        cluster.isolate(3);
        for i in 0..20 {
            update(&c1, "hits", Op::CounterAdd(1)).await;
            update(&c2, "hits", Op::CounterAdd(2)).await;
            update(&c3, "hits", Op::CounterAdd(-5)).await;
            update(&c1, "agents", Op::SetAdd(format!("majority-{i}"))).await;
            update(&c3, "agents", Op::SetAdd(format!("minority-{i}"))).await;
        }
        // Concurrent remove (majority) and re-add (minority) of one element:
        // the add wins.
        update(&c2, "agents", Op::SetRemove("shared".into())).await;
        update(&c3, "agents", Op::SetAdd("shared".into())).await;
        update(&c1, "config", Op::MapPut(pb::MapPut { key: "a".into(), value: "1".into() })).await;
        update(&c3, "config", Op::MapPut(pb::MapPut { key: "b".into(), value: "2".into() })).await;
        update(&c1, "note", Op::RegisterSet("from the majority".into())).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        update(&c3, "note", Op::RegisterSet("from the minority, later".into())).await;
        // The sides really are apart: the majority converges without n3.
        converge(&[&c1, &c2], CATCH_UP_TIMEOUT).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_ne!(root(&c1).await, root(&c3).await, "n3 was cut off, yet converged");
        assert_eq!(read(&c3, "hits").await, Some(pb::crdt_value::Value::Counter(0)));
        assert_eq!(read(&c1, "hits").await, Some(pb::crdt_value::Value::Counter(160)));

        cluster.phase("heal");
        cluster.heal();
        let took = converge(&[&c1, &c2, &c3], CATCH_UP_TIMEOUT).await.unwrap();
        cluster.phase(&format!("all three converged {:.2}s after healing", took.as_secs_f64()));
        let mut expected_agents: Vec<String> = (0..20)
            .flat_map(|i| [format!("majority-{i}"), format!("minority-{i}")])
            .chain(["shared".to_string()])
            .collect();
        expected_agents.sort();
        for c in [&c1, &c2, &c3] {
            assert_eq!(
                read(c, "hits").await,
                Some(pb::crdt_value::Value::Counter(100 + 20 * (1 + 2 - 5)))
            );
            let Some(pb::crdt_value::Value::Set(set)) = read(c, "agents").await else { panic!() };
            assert_eq!(set.elements, expected_agents);
            let Some(pb::crdt_value::Value::Map(map)) = read(c, "config").await else { panic!() };
            let keys: Vec<&str> = map.entries.iter().map(|e| e.key.as_str()).collect();
            assert_eq!(keys, ["a", "b"]);
            let Some(pb::crdt_value::Value::Register(note)) = read(c, "note").await else {
                panic!()
            };
            assert_eq!(note.value.as_deref(), Some("from the minority, later"));
        }
        // Gossip was counted.
        let metrics =
            synod_chaos::observe::http_get(cluster.node(3).http, "/metrics").await.unwrap().1;
        assert!(metrics.contains("synod_crdt_keys_repaired_total"), "no gossip metrics");
    })
    .await;
}

/// Runs the `synod` CLI against node `id`; returns (exit code, stdout, stderr).
fn cli(cluster: &Cluster, id: u64, args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(cluster.binary());
    command.args(args).args(["--endpoints", &cluster.endpoint(id)]).stdin(Stdio::null());
    if let Some(certs) = cluster.client_certs() {
        command.arg("--tls-ca").arg(&certs.ca).arg("--tls-cert").arg(&certs.cert);
        command.arg("--tls-key").arg(&certs.key);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_crdt_input_through_the_cli_is_refused_and_changes_nothing() {
    bounded(async {
        let cluster =
            Cluster::start(ClusterOptions { seed: 5, ..ClusterOptions::default() }).await.unwrap();
        let (code, out, _) = cli(&cluster, 1, &["crdt", "counter", "incr", "hits", "--by", "7"]);
        assert_eq!((code, out.trim()), (0, "7"));
        let (_, list_before, root_before) = cli(&cluster, 1, &["crdt", "list"]);

        let (code, _, err) = cli(&cluster, 1, &["crdt", "gauge", "incr", "hits"]);
        assert_eq!(code, 2, "unknown type is a usage error: {err}");
        assert!(err.contains("unrecognized subcommand 'gauge'"), "{err}");

        let (code, _, err) = cli(&cluster, 1, &["crdt", "set", "add", "hits", "x"]);
        assert_eq!(code, 1);
        assert_eq!(err.trim(), "error: \"hits\": object is a counter, not a set");

        let (code, _, err) = cli(&cluster, 1, &["crdt", "register", "get", "hits"]);
        assert_eq!(code, 1);
        assert_eq!(err.trim(), "error: \"hits\": object is a counter, not a register");

        let huge = "x".repeat(70_000);
        let (code, _, err) = cli(&cluster, 1, &["crdt", "set", "add", "tags", &huge]);
        assert_eq!(code, 1);
        assert_eq!(err.trim(), "error: set element is 70000 bytes, over the limit of 65536 bytes");

        let (code, _, err) = cli(&cluster, 1, &["crdt", "counter", "incr", "hits", "--by", "0"]);
        assert_eq!(code, 2, "{err}");

        let (code, _, err) = cli(&cluster, 1, &["kv", "put", "__synod/crdt/keys/n1", "forged"]);
        assert_eq!(code, 1);
        assert!(err.contains("reserved for synod itself"), "{err}");

        let (_, list_after, root_after) = cli(&cluster, 1, &["crdt", "list"]);
        assert_eq!(list_after, list_before, "a refused update changed the objects");
        assert_eq!(root_after, root_before, "a refused update changed the Merkle root");
        let (code, out, _) = cli(&cluster, 1, &["crdt", "counter", "get", "hits"]);
        assert_eq!((code, out.trim()), (0, "7"));
        let (code, _, err) = cli(&cluster, 1, &["crdt", "set", "members", "tags"]);
        assert_eq!((code, err.trim()), (1, "no object named tags"));
    })
    .await;
}
