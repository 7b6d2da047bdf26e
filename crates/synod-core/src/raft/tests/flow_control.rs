//! Flow control of replication: pipelining bounded by `inflight_msgs_max`
//! and batching bounded by `batch_bytes_max` (thesis §10.2.1 pipelining
//! and batching).

use super::*;

fn entry_bytes(m: &Message) -> Vec<usize> {
    match &m.body {
        Body::AppendEntries { entries, .. } => entries.iter().map(Entry::size_bytes).collect(),
        _ => vec![],
    }
}

#[test]
fn pipeline_stops_at_inflight_msgs_max() {
    // Thesis §10.2.1: the leader pipelines appends without waiting for each answer, but
    // bounds how many are outstanding per follower (`inflight_msgs_max`).
    let mut cluster = Cluster::with(3, &|c| {
        c.inflight_msgs_max = 2;
        c.batch_bytes_max = 1; // one entry per append
    });
    cluster.elect(1);
    let mark = cluster.sent.len();
    for i in 0..6 {
        cluster.propose(1, &format!("v{i}"));
    }
    let to_n2 = |c: &Cluster| c.sent_since(mark, |m| is_append_with_entries(m, 2)).len();
    assert_eq!(to_n2(&cluster), 2, "two appends in flight, four entries held back");
    // --- each acknowledgement opens one slot; never more than two outstanding
    let mut acked = 0;
    while let Some(front) = cluster.queue.front().cloned() {
        cluster.step();
        let is_ack = matches!(front.body, Body::AppendEntriesResponse { success: true, .. });
        acked += usize::from(front.from == n(2) && is_ack);
        assert!(to_n2(&cluster) - acked <= 2, "{} sent, {acked} acked", to_n2(&cluster));
    }
    assert_eq!(to_n2(&cluster), 6);
    assert_eq!(cluster.node(2).last_index(), cluster.node(1).last_index());
}

#[test]
fn batches_respect_batch_bytes_max() {
    // Thesis §10.2.1: entries are batched into one append up to `batch_bytes_max` bytes;
    // an entry larger than the limit is still sent, alone.
    let mut cluster = Cluster::with(3, &|c| c.batch_bytes_max = 100);
    cluster.elect(1);
    cluster.isolate(3);
    for i in 0..9 {
        cluster.propose(1, &format!("ten bytes{i}")); // 24 + 10 = 34 bytes each
    }
    cluster.propose(1, &"x".repeat(500));
    cluster.deliver_all();
    let mark = cluster.sent.len();
    cluster.heal();
    cluster.run_for(300);
    assert_eq!(cluster.node(3).last_index(), cluster.node(1).last_index());
    let batches: Vec<Vec<usize>> = cluster
        .sent_since(mark, |m| is_append_with_entries(m, 3))
        .into_iter()
        .map(entry_bytes)
        .collect();
    assert!(batches.iter().all(|b| b.len() == 1 || b.iter().sum::<usize>() <= 100), "{batches:?}");
    assert_eq!(batches.iter().map(Vec::len).max(), Some(2), "{batches:?}");
    assert!(batches.contains(&vec![524]), "the large entry travels alone: {batches:?}");
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
}
