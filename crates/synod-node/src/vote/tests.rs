//! The vote state inside the node's state machine: identical replicas,
//! recovery from the KV store, snapshots, refusals that write nothing.

use synod_core::raft::{Entry, EntryPayload, Snapshot, SnapshotMeta};
use synod_core::vote::{Outcome, Proposal, ProposalId, Vote};
use synod_core::{LogIndex, NodeId, Term, Time};
use synod_store::KvStore;

use super::{Refusal, VoteCommand};
use crate::machine::{Applied, NodeStateMachine};
use crate::StateMachine;

fn machine(dir: &std::path::Path, name: &str) -> NodeStateMachine {
    NodeStateMachine::new(KvStore::open(&dir.join(name)).unwrap()).unwrap()
}

fn entry(index: u64, bytes: Vec<u8>) -> Entry {
    Entry { term: Term(1), index: LogIndex(index), payload: EntryPayload::Command(bytes.into()) }
}

fn create(id: &str, kind: &str, quarantine: Option<&str>) -> VoteCommand {
    let voters = [NodeId(1), NodeId(2), NodeId(3)];
    let proposal = Proposal::new(id, NodeId(1), kind, "quorum", voters, Time(1_000));
    VoteCommand::Create { proposal, quarantine_id: quarantine.map(String::from) }
}

fn cast(id: &str, vote: Vote, at: u64) -> VoteCommand {
    VoteCommand::Cast { id: ProposalId::from(id), vote, at: Time(at) }
}

/// A history touching every command: approval, rejection with
/// quarantine, expiry, refusals, manual quarantine changes.
fn history() -> Vec<Vec<u8>> {
    let commands = [
        create("a", "deploy", None),
        cast("a", Vote::approve(NodeId(1)), 1_100),
        cast("a", Vote::approve(NodeId(1)), 1_150), // refused: already voted
        cast("a", Vote::approve(NodeId(2)), 1_200), // decides
        create("b", "commit", Some("sha-b")),
        cast("b", Vote::reject(NodeId(2)), 1_300),
        cast("b", Vote::reject(NodeId(3)), 1_400), // rejects, quarantines sha-b
        create("c", "commit", Some("sha-c")),
        VoteCommand::Expire { id: "c".into(), at: Time(5_000) }, // too early: refused
        VoteCommand::Expire { id: "c".into(), at: Time(31_000) },
        VoteCommand::QuarantineAdd {
            id: "v1.2".into(),
            reason: "by hand".into(),
            at: Time(40_000),
        },
        VoteCommand::QuarantineRemove { id: "sha-b".into(), at: Time(41_000) },
        VoteCommand::QuarantineRemove { id: "never".into(), at: Time(42_000) },
    ];
    let mut bytes: Vec<Vec<u8>> = commands.iter().map(VoteCommand::encode).collect();
    bytes.insert(3, vec![super::VOTE_FORMAT, 0xff, 0xff]); // garbage with the vote byte
    bytes
}

fn apply_all(sm: &mut NodeStateMachine, log: &[Vec<u8>]) -> Vec<Applied> {
    let entries: Vec<Entry> =
        log.iter().enumerate().map(|(i, b)| entry(i as u64 + 1, b.clone())).collect();
    sm.apply(&entries).unwrap().into_iter().map(|(_, a)| a).collect()
}

fn dump(sm: &NodeStateMachine) -> Vec<(Vec<u8>, Vec<u8>, u64)> {
    let all = sm.store().range(b"", 0).unwrap();
    all.into_iter().map(|kv| (kv.key, kv.value, kv.mod_revision)).collect()
}

#[test]
fn replicas_applying_the_same_log_hold_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let (mut one, mut two) = (machine(dir.path(), "1.redb"), machine(dir.path(), "2.redb"));
    let log = history();
    // One replica applies the log in a single batch, the other entry by entry.
    apply_all(&mut one, &log);
    for (i, bytes) in log.iter().enumerate() {
        two.apply(&[entry(i as u64 + 1, bytes.clone())]).unwrap();
    }
    assert_eq!(dump(&one), dump(&two));
    let decided: Vec<_> = one.votes().list().map(|s| s.record.decision.unwrap().outcome).collect();
    assert_eq!(decided, [Outcome::Approved, Outcome::Rejected, Outcome::Timeout]);
    let quarantined: Vec<_> = one.votes().quarantine().keys().cloned().collect();
    assert_eq!(quarantined, ["v1.2"]);
    assert_eq!(one.votes().stats().total.decided(), 3);
}

