//! [`Cluster`]: N `synod` processes on loopback whose node-to-node links
//! run through fault-injecting [`Proxy`]s, with the faults the scenarios
//! need: kill -9, restart, wipe, SIGSTOP/SIGCONT, isolation and healing.
//!
//! Topology: one proxy per directed link. Node i's `--peers` names every
//! other node j at the address of proxy (i→j), so everything i sends to j
//! (Raft traffic, and the clients it redirects to j) passes that proxy.
//! Clients dial the nodes' own ports. Data, certificates and logs live in
//! a temporary directory that is kept, and whose logs are printed, when
//! the test panics.
//!
//! Clusters in one test process run one at a time (a process-wide lock),
//! so parallel test threads do not fight over the machine's cores and
//! trigger elections of their own.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use synod_client::{Client, ClientOptions};
use tempfile::TempDir;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::binary::synod_binary;
use crate::process::{Launch, NodeProcess};
use crate::proxy::{LinkMode, Proxy};

/// Clusters of one test process run one after another.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How to run a cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Number of nodes (1..=9).
    pub nodes: u64,
    /// Mutual TLS on every link, with certificates from `synod certs`.
    pub tls: bool,
    /// `--snapshot-every` (needs a binary that has the flag; see
    /// [`binary_has_flag`]); `None` keeps the node's default.
    pub snapshot_every: Option<u64>,
    /// Minimum election timeout (config file `consensus.protocol`);
    /// `None` keeps the node's default (1 s).
    pub election_timeout: Option<Duration>,
    /// `SYNOD_LOG` of the nodes; `None` keeps the binary's default.
    pub log_filter: Option<String>,
    /// Seed of the proxies' random drops.
    pub seed: u64,
    /// Bound on the first election.
    pub start_timeout: Duration,
    /// `--gossip-interval` of the CRDT anti-entropy; `None` keeps the
    /// node's default (1 s).
    pub gossip_interval: Option<Duration>,
    /// `--probe-interval` of SWIM; `None` keeps the node's default (1 s).
    pub probe_interval: Option<Duration>,
    /// Seal SWIM datagrams with a cluster key written to `cluster.key`
    /// in the cluster's directory.
    pub cluster_key: bool,
    /// The body of the config file's `consensus.votes` section (YAML,
    /// unindented, e.g. `hooks:\n  - name: record ...`), written into a
    /// config file of each node. `{node}` stands for the node's name
    /// (`n2`) and `{data_dir}` for its data directory, so a hook can
    /// write beside its node's data. `None`: no `votes` section.
    pub votes_yaml: Option<String>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            nodes: 3,
            tls: false,
            snapshot_every: None,
            election_timeout: None,
            log_filter: None,
            seed: 1,
            start_timeout: Duration::from_secs(30),
            gossip_interval: None,
            probe_interval: None,
            cluster_key: false,
            votes_yaml: None,
        }
    }
}

/// Client certificate files of a TLS cluster.
#[derive(Clone, Debug)]
pub struct ClientCerts {
    /// The cluster CA.
    pub ca: PathBuf,
    /// The client certificate.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
}

impl ClientCerts {
    /// The tonic TLS settings of these files (server name `localhost`).
    pub fn tls_config(&self) -> Result<ClientTlsConfig, String> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        Ok(ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&self.ca)?))
            .identity(Identity::from_pem(read(&self.cert)?, read(&self.key)?))
            .domain_name("localhost"))
    }
}

/// A running cluster; dropping it kills every process and proxy.
#[derive(Debug)]
pub struct Cluster {
    dir: Option<TempDir>,
    root: PathBuf,
    binary: PathBuf,
    nodes: Vec<NodeProcess>,
    proxies: BTreeMap<(u64, u64), Proxy>,
    client_certs: Option<ClientCerts>,
    started: Instant,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

/// A free port on 127.0.0.1, held until the node binds it.
fn reserve_port() -> Result<TcpListener, String> {
    TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))
}

/// An address on 127.0.0.1 that was free a moment ago (for an extra process).
pub fn free_local_address() -> Result<SocketAddr, String> {
    reserve_port()?.local_addr().map_err(|e| e.to_string())
}

/// Whether `synod node start --help` lists `flag` (e.g. `--snapshot-every`).
pub fn binary_has_flag(flag: &str) -> Result<bool, String> {
    let binary = synod_binary()?;
    let out = Command::new(binary)
        .args(["node", "start", "--help"])
        .output()
        .map_err(|e| format!("synod node start --help: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).contains(flag))
}

/// Runs `synod <args>` to completion (certificates and the like).
pub fn run_synod(args: &[&str], dir: &Path) -> Result<String, String> {
    let binary = synod_binary()?;
    let out = Command::new(binary)
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("synod {args:?}: {e}"))?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("synod {args:?} failed ({}): {text}", out.status))
    }
}

