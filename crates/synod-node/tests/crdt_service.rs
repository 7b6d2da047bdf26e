//! Three node processes' worth of nodes (in one test process) serving the
//! CRDT API over gRPC on loopback: writes on every node converge by gossip,
//! survive a restart, checkpoints go through the log, bad input is refused.

use std::time::Duration;

use synod_client::crdt_proto as pb;
use synod_client::crdt_proto::update_request::Op;
use synod_client::{Client, ClientError, ClientOptions};
use synod_core::merkle::SignedRoot;
use synod_core::NodeId;
use synod_node::config::{FileConfig, NodeConfig, Overrides};
use synod_node::SynodNode;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn config(dir: &std::path::Path, i: usize, ports: &[u16]) -> NodeConfig {
    let peers: Vec<String> =
        ports.iter().enumerate().map(|(i, p)| format!("n{}=127.0.0.1:{p}", i + 1)).collect();
    let overrides = Overrides {
        node_id: Some(format!("n{}", i + 1)),
        bind_address: Some(format!("127.0.0.1:{}", ports[i])),
        peers: Some(peers.join(",")),
        data_dir: Some(dir.join(format!("n{}", i + 1))),
        gossip_interval: Some(Duration::from_millis(100)),
        checkpoint_every: Some(5),
        ..Overrides::default()
    };
    let mut file = FileConfig::default();
    file.consensus.protocol.election_timeout = Some(Duration::from_millis(300));
    file.consensus.protocol.heartbeat_interval = Some(Duration::from_millis(50));
    NodeConfig::resolve(file, overrides).unwrap()
}

fn client(node: &SynodNode) -> Client {
    Client::new(vec![node.grpc_address.to_string()], ClientOptions::default())
}

async fn counter(node: &SynodNode, name: &str) -> Option<i64> {
    let read = client(node).crdt_read(name, pb::CrdtKind::Counter).await.unwrap();
    match read.value?.value? {
        pb::crdt_value::Value::Counter(n) => Some(n),
        other => panic!("not a counter: {other:?}"),
    }
}

async fn set(node: &SynodNode, name: &str) -> Vec<String> {
    let read = client(node).crdt_read(name, pb::CrdtKind::Set).await.unwrap();
    match read.value.and_then(|v| v.value) {
        Some(pb::crdt_value::Value::Set(s)) => s.elements,
        None => Vec::new(),
        other => panic!("not a set: {other:?}"),
    }
}

async fn roots(nodes: &[SynodNode]) -> Vec<Vec<u8>> {
    let mut roots = Vec::new();
    for node in nodes {
        roots.push(client(node).crdt_list().await.unwrap().merkle_root.to_vec());
    }
    roots
}