#[test]
fn refusals_write_nothing_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut sm = machine(dir.path(), "sm.redb");
    let outputs = apply_all(&mut sm, &history());
    let refusal = |i: usize| match &outputs[i] {
        Applied::Vote(Err(refusal)) => refusal.to_string(),
        other => panic!("entry {} was not refused: {other:?}", i + 1),
    };
    assert!(refusal(2).contains("already voted"));
    assert!(matches!(&outputs[3], Applied::Vote(Err(Refusal::Malformed(_)))));
    assert!(refusal(9).contains("deadline"));
    // Refused entries leave only the applied index behind: no key has
    // their revision.
    for revision in [3, 4, 10, 14] {
        assert!(dump(&sm).iter().all(|(_, _, r)| *r != revision), "revision {revision}");
    }
    assert!(matches!(&outputs[13], Applied::Vote(Ok(done)) if !done.changed));
}

#[test]
fn the_book_is_rebuilt_from_the_store_and_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let log = history();
    let (state, snapshot) = {
        let mut sm = machine(dir.path(), "sm.redb");
        apply_all(&mut sm, &log[..6]);
        (dump(&sm), sm.snapshot().unwrap())
    };
    // Reopened: the open proposal "b" is still open and takes votes.
    let mut reopened = machine(dir.path(), "sm.redb");
    assert_eq!(dump(&reopened), state);
    let b = reopened.votes().get(&"b".into()).unwrap();
    assert!(b.record.is_open());
    assert_eq!(b.quarantine_id.as_deref(), Some("sha-b"));
    let rest: Vec<Entry> =
        log[6..].iter().enumerate().map(|(i, b)| entry(i as u64 + 7, b.clone())).collect();
    reopened.apply(&rest).unwrap();

    // A fresh replica restored from the snapshot then fed the rest of the
    // log ends up identical.
    let mut restored = machine(dir.path(), "restored.redb");
    let meta = SnapshotMeta { index: LogIndex(6), term: Term(1), ..SnapshotMeta::default() };
    restored.restore(&Snapshot { meta, data: snapshot }).unwrap();
    restored.apply(&rest).unwrap();
    assert_eq!(dump(&restored), dump(&reopened));
    assert_eq!(restored.votes().stats(), reopened.votes().stats());
}

#[test]
fn events_follow_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut sm = machine(dir.path(), "sm.redb");
    let mut events = sm.events().subscribe();
    apply_all(&mut sm, &history());
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push((e.revision, e.body.name(), e.kind));
    }
    let names: Vec<_> = seen.iter().map(|(r, n, _)| format!("{r} {n}")).collect();
    assert_eq!(
        names,
        [
            "1 ProposalCreated",
            "2 VoteCast",
            "5 VoteCast",
            "5 DecisionReached",
            "6 ProposalCreated",
            "7 VoteCast",
            "8 VoteCast",
            "8 DecisionReached",
            "8 QuarantineChanged",
            "9 ProposalCreated",
            "11 DecisionReached",
            "12 QuarantineChanged",
            "13 QuarantineChanged",
        ]
    );
    assert_eq!(seen[1].2, "deploy");
    assert_eq!(seen[8].2, "", "quarantine events have no kind");
}

mod random_histories {
    //! Random command histories — creates, votes (duplicates, strangers,
    //! late ones), expiries stamped by clocks of different leaders,
    //! quarantine changes — applied to a replica that restarts and
    //! installs a snapshot at random points, and to one that never does.

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use synod_core::vote::{Choice, Decision, ProposalId, Vote};
    use synod_core::{NodeId, Time};

    use super::*;