/// Makes a CA in `dir` with node certificates for `nodes` and client
/// certificates for `clients`, all with `synod certs`.
pub fn make_certs(dir: &Path, nodes: &[u64], clients: &[&str]) -> Result<(), String> {
    run_synod(&["certs", "init"], dir)?;
    for id in nodes {
        run_synod(&["certs", "issue", "--node", &format!("n{id}")], dir)?;
    }
    for name in clients {
        run_synod(&["certs", "issue", "--client", name], dir)?;
    }
    Ok(())
}

impl Cluster {
    /// Builds (or finds) the binary, starts the proxies and the nodes, and
    /// waits for the first leader.
    pub async fn start(options: ClusterOptions) -> Result<Cluster, String> {
        assert!((1..=9).contains(&options.nodes), "1 to 9 nodes");
        let serial = SERIAL.lock().await;
        let binary = synod_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("synod-chaos-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let root = dir.path().to_path_buf();
        let ids: Vec<u64> = (1..=options.nodes).collect();
        let client_certs = if options.tls { Some(cluster_certs(&root, &ids)?) } else { None };
        let config = write_config(&root, &options)?;
        let mut votes_configs = BTreeMap::new();
        for &id in &ids {
            if let Some(path) = write_votes_config(&root, id, &options)? {
                votes_configs.insert(id, path);
            }
        }
        if options.cluster_key {
            let key: String =
                (0..32).map(|i| format!("{:02x}", (i * 37 + options.seed) as u8)).collect();
            std::fs::write(root.join("cluster.key"), key)
                .map_err(|e| format!("writing the cluster key: {e}"))?;
        }
        let mut reserved = BTreeMap::new();
        for &id in &ids {
            reserved.insert(id, (reserve_port()?, reserve_port()?));
        }
        let address = |l: &TcpListener| l.local_addr().map_err(|e| e.to_string());
        let mut grpc_ports = BTreeMap::new();
        for (&id, (grpc, _)) in &reserved {
            grpc_ports.insert(id, address(grpc)?);
        }
        let proxies = start_proxies(&grpc_ports, options.seed).await?;
        let mut nodes = Vec::new();
        for &id in &ids {
            let (grpc, http) = (address(&reserved[&id].0)?, address(&reserved[&id].1)?);
            let peers: Vec<String> = ids
                .iter()
                .filter(|&&j| j != id)
                .map(|&j| format!("n{j}={}", proxies[&(id, j)].address()))
                .collect();
            let swim_seeds: Vec<String> =
                ids.iter().filter(|&&j| j != id).map(|&j| grpc_ports[&j].to_string()).collect();
            let spec = NodeSpec {
                id,
                grpc,
                http,
                peers: peers.join(","),
                swim_seeds: swim_seeds.join(","),
                root: &root,
            };
            let config = votes_configs.get(&id).or(config.as_ref());
            let args = spec.args(&options, config.map(PathBuf::as_path));
            let launch = Launch {
                binary: binary.clone(),
                args,
                log: root.join(format!("n{id}.log")),
                log_filter: options.log_filter.clone(),
            };
            nodes.push(NodeProcess::new(id, grpc, http, spec.data_dir(), launch));
        }
        drop(reserved); // Free the ports just before the nodes bind them.
        let cluster = Cluster {
            dir: Some(dir),
            root,
            binary,
            nodes,
            proxies,
            client_certs,
            started: Instant::now(),
            _serial: serial,
        };
        for node in &cluster.nodes {
            node.start()?;
        }
        let tls = if options.tls { "on" } else { "off" };
        let root = cluster.root.display();
        cluster.phase(&format!("started {} nodes (TLS {tls}) in {root}", options.nodes));
        match cluster.leader(options.start_timeout).await {
            Ok(leader) => cluster.phase(&format!("first leader n{leader}")),
            Err(e) => return Err(format!("{e}\n{}", cluster.log_tails(30))),
        }
        Ok(cluster)
    }

    /// Prints `--- [elapsed] text` to stderr.
    pub fn phase(&self, text: &str) {
        eprintln!("--- [{:6.2}s] {text}", self.started.elapsed().as_secs_f64());
    }

    /// The cluster's temporary directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `synod` binary the nodes run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Node ids, 1..=N.
    pub fn ids(&self) -> Vec<u64> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// The process of node `id`.
    pub fn node(&self, id: u64) -> &NodeProcess {
        self.nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node n{id}"))
    }

    /// Node `id`'s gRPC address as a client endpoint.
    pub fn endpoint(&self, id: u64) -> String {
        self.node(id).grpc.to_string()
    }

    /// The proxy carrying what `from` sends to `to`.
    pub fn proxy(&self, from: u64, to: u64) -> &Proxy {
        &self.proxies[&(from, to)]
    }

    /// Every proxy, by (from, to).
    pub fn proxies(&self) -> &BTreeMap<(u64, u64), Proxy> {
        &self.proxies
    }

    /// Client TLS files, for a TLS cluster.
    pub fn client_certs(&self) -> Option<&ClientCerts> {
        self.client_certs.as_ref()
    }

    /// Options with this cluster's TLS filled in.
    pub fn client_options(&self, timeout: Duration, attempts_max: u32) -> ClientOptions {
        let tls = self.client_certs.as_ref().map(|c| c.tls_config().expect("client certificates"));
        ClientOptions { timeout, attempts_max, retry_delay: Duration::from_millis(100), tls }
    }

    /// A client of every node (3 s per call, up to 30 attempts).
    pub fn client(&self) -> Client {
        self.client_to(&self.ids(), self.client_options(Duration::from_secs(3), 30))
    }

    /// A client of the nodes `ids` only.
    pub fn client_to(&self, ids: &[u64], options: ClientOptions) -> Client {
        Client::new(ids.iter().map(|&id| self.endpoint(id)).collect(), options)
    }

    /// A client of node `id` alone that tries once: it never follows a
    /// redirect to another node.
    pub fn single_shot(&self, id: u64, timeout: Duration) -> Client {
        self.client_to(&[id], self.client_options(timeout, 1))
    }

    /// kill -9 of node `id`.
    pub fn kill9(&self, id: u64) {
        self.node(id).kill9();
    }

    /// Starts node `id` again with its arguments (and whatever its data
    /// directory holds).
    pub fn restart(&self, id: u64) -> Result<(), String> {
        self.node(id).start()
    }

    /// Deletes node `id`'s data directory; the node must be down.
    pub fn wipe(&self, id: u64) -> Result<(), String> {
        let node = self.node(id);
        if node.is_running() {
            return Err(format!("n{id} is running; kill it before wiping"));
        }
        match std::fs::remove_dir_all(&node.data_dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("wiping {}: {e}", node.data_dir.display())),
        }
    }