/// Waits until every node reports the same Merkle root.
async fn converge(nodes: &[SynodNode]) {
    for _ in 0..100 {
        let roots = roots(nodes).await;
        if roots.iter().all(|r| *r == roots[0]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nodes did not converge within 10 s: {:?}", roots(nodes).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_every_node_converge_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(SynodNode::start(config(dir.path(), i, &ports)).await.unwrap());
    }
    // Every node writes the same counter and set, and its own register.
    for (i, node) in nodes.iter().enumerate() {
        let c = client(node);
        for _ in 0..=i {
            c.crdt_update("visits", Op::CounterAdd(10)).await.unwrap();
        }
        c.crdt_update("visits", Op::CounterAdd(-1)).await.unwrap();
        c.crdt_update("agents", Op::SetAdd(format!("agent-{i}"))).await.unwrap();
        c.crdt_update("config", Op::MapPut(pb::MapPut { key: format!("k{i}"), value: "v".into() }))
            .await
            .unwrap();
    }
    client(&nodes[0]).crdt_update("agents", Op::SetAdd("gone".into())).await.unwrap();
    client(&nodes[0]).crdt_update("agents", Op::SetRemove("gone".into())).await.unwrap();
    converge(&nodes).await;
    for node in &nodes {
        assert_eq!(counter(node, "visits").await, Some(60 - 3));
        assert_eq!(set(node, "agents").await, vec!["agent-0", "agent-1", "agent-2"]);
    }
    // Checkpoints (every 5 updates per node) went through the log.
    let mut checkpoint = None;
    for _ in 0..50 {
        checkpoint = client(&nodes[0]).get(b"__synod/crdt/checkpoints/n1").await.unwrap();
        if checkpoint.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kv = checkpoint.expect("n1's checkpoint was committed within 5 s");
    let text = String::from_utf8(kv.value.to_vec()).unwrap();
    assert!(text.starts_with("root=") && text.contains("updates="), "{text}");
    // Clients cannot write synod's reserved keys.
    let err = client(&nodes[0]).put(b"__synod/crdt/keys/n1", b"forged").await.unwrap_err();
    assert!(err.to_string().contains("reserved for synod itself"), "{err}");

    // A restarted node has its state back from redb before any gossip.
    let node = nodes.remove(2);
    node.shutdown().await;
    let mut alone = config(dir.path(), 2, &ports);
    alone.peers.clear();
    alone.bind_address = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let restarted = SynodNode::start(alone).await.unwrap();
    assert_eq!(counter(&restarted, "visits").await, Some(57));
    assert_eq!(set(&restarted, "agents").await.len(), 3);
    restarted.shutdown().await;
    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port()];
    let node = SynodNode::start(config(dir.path(), 0, &ports)).await.unwrap();
    let c = client(&node);
    c.crdt_update("visits", Op::CounterAdd(1)).await.unwrap();
    let before = c.crdt_list().await.unwrap();

    let invalid = |r: Result<pb::UpdateResponse, ClientError>| match r {
        Err(ClientError::Invalid(text)) => text,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        invalid(c.crdt_update("visits", Op::SetAdd("x".into())).await),
        "\"visits\": object is a counter, not a set"
    );
    assert_eq!(
        invalid(c.crdt_update("big", Op::SetAdd("x".repeat(100_000))).await),
        "set element is 100000 bytes, over the limit of 65536 bytes"
    );
    assert_eq!(
        invalid(c.crdt_update(&"n".repeat(300), Op::CounterAdd(1)).await),
        "object name must be 1 to 256 bytes, got 300"
    );
    assert_eq!(
        invalid(c.crdt_update("visits", Op::CounterAdd(0)).await),
        "counter_add must not be 0"
    );
    // An unknown type on the wire, and an operation-less update.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", node.grpc_address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut raw = synod_proto::crdt::v1::crdt_client::CrdtClient::new(channel);
    let err = raw.read(pb::ReadRequest { name: "visits".into(), kind: 42 }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (tonic::Code::InvalidArgument, "unknown CRDT type 42"));
    let err = raw.update(pb::UpdateRequest { name: "visits".into(), op: None }).await.unwrap_err();
    assert_eq!(err.message(), "update has no operation");
    let err = raw
        .read(pb::ReadRequest { name: "visits".into(), kind: pb::CrdtKind::Map as i32 })
        .await
        .unwrap_err();
    assert_eq!(err.message(), "\"visits\": object is a counter, not a map");

    let after = c.crdt_list().await.unwrap();
    assert_eq!(after.objects, before.objects);
    assert_eq!(after.merkle_root, before.merkle_root);
    assert_eq!(counter(&node, "visits").await, Some(1));
    node.shutdown().await;
}

/// Opens a gossip session to `node` claiming to be `as_peer`, sending
/// `root` first; returns the node's answer: the first frame's abort reason,
/// or the call's error.
async fn gossip_with_root(node: &SynodNode, as_peer: u64, root: SignedRoot) -> String {
    use synod_core::antientropy::{Body, Message};
    use synod_proto::gossip::v1::gossip_client::GossipClient;
    use synod_proto::gossip::{decode_frame, encode_frame};

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", node.grpc_address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let first = Message { session: 7, seq: 1, body: Body::Root(root) };
    let frames = tokio_stream::iter(vec![encode_frame(NodeId(as_peer), &first)]);
    match GossipClient::new(channel).exchange(frames).await {
        Err(status) => status.message().to_string(),
        Ok(response) => {
            let mut stream = response.into_inner();
            let frame = stream.message().await.unwrap().expect("the node answers");
            match decode_frame(frame).unwrap().1.body {
                Body::Abort { reason } => reason,
                other => panic!("a bad root was answered with {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_unsigned_roots_are_refused_naming_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let mut nodes = Vec::new();
    for i in 0..2 {
        nodes.push(SynodNode::start(config(dir.path(), i, &ports)).await.unwrap());
    }
    // Both keys committed, and some state on n1 that must not change.
    let c1 = client(&nodes[0]);
    for _ in 0..100 {
        let both = c1.get(b"__synod/crdt/keys/n1").await.ok().flatten().is_some()
            && c1.get(b"__synod/crdt/keys/n2").await.ok().flatten().is_some();
        if both {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c1.crdt_update("visits", Op::CounterAdd(1)).await.unwrap();
    let before = c1.crdt_list().await.unwrap();

    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let forged = SignedRoot::sign(NodeId(2), [1; 32], 12, 1, &stranger);
    let reason = gossip_with_root(&nodes[0], 2, forged).await;
    assert!(reason.contains("root from n2 failed signature verification"), "{reason}");

    let unsigned = SignedRoot::unsigned(NodeId(2), [1; 32], 12, 2);
    let reason = gossip_with_root(&nodes[0], 2, unsigned).await;
    assert!(reason.contains("root from n2 is unsigned"), "{reason}");

    // A peer whose key was never committed is refused before anything.
    let reason =
        gossip_with_root(&nodes[0], 9, SignedRoot::unsigned(NodeId(9), [1; 32], 12, 1)).await;
    assert!(reason.contains("no public key of n9"), "{reason}");

    let after = c1.crdt_list().await.unwrap();
    assert_eq!(after.merkle_root, before.merkle_root, "a refused peer changed state");
    for node in nodes {
        node.shutdown().await;
    }
}
