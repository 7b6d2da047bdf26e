//! Three nodes serving the KV and Cluster APIs over gRPC on loopback,
//! driven through the Rust client.

use std::time::Duration;

use synod_client::{Client, ClientError, ClientOptions};
use synod_core::NodeId;
use synod_node::config::{FileConfig, NodeConfig, Overrides};
use synod_node::SynodNode;

struct Cluster {
    nodes: Vec<SynodNode>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers: Vec<String> =
        ports.iter().enumerate().map(|(i, p)| format!("n{}=127.0.0.1:{p}", i + 1)).collect();
    let mut nodes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let overrides = Overrides {
            node_id: Some(format!("n{}", i + 1)),
            bind_address: Some(format!("127.0.0.1:{port}")),
            peers: Some(peers.join(",")),
            data_dir: Some(dir.path().join(format!("n{}", i + 1))),
            ..Overrides::default()
        };
        let mut file = FileConfig::default();
        file.consensus.protocol.election_timeout = Some(Duration::from_millis(300));
        file.consensus.protocol.heartbeat_interval = Some(Duration::from_millis(50));
        let config = NodeConfig::resolve(file, overrides).unwrap();
        nodes.push(SynodNode::start(config).await.unwrap());
    }
    Cluster { nodes, _dir: dir }
}

impl Cluster {
    fn client_of(&self, indexes: &[usize]) -> Client {
        let endpoints = indexes.iter().map(|i| self.nodes[*i].grpc_address.to_string()).collect();
        Client::new(endpoints, ClientOptions::default())
    }

    async fn leader(&self) -> usize {
        for _ in 0..100 {
            for (i, node) in self.nodes.iter().enumerate() {
                let status = node.handle.status().await.unwrap();
                if status.leader == Some(status.id) && status.commit_index.0 > 0 {
                    return i;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no leader within 5 s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_operations_through_a_follower_are_redirected_and_linearizable() {
    let cluster = start_cluster().await;
    let leader = cluster.leader().await;
    let follower = (leader + 1) % 3;
    // --- the client only knows a follower: it is redirected to the leader
    let client = cluster.client_of(&[follower]);
    let r1 = client.put(b"app/a", b"1").await.unwrap();
    let r2 = client.put(b"app/b", b"2").await.unwrap();
    assert!(r2 > r1, "revisions are log indexes and grow");
    let kv = client.get(b"app/a").await.unwrap().unwrap();
    assert_eq!((kv.value.as_ref(), kv.mod_revision, kv.version), (&b"1"[..], r1, 1));
    // --- compare-and-swap on value and on absence
    let (ok, current) = client.compare_and_swap(b"app/a", Some(b"1"), b"10").await.unwrap();
    assert!(ok);
    assert_eq!(current.unwrap().value.as_ref(), b"10");
    let (ok, current) = client.compare_and_swap(b"app/a", Some(b"1"), b"11").await.unwrap();
    assert!(!ok, "the expected value is stale");
    assert_eq!(current.unwrap().value.as_ref(), b"10");
    let (ok, _) = client.compare_and_swap(b"app/new", None, b"x").await.unwrap();
    assert!(ok);
    // --- range with prefix and limit, delete
    let (kvs, more) = client.range(b"app/", 2).await.unwrap();
    assert_eq!(
        kvs.iter().map(|k| k.key.to_vec()).collect::<Vec<_>>(),
        vec![b"app/a".to_vec(), b"app/b".to_vec()]
    );
    assert!(more);
    let (_, deleted) = client.delete(b"app/b").await.unwrap();
    assert!(deleted);
    assert!(client.get(b"app/b").await.unwrap().is_none());
    // --- a serializable read on the follower sees the writes once applied
    tokio::time::sleep(Duration::from_millis(200)).await;
    let local = cluster.client_of(&[follower]);
    let kv = local.get_with(b"app/a", true).await.unwrap().unwrap();
    assert_eq!(kv.value.as_ref(), b"10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let cluster = start_cluster().await;
    cluster.leader().await;
    let client = cluster.client_of(&[0, 1, 2]);
    let big = vec![0u8; 1536 * 1024 + 1];
    match client.put(b"big", &big).await {
        Err(ClientError::Invalid(msg)) => {
            assert_eq!(msg, "value is 1572865 bytes, over the limit of 1572864 bytes")
        }
        other => panic!("oversized value: {other:?}"),
    }
    match client.put(b"", b"v").await {
        Err(ClientError::Invalid(msg)) => assert_eq!(msg, "key is empty"),
        other => panic!("empty key: {other:?}"),
    }
    assert!(client.get(b"big").await.unwrap().is_none(), "nothing was written");
    match client.transfer_leader(42).await {
        Err(ClientError::Invalid(msg)) => assert!(msg.contains("n42 is not a voter"), "{msg}"),
        other => panic!("unknown node: {other:?}"),
    }
    match client.remove_member(42).await {
        Err(ClientError::Invalid(msg)) => assert!(msg.contains("n42 is not a member"), "{msg}"),
        other => panic!("unknown node: {other:?}"),
    }
    match client.add_member(5, "not-an-address", false).await {
        Err(ClientError::Invalid(msg)) => assert!(msg.contains("is not an address"), "{msg}"),
        other => panic!("bad address: {other:?}"),
    }
    // --- the cluster still serves
    client.put(b"still", b"ok").await.unwrap();
    let status = client.status().await.unwrap();
    assert_eq!(status.members.len(), 3);
    assert!(status.members.iter().any(|m| m.id == NodeId(1).0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_transfer_moves_the_leader() {
    let cluster = start_cluster().await;
    let leader = cluster.leader().await;
    let target = ((leader + 1) % 3) as u64 + 1;
    let client = cluster.client_of(&[0, 1, 2]);
    let reply = client.transfer_leader(target).await.unwrap();
    assert_eq!(reply.leader_id, target);
    client.put(b"after-transfer", b"v").await.unwrap();
}