    fn command() -> impl Strategy<Value = VoteCommand> {
        let id = prop::sample::select(vec!["a", "b", "c"]);
        let who = (1u64..=4).prop_map(NodeId);
        let choice = prop::sample::select(vec![Choice::For, Choice::Against, Choice::Abstain]);
        prop_oneof![
            (id.clone(), prop::sample::select(vec!["quorum", "unanimous", "score"]), 0u64..40_000)
                .prop_map(|(id, algorithm, at)| {
                    let voters = [NodeId(1), NodeId(2), NodeId(3)];
                    let proposal =
                        Proposal::new(id, NodeId(1), "commit", algorithm, voters, Time(at))
                            .with_deadline_ms(10_000);
                    VoteCommand::Create { proposal, quarantine_id: Some(format!("sha-{id}")) }
                }),
            (id.clone(), who, choice, 0u8..=100, 0u64..60_000).prop_map(
                |(id, who, choice, score, at)| VoteCommand::Cast {
                    id: id.into(),
                    vote: Vote { score: Some(score), ..Vote::new(who, choice) },
                    at: Time(at),
                }
            ),
            (id.clone(), 0u64..60_000)
                .prop_map(|(id, at)| VoteCommand::Expire { id: id.into(), at: Time(at) }),
            (id, any::<bool>()).prop_map(|(id, add)| {
                let id = format!("sha-{id}");
                if add {
                    VoteCommand::QuarantineAdd { id, reason: "manual".into(), at: Time(1) }
                } else {
                    VoteCommand::QuarantineRemove { id, at: Time(1) }
                }
            }),
        ]
    }

    fn decisions(sm: &NodeStateMachine) -> BTreeMap<ProposalId, Decision> {
        sm.votes()
            .list()
            .filter_map(|s| Some((s.record.proposal.id.clone(), s.record.decision?)))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn restarts_and_snapshots_change_nothing_and_decisions_stand(
            log in prop::collection::vec(command(), 1..60),
            faults in prop::collection::vec((0usize..60, any::<bool>()), 0..5),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut steady = machine(dir.path(), "steady.redb");
            let mut replicas = 0;
            let mut file = String::from("faulty-0.redb");
            let mut faulty = machine(dir.path(), &file);
            let mut taken: BTreeMap<ProposalId, Decision> = BTreeMap::new();
            let entries: Vec<Entry> =
                log.iter().enumerate().map(|(i, c)| entry(i as u64 + 1, c.encode())).collect();
            for (i, e) in entries.iter().enumerate() {
                let one = std::slice::from_ref(e);
                let (a, b) = (steady.apply(one).unwrap(), faulty.apply(one).unwrap());
                prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "outputs differ at {}", i + 1);
                for &(_, restart) in faults.iter().filter(|(at, _)| *at == i) {
                    if restart {
                        // Applies since the last fsync may be lost; the
                        // driver replays the log from the applied index.
                        drop(faulty);
                        faulty = machine(dir.path(), &file);
                        faulty.apply(&entries[..=i]).unwrap();
                    } else {
                        let data = faulty.snapshot().unwrap();
                        // A new replica's empty store installs it.
                        replicas += 1;
                        file = format!("faulty-{replicas}.redb");
                        faulty = machine(dir.path(), &file);
                        let index = LogIndex(i as u64 + 1);
                        let meta = SnapshotMeta { index, term: Term(1), ..Default::default() };
                        faulty.restore(&Snapshot { meta, data }).unwrap();
                    }
                }
                // A decision, once taken, never changes.
                let now = decisions(&steady);
                for (id, first) in &taken {
                    prop_assert_eq!(now.get(id), Some(first), "decision on {} changed", id);
                }
                taken = now;
            }
            prop_assert_eq!(dump(&steady), dump(&faulty));
            prop_assert_eq!(decisions(&steady), decisions(&faulty));
            prop_assert_eq!(steady.votes().stats(), faulty.votes().stats());
            prop_assert_eq!(steady.votes().quarantine(), faulty.votes().quarantine());
            prop_assert_eq!(steady.votes().stats().total.decided() as usize, taken.len());
        }
    }
}
