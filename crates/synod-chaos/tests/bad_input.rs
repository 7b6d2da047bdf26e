//! Bad input from clients and peers: malformed gRPC, oversized keys and
//! values, unknown node ids, certificates from another CA. Each gets a
//! clear error, no node dies, and the cluster still serves a write.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{assert_serves_a_write, bounded, ELECTION_TIMEOUT};
use prost::Message as _;
use synod_chaos::cluster::{free_local_address, make_certs, Cluster, ClusterOptions};
use synod_chaos::process::{Launch, NodeProcess};
use synod_chaos::raw;
use synod_client::{Client, ClientError, ClientOptions};
use synod_core::raft::{Body, Message};
use synod_core::{NodeId, Term};
use synod_proto::kv::v1::PutRequest;
use synod_proto::raft::v1::raft_transport_client::RaftTransportClient;
use synod_proto::raft::v1::MessageBatch;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

const STEP: Duration = Duration::from_secs(5);
const PUT: &str = "/synod.kv.v1.Kv/Put";

/// Every node is still running and the cluster takes a write.
async fn assert_unharmed(cluster: &Cluster, after: &str) {
    cluster.check_alive().unwrap_or_else(|e| panic!("after {after}: {e}"));
    assert_serves_a_write(cluster, &format!("after/{after}")).await;
}

/// gRPC's wire contract (grpc/PROTOCOL-HTTP2.md): every call ends with a
/// status; a server never crashes on a malformed request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_grpc_requests_get_an_error_status() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let address = cluster.node(leader).grpc;
        let empty_key = PutRequest { key: Bytes::new(), value: Bytes::from_static(b"v") };
        let cases: Vec<(&str, &str, &str, Bytes)> = vec![
            ("garbage protobuf", PUT, "application/grpc", raw::message(&[0xff; 32])),
            ("frame longer than its body", PUT, "application/grpc", raw::frame(false, 100, b"abc")),
            (
                "frame over the 4 MiB limit",
                PUT,
                "application/grpc",
                raw::frame(false, 5 << 20, b""),
            ),
            (
                "compressed flag, no encoding",
                PUT,
                "application/grpc",
                raw::frame(true, 2, &[0x0a, 0]),
            ),
            ("empty key", PUT, "application/grpc", raw::message(&empty_key.encode_to_vec())),
            ("unknown method", "/synod.kv.v1.Kv/Explode", "application/grpc", raw::message(b"")),
            ("unknown service", "/no.such.v1.Service/Call", "application/grpc", raw::message(b"")),
            ("wrong content type", PUT, "text/plain", Bytes::from_static(b"hello")),
            (
                "garbage on the Raft stream",
                "/synod.raft.v1.RaftTransport/Stream",
                "application/grpc",
                raw::message(&[0xde, 0xad, 0xbe, 0xef]),
            ),
        ];
        for (name, path, content_type, body) in cases {
            let reply = raw::call(address, path, content_type, body, STEP)
                .await
                .unwrap_or_else(|e| panic!("{name}: no answer: {e}"));
            cluster.phase(&format!(
                "{name}: HTTP {} grpc-status {:?} {:?}",
                reply.http_status, reply.grpc_status, reply.grpc_message
            ));
            let refused = reply.grpc_status.is_some_and(|s| s != 0) || reply.http_status >= 400;
            assert!(refused, "{name} was not refused: {reply:?}");
            if name == "empty key" {
                assert_eq!(reply.grpc_status, Some(3), "INVALID_ARGUMENT: {reply:?}");
                assert!(reply.grpc_message.contains("key is empty"), "{reply:?}");
            }
            assert_unharmed(&cluster, &name.replace(' ', "-")).await;
        }
    })
    .await;
}

