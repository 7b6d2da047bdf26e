//! Three embedded nodes in one program, replicating a custom state machine
//! (a bank of named counters) over real gRPC on loopback.
//!
//! ```text
//! cargo run -p synod-node --example embedded
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use synod_core::raft::{Entry, EntryPayload, Snapshot};
use synod_core::{LogIndex, NodeId};
use synod_node::{ConsensusNode, NodeError, RunningConsensusNode, StateMachine};

/// Commands are `name+amount` (text); the output is the counter's new value.
#[derive(Debug, Default)]
struct Counters {
    applied: LogIndex,
    values: BTreeMap<String, i64>,
}

impl StateMachine for Counters {
    type Output = Result<i64, String>;

    fn apply(&mut self, entries: &[Entry]) -> Result<Vec<(LogIndex, Self::Output)>, String> {
        let mut outputs = Vec::new();
        for entry in entries {
            self.applied = entry.index;
            if let EntryPayload::Command(data) = &entry.payload {
                outputs.push((entry.index, self.add(data)));
            }
        }
        Ok(outputs)
    }

    fn applied_index(&self) -> LogIndex {
        self.applied
    }

    fn snapshot(&self) -> Result<Bytes, String> {
        let text: Vec<String> = self.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Ok(Bytes::from(format!("{}\n{}", self.applied.0, text.join("\n"))))
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        let text = std::str::from_utf8(&snapshot.data).map_err(|e| e.to_string())?;
        self.values = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| Ok((k.to_string(), v.parse().map_err(|_| format!("bad counter {v}"))?)))
            .collect::<Result<_, String>>()?;
        self.applied = snapshot.meta.index;
        Ok(())
    }
}

impl Counters {
    /// A bad command is rejected deterministically on every replica.
    fn add(&mut self, data: &[u8]) -> Result<i64, String> {
        let text = std::str::from_utf8(data).map_err(|_| "command is not UTF-8".to_string())?;
        let (name, amount) = text.split_once('+').ok_or(format!("'{text}' is not name+amount"))?;
        let amount: i64 = amount.parse().map_err(|_| format!("'{amount}' is not a number"))?;
        let value = self.values.entry(name.to_string()).or_default();
        *value += amount;
        Ok(*value)
    }
}

async fn leader_of(nodes: &[RunningConsensusNode<Counters>]) -> usize {
    for _ in 0..100 {
        for (i, node) in nodes.iter().enumerate() {
            let status = node.status().await.expect("node runs");
            if status.leader == Some(status.id) && status.commit_index.0 > 0 {
                return i;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no leader elected");
}

#[tokio::main]
async fn main() -> Result<(), NodeError> {
    let dir = std::env::temp_dir().join(format!("synod-embedded-{}", std::process::id()));
    // Bind to free ports first, so the example never collides with anything.
    let mut addresses = Vec::new();
    for _ in 0..3 {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        addresses.push(socket.local_addr().expect("address"));
    }
    let mut nodes = Vec::new();
    for (i, address) in addresses.iter().enumerate() {
        let id = NodeId(i as u64 + 1);
        let peers =
            (0..3).filter(|j| *j != i).map(|j| (NodeId(j as u64 + 1), addresses[j])).collect();
        let node = ConsensusNode::new(id, *address, peers)
            .data_dir(dir.join(id.to_string()))
            .raft_config(|c| {
                c.election_timeout_ms_min = 300;
                c.election_timeout_ms_max = 600;
                c.heartbeat_interval_ms = 50;
            })
            .register_state_machine(Counters::default())
            .start()
            .await?;
        nodes.push(node);
    }
    let leader = leader_of(&nodes).await;
    println!("leader: n{}", leader + 1);
    for command in ["apples+3", "apples+4", "pears+1", "apples+oops"] {
        let (index, output) = nodes[leader].propose(command.as_bytes().to_vec()).await?;
        println!("{command:>12} -> index {index}: {output:?}");
    }
    let follower = (leader + 1) % 3;
    match nodes[follower].propose(b"pears+1".to_vec()).await {
        Err(NodeError::NotLeader { leader_hint }) => {
            println!("follower refuses, leader is {leader_hint:?}")
        }
        other => println!("unexpected: {other:?}"),
    }
    let apples = nodes[leader].read(|c: &Counters| c.values.get("apples").copied()).await?;
    println!("apples = {apples:?}");
    assert_eq!(apples, Some(7));
    for node in nodes {
        node.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
