//! [`NodeProcess`]: one `synod node start` process, its log, and the
//! signals the tests send it.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// Environment variables of `synod node start` that must not leak from the
/// test's environment into a node (flags are given explicitly).
const NODE_ENV: &[&str] = &[
    "SYNOD_CONFIG",
    "SYNOD_NODE_ID",
    "SYNOD_BIND_ADDRESS",
    "SYNOD_HTTP_ADDRESS",
    "SYNOD_PEERS",
    "SYNOD_DATA_DIR",
    "SYNOD_TLS_CERT",
    "SYNOD_TLS_KEY",
    "SYNOD_TLS_CA",
    "SYNOD_SNAPSHOT_EVERY",
];

/// How to launch a process: the binary, its arguments (after `synod`),
/// where its output goes, and its `SYNOD_LOG` filter.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `synod` binary.
    pub binary: PathBuf,
    /// Arguments after the binary.
    pub args: Vec<OsString>,
    /// stdout and stderr, appended across restarts.
    pub log: PathBuf,
    /// `SYNOD_LOG`, if set.
    pub log_filter: Option<String>,
}

/// A node process that can be killed, stopped, continued and restarted
/// with the same arguments. Dropping it kills the process.
#[derive(Debug)]
pub struct NodeProcess {
    /// Node id (1 for n1).
    pub id: u64,
    /// The node's gRPC address (peers and clients).
    pub grpc: SocketAddr,
    /// The node's HTTP address (/metrics, /health).
    pub http: SocketAddr,
    /// Its durable state.
    pub data_dir: PathBuf,
    /// How it is launched.
    pub launch: Launch,
    child: Mutex<Option<Child>>,
    /// Kills the node if this test process dies first (see [`reaper`]).
    reaper: Mutex<Option<Child>>,
    starts: Mutex<u32>,
}

impl NodeProcess {
    /// A process not started yet.
    pub fn new(
        id: u64,
        grpc: SocketAddr,
        http: SocketAddr,
        data_dir: PathBuf,
        launch: Launch,
    ) -> NodeProcess {
        NodeProcess {
            id,
            grpc,
            http,
            data_dir,
            launch,
            child: Mutex::new(None),
            reaper: Mutex::new(None),
            starts: Mutex::new(0),
        }
    }

    /// Starts the process (again); its output goes to the end of the log.
    pub fn start(&self) -> Result<(), String> {
        let mut child = self.child.lock().expect("child lock");
        if let Some(running) = child.as_mut() {
            if !matches!(running.try_wait(), Ok(Some(_))) {
                return Err(format!("n{} is already running", self.id));
            }
        }
        self.stop_reaper();
        let mut starts = self.starts.lock().expect("starts lock");
        *starts += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.launch.log)
            .map_err(|e| format!("opening {}: {e}", self.launch.log.display()))?;
        let _ = writeln!(log, "=== chaos harness: start #{} of n{}", *starts, self.id);
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&self.launch.binary);
        command.args(&self.launch.args).stdin(Stdio::null()).stdout(log).stderr(err);
        for name in NODE_ENV {
            command.env_remove(name);
        }
        if let Some(filter) = &self.launch.log_filter {
            command.env("SYNOD_LOG", filter);
        }
        let spawned = command.spawn().map_err(|e| format!("starting n{}: {e}", self.id))?;
        *self.reaper.lock().expect("reaper lock") = reaper(spawned.id()).ok();
        *child = Some(spawned);
        Ok(())
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().expect("child lock").as_ref().map(Child::id)
    }

    /// Whether a started process has not exited.
    pub fn is_running(&self) -> bool {
        let mut child = self.child.lock().expect("child lock");
        matches!(child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// `Some(reason)` if the process was started and has exited on its own.
    pub fn exited(&self) -> Option<String> {
        let mut child = self.child.lock().expect("child lock");
        match child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(format!("n{} exited: {status}", self.id)),
            _ => None,
        }
    }

    /// SIGKILL, then reaps the process. No-op when not running.
    pub fn kill9(&self) {
        if let Some(mut child) = self.child.lock().expect("child lock").take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stop_reaper();
    }

    fn stop_reaper(&self) {
        if let Some(mut reaper) = self.reaper.lock().expect("reaper lock").take() {
            let _ = reaper.kill();
            let _ = reaper.wait();
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, `TERM`) with kill(1).
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let pid = self.pid().ok_or_else(|| format!("n{} is not running", self.id))?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map_err(|e| format!("kill -{signal} {pid}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {pid}: {status}"))
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.launch.log, lines)
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Longest a reaper watches, in seconds: a node outlives its test by at
/// most about a second, and nothing by more than this.
const REAPER_SECONDS_MAX: u32 = 1800;

/// A `sh` loop that SIGKILLs node `pid` once this test process is gone
/// (killed by a timeout, say), so no node outlives its test. It checks
/// once a second, for at most [`REAPER_SECONDS_MAX`] seconds, and ends on
/// its own when the node does. (`unsafe_code` is forbidden, so no
/// `PR_SET_PDEATHSIG`.)
fn reaper(pid: u32) -> std::io::Result<Child> {
    let parent = std::process::id();
    let script = format!(
        "i=0; while [ $i -lt {REAPER_SECONDS_MAX} ] && kill -0 {pid} 2>/dev/null; do \
           if ! kill -0 {parent} 2>/dev/null; then kill -9 {pid}; exit 0; fi; \
           sleep 1; i=$((i+1)); done"
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// The last `lines` lines of a text file ("" if unreadable).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
