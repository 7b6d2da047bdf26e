//! Running one hook command: in its own process group, with the decision
//! on standard input, its output captured up to a bound, and the whole
//! group killed at the time limit.
//!
//! Why a process group: `sh -c 'a & b'` forks children that would keep
//! running (and keep our output pipes open) after the shell is killed.
//! The command is spawned as the leader of a new group, and the group —
//! whatever the command left behind in it — is killed with SIGKILL when
//! the limit is reached, and in any case when the run ends. A hook that
//! wants to leave a daemon behind must detach it (`setsid`).

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{kill_process_group, Pid, Signal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout_at, Instant};

/// The most bytes of standard output, and of standard error, kept per run;
/// the rest is read (so the command never blocks on a full pipe) and counted.
pub const OUTPUT_BYTES_MAX: usize = 64 * 1024;

/// How long to wait for the output pipes to close after the group is killed.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// What to run.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    pub argv: &'a [String],
    pub env: Vec<(String, String)>,
    pub env_remove: &'a [&'a str],
    pub stdin: Vec<u8>,
    pub timeout: Duration,
}

/// How it went.
#[derive(Debug, Default)]
pub(crate) struct Execution {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub duration: Duration,
    pub stdout: Captured,
    pub stderr: Captured,
    pub spawn_error: Option<String>,
}

/// The head of one output stream and its total length.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub head: Vec<u8>,
    pub total: u64,
}

/// Kills the process group on drop, so that neither an early return nor
/// the caller dropping the future leaves hook processes behind.
#[derive(Debug)]
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            // ESRCH (nobody left in the group) is the usual, fine answer.
            let _ = kill_process_group(pgid, Signal::KILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `job` to completion or to its time limit.
pub(crate) async fn execute(job: Job<'_>) -> Execution {
    let started = Instant::now();
    let deadline = started + job.timeout;
    let (program, args) = job.argv.split_first().expect("validated: argv is not empty");
    let mut cmd = Command::new(program);
    // Removals first: a later `envs` sets what this decision does have.
    for name in job.env_remove {
        cmd.env_remove(name);
    }
    cmd.args(args)
        .envs(job.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Execution {
                spawn_error: Some(format!("{program}: {e}")),
                ..Execution::default()
            }
        }
    };
    let group = GroupGuard(child.id().and_then(|id| Pid::from_raw(id as i32)));
    let feeder = child.stdin.take().map(|mut pipe| {
        let input = job.stdin;
        // A command that does not read its input gets a broken pipe: fine.
        tokio::spawn(async move {
            let _ = pipe.write_all(&input).await;
        })
    });
    let stdout = child.stdout.take().map(|p| tokio::spawn(capture(p)));
    let stderr = child.stderr.take().map(|p| tokio::spawn(capture(p)));

    let (status, timed_out) = match timeout_at(deadline, child.wait()).await {
        Ok(status) => (status.ok(), false),
        Err(_) => {
            group.kill();
            (child.wait().await.ok(), true)
        }
    };
    let duration = started.elapsed();
    // The leader is gone; what it left in its group may still hold the
    // pipes. Wait for them until the limit, then kill the group.
    if !timed_out {
        let pending =
            |h: &Option<JoinHandle<Captured>>| h.as_ref().is_some_and(|h| !h.is_finished());
        let _ = timeout_at(deadline, async {
            while pending(&stdout) || pending(&stderr) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
    group.kill();
    if let Some(f) = feeder {
        f.abort();
    }
    let grace = Instant::now() + DRAIN_GRACE;
    Execution {
        status,
        timed_out,
        duration,
        stdout: collect(stdout, grace).await,
        stderr: collect(stderr, grace).await,
        spawn_error: None,
    }
}

/// Waits for a capture task until `until`, then gives up on it.
async fn collect(task: Option<JoinHandle<Captured>>, until: Instant) -> Captured {
    let Some(mut task) = task else { return Captured::default() };
    tokio::select! {
        done = &mut task => done.unwrap_or_default(),
        () = sleep_until(until) => {
            task.abort();
            Captured::default()
        }
    }
}

/// Reads `pipe` to its end, keeping the first [`OUTPUT_BYTES_MAX`] bytes.
async fn capture(mut pipe: impl AsyncRead + Unpin) -> Captured {
    let mut out = Captured::default();
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = OUTPUT_BYTES_MAX.saturating_sub(out.head.len());
        out.head.extend_from_slice(&buf[..n.min(room)]);
        out.total += n as u64;
    }
    out
}

/// The exit code and the signal of `status`.
pub(crate) fn code_and_signal(status: Option<ExitStatus>) -> (Option<i32>, Option<i32>) {
    status.map_or((None, None), |s| (s.code(), s.signal()))
}