    /// SIGSTOP of node `id`: it keeps its sockets but runs nothing.
    pub fn sigstop(&self, id: u64) -> Result<(), String> {
        self.node(id).signal("STOP")
    }

    /// SIGCONT of node `id`.
    pub fn sigcont(&self, id: u64) -> Result<(), String> {
        self.node(id).signal("CONT")
    }

    /// Cuts every link to and from node `id` (clients still reach it).
    pub fn isolate(&self, id: u64) {
        self.isolate_with(id, LinkMode::Cut);
    }

    /// Isolates node `id` with `mode`: `Cut` resets its links (peers see
    /// errors at once), `Blackhole` swallows them (peers see silence until
    /// their keepalives give up).
    pub fn isolate_with(&self, id: u64, mode: LinkMode) {
        for ((from, to), proxy) in &self.proxies {
            if *from == id || *to == id {
                match mode {
                    LinkMode::Cut => proxy.cut(),
                    LinkMode::Blackhole => proxy.blackhole(),
                    LinkMode::Open => proxy.heal(),
                }
            }
        }
    }

    /// Adds `delay` to every chunk on every link and resets a link's
    /// connection with probability `drop_probability` per chunk.
    pub fn degrade_links(&self, delay: Duration, drop_probability: f64) {
        for proxy in self.proxies.values() {
            proxy.set_delay(delay);
            proxy.set_drop_probability(drop_probability);
        }
    }

    /// Removes every fault from every link.
    pub fn heal(&self) {
        for proxy in self.proxies.values() {
            proxy.heal();
        }
    }

    /// Fails with the node's log when a process died on its own.
    pub fn check_alive(&self) -> Result<(), String> {
        for node in &self.nodes {
            if let Some(reason) = node.exited() {
                return Err(format!("{reason}; log tail:\n{}", node.log_tail(30)));
            }
        }
        Ok(())
    }

