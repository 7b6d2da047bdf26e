//! mTLS end to end: a cluster CA and its certificates in a temporary
//! directory, and tonic links over real sockets on 127.0.0.1. The service
//! is tonic-health, so these tests need no synod protocol code.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use synod_core::NodeId;
use synod_node::config::TlsFiles;
use synod_node::tls::{self, TlsError};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Server};
use tonic::{Code, Request, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use x509_parser::extensions::GeneralName;

/// Bound on each connect and each call.
const STEP: Duration = Duration::from_secs(10);

/// A CA in its own temporary directory, with node certificates n1 and n2
/// and the client certificate `alice`.
fn cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    tls::init_ca(dir.path()).unwrap();
    tls::issue_node(dir.path(), NodeId(1)).unwrap();
    tls::issue_node(dir.path(), NodeId(2)).unwrap();
    tls::issue_client(dir.path(), "alice").unwrap();
    dir
}

/// Serves grpc.health.v1 with `server_tls(files)`. With `claimed`, every
/// request is treated as a message claiming to come from that node.
async fn start_server(files: &TlsFiles, claimed: Option<NodeId>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let service = InterceptedService::new(health, move |request: Request<()>| {
        if let Some(node) = claimed {
            tls::check_peer_node_id(&request, node)?;
        }
        Ok(request)
    });
    let router =
        Server::builder().tls_config(tls::server_tls(files).unwrap()).unwrap().add_service(service);
    tokio::spawn(router.serve_with_incoming(TcpIncoming::from(listener)));
    addr
}

#[derive(Debug)]
enum Failure {
    Connect(String),
    Call(Status),
}

/// One health check over a fresh TLS channel, bounded in time.
async fn health_check(addr: SocketAddr, tls: ClientTlsConfig) -> Result<ServingStatus, Failure> {
    let attempt = async {
        let channel = Endpoint::from_shared(format!("https://{addr}"))
            .unwrap()
            .tls_config(tls)
            .map_err(|e| Failure::Connect(format!("{e:?}")))?
            .connect_timeout(STEP)
            .timeout(STEP)
            .connect()
            .await
            .map_err(|e| Failure::Connect(format!("{e:?}")))?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest { service: String::new() })
            .await
            .map_err(Failure::Call)?;
        Ok(response.into_inner().status())
    };
    tokio::time::timeout(STEP * 3, attempt).await.expect("health check did not finish in time")
}

fn pem_der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

