//! Finding the `synod` binary the tests run, building it first.
//!
//! Cargo gives `CARGO_BIN_EXE_synod` only to synod-cli's own tests, so the
//! harness finds the binary itself: a test executable lives in
//! `<target>/<profile>/deps/`, so the binary is `<target>/<profile>/synod`.
//! Before the first cluster starts, the harness runs
//! `cargo build -p synod-cli --bin synod` with that profile and target
//! directory, so a test never runs a stale node (a no-op when it is fresh;
//! the first time it compiles synod-cli with its own feature set).
//!
//! * `SYNOD_BIN=/path/to/synod` uses that binary and builds nothing.
//! * `SYNOD_CHAOS_NO_BUILD=1` uses `<target>/<profile>/synod` as it is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Variables cargo sets for the package under test (besides `CARGO_PKG_*`).
const PACKAGE_VARS: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Longest the build may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The `synod` binary, built on first use (once per test process).
pub fn synod_binary() -> Result<PathBuf, String> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY.get_or_init(locate_and_build).clone()
}

fn locate_and_build() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SYNOD_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("SYNOD_BIN={} is not a file", path.display()))
        };
    }
    let profile_dir = profile_dir();
    let binary = profile_dir.join("synod");
    if std::env::var_os("SYNOD_CHAOS_NO_BUILD").is_none() {
        build(&profile_dir)?;
    }
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing; build it with `cargo build -p synod-cli` (same profile)",
            binary.display()
        ))
    }
}

/// `<target>/<profile>`: from the test executable's place, else from the
/// manifest directory and the build's assertions setting.
fn profile_dir() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
    });
    from_exe.unwrap_or_else(|| {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        workspace_root().join("target").join(profile)
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn build(profile_dir: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "-p", "synod-cli", "--bin", "synod"]);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
    }
    if let Some(target) = profile_dir.parent() {
        command.env("CARGO_TARGET_DIR", target);
    }
    // Cargo gives a running test its package's variables; build scripts
    // (ring's) track some of them, so passing them on would rebuild half
    // the dependency tree on every alternation with a normal build.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_") || PACKAGE_VARS.contains(&name.as_ref()) {
            command.env_remove(name.as_ref());
        }
    }
    command.current_dir(workspace_root()).stdin(Stdio::null());
    eprintln!("--- building the synod binary: {command:?}");
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    while started.elapsed() < BUILD_TIMEOUT {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => {
                eprintln!("--- synod binary ready after {:.1?}", started.elapsed());
                return Ok(());
            }
            Ok(Some(status)) => return Err(format!("`cargo build -p synod-cli` failed: {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("waiting for cargo: {e}")),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("`cargo build -p synod-cli` took longer than {BUILD_TIMEOUT:?}"))
}
