//! Leadership transfer (thesis §3.10).

use super::super::{MembershipChange, ProposeError, TransferError};
use super::*;

fn is_timeout_now_to(m: &Message, to: u64) -> bool {
    m.to == n(to) && m.body == Body::TimeoutNow
}

#[test]
fn caught_up_target_gets_timeout_now_and_leads_the_next_term() {
    // Thesis §3.10: once the target's log matches, the leader sends it TimeoutNow; the target
    // starts an election at once (no PreVote, past leader stickiness) and wins the next term.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    let (mark, started) = (cluster.sent.len(), cluster.now);
    cluster.node_mut(1).transfer_leader(n(2)).unwrap();
    cluster.collect(1);
    assert_eq!(cluster.sent_since(mark, |m| is_timeout_now_to(m, 2)).len(), 1);
    cluster.deliver_all();
    assert_eq!(cluster.leader(), Some(2));
    assert_eq!(cluster.node(2).term(), term.next());
    assert_eq!(cluster.node(1).leader(), Some(n(2)));
    assert_eq!(cluster.now, started, "no election timeout was waited for");
    let transfer_votes =
        |m: &Message| matches!(m.body, Body::RequestVote { transfer: true, pre_vote: false, .. });
    assert_eq!(cluster.sent_since(mark, transfer_votes).len(), 2);
}

#[test]
fn proposals_are_refused_while_a_transfer_is_in_progress() {
    // Thesis §3.10: the leader stops accepting client requests during the transfer, and
    // resumes if the transfer does not complete within an election timeout.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolate(2);
    cluster.node_mut(1).transfer_leader(n(2)).unwrap();
    let refused = Err(ProposeError::TransferInProgress(n(2)));
    assert_eq!(cluster.node_mut(1).propose(data("x")), refused);
    let change = MembershipChange::AddLearner(n(4));
    assert_eq!(cluster.node_mut(1).propose_membership(change), refused);
    // --- n2 never answers: the transfer is abandoned after an election timeout
    cluster.run_for(cluster.configs[&n(1)].election_timeout_ms_min + 1);
    assert_eq!(cluster.leader(), Some(1));
    assert!(cluster.node_mut(1).propose(data("x")).is_ok());
}

#[test]
fn lagging_target_is_caught_up_before_timeout_now() {
    // Thesis §3.10: the leader first brings the target's log up to date, and sends
    // TimeoutNow only once the target holds every entry.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    cluster.isolate(3);
    for i in 0..5 {
        cluster.propose(1, &format!("v{i}"));
    }
    cluster.deliver_all();
    cluster.heal();
    let mark = cluster.sent.len();
    let last = cluster.node(1).last_index();
    cluster.node_mut(1).transfer_leader(n(3)).unwrap();
    cluster.collect(1);
    assert!(cluster.sent_since(mark, |m| is_timeout_now_to(m, 3)).is_empty(), "n3 lags");
    cluster.deliver_all();
    // The TimeoutNow follows n3's acknowledgement of the leader's last entry.
    let sent = &cluster.sent[mark..];
    let timeout_now = sent.iter().position(|m| is_timeout_now_to(m, 3)).expect("TimeoutNow");
    let caught_up = sent.iter().position(|m| {
        m.from == n(3) && matches!(m.body, Body::AppendEntriesResponse { success: true, index, .. } if index == last)
    });
    assert!(caught_up.is_some_and(|at| at < timeout_now), "{caught_up:?} vs {timeout_now}");
    assert_eq!(cluster.leader(), Some(3));
    assert_eq!(cluster.node(3).term(), term.next());
    assert!(cluster.node(3).last_index() > last, "n3 kept every entry and added its no-op");
}

#[test]
fn invalid_transfers_are_refused() {
    // Thesis §3.10: only the leader transfers, and only to another voter.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    let not_leader = Err(TransferError::NotLeader { leader_hint: Some(n(1)) });
    assert_eq!(cluster.node_mut(2).transfer_leader(n(3)), not_leader);
    assert_eq!(cluster.node_mut(1).transfer_leader(n(1)), Err(TransferError::AlreadyLeader(n(1))));
    assert_eq!(cluster.node_mut(1).transfer_leader(n(9)), Err(TransferError::NotVoter(n(9))));
}

#[test]
fn timeout_now_from_a_non_leader_is_ignored() {
    // Thesis §3.10: only the current leader may make a follower skip its election timeout.
    let mut cluster = Cluster::new(3);
    let term = cluster.elect(1);
    let forged = Message { from: n(3), to: n(2), term, body: Body::TimeoutNow };
    cluster.queue.push_back(forged);
    cluster.deliver_all();
    assert_eq!(cluster.node(2).term(), term);
    assert_eq!(cluster.leader(), Some(1));
}