/// The Kv service's limits (`KvLimits`: keys up to 4 KiB, values up to
/// 1.5 MiB) and the transport's 4 MiB message limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_keys_and_values_are_refused_clearly() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let client = cluster.client();
        let cases: Vec<(&str, Vec<u8>, Vec<u8>, &str)> = vec![
            ("value of 1.6 MiB", b"big/v".to_vec(), vec![7u8; 1600 * 1024], "over the limit"),
            ("key of 5,000 bytes", vec![b'k'; 5000], b"v".to_vec(), "over the limit"),
            ("message of 5 MiB", b"big/m".to_vec(), vec![7u8; 5 << 20], "message length too large"),
        ];
        for (name, key, value, expected) in cases {
            let outcome = client.put(&key, &value).await;
            cluster.phase(&format!("{name}: {outcome:?}"));
            match outcome {
                Err(ClientError::Invalid(m)) | Err(ClientError::Server(m)) => {
                    assert!(m.contains(expected), "{name}: unclear error {m:?}")
                }
                other => panic!("{name}: expected a refusal, got {other:?}"),
            }
            assert_unharmed(&cluster, &name.replace(' ', "-")).await;
        }
        // A value exactly at the limit is fine.
        client.put(b"big/at-limit", &vec![1u8; 1536 * 1024]).await.unwrap();
    })
    .await;
}

/// Membership and transfer calls naming nodes that are not members, and
/// Raft batches addressed to the wrong node or cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_node_ids_are_refused_clearly() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let term = cluster.status(leader).await.unwrap().term;
        let client = cluster.client();

        let outcome = client.transfer_leader(99).await;
        cluster.phase(&format!("TransferLeader to n99: {outcome:?}"));
        assert!(
            matches!(&outcome, Err(ClientError::Invalid(m)) if m.contains("n99")),
            "{outcome:?}"
        );
        let outcome = client.remove_member(99).await;
        cluster.phase(&format!("RemoveMember n99: {outcome:?}"));
        assert!(
            matches!(&outcome, Err(ClientError::Invalid(m)) if m.contains("n99")),
            "{outcome:?}"
        );
        let outcome = client.add_member(0, "127.0.0.1:1", false).await;
        cluster.phase(&format!("AddMember n0: {outcome:?}"));
        assert!(matches!(&outcome, Err(ClientError::Invalid(m)) if m.contains("0")), "{outcome:?}");
        let outcome = client.add_member(7, "not-an-address", true).await;
        cluster.phase(&format!("AddMember n7 at a bad address: {outcome:?}"));
        assert!(matches!(&outcome, Err(ClientError::Invalid(_))), "{outcome:?}");
        assert_unharmed(&cluster, "membership-calls").await;

        let follower = cluster.ids().into_iter().find(|&id| id != leader).unwrap();
        for (name, cluster_id, from, to, expected) in [
            ("batch for n99", 1, follower, 99, "batch for n99"),
            ("batch of cluster 7", 7, follower, leader, "cluster_id is 7"),
            ("batch from n0", 1, 0, leader, "from is 0"),
        ] {
            let outcome = send_batch(&cluster, leader, cluster_id, from, to).await;
            cluster.phase(&format!("{name} to n{leader}: {outcome:?}"));
            assert!(matches!(&outcome, Err(m) if m.contains(expected)), "{name}: {outcome:?}");
        }
        assert_unharmed(&cluster, "raft-batches").await;
        let after = cluster.status(leader).await.unwrap();
        assert_eq!((after.leader_id, after.term), (leader, term), "the cluster was disrupted");
    })
    .await;
}

/// AddMember for a node that already is a member must be refused without
/// side effects: the existing member keeps receiving the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_add_member_of_an_existing_id_leaves_its_link_alone() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions::default()).await.unwrap();
        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let follower = cluster.ids().into_iter().find(|&id| id != leader).unwrap();
        let client = cluster.client();
        let outcome = client.add_member(follower, "127.0.0.1:1", true).await;
        cluster.phase(&format!("AddMember n{follower} (already a voter): {outcome:?}"));
        assert!(matches!(&outcome, Err(ClientError::Invalid(m)) if m.contains("already a member")));
        let revision = client.put(b"member/after", b"x").await.unwrap();
        cluster
            .wait_applied(follower, revision, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("n{follower} stopped receiving the log: {e}"));
    })
    .await;
}

