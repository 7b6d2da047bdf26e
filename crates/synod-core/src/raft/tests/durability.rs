//! The durability contract: what must be on disk before a message leaves
//! (Raft §5, Figure 2 "Persistent state ... updated on stable storage
//! before responding to RPCs"), and where followers send clients.

use super::super::{ProposeError, ReadError};
use super::*;

fn follower_n2() -> Raft {
    Raft::restart(config(2, &|c| c.pre_vote = false), durable(&[1, 2, 3], (0, None, 0), &[]))
}

fn sends(effects: &[Effect]) -> Vec<&Message> {
    effects.iter().filter_map(|e| if let Effect::Send(m) = e { Some(m) } else { None }).collect()
}

#[test]
fn vote_grant_is_sent_only_after_the_vote_is_persisted() {
    // Raft §5 (Figure 2): votedFor is persisted before responding; a grant that left before
    // the write could be followed, after a crash, by a second vote in the same term.
    let mut raft = follower_n2();
    let body = Body::RequestVote {
        last_log_index: LogIndex(0),
        last_log_term: Term(0),
        pre_vote: false,
        transfer: false,
    };
    raft.handle_message(Message { from: n(1), to: n(2), term: Term(1), body }, Time(5));
    let effects = raft.take_effects();
    let persist = PersistRequest {
        seq: 1,
        hard_state: Some(HardState { term: Term(1), vote: Some(n(1)), commit: LogIndex(0) }),
        snapshot: None,
        truncate_from: None,
        entries: vec![],
    };
    assert_eq!(
        effects,
        vec![Effect::Persist(persist), Effect::LeaderChanged { term: Term(1), leader: None }]
    );
    assert_eq!(raft.take_effects(), vec![], "still waiting for the write");
    raft.on_persisted(1, Time(6));
    let grant = Body::RequestVoteResponse { granted: true, pre_vote: false };
    let reply = Message { from: n(2), to: n(1), term: Term(1), body: grant };
    assert_eq!(raft.take_effects(), vec![Effect::Send(reply)]);
}

#[test]
fn append_ack_is_sent_only_after_the_entries_are_persisted() {
    // Raft §5 (Figure 2) and §5.3: a follower acknowledges entries only once they are
    // durable, since the leader counts the acknowledgement towards a commit.
    let mut raft = follower_n2();
    let body = Body::AppendEntries {
        prev_log_index: LogIndex(0),
        prev_log_term: Term(0),
        entries: entries(&[1, 1]),
        leader_commit: LogIndex(0),
        read_seq: 0,
    };
    raft.handle_message(Message { from: n(1), to: n(2), term: Term(1), body }, Time(5));
    let effects = raft.take_effects();
    assert!(sends(&effects).is_empty(), "ack left before the write: {effects:?}");
    let Some(Effect::Persist(req)) = effects.first() else { panic!("no persist: {effects:?}") };
    assert_eq!(req.entries, entries(&[1, 1]));
    assert_eq!(raft.persisted_index(), LogIndex(0));
    raft.on_persisted(req.seq, Time(6));
    assert_eq!(raft.persisted_index(), LogIndex(2));
    let effects = raft.take_effects();
    let acks = sends(&effects);
    assert_eq!(acks.len(), 1);
    assert!(matches!(
        acks[0].body,
        Body::AppendEntriesResponse { success: true, index: LogIndex(2), .. }
    ));
}

#[test]
fn candidate_counts_its_own_vote_only_once_persisted() {
    // Raft §5.2 with Figure 2: the candidate's vote for itself is persistent state too; a
    // single-server cluster becomes leader only after the write.
    let mut cluster = Cluster::new(1);
    cluster.manual_persist.insert(n(1));
    cluster.fire(1);
    assert_eq!(cluster.node(1).role(), Role::Candidate);
    assert_eq!(cluster.held[&n(1)][0].hard_state.map(|hs| hs.vote), Some(Some(n(1))));
    cluster.confirm_persists(1);
    assert!(cluster.node(1).is_leader());
}

#[test]
fn leader_counts_its_own_copy_only_once_persisted() {
    // Raft §5.3 with Figure 2: an entry is committed once durable on a majority, and the
    // leader's own unwritten copy is not durable.
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.manual_persist.insert(n(1));
    cluster.isolate(3);
    let index = cluster.propose(1, "x");
    cluster.deliver_all();
    assert_eq!(cluster.node(1).progress_of(n(2)).unwrap().0, index, "n2 acknowledged");
    assert!(cluster.node(1).commit_index() < index);
    cluster.confirm_persists(1);
    assert_eq!(cluster.node(1).commit_index(), index);
    assert_eq!(cluster.applied_indexes(1).last(), Some(&index.0));
}

#[test]
fn follower_refuses_commands_and_names_the_leader() {
    // Raft §8: clients reach the leader; a follower rejects a request and supplies the
    // most recent leader it has heard from.
    let mut cluster = Cluster::new(3);
    let no_leader = Err(ProposeError::NotLeader { leader_hint: None });
    assert_eq!(cluster.node_mut(2).propose(data("x")), no_leader);
    cluster.elect(1);
    let hint = Some(n(1));
    assert_eq!(
        cluster.node_mut(2).propose(data("x")),
        Err(ProposeError::NotLeader { leader_hint: hint })
    );
    assert_eq!(cluster.node_mut(3).read_index(1), Err(ReadError::NotLeader { leader_hint: hint }));
    let last = cluster.node(2).last_index();
    cluster.collect(2);
    assert_eq!(cluster.node(2).last_index(), last, "refusals change nothing");
}