#[tokio::test]
async fn a_client_with_a_certificate_from_the_cluster_ca_is_served() {
    let dir = cluster();
    let addr = start_server(&tls::files_for(dir.path(), "n1"), None).await;

    // --- a node dials the peer by its node id
    let node = tls::client_tls(&tls::files_for(dir.path(), "n2"), "n1").unwrap();
    assert_eq!(health_check(addr, node).await.unwrap(), ServingStatus::Serving);

    // --- a client that does not know the node id dials `localhost`
    let client = tls::client_tls(&tls::files_for(dir.path(), "alice"), "localhost").unwrap();
    assert_eq!(health_check(addr, client).await.unwrap(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let dir = cluster();
    let other = cluster();
    let addr = start_server(&tls::files_for(dir.path(), "n1"), None).await;

    // --- n2 of another cluster trusts our CA but presents its own CA's certificate
    let foreign = TlsFiles { ca: dir.path().join("ca.crt"), ..tls::files_for(other.path(), "n2") };
    // client_tls checks the material first and names the problem
    let err = tls::client_tls(&foreign, "n1").unwrap_err();
    assert!(err.to_string().contains("not signed by the CA"), "{err}");
    // so build the config by hand, as a misconfigured or hostile peer would
    let config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&foreign.ca).unwrap()))
        .identity(tonic::transport::Identity::from_pem(
            std::fs::read(&foreign.cert).unwrap(),
            std::fs::read(&foreign.key).unwrap(),
        ))
        .domain_name("n1");
    let result = health_check(addr, config).await;
    assert!(result.is_err(), "a foreign client certificate was served: {result:?}");

    // --- the server still serves its own cluster
    let node = tls::client_tls(&tls::files_for(dir.path(), "n2"), "n1").unwrap();
    assert_eq!(health_check(addr, node).await.unwrap(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let dir = cluster();
    let addr = start_server(&tls::files_for(dir.path(), "n1"), None).await;

    let config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(dir.path().join("ca.crt")).unwrap()))
        .domain_name("n1");
    let result = health_check(addr, config).await;
    assert!(result.is_err(), "a client without a certificate was served: {result:?}");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_rejected_by_the_client() {
    let dir = cluster();
    let other = cluster();
    let addr = start_server(&tls::files_for(other.path(), "n1"), None).await;

    let node = tls::client_tls(&tls::files_for(dir.path(), "n2"), "n1").unwrap();
    match health_check(addr, node).await {
        Err(Failure::Connect(e)) => assert!(e.contains("InvalidCertificate(UnknownIssuer)"), "{e}"),
        other => panic!("the client accepted a foreign server certificate: {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_is_not_the_expected_node_is_rejected_by_the_client() {
    let dir = cluster();
    let addr = start_server(&tls::files_for(dir.path(), "n1"), None).await;

    // n2 means to dial n3, but n1 answers at that address
    let node = tls::client_tls(&tls::files_for(dir.path(), "n2"), "n3").unwrap();
    match health_check(addr, node).await {
        Err(Failure::Connect(e)) => assert!(e.contains("NotValidForName"), "{e}"),
        other => panic!("the client accepted a certificate naming another node: {other:?}"),
    }
}

/// Collects the messages of WARN events.
#[derive(Clone, Default)]
struct WarnLog(Arc<Mutex<Vec<String>>>);

struct MessageField(String);

impl tracing::field::Visit for MessageField {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for WarnLog {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = MessageField(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push(message.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

// The issue: "a peer [...] that claims a node id other than its
// certificate's, is refused and the refusal is logged."
#[tokio::test]
async fn a_peer_claiming_another_node_id_is_refused_and_logged() {
    let log = WarnLog::default();
    // The test runtime has one thread: the server's tasks log to this subscriber.
    let _guard = tracing::subscriber::set_default(log.clone());
    let dir = cluster();
    let addr = start_server(&tls::files_for(dir.path(), "n1"), Some(NodeId(2))).await;

    // --- n2 claims n2: accepted
    let n2 = tls::client_tls(&tls::files_for(dir.path(), "n2"), "n1").unwrap();
    assert_eq!(health_check(addr, n2).await.unwrap(), ServingStatus::Serving);
    assert!(log.0.lock().unwrap().is_empty());

    // --- n1 claims n2: refused
    let n1 = tls::client_tls(&tls::files_for(dir.path(), "n1"), "n1").unwrap();
    match health_check(addr, n1).await {
        Err(Failure::Call(status)) => {
            assert_eq!(status.code(), Code::PermissionDenied);
            assert_eq!(status.message(), "peer certificate names n1 but the message claims n2");
        }
        other => panic!("n1 passed for n2: {other:?}"),
    }
    let logged = log.0.lock().unwrap().clone();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("peer certificate names n1 but the message claims n2"),
        "{logged:?}"
    );

    // --- a client certificate claims n2: refused
    let alice = tls::client_tls(&tls::files_for(dir.path(), "alice"), "n1").unwrap();
    match health_check(addr, alice).await {
        Err(Failure::Call(status)) => {
            assert_eq!(status.code(), Code::PermissionDenied);
            assert_eq!(status.message(), "peer certificate names alice but the message claims n2");
        }
        other => panic!("alice passed for n2: {other:?}"),
    }
}

#[test]
fn peer_identity_is_the_common_name_or_else_the_first_dns_name() {
    let dir = cluster();
    let name = |file: &str| tls::peer_identity_from_der(&pem_der(&dir.path().join(file)));
    assert_eq!(name("n1.crt").as_deref(), Some("n1"));
    assert_eq!(name("alice.crt").as_deref(), Some("alice"));
    assert!(name("ca.crt").unwrap().starts_with("synod cluster CA "));

    // no common name: the first DNS name
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["n7".into(), "other".into()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let cert = params.self_signed(&key).unwrap();
    assert_eq!(tls::peer_identity_from_der(cert.der()).as_deref(), Some("n7"));

    // not a certificate
    assert_eq!(tls::peer_identity_from_der(b"not a certificate"), None);
}

#[test]
fn node_and_client_certificates_carry_their_names_and_uses() {
    let dir = cluster();
    let der = pem_der(&dir.path().join("n1.crt"));
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let sans: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(dns) => format!("DNS:{dns}"),
            GeneralName::IPAddress(&[a, b, c, d]) => format!("IP:{}", IpAddr::from([a, b, c, d])),
            GeneralName::IPAddress(ip) => {
                format!("IP:{}", IpAddr::from(<[u8; 16]>::try_from(*ip).unwrap()))
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(sans, ["DNS:n1", "DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && eku.client_auth);

    let der = pem_der(&dir.path().join("alice.crt"));
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);

    #[cfg(unix)]
    for key in ["ca.key", "n1.key", "n2.key", "alice.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(key)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
}

#[test]
fn init_ca_refuses_to_overwrite_a_ca() {
    let dir = cluster();
    let before = std::fs::read(dir.path().join("ca.key")).unwrap();
    let err = tls::init_ca(dir.path()).unwrap_err();
    assert!(matches!(err, TlsError::CaExists { .. }), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("ca.key")).unwrap(), before);

    // one of the two files is enough to refuse
    std::fs::remove_file(dir.path().join("ca.key")).unwrap();
    assert!(matches!(tls::init_ca(dir.path()), Err(TlsError::CaExists { .. })));
}

#[test]
fn issuing_needs_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let err = tls::issue_node(dir.path(), NodeId(1)).unwrap_err();
    assert!(matches!(err, TlsError::CaMissing { .. }), "{err}");
    assert!(err.to_string().contains("synod certs init"), "{err}");
    assert!(matches!(tls::issue_node(dir.path(), NodeId(0)), Err(TlsError::InvalidName { .. })));
}

#[test]
fn issue_client_rejects_bad_names() {
    let dir = cluster();
    let long = "a".repeat(65);
    for (name, reason) in [
        ("", "must not be empty"),
        ("al ice", "character ' ' at position 3 is not allowed"),
        ("alice/../x", "character '/' at position 6 is not allowed"),
        ("élise", "character 'é' at position 1 is not allowed"),
        (long.as_str(), "is 65 characters long; at most 64 are allowed"),
        ("-alice", "must not start with '.' or '-'"),
        (".alice", "must not start with '.' or '-'"),
        ("ca", "reserved for the cluster CA"),
        ("n1", "looks like a node id"),
        ("7", "looks like a node id"),
    ] {
        let err = tls::issue_client(dir.path(), name).unwrap_err();
        assert!(matches!(err, TlsError::InvalidName { .. }), "{name}: {err}");
        assert!(err.to_string().contains(reason), "{name}: {err}");
    }
    for name in ["bob", "ops.team-1_x", "n1x", &"b".repeat(64)] {
        tls::issue_client(dir.path(), name).unwrap();
    }
}

#[test]
fn bad_tls_material_is_named_with_the_reason() {
    let dir = cluster();
    let other = cluster();
    let files = tls::files_for(dir.path(), "n1");

    // --- missing file
    let missing = TlsFiles { cert: dir.path().join("n9.crt"), ..files.clone() };
    let err = tls::server_tls(&missing).unwrap_err();
    assert_eq!(err.to_string(), format!("cannot read {}: file not found", missing.cert.display()));

    // --- not PEM
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "hello").unwrap();
    let err = tls::server_tls(&TlsFiles { key: junk.clone(), ..files.clone() }).unwrap_err();
    assert_eq!(err.to_string(), format!("{} holds no PEM private key", junk.display()));
    let err = tls::client_tls(&TlsFiles { ca: junk.clone(), ..files.clone() }, "n2").unwrap_err();
    assert_eq!(err.to_string(), format!("{} holds no PEM certificate", junk.display()));

    // --- key of another certificate
    let wrong_key = TlsFiles { key: dir.path().join("n2.key"), ..files.clone() };
    let err = tls::server_tls(&wrong_key).unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains("n2.key is not the private key"), "{err}");

    // --- certificate of another CA
    let foreign = TlsFiles { ca: files.ca.clone(), ..tls::files_for(other.path(), "n1") };
    let err = tls::server_tls(&foreign).unwrap_err();
    assert!(err.to_string().contains("not signed by the CA in"), "{err}");

    // --- bad server name
    let err = tls::client_tls(&files, "not a name").unwrap_err();
    assert!(matches!(err, TlsError::InvalidName { .. }), "{err}");
}