/// Streams one batch with a TimeoutNow message to node `node`.
async fn send_batch(
    cluster: &Cluster,
    node: u64,
    cluster_id: u64,
    from: u64,
    to: u64,
) -> Result<(), String> {
    let msg = Message { from: NodeId(from), to: NodeId(to), term: Term(1), body: Body::TimeoutNow };
    let batch = MessageBatch::from_messages(cluster_id, NodeId(from), NodeId(to), [&msg]);
    let mut raft = RaftTransportClient::new(cluster.channel(node).await?);
    match tokio::time::timeout(STEP, raft.stream(tokio_stream::iter([batch]))).await {
        Err(_) => Err("no answer".into()),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(format!("{:?}: {}", status.code(), status.message())),
    }
}

/// A client with the given TLS settings, pointed at every node.
fn tls_client(cluster: &Cluster, tls: ClientTlsConfig) -> Client {
    let options = ClientOptions {
        timeout: Duration::from_secs(3),
        attempts_max: 3,
        retry_delay: Duration::from_millis(100),
        tls: Some(tls),
    };
    cluster.client_to(&cluster.ids(), options)
}

/// mTLS (ARCHITECTURE: "mTLS with rustls"): a cluster trusts only its own
/// CA. Clients and nodes with certificates of another CA get nowhere, and a
/// process impersonating member n2 with such a certificate cannot disturb
/// the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_another_ca_are_refused() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions { tls: true, ..ClusterOptions::default() })
            .await
            .unwrap();
        let leader = cluster.leader(ELECTION_TIMEOUT).await.unwrap();
        let term = cluster.status(leader).await.unwrap().term;
        let own = cluster.client_certs().unwrap().clone();
        let foreign = cluster.root().join("foreign");
        make_certs(&foreign, &[2], &["intruder"]).unwrap();
        let pem = |p: &std::path::Path| std::fs::read(p).unwrap();
        let intruder_identity = || {
            Identity::from_pem(
                pem(&foreign.join("intruder.crt")),
                pem(&foreign.join("intruder.key")),
            )
        };
        let cases = [
            (
                "client certificate of another CA",
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(pem(&own.ca)))
                    .identity(intruder_identity())
                    .domain_name("localhost"),
            ),
            (
                "client that trusts another CA",
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(pem(&foreign.join("ca.crt"))))
                    .identity(Identity::from_pem(pem(&own.cert), pem(&own.key)))
                    .domain_name("localhost"),
            ),
            (
                "client without a certificate",
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(pem(&own.ca)))
                    .domain_name("localhost"),
            ),
        ];
        for (name, tls) in cases {
            let outcome = tls_client(&cluster, tls).put(b"tls/intruder", b"x").await;
            cluster.phase(&format!("{name}: {outcome:?}"));
            assert!(outcome.is_err(), "{name} could write");
            assert_unharmed(&cluster, &name.replace(' ', "-")).await;
        }

        cluster.phase("a process with another CA's certificate for n2 dials n1 and n3");
        let intruder = start_intruder(&cluster, &foreign).unwrap();
        for round in 0..8 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let status = cluster.status(leader).await.unwrap();
            assert_eq!(
                (status.leader_id, status.term),
                (leader, term),
                "disrupted in round {round}"
            );
            assert_unharmed(&cluster, &format!("intruder-{round}")).await;
        }
        let health = synod_chaos::observe::http_get(intruder.http, "/health").await;
        cluster.phase(&format!("intruder's /health: {health:?}"));
        assert!(!matches!(health, Ok((200, _))), "the intruder found a leader: {health:?}");
        let refusals: Vec<String> = intruder
            .log_tail(400)
            .lines()
            .filter(|l| {
                l.contains("certificate")
                    || l.contains("UnknownIssuer")
                    || l.contains("connect failed")
            })
            .take(2)
            .map(str::to_string)
            .collect();
        cluster.phase(&format!("intruder's log: {refusals:?}"));
        drop(intruder);

        cluster.phase("a node whose certificate is not signed by the CA it names does not start");
        let mixed = run_mixed_node(&cluster, &foreign).await;
        cluster.phase(&format!("mixed node: {mixed}"));
        assert!(mixed.contains("not signed by the CA"), "{mixed}");
        assert_unharmed(&cluster, "mixed-node").await;
    })
    .await;
}

