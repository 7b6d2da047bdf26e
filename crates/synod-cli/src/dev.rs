//! `synod dev cluster`: a local cluster of real node processes on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use synod_core::NodeId;
use synod_node::tls;

use crate::endpoints::{dev_dir, dev_info_file, DevClusterInfo, TlsPaths};

#[derive(Subcommand)]
pub enum DevCommand {
    /// Start a local cluster on loopback; stops on Ctrl-C or SIGTERM.
    Cluster {
        /// Number of nodes.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=9))]
        nodes: u64,
        /// Directory for data, certificates and logs (default: $TMPDIR/synod-dev).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// gRPC port of the first node; node i listens on base+i-1, its HTTP on base+100+i-1.
        #[arg(long, default_value_t = 7001)]
        base_port: u16,
        /// Run without TLS.
        #[arg(long)]
        insecure: bool,
    },
}

struct Children(Vec<(u64, Child)>);

impl Drop for Children {
    /// Stops every node: SIGTERM, then SIGKILL after a grace period.
    fn drop(&mut self) {
        for (_, child) in &self.0 {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        }
        for (_, child) in &mut self.0 {
            for _ in 0..50 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub async fn run(cmd: DevCommand) -> anyhow::Result<ExitCode> {
    let DevCommand::Cluster { nodes, data_dir, base_port, insecure } = cmd;
    let dir = data_dir.unwrap_or_else(dev_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let certs = dir.join("certs");
    let client_tls = if insecure { None } else { Some(prepare_certs(&certs, nodes)?) };
    let grpc = |i: u64| format!("127.0.0.1:{}", base_port as u64 + i - 1);
    let http = |i: u64| format!("127.0.0.1:{}", base_port as u64 + 100 + i - 1);
    let peers: Vec<String> = (1..=nodes).map(|i| format!("n{i}={}", grpc(i))).collect();
    let exe = std::env::current_exe().context("locating the synod executable")?;
    let mut children = Children(Vec::new());
    for i in 1..=nodes {
        let log = std::fs::File::create(dir.join(format!("n{i}.log")))?;
        let mut command = Command::new(&exe);
        command
            .args(["node", "start", "--node-id", &format!("n{i}")])
            .args(["--bind-address", &grpc(i), "--http-address", &http(i)])
            .args(["--peers", &peers.join(",")])
            .arg("--data-dir")
            .arg(dir.join(format!("n{i}")))
            .env_remove("SYNOD_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if !insecure {
            let files = tls::files_for(&certs, &format!("n{i}"));
            command
                .arg("--tls-cert")
                .arg(&files.cert)
                .arg("--tls-key")
                .arg(&files.key)
                .arg("--tls-ca")
                .arg(&files.ca);
        }
        children.0.push((i, command.spawn().context("starting a node process")?));
    }
    let endpoints: Vec<String> = (1..=nodes).map(grpc).collect();
    let info = DevClusterInfo { endpoints: endpoints.clone(), tls: client_tls };
    std::fs::write(dev_info_file(&dir), toml::to_string(&info)?)?;
    let leader = wait_for_leader(&info, &mut children, &dir).await?;
    println!("synod dev cluster: {nodes} nodes, TLS {}", if insecure { "off" } else { "on" });
    for i in 1..=nodes {
        let mark = if leader == i { "  (leader)" } else { "" };
        println!("  n{i}  grpc {}  metrics http://{}/metrics{mark}", grpc(i), http(i));
    }
    println!("data, certificates and logs in {}", dir.display());
    println!("try:  synod kv put hello world && synod kv get hello && synod cluster status");
    println!("      synod crdt counter incr visits && synod cluster members");
    println!("      ID=$(synod vote propose --kind deploy --payload '{{\"version\":\"1.2\"}}') && synod vote cast $ID --for --as n1 && synod vote cast $ID --for --as n2 && synod vote wait $ID");
    println!("Ctrl-C stops the cluster.");
    tokio::select! {
        r = crate::node_cmd::wait_for_signal() => r?,
        code = watch_children(&mut children) => eprintln!("a node exited ({code}); stopping the cluster"),
    }
    drop(children);
    let _ = std::fs::remove_file(dev_info_file(&dir));
    println!("cluster stopped");
    Ok(ExitCode::SUCCESS)
}

fn prepare_certs(certs: &Path, nodes: u64) -> anyhow::Result<TlsPaths> {
    if !certs.join("ca.crt").exists() {
        tls::init_ca(certs)?;
    }
    for i in 1..=nodes {
        if !certs.join(format!("n{i}.crt")).exists() {
            tls::issue_node(certs, NodeId(i))?;
        }
    }
    if !certs.join("dev-client.crt").exists() {
        tls::issue_client(certs, "dev-client")?;
    }
    let files = tls::files_for(certs, "dev-client");
    Ok(TlsPaths { ca: files.ca, cert: files.cert, key: files.key })
}

async fn wait_for_leader(
    info: &DevClusterInfo,
    children: &mut Children,
    dir: &Path,
) -> anyhow::Result<u64> {
    let args = crate::endpoints::ConnectArgs {
        endpoints: Some(info.endpoints.join(",")),
        tls_ca: info.tls.as_ref().map(|p| p.ca.clone()),
        tls_cert: info.tls.as_ref().map(|p| p.cert.clone()),
        tls_key: info.tls.as_ref().map(|p| p.key.clone()),
        timeout: Duration::from_secs(2),
    };
    let client = args.client()?;
    for _ in 0..150 {
        for (i, child) in &mut children.0 {
            if let Ok(Some(status)) = child.try_wait() {
                anyhow::bail!(
                    "node n{i} exited ({status}); see {}",
                    dir.join(format!("n{i}.log")).display()
                );
            }
        }
        if let Ok(status) = client.status().await {
            if status.leader_id != 0 {
                return Ok(status.leader_id);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("no leader elected within 30 s; see the logs in {}", dir.display())
}

async fn watch_children(children: &mut Children) -> String {
    loop {
        for (i, child) in &mut children.0 {
            if let Ok(Some(status)) = child.try_wait() {
                return format!("n{i}: {status}");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
