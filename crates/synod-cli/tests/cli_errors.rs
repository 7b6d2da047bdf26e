//! Every failure of the `synod` command is one clear line on stderr and a
//! non-zero exit code.

use std::process::{Command, Output};

fn synod(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(args)
        .env_remove("SYNOD_ENDPOINTS")
        .env("SYNOD_DEV_DIR", "/nonexistent/synod-dev")
        .output()
        .expect("synod runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

#[test]
fn unreachable_cluster_is_one_line_and_exit_1() {
    let out = synod(&["kv", "get", "k", "--endpoints", "127.0.0.1:1", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: cluster unreachable: 127.0.0.1:1"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn no_endpoints_and_no_dev_cluster_says_how_to_start_one() {
    let out = synod(&["kv", "put", "k", "v"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no local dev cluster found") && err.contains("synod dev cluster"),
        "{err}"
    );
}

#[test]
fn bad_flags_are_usage_errors_with_exit_2() {
    let out = synod(&["kv", "put", "only-a-key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("required"), "{}", stderr(&out));
    let out = synod(&["bench", "kv", "--clients", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = synod(&["kv", "cas", "k", "new"]);
    assert_eq!(out.status.code(), Some(2), "cas needs --expect or --absent");
}

#[test]
fn invalid_node_config_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n.yaml");
    std::fs::write(&file, "consensus: {node_id: n1, peers: [{address: not-an-address}]}").unwrap();
    let out = synod(&["node", "start", "--config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: consensus.peers[0].address: 'not-an-address' is not an address of the form IP:PORT"
    );
    let out = synod(&["node", "start", "--node-id", "n0"]);
    assert_eq!(stderr(&out), "error: node_id: node id 0 is reserved");
}

#[test]
fn certificates_are_issued_and_bad_names_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(synod(&["certs", "init", "--dir", d]).status.success());
    let again = synod(&["certs", "init", "--dir", d]);
    assert_eq!(again.status.code(), Some(1), "the CA is never overwritten");
    assert!(synod(&["certs", "issue", "--node", "n1", "--dir", d]).status.success());
    assert!(dir.path().join("n1.crt").exists() && dir.path().join("n1.key").exists());
    let bad = synod(&["certs", "issue", "--client", "bad name", "--dir", d]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).starts_with("error: "), "{}", stderr(&bad));
    let bad = synod(&["certs", "issue", "--node", "x9", "--dir", d]);
    assert_eq!(bad.status.code(), Some(1));
}