/// Starts `synod node start --node-id n2` with the foreign CA's material,
/// pointed at the real n1 and n3.
fn start_intruder(cluster: &Cluster, foreign: &std::path::Path) -> Result<NodeProcess, String> {
    let (grpc, http) = (free_local_address()?, free_local_address()?);
    let peers = format!("n1={},n3={}", cluster.endpoint(1), cluster.endpoint(3));
    let data_dir = cluster.root().join("intruder-data");
    let args = [
        "node".into(),
        "start".into(),
        "--node-id".into(),
        "n2".into(),
        "--bind-address".into(),
        grpc.to_string().into(),
        "--http-address".into(),
        http.to_string().into(),
        "--peers".into(),
        peers.into(),
        "--data-dir".into(),
        data_dir.clone().into_os_string(),
        "--tls-cert".into(),
        foreign.join("n2.crt").into_os_string(),
        "--tls-key".into(),
        foreign.join("n2.key").into_os_string(),
        "--tls-ca".into(),
        foreign.join("ca.crt").into_os_string(),
    ];
    let launch = Launch {
        binary: cluster.binary().to_path_buf(),
        args: args.into(),
        log: cluster.root().join("intruder.log"),
        log_filter: Some("warn,synod_node=debug".into()),
    };
    let process = NodeProcess::new(2, grpc, http, data_dir, launch);
    process.start()?;
    Ok(process)
}

/// Runs a node with another CA's certificate but this cluster's CA file;
/// returns how it ended and the end of its output (bounded wait).
async fn run_mixed_node(cluster: &Cluster, foreign: &std::path::Path) -> String {
    let own_ca = cluster.client_certs().unwrap().ca.clone();
    let (grpc, http) = (free_local_address().unwrap(), free_local_address().unwrap());
    let data_dir = cluster.root().join("mixed-data");
    let args = [
        "node".into(),
        "start".into(),
        "--node-id".into(),
        "n2".into(),
        "--bind-address".into(),
        grpc.to_string().into(),
        "--peers".into(),
        format!("n1={}", cluster.endpoint(1)).into(),
        "--data-dir".into(),
        data_dir.clone().into_os_string(),
        "--tls-cert".into(),
        foreign.join("n2.crt").into_os_string(),
        "--tls-key".into(),
        foreign.join("n2.key").into_os_string(),
        "--tls-ca".into(),
        own_ca.into_os_string(),
    ];
    let launch = Launch {
        binary: cluster.binary().to_path_buf(),
        args: args.into(),
        log: cluster.root().join("mixed.log"),
        log_filter: None,
    };
    let process = NodeProcess::new(2, grpc, http, data_dir, launch);
    process.start().unwrap();
    for _ in 0..100 {
        if let Some(reason) = process.exited() {
            return format!("{reason}: {}", process.log_tail(3));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    format!("still running after 10 s: {}", process.log_tail(3))
}

/// A refused TLS handshake certainly had no effect, and its error should
/// say what was wrong with the certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_refusals_are_certain_and_name_the_certificate_problem() {
    bounded(async {
        let cluster = Cluster::start(ClusterOptions { tls: true, ..ClusterOptions::default() })
            .await
            .unwrap();
        let own = cluster.client_certs().unwrap().clone();
        let pem = |p: &std::path::Path| std::fs::read(p).unwrap();
        let no_identity = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pem(&own.ca)))
            .domain_name("localhost");
        let outcome = tls_client(&cluster, no_identity).put(b"tls/anonymous", b"x").await;
        cluster.phase(&format!("client without a certificate: {outcome:?}"));
        match outcome {
            Err(ClientError::Unreachable(m)) | Err(ClientError::Invalid(m)) => {
                assert!(m.to_lowercase().contains("certificate"), "unclear: {m}")
            }
            other => panic!("expected a certain refusal naming the certificate, got {other:?}"),
        }
    })
    .await;
}
