//! Three nodes (in one test process) serving the `Votes` API over gRPC on
//! loopback: proposals decided through the log and reported alike by
//! every node, refusals that record nothing, deadlines kept by the
//! leader, the quarantine list, events, statistics, and hooks.

use std::time::Duration;

use synod_core::NodeId;
use synod_node::config::{FileConfig, NodeConfig, Overrides};
use synod_node::hooks::{HookConfig, OutcomeFilter};
use synod_node::SynodNode;
use synod_proto::vote::v1 as pb;
use synod_proto::vote::v1::votes_client::VotesClient;
use tonic::transport::Channel;
use tonic::Code;

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
        probe_interval: Some(Duration::from_millis(200)),
        ..Overrides::default()
    };
    let mut file = FileConfig::default();
    file.consensus.protocol.election_timeout = Some(Duration::from_millis(300));
    file.consensus.protocol.heartbeat_interval = Some(Duration::from_millis(50));
    let marker = dir.join(format!("hook-n{}.log", i + 1));
    file.consensus.votes.hooks = vec![HookConfig::shell(
        "record",
        "commit",
        OutcomeFilter::Any,
        format!("echo \"$SYNOD_PROPOSAL_ID $SYNOD_OUTCOME\" >> {}", marker.display()),
    )];
    NodeConfig::resolve(file, overrides).unwrap()
}

async fn start(dir: &std::path::Path, n: usize) -> Vec<SynodNode> {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(SynodNode::start(config(dir, i, &ports)).await.unwrap());
    }
    nodes
}

async fn client(node: &SynodNode) -> VotesClient<Channel> {
    let channel =
        Channel::from_shared(format!("http://{}", node.grpc_address)).unwrap().connect().await;
    VotesClient::new(channel.unwrap())
}