    /// The last lines of every node's log.
    pub fn log_tails(&self, lines: usize) -> String {
        self.nodes
            .iter()
            .map(|n| format!("----- n{} ({})\n{}", n.id, n.launch.log.display(), n.log_tail(lines)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.kill9();
        }
        if std::thread::panicking() {
            eprintln!("{}", self.log_tails(40));
            if let Some(dir) = self.dir.take() {
                eprintln!("--- kept {} for inspection", dir.keep().display());
            }
        }
    }
}

/// A CA, node certificates for `ids` and the client `chaos-client`, in
/// `<root>/certs`.
fn cluster_certs(root: &Path, ids: &[u64]) -> Result<ClientCerts, String> {
    let certs = root.join("certs");
    make_certs(&certs, ids, &["chaos-client"])?;
    Ok(ClientCerts {
        ca: certs.join("ca.crt"),
        cert: certs.join("chaos-client.crt"),
        key: certs.join("chaos-client.key"),
    })
}

/// One proxy per directed link (from, to), forwarding to `to`'s gRPC port.
async fn start_proxies(
    grpc: &BTreeMap<u64, SocketAddr>,
    seed: u64,
) -> Result<BTreeMap<(u64, u64), Proxy>, String> {
    let mut proxies = BTreeMap::new();
    for &from in grpc.keys() {
        for (&to, &target) in grpc.iter().filter(|(&to, _)| to != from) {
            let link_seed = seed.wrapping_mul(1000).wrapping_add(from * 10 + to);
            let proxy = Proxy::start(target, link_seed).await.map_err(|e| format!("proxy: {e}"))?;
            proxies.insert((from, to), proxy);
        }
    }
    Ok(proxies)
}

/// Where one node listens and whom it dials.
struct NodeSpec<'a> {
    id: u64,
    grpc: SocketAddr,
    http: SocketAddr,
    /// `n2=<proxy>,n3=<proxy>`.
    peers: String,
    /// The other nodes' own addresses: SWIM speaks UDP, which the TCP
    /// proxies do not carry, so membership goes direct.
    swim_seeds: String,
    root: &'a Path,
}

impl NodeSpec<'_> {
    fn data_dir(&self) -> PathBuf {
        self.root.join(format!("n{}", self.id))
    }

    /// Arguments of `synod node start` for this node.
    fn args(&self, options: &ClusterOptions, config: Option<&Path>) -> Vec<OsString> {
        let id = self.id;
        let mut args: Vec<OsString> = vec!["node".into(), "start".into()];
        let mut flag = |name: &str, value: OsString| args.extend([name.into(), value]);
        flag("--node-id", format!("n{id}").into());
        flag("--bind-address", self.grpc.to_string().into());
        flag("--http-address", self.http.to_string().into());
        flag("--peers", self.peers.clone().into());
        flag("--data-dir", self.data_dir().into());
        if options.tls {
            let certs = self.root.join("certs");
            flag("--tls-cert", certs.join(format!("n{id}.crt")).into());
            flag("--tls-key", certs.join(format!("n{id}.key")).into());
            flag("--tls-ca", certs.join("ca.crt").into());
        }
        if let Some(every) = options.snapshot_every {
            flag("--snapshot-every", every.to_string().into());
        }
        flag("--swim-seeds", self.swim_seeds.clone().into());
        if let Some(interval) = options.probe_interval {
            flag("--probe-interval", format!("{}ms", interval.as_millis()).into());
        }
        if options.cluster_key {
            flag("--cluster-key-file", self.root.join("cluster.key").into());
        }
        if let Some(interval) = options.gossip_interval {
            flag("--gossip-interval", format!("{}ms", interval.as_millis()).into());
        }
        if let Some(path) = config {
            flag("--config", path.into());
        }
        args
    }
}

/// The config file for options that have no flag; `None` if not needed.
fn write_config(root: &Path, options: &ClusterOptions) -> Result<Option<PathBuf>, String> {
    let Some(election) = options.election_timeout else { return Ok(None) };
    let path = root.join("node.toml");
    let text = format!(
        "[consensus.protocol]\nelection_timeout = \"{}ms\"\n",
        election.as_millis().max(30)
    );
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path))
}

/// Node `id`'s YAML config file with the `consensus.votes` section of
/// `options` (and the election timeout); `None` without a votes section.
fn write_votes_config(
    root: &Path,
    id: u64,
    options: &ClusterOptions,
) -> Result<Option<PathBuf>, String> {
    let Some(votes) = &options.votes_yaml else { return Ok(None) };
    let data_dir = root.join(format!("n{id}"));
    let body = votes
        .replace("{node}", &format!("n{id}"))
        .replace("{data_dir}", &data_dir.to_string_lossy());
    let mut text = String::from("consensus:\n");
    if let Some(election) = options.election_timeout {
        let ms = election.as_millis().max(30);
        text.push_str(&format!("  protocol:\n    election_timeout: {ms}ms\n"));
    }
    text.push_str("  votes:\n");
    for line in body.lines() {
        text.push_str(&format!("    {line}\n"));
    }
    let path = root.join(format!("n{id}.yaml"));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(path))
}
