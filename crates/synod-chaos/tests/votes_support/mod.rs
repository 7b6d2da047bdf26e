//! Helpers of the vote scenarios (`tests/votes.rs`): the `synod` CLI run
//! against chosen nodes with a time bound, `vote watch` streams kept in
//! files, each node's own view of a decision over gRPC, and the files the
//! decision hooks write.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use synod_chaos::cluster::Cluster;
use synod_proto::vote::v1 as pb;
use synod_proto::vote::v1::votes_client::VotesClient;

/// Bound on one CLI command; its own `--timeout` flags are shorter.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(40);
/// Pause between two looks at a process, a file or a node.
const POLL: Duration = Duration::from_millis(25);
/// Bound on one gRPC call of a check.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Numbers the output files of CLI runs.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Whose certificate the CLI presents on a TLS cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cert {
    /// The harness's client certificate (`chaos-client`).
    Client,
    /// Node `n<id>`'s certificate: the client acts as that node.
    Node(u64),
}

/// What a finished (or killed) CLI command printed.
#[derive(Clone, Debug)]
pub struct Out {
    /// The command line, for messages.
    pub command: String,
    /// Exit code; `None` if the bound killed it.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Panics, with everything printed, unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Out {
        assert_eq!(
            self.code,
            Some(code),
            "`{}` exited {:?}, not {code}\n{self}",
            self.command,
            self.code
        );
        self
    }

    /// The first non-empty line of standard error.
    pub fn first_error_line(&self) -> &str {
        self.stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stdout: {:?}\nstderr: {:?}", self.stdout, self.stderr)
    }
}

/// `synod <args> --endpoints <nodes>` with this cluster's TLS files (the
/// certificate of `cert`), without the test's own `SYNOD_*` settings and
/// without the local dev cluster.
fn command(cluster: &Cluster, endpoints: &[u64], cert: Cert, args: &[&str]) -> Command {
    let mut command = Command::new(cluster.binary());
    let list: Vec<String> = endpoints.iter().map(|&id| cluster.endpoint(id)).collect();
    command.args(args).arg("--endpoints").arg(list.join(",")).stdin(Stdio::null());
    for name in
        ["SYNOD_ENDPOINTS", "SYNOD_CLIENT_TLS_CA", "SYNOD_CLIENT_TLS_CERT", "SYNOD_CLIENT_TLS_KEY"]
    {
        command.env_remove(name);
    }
    command.env("SYNOD_DEV_DIR", cluster.root().join("no-dev-cluster"));
    if let Some(certs) = cluster.client_certs() {
        let (crt, key) = match cert {
            Cert::Client => (certs.cert.clone(), certs.key.clone()),
            Cert::Node(id) => {
                let dir = certs.ca.parent().expect("the CA file is in a directory");
                (dir.join(format!("n{id}.crt")), dir.join(format!("n{id}.key")))
            }
        };
        command.arg("--tls-ca").arg(&certs.ca).arg("--tls-cert").arg(crt).arg("--tls-key").arg(key);
    }
    command
}

/// Where the outputs of the next CLI run go: `<root>/cli/<n>.{out,err}`.
fn output_files(cluster: &Cluster, name: &str) -> (PathBuf, PathBuf) {
    let dir = cluster.root().join("cli");
    std::fs::create_dir_all(&dir).expect("creating the CLI output directory");
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    (dir.join(format!("{n:03}-{name}.out")), dir.join(format!("{n:03}-{name}.err")))
}