/// The index of the node every node agrees leads.
async fn leader(nodes: &[SynodNode]) -> usize {
    for _ in 0..200 {
        let views: Vec<Option<NodeId>> = nodes.iter().map(|n| n.handle.leadership().1).collect();
        if let Some(Some(id)) = views.first() {
            if views.iter().all(|v| *v == Some(*id)) {
                return (id.0 - 1) as usize;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no leader agreed within 10 s");
}

fn propose(id: &str, algorithm: &str, participants: &[&str]) -> pb::ProposeRequest {
    pb::ProposeRequest {
        id: id.into(),
        kind: "commit".into(),
        payload: format!(r#"{{"commit":"sha-{id}"}}"#),
        algorithm: algorithm.into(),
        participants: participants.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn cast(id: &str, who: &str, choice: pb::Choice, score: Option<u32>) -> pb::CastRequest {
    pb::CastRequest {
        id: id.into(),
        choice: choice.into(),
        score,
        participant: who.into(),
        ..Default::default()
    }
}

async fn outcome_everywhere(nodes: &[SynodNode], id: &str) -> Vec<i32> {
    let mut outcomes = Vec::new();
    for node in nodes {
        let mut c = client(node).await;
        let waited = c.wait(pb::GetRequest { id: id.into() }).await;
        let info = waited.unwrap_or_else(|e| panic!("wait on {id}: {e}")).into_inner();
        outcomes.push(info.decision.expect("decided").outcome);
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_are_decided_once_and_alike_on_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start(dir.path(), 3).await;
    let l = leader(&nodes).await;
    let follower = (l + 1) % 3;
    let mut c = client(&nodes[l]).await;
    let mut watch = client(&nodes[follower])
        .await
        .watch(pb::WatchRequest { kind: "commit".into() })
        .await
        .unwrap()
        .into_inner();

    // Participants default to every live voting member.
    let created = c.propose(propose("c1", "score", &[])).await.unwrap().into_inner();
    assert_eq!(created.participants, ["n1", "n2", "n3"]);
    // Two high scores do not settle `score` yet (a third vote of 0 would
    // pull the average under 70); the third vote does.
    for who in ["n1", "n2"] {
        let cast = c.cast(cast("c1", who, pb::Choice::For, Some(90))).await.unwrap();
        assert!(cast.into_inner().decision.is_none());
    }
    let third = c.cast(cast("c1", "n3", pb::Choice::Against, Some(40))).await.unwrap();
    assert_eq!(third.into_inner().decision.unwrap().outcome, pb::Outcome::Approved as i32);
    assert_eq!(outcome_everywhere(&nodes, "c1").await, [pb::Outcome::Approved as i32; 3]);

    // A follower redirects writes to the leader.
    let err = client(&nodes[follower]).await.propose(propose("x", "quorum", &["n1"])).await;
    assert_eq!(err.unwrap_err().code(), Code::FailedPrecondition);

    // Duplicate, late and non-participant votes are refused.
    let dup = c.cast(cast("c1", "n1", pb::Choice::Against, Some(10))).await.unwrap_err();
    assert_eq!(dup.code(), Code::FailedPrecondition, "{dup:?}");
    let late = c.cast(cast("c1", "n2", pb::Choice::For, Some(90))).await.unwrap_err();
    assert!(late.message().contains("already decided"), "{late:?}");
    c.propose(propose("c2", "quorum", &["n1", "n2", "n3"])).await.unwrap();
    let stranger = c.cast(cast("c2", "agent-7", pb::Choice::For, None)).await.unwrap_err();
    assert!(stranger.message().contains("not a participant"), "{stranger:?}");
    let twice = c.cast(cast("c2", "n2", pb::Choice::Against, None)).await.unwrap();
    assert!(twice.into_inner().decision.is_none());
    let again = c.cast(cast("c2", "n2", pb::Choice::For, None)).await.unwrap_err();
    assert!(again.message().contains("already voted"), "{again:?}");
    // A rejected commit proposal quarantines its commit.
    let decided = c.cast(cast("c2", "n1", pb::Choice::Against, None)).await.unwrap();
    assert_eq!(decided.into_inner().decision.unwrap().outcome, pb::Outcome::Rejected as i32);
    let check = client(&nodes[l])
        .await
        .quarantine_check(pb::QuarantineCheckRequest { id: "sha-c2".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(check.quarantined, "{check:?}");
    assert_eq!(check.entry.unwrap().proposal_id, "c2");

    // The leader ends a vote at its deadline, with the partial tally.
    let mut short = propose("c3", "unanimous", &["n1", "n2", "n3"]);
    short.timeout_ms = 300;
    c.propose(short).await.unwrap();
    c.cast(cast("c3", "n3", pb::Choice::For, None)).await.unwrap();
    assert_eq!(outcome_everywhere(&nodes, "c3").await, [pb::Outcome::Timeout as i32; 3]);
    let info = c.get(pb::GetRequest { id: "c3".into() }).await.unwrap().into_inner();
    let tally = info.decision.unwrap().tally.unwrap();
    assert_eq!((tally.in_favor, tally.missing), (1, 2));
    let late = c.cast(cast("c3", "n1", pb::Choice::For, None)).await.unwrap_err();
    assert!(late.message().contains("already decided (timeout)"), "{late:?}");

    // Statistics agree with what happened.
    let stats = c.stats(pb::StatsRequest {}).await.unwrap().into_inner();
    let total = stats.total.unwrap();
    assert_eq!((total.proposals, total.approved, total.rejected, total.timeouts), (3, 1, 1, 1));
    assert_eq!(stats.by_algorithm["score"].approved, 1);

    // The follower's stream saw every event in log order.
    let mut names = Vec::new();
    while names.len() < 13 {
        let event = tokio::time::timeout(Duration::from_secs(5), watch.message())
            .await
            .expect("events keep coming")
            .unwrap()
            .unwrap();
        assert_eq!(event.node_id, (follower + 1) as u64);
        names.push(match event.event.unwrap() {
            pb::event::Event::ProposalCreated(p) => format!("created {}", p.id),
            pb::event::Event::VoteCast(v) => format!("vote {}", v.proposal_id),
            pb::event::Event::DecisionReached(d) => format!("decided {}", d.proposal_id),
            pb::event::Event::QuarantineChanged(q) => format!("quarantined {}", q.id),
        });
    }
    let expected = [
        "created c1",
        "vote c1",
        "vote c1",
        "vote c1",
        "decided c1",
        "created c2",
        "vote c2",
        "vote c2",
        "decided c2",
        "quarantined sha-c2",
        "created c3",
        "vote c3",
        "decided c3",
    ];
    assert_eq!(names, expected);

    // Every node ran its hook once per decision of kind commit.
    for i in 0..3 {
        let path = dir.path().join(format!("hook-n{}.log", i + 1));
        let mut lines = Vec::new();
        for _ in 0..100 {
            lines = std::fs::read_to_string(&path)
                .unwrap_or_default()
                .lines()
                .map(String::from)
                .collect();
            if lines.len() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lines.sort();
        assert_eq!(lines, ["c1 approved", "c2 rejected", "c3 timeout"], "node n{}", i + 1);
    }
    let runs = c.hook_runs(pb::HookRunsRequest { proposal_id: "c1".into() }).await.unwrap();
    let runs = runs.into_inner().runs;
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].status.as_str(), runs[0].exit_code), ("ok", Some(0)));

    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = start(dir.path(), 3).await;
    let l = leader(&nodes).await;
    let mut c = client(&nodes[l]).await;
    let first = c.propose(propose("open", "quorum", &["n1", "n2"])).await.unwrap().into_inner();
    // A retried create is answered with the first proposal, not a second.
    let retry = c.propose(propose("open", "quorum", &["n1", "n2"])).await.unwrap().into_inner();
    assert_eq!((retry.id, retry.created_at_ms), (first.id, first.created_at_ms));
    assert_eq!((retry.deadline_ms, retry.revision), (first.deadline_ms, first.revision));

    let with = |edit: &dyn Fn(&mut pb::ProposeRequest)| {
        let mut req = propose("bad", "quorum", &["n1", "n2"]);
        edit(&mut req);
        req
    };
    let params = |p: pb::Params| Some(p);
    let cases: Vec<(pb::ProposeRequest, &str)> = vec![
        (with(&|r| r.algorithm = "majority-ish".into()), "unknown algorithm"),
        (
            with(&|r| {
                r.params = params(pb::Params { threshold_percent: Some(150), ..Default::default() })
            }),
            "threshold",
        ),
        (
            with(&|r| {
                r.params =
                    params(pb::Params { threshold_percent: Some(1000), ..Default::default() })
            }),
            "threshold_percent is 1000",
        ),
        (
            with(&|r| {
                r.algorithm = "weighted".into();
                r.params = params(pb::Params {
                    weights: [("n1".to_string(), 2)].into_iter().collect(),
                    ..Default::default()
                });
            }),
            "n2 has no weight",
        ),
        (with(&|r| r.timeout_ms = 301_000), "300"),
        (with(&|r| r.payload = "{not json".into()), "not valid JSON"),
        (with(&|r| r.kind = String::new()), "kind"),
        (with(&|r| r.participants = vec!["n1".into(), "n1".into()]), "more than once"),
        (with(&|r| r.participants = vec!["bad name".into()]), "participant name"),
        (with(&|r| r.id = "open".into()), "open"),
        (with(&|r| r.payload = format!("\"{}\"", "x".repeat(70_000))), "payload"),
    ];
    for (req, expected) in cases {
        let err = c.propose(req.clone()).await.unwrap_err();
        assert!(matches!(err.code(), Code::InvalidArgument | Code::FailedPrecondition), "{err:?}");
        assert!(
            err.message().to_lowercase().contains(&expected.to_lowercase()),
            "{expected:?} not in {:?}",
            err.message()
        );
    }
    for (req, expected) in [
        (cast("open", "n1", pb::Choice::For, Some(101)), "score is 101"),
        (cast("open", "n1", pb::Choice::Unspecified, None), "choice is not set"),
        (cast("nope", "n1", pb::Choice::For, None), "unknown proposal"),
        (
            pb::CastRequest {
                reason: "r".repeat(5000),
                ..cast("open", "n1", pb::Choice::For, None)
            },
            "reason",
        ),
    ] {
        let err = c.cast(req).await.unwrap_err();
        assert!(err.message().to_lowercase().contains(&expected.to_lowercase()), "{err:?}");
    }
    for id in ["", "has space", &"q".repeat(300)] {
        let req = pb::QuarantineAddRequest { id: id.to_string(), reason: String::new() };
        assert_eq!(c.quarantine_add(req).await.unwrap_err().code(), Code::InvalidArgument);
    }

    // Nothing of the above was recorded.
    let list = c.list(pb::ListRequest::default()).await.unwrap().into_inner();
    assert_eq!(list.proposals.len(), 1);
    assert!(list.proposals[0].votes.is_empty());
    let stats = c.stats(pb::StatsRequest {}).await.unwrap().into_inner();
    assert_eq!(stats.total.unwrap().proposals, 1);
    let q = c.quarantine_list(pb::QuarantineListRequest {}).await.unwrap().into_inner();
    assert!(q.entries.is_empty());

    for node in nodes {
        node.shutdown().await;
    }
}
