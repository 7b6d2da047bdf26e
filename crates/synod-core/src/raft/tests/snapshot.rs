//! Log compaction and InstallSnapshot in chunks (Raft §7).

use std::cell::Cell;

use super::*;

const CHUNK_BYTES: usize = 1000;
const STATE_BYTES: usize = 4500;

fn state_bytes() -> Bytes {
    (0..STATE_BYTES).map(|i| (i % 251) as u8).collect()
}

/// n3 is cut off while n1 commits 20 entries, compacts them into a
/// snapshot, then commits 3 more. Returns the snapshot index.
fn leader_compacts_while_n3_is_away(cluster: &mut Cluster) -> LogIndex {
    cluster.elect(1);
    cluster.isolate(3);
    for i in 0..20 {
        cluster.propose(1, &format!("v{i}"));
    }
    cluster.deliver_all();
    let applied = cluster.node(1).applied_index();
    assert_eq!(applied, cluster.node(1).last_index());
    cluster.node_mut(1).compact(applied, state_bytes());
    cluster.collect(1);
    assert_eq!(cluster.node(1).snapshot_meta().index, applied);
    assert_eq!(cluster.node(1).entry(applied), None, "compacted");
    for i in 0..3 {
        cluster.propose(1, &format!("w{i}"));
    }
    cluster.deliver_all();
    applied
}

fn chunks_to(cluster: &Cluster, to: u64) -> Vec<(u64, usize, bool)> {
    let chunks =
        cluster.sent_since(0, |m| m.to == n(to)).into_iter().filter_map(|m| match &m.body {
            Body::InstallSnapshot { offset, data, done, .. } => Some((*offset, data.len(), *done)),
            _ => None,
        });
    chunks.collect()
}

fn with_small_chunks(c: &mut Config) {
    c.snapshot_chunk_bytes_max = CHUNK_BYTES;
}

#[test]
fn lagging_follower_catches_up_by_chunked_snapshot() {
    // Raft §7: the leader sends InstallSnapshot to a follower that lags too far behind (its
    // next entry was discarded), in chunks; the follower replaces its log and state machine,
    // then receives the entries after the snapshot as usual.
    let mut cluster = Cluster::with(3, &with_small_chunks);
    let snap_index = leader_compacts_while_n3_is_away(&mut cluster);
    // --- n3 comes back
    cluster.heal();
    cluster.run_for(300);
    let chunks = chunks_to(&cluster, 3);
    let expected: Vec<(u64, usize, bool)> =
        (0..5).map(|i| (i * 1000, if i < 4 { 1000 } else { 500 }, i == 4)).collect();
    assert_eq!(chunks, expected, "five chunks of at most {CHUNK_BYTES} bytes");
    let installed = &cluster.snapshots[&n(3)];
    assert_eq!(installed.len(), 1);
    assert_eq!(installed[0].meta.index, snap_index);
    assert_eq!(installed[0].data, state_bytes());
    // --- the entries after the snapshot follow and are applied
    let last = cluster.node(1).last_index();
    assert_eq!(cluster.node(3).last_index(), last);
    assert_eq!(cluster.node(3).commit_index(), last);
    let after: Vec<u64> = (snap_index.0 + 1..=last.0).collect();
    assert!(cluster.applied_indexes(3).ends_with(&after), "{:?}", cluster.applied_indexes(3));
    assert_eq!(cluster.node(1).progress_of(n(3)).unwrap().0, last);
}

#[test]
fn installed_snapshot_survives_a_restart() {
    // Raft §7: the follower persists the snapshot and discards the log it covers; after a
    // crash it recovers from the snapshot, not from the discarded entries.
    let mut cluster = Cluster::with(3, &with_small_chunks);
    let snap_index = leader_compacts_while_n3_is_away(&mut cluster);
    cluster.heal();
    cluster.run_for(300);
    let stored = &cluster.durable[&n(3)];
    assert_eq!(stored.snapshot.as_ref().unwrap().data, state_bytes());
    assert!(stored.entries.iter().all(|e| e.index > snap_index));
    let last = cluster.node(3).last_index();
    cluster.crash(3);
    cluster.restart(3);
    assert_eq!(cluster.node(3).snapshot_meta().index, snap_index);
    assert_eq!(cluster.node(3).last_index(), last);
    assert_eq!(cluster.node(3).snapshot().data, state_bytes());
}

#[test]
fn lost_chunk_is_sent_again_and_the_transfer_resumes() {
    // Raft §7: InstallSnapshot chunks are sent in order by offset; after a lost chunk the
    // leader re-sends from where the follower is (retransmission on heartbeat).
    let mut cluster = Cluster::with(3, &with_small_chunks);
    leader_compacts_while_n3_is_away(&mut cluster);
    cluster.heal();
    let dropped = Cell::new(false);
    cluster.filter = Some(Box::new(move |m: &Message| {
        let third = matches!(m.body, Body::InstallSnapshot { offset: 2000, .. });
        let drop = third && !dropped.get();
        dropped.set(dropped.get() || drop);
        !drop
    }));
    cluster.run_for(1000);
    let offsets: Vec<u64> = chunks_to(&cluster, 3).iter().map(|c| c.0).collect();
    assert_eq!(offsets, vec![0, 1000, 2000, 2000, 3000, 4000]);
    assert_eq!(cluster.snapshots[&n(3)][0].data, state_bytes());
    assert_eq!(cluster.node(3).last_index(), cluster.node(1).last_index());
}

#[test]
#[should_panic(expected = "beyond applied")]
fn compacting_unapplied_entries_is_a_driver_bug() {
    // Raft §7: a snapshot covers only entries the state machine has applied.
    let mut cluster = Cluster::new(1);
    cluster.elect(1);
    let index = cluster.node_mut(1).propose(data("x")).unwrap();
    cluster.node_mut(1).compact(index, Bytes::new());
}

#[test]
fn retransmitted_chunks_do_not_multiply_the_transfer() {
    // Raft §7: a follower answers each chunk with the offset it expects; the leader should
    // send each later chunk once, whatever the number of retransmitted copies of one chunk
    // (here heartbeats re-send chunk 0 while the link is slow).
    let mut cluster = Cluster::with(3, &with_small_chunks);
    leader_compacts_while_n3_is_away(&mut cluster);
    cluster.heal();
    // --- the next heartbeat starts the transfer; chunk 0 then waits on a slow link
    cluster.fire(1);
    while cluster.queue.front().is_some_and(|m| !matches!(m.body, Body::InstallSnapshot { .. })) {
        cluster.step();
    }
    assert!(!cluster.queue.is_empty(), "chunk 0 is on its way");
    // --- three more heartbeats pass before it arrives: chunk 0 is sent again each time
    for _ in 0..3 {
        cluster.fire(1);
    }
    let copies = chunks_to(&cluster, 3).iter().filter(|c| c.0 == 0).count();
    assert!(copies >= 4, "chunk 0 was re-sent: {copies}");
    cluster.deliver_all();
    assert_eq!(cluster.snapshots[&n(3)][0].data, state_bytes());
    let later = chunks_to(&cluster, 3).iter().filter(|c| c.0 > 0).count();
    assert!(later <= 4 + 3, "4 later chunks were sent {later} times");
}
