//! Configuration precedence, file formats and validation messages.

use std::io::Write;
use std::time::Duration;

use synod_core::NodeId;
use synod_node::config::{ConfigError, FileConfig, NodeConfig, Overrides};

fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    (dir, path)
}

const YAML: &str = "
consensus:
  node_id: n1
  bind_address: 127.0.0.1:7001
  peers:
    - {address: 127.0.0.1:7002, weight: 1}
    - {address: 127.0.0.1:7003, weight: 2}
  protocol: {type: raft, timeout: 5s, retries: 3}
  security: {tls_enabled: true, cert_file: n1.crt, key_file: n1.key, ca_file: ca.crt}
  fault_tolerance: {failure_detector: phi_accrual, suspect_threshold: 8, heartbeat_interval: 1s}
";

#[test]
fn the_documented_yaml_shape_loads() {
    let (_dir, path) = write("synod.yaml", YAML);
    let config =
        NodeConfig::resolve(FileConfig::read(&path).unwrap(), Overrides::default()).unwrap();
    assert_eq!(config.node_id, NodeId(1));
    assert_eq!(config.peers.len(), 2);
    assert_eq!(config.peers[1].weight, 2);
    assert_eq!(config.request_timeout, Duration::from_secs(5));
    assert_eq!(config.retries, 3);
    assert_eq!(config.tls.unwrap().ca, std::path::PathBuf::from("ca.crt"));
    assert_eq!(config.suspect_threshold, 8.0);
    assert_eq!(config.detector_heartbeat_interval, Duration::from_secs(1));
}

#[test]
fn the_same_shape_loads_from_toml() {
    let toml = r#"
[consensus]
node_id = 2
bind_address = "127.0.0.1:7002"
peers = [{ address = "127.0.0.1:7001", weight = 1 }]
protocol = { type = "raft", timeout = "2s", retries = 1 }
"#;
    let (_dir, path) = write("synod.toml", toml);
    let config =
        NodeConfig::resolve(FileConfig::read(&path).unwrap(), Overrides::default()).unwrap();
    assert_eq!(config.node_id, NodeId(2));
    assert_eq!(config.request_timeout, Duration::from_secs(2));
    assert!(config.tls.is_none());
}

#[test]
fn flags_and_environment_override_the_file() {
    let (_dir, path) = write("synod.yaml", YAML);
    let overrides = Overrides {
        node_id: Some("7".into()),
        peers: Some("n8=127.0.0.1:7008, 127.0.0.1:7009".into()),
        ..Overrides::default()
    };
    let config = NodeConfig::resolve(FileConfig::read(&path).unwrap(), overrides).unwrap();
    assert_eq!(config.node_id, NodeId(7));
    assert_eq!(config.peers[0].id, Some(NodeId(8)));
    assert_eq!(config.peers[1].id, None);
}

fn error_of(yaml: &str) -> String {
    let (_dir, path) = write("bad.yaml", yaml);
    match FileConfig::read(&path) {
        Err(e) => e.to_string(),
        Ok(file) => NodeConfig::resolve(file, Overrides::default()).unwrap_err().to_string(),
    }
}

#[test]
fn validation_errors_name_the_field_and_the_reason() {
    let e = error_of("consensus: {node_id: n1, peers: [{address: nowhere}]}");
    assert_eq!(e, "consensus.peers[0].address: 'nowhere' is not an address of the form IP:PORT");
    let e = error_of("consensus: {node_id: n0}");
    assert_eq!(e, "consensus.node_id: node id 0 is reserved");
    let e = error_of("consensus: {node_id: 1, protocol: {type: paxos9}}");
    assert!(e.starts_with("consensus.protocol.type: 'paxos9' is not supported"), "{e}");
    let e = error_of("consensus: {node_id: 1, security: {tls_enabled: true}}");
    assert_eq!(e, "consensus.security.cert_file: required when TLS is enabled");
    let e = error_of(
        "consensus: {node_id: 1, protocol: {election_timeout: 300ms, heartbeat_interval: 200ms}}",
    );
    assert!(e.starts_with("consensus.protocol.heartbeat_interval:"), "{e}");
    let e = error_of("consensus: {}");
    assert!(e.starts_with("consensus.node_id: required"), "{e}");
}

#[test]
fn unknown_keys_and_bad_syntax_are_refused_with_the_location() {
    let e = error_of("consensus: {node_id: 1, bind_adress: 127.0.0.1:1}");
    assert!(e.contains("unknown field `bind_adress`"), "{e}");
    let e = error_of("consensus: [");
    assert!(e.starts_with("config file"), "{e}");
    let (_dir, path) = write("synod.ini", "x");
    assert!(matches!(FileConfig::read(&path), Err(ConfigError::Malformed { .. })));
    let missing = FileConfig::read(std::path::Path::new("/nonexistent/synod.yaml")).unwrap_err();
    assert!(missing.to_string().starts_with("cannot read config file /nonexistent/synod.yaml"));
}
