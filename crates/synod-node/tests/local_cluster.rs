//! Three drivers on an in-process network: the driver wires the core to
//! storage, timers and the state machine correctly.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use synod_core::raft::{Config, Entry, EntryPayload, Snapshot};
use synod_core::{LogIndex, NodeId};
use synod_node::{
    Driver, DriverConfig, LocalNetwork, MemStorage, NodeError, NodeHandle, StateMachine,
};

/// A state machine that records every command, in order.
#[derive(Debug, Default)]
struct Journal {
    applied: LogIndex,
    commands: Vec<Bytes>,
}

impl StateMachine for Journal {
    type Output = Bytes;

    fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, Bytes)>, String> {
        let mut out = Vec::new();
        for entry in entries {
            self.applied = entry.index;
            if let EntryPayload::Command(data) = &entry.payload {
                self.commands.push(data.clone());
                out.push((entry.index, Bytes::from(format!("#{}", self.commands.len()))));
            }
        }
        Ok(out)
    }
    fn applied_index(&self) -> LogIndex {
        self.applied
    }
    fn snapshot(&self) -> Result<Bytes, String> {
        Ok(Bytes::from(self.commands.join(&b"\n"[..])))
    }
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        self.applied = snapshot.meta.index;
        self.commands = if snapshot.data.is_empty() {
            Vec::new()
        } else {
            snapshot.data.split(|b| *b == b'\n').map(Bytes::copy_from_slice).collect()
        };
        Ok(())
    }
}

struct TestCluster {
    net: LocalNetwork,
    nodes: Vec<Option<NodeHandle<Journal>>>,
    storage: Vec<MemStorage>,
}

fn raft_config(id: u64) -> Config {
    let mut config = Config::new(NodeId(id));
    config.election_timeout_ms_min = 150;
    config.election_timeout_ms_max = 300;
    config.heartbeat_interval_ms = 30;
    config
}

impl TestCluster {
    fn start(n: u64) -> TestCluster {
        let net = LocalNetwork::default();
        let storage: Vec<MemStorage> = (0..n).map(|_| MemStorage::default()).collect();
        let mut cluster = TestCluster { net, nodes: Vec::new(), storage };
        for id in 1..=n {
            let handle = cluster.boot(id, n);
            cluster.nodes.push(Some(handle));
        }
        cluster
    }

    fn boot(&self, id: u64, n: u64) -> NodeHandle<Journal> {
        let voters: Vec<NodeId> = (1..=n).map(NodeId).collect();
        let mut config = DriverConfig::new(raft_config(id), voters);
        config.compact_every_entries = 20;
        let inbox = self.net.register(NodeId(id), 1024);
        let storage = self.storage[id as usize - 1].clone();
        let (handle, _task) =
            Driver::start(config, storage, Journal::default(), Arc::new(self.net.clone()), inbox)
                .unwrap();
        handle
    }

    fn node(&self, id: u64) -> &NodeHandle<Journal> {
        self.nodes[id as usize - 1].as_ref().unwrap()
    }

    async fn leader(&self) -> u64 {
        for _ in 0..200 {
            for (i, node) in self.nodes.iter().enumerate() {
                let Some(node) = node else { continue };
                let status = node.status().await.unwrap();
                if status.leader == Some(status.id) && status.commit_index.0 > 0 {
                    return i as u64 + 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no leader within 4 s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_commit_and_reads_see_them() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader().await;
    let (index, output) = cluster.node(leader).propose(Bytes::from_static(b"a")).await.unwrap();
    assert_eq!(output, Bytes::from_static(b"#1"));
    let seen = cluster.node(leader).read(true, |j: &Journal| j.commands.clone()).await.unwrap();
    assert_eq!(seen, vec![Bytes::from_static(b"a")]);
    assert!(index.0 >= 2, "the leader's no-op comes first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_refuse_with_the_leader_hint() {
    let cluster = TestCluster::start(3);
    let leader = cluster.leader().await;
    let follower = if leader == 1 { 2 } else { 1 };
    let err = cluster.node(follower).propose(Bytes::from_static(b"x")).await.unwrap_err();
    assert_eq!(err, NodeError::NotLeader { leader_hint: Some(NodeId(leader)) });
    let err = cluster.node(follower).read(true, |_: &Journal| ()).await.unwrap_err();
    assert!(matches!(err, NodeError::NotLeader { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_takes_over_and_nothing_acknowledged_is_lost() {
    let mut cluster = TestCluster::start(3);
    let leader = cluster.leader().await;
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let data = Bytes::from(format!("w{i}"));
        cluster.node(leader).propose(data.clone()).await.unwrap();
        acknowledged.push(data);
    }
    // --- the leader stops (its handle and driver go away) and loses its link
    cluster.nodes[leader as usize - 1] = None;
    for other in 1..=3 {
        cluster.net.partition(NodeId(leader), NodeId(other));
    }
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    cluster.node(new_leader).propose(Bytes::from_static(b"after")).await.unwrap();
    acknowledged.push(Bytes::from_static(b"after"));
    let seen = cluster.node(new_leader).read(true, |j: &Journal| j.commands.clone()).await.unwrap();
    assert_eq!(seen, acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_recovers_from_storage_and_snapshots() {
    let mut cluster = TestCluster::start(3);
    let leader = cluster.leader().await;
    for i in 0..60 {
        cluster.node(leader).propose(Bytes::from(format!("w{i}"))).await.unwrap();
    }
    // --- restart every node from its storage; the log was compacted meanwhile
    cluster.nodes = vec![None, None, None];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let net = LocalNetwork::default();
    cluster.net = net;
    for id in 1..=3 {
        let handle = cluster.boot(id, 3);
        cluster.nodes[id as usize - 1] = Some(handle);
    }
    let leader = cluster.leader().await;
    let seen = cluster.node(leader).read(true, |j: &Journal| j.commands.len()).await.unwrap();
    assert_eq!(seen, 60);
}