/// Runs `synod <args>` against the nodes `endpoints` as `cert`, killing it
/// after [`CLI_TIMEOUT`]. Output goes to files, so a chatty command never
/// blocks on a pipe.
pub async fn synod(cluster: &Cluster, endpoints: &[u64], cert: Cert, args: &[&str]) -> Out {
    let name = args.iter().take(2).copied().collect::<Vec<_>>().join("-");
    let (out_path, err_path) = output_files(cluster, &name);
    let mut child = command(cluster, endpoints, cert, args)
        .stdout(File::create(&out_path).expect("CLI stdout file"))
        .stderr(File::create(&err_path).expect("CLI stderr file"))
        .spawn()
        .expect("starting the synod CLI");
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("waiting for the CLI") {
            break status.code();
        }
        if started.elapsed() > CLI_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(POLL).await;
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let endpoints: Vec<String> = endpoints.iter().map(|id| format!("n{id}")).collect();
    Out {
        command: format!("synod {} (at {})", args.join(" "), endpoints.join(",")),
        code,
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

/// `vote cast <id> --<choice> --as n<voter>` through node `via`, with the
/// voter's own certificate.
pub async fn cast(cluster: &Cluster, via: u64, voter: u64, id: &str, choice: &str) -> Out {
    let name = format!("n{voter}");
    let flag = format!("--{choice}");
    synod(cluster, &[via], Cert::Node(voter), &["vote", "cast", id, &flag, "--as", &name]).await
}

/// A `synod vote watch` process against one node, its output in a file.
/// Dropping it kills the process.
#[derive(Debug)]
pub struct Watcher {
    child: Child,
    path: PathBuf,
    /// The node watched.
    pub node: u64,
}

impl Watcher {
    /// Starts watching node `node` and returns once the stream is open: a
    /// quarantine change made after the start shows up in it.
    pub async fn start(cluster: &Cluster, node: u64) -> Watcher {
        let (path, err) = output_files(cluster, &format!("watch-n{node}"));
        let child = command(cluster, &[node], Cert::Client, &["vote", "watch"])
            .stdout(File::create(&path).expect("watch output file"))
            .stderr(File::create(err).expect("watch error file"))
            .spawn()
            .expect("starting synod vote watch");
        let watcher = Watcher { child, path, node };
        for attempt in 0..20 {
            let marker = format!("watch-ready-n{node}-{attempt}");
            synod(cluster, &[node], Cert::Client, &["quarantine", "add", &marker])
                .await
                .expect_code(0);
            if watcher.wait_for(&marker, 1, Duration::from_millis(1500)).await.is_ok() {
                return watcher;
            }
        }
        panic!("`synod vote watch` on n{node} showed no event within 30 s: {:?}", watcher.lines());
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path).unwrap_or_default().lines().map(String::from).collect()
    }

    /// How many lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits until at least `n` lines contain `needle`.
    pub async fn wait_for(&self, needle: &str, n: usize, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.count(needle) >= n {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
        Err(format!("n{}'s watch: {needle:?} not seen {n} times in {within:?}", self.node))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Node `node`'s own replica's record of proposal `id` once decided: a
/// `Wait` sent to that node alone (it answers from its replica when it
/// holds the proposal), retried until `within`.
pub async fn local_view(
    cluster: &Cluster,
    node: u64,
    id: &str,
    within: Duration,
) -> Result<pb::ProposalInfo, String> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        if let Ok(channel) = cluster.channel(node).await {
            let mut request = tonic::Request::new(pb::GetRequest { id: id.to_string() });
            request.set_timeout(CALL_TIMEOUT);
            match VotesClient::new(channel).wait(request).await {
                Ok(info) if info.get_ref().decision.is_some() => return Ok(info.into_inner()),
                Ok(info) => last = format!("undecided: {:?}", info.into_inner()),
                Err(status) => last = format!("{:?}: {}", status.code(), status.message()),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("n{node} did not report a decision of {id} within {within:?}: {last}"))
}

/// Checks that every node of `nodes` holds the same record of proposal
/// `id` in its own replica (proposal, votes and decision, including the
/// decision time) and that `synod vote wait` against each node alone
/// exits `code` and prints the same line; returns the record.
pub async fn decided_alike(
    cluster: &Cluster,
    nodes: &[u64],
    id: &str,
    code: i32,
) -> pb::ProposalInfo {
    let mut first: Option<(u64, pb::ProposalInfo, String)> = None;
    for &node in nodes {
        let info = local_view(cluster, node, id, Duration::from_secs(30)).await.unwrap();
        let waited =
            synod(cluster, &[node], Cert::Client, &["vote", "wait", id, "--timeout", "20s"])
                .await
                .expect_code(code);
        assert!(waited.stdout.starts_with(&format!("{id} ")), "{waited}");
        match &first {
            None => first = Some((node, info, waited.stdout)),
            Some((at, expected, line)) => {
                assert_eq!(&info, expected, "n{node} and n{at} disagree on {id}");
                assert_eq!(&waited.stdout, line, "`vote wait {id}`: n{node} and n{at} differ");
            }
        }
    }
    let (_, info, line) = first.expect("at least one node");
    cluster.phase(&format!("{} nodes report: {}", nodes.len(), line.trim()));
    info
}

/// The totals of `synod vote stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub proposals: u64,
    pub approved: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub open: u64,
}

/// `synod vote stats` through `nodes`, its first line parsed.
pub async fn stats(cluster: &Cluster, nodes: &[u64]) -> Totals {
    let out = synod(cluster, nodes, Cert::Client, &["vote", "stats"]).await.expect_code(0);
    let line = out.stdout.lines().next().unwrap_or("");
    let field = |name: &str| -> u64 {
        line.split(", ")
            .find_map(|part| part.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name:?} in `vote stats` output {line:?}"))
    };
    Totals {
        proposals: field("proposals "),
        approved: field("approved "),
        rejected: field("rejected "),
        timeouts: field("timeouts "),
        open: field("open "),
    }
}

/// The lines of a text file (none if it does not exist).
pub fn file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(String::from).collect()
}

/// Waits until the file at `path` holds exactly `expected`, in order.
pub async fn wait_file(path: &Path, expected: &[String], within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let lines = file_lines(path);
        if lines == expected {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} holds {lines:?} after {within:?}, expected {expected:?}",
                path.display()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until some line of the file at `path` equals `line`.
pub async fn wait_line(path: &Path, line: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if file_lines(path).iter().any(|l| l == line) {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!("{} has no line {line:?} after {within:?}: {:?}", path.display(), file_lines(path)))
}
