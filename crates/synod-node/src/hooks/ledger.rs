//! [`HookLedger`]: the durable record of hook runs, in `hooks.redb`.
//!
//! Tables:
//! * `hook_runs`: (proposal id, hook name) → record, the source of truth;
//!   a key is claimed once and never reclaimed.
//! * `hook_order`: start sequence number → (proposal id, hook name), for
//!   [`HookLedger::recent`].
//! * `hook_pending`: the keys recorded as started and not yet finished,
//!   so reopening finds interrupted runs without reading every record.
//! * `hook_meta`: the watermark, the log index of the last decision whose
//!   hooks were all handled ([`HookLedger::watermark`]), and when the
//!   ledger was created ([`HookLedger::created_at_ms`]).
//!
//! A record is a CRC-32 of the rest (4 bytes, little-endian) followed by
//! the [`HookRun`] as JSON; the checksum is computed on write and checked
//! on read. Every write transaction commits with redb's default
//! durability, i.e. with an fsync, before the caller goes on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{HookError, HookRun, HookStatus};

const RUNS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("hook_runs");
const ORDER: TableDefinition<u64, (&str, &str)> = TableDefinition::new("hook_order");
const PENDING: TableDefinition<(&str, &str), ()> = TableDefinition::new("hook_pending");
const META: TableDefinition<&str, u64> = TableDefinition::new("hook_meta");
/// The log index of the last decision whose hooks were all handled.
const WATERMARK: &str = "decided_watermark";
/// When the ledger was created (ms since the Unix epoch).
const CREATED: &str = "created_at_ms";

/// The most runs one [`HookLedger::recent`] returns.
pub const RECENT_MAX: usize = 1_000;

/// The ledger of hook runs of one node. Cheap to clone (shared handle);
/// redb locks the file, so one node process owns it.
#[derive(Clone, Debug)]
pub struct HookLedger {
    db: Arc<Database>,
    path: PathBuf,
    interrupted: Arc<Vec<HookRun>>,
}

impl HookLedger {
    /// The ledger's file name inside the node's data directory.
    pub const FILE_NAME: &'static str = "hooks.redb";

    /// Opens `hooks.redb` in the node's data directory `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<HookLedger, HookError> {
        HookLedger::open(&data_dir.join(Self::FILE_NAME))
    }

    /// Opens the ledger at `path`, creating it if missing. Runs recorded
    /// as started but never finished (the node stopped while they ran)
    /// are marked [`HookStatus::Interrupted`], durably; they are never
    /// re-run, since the command may already have had its effect.
    pub fn open(path: &Path) -> Result<HookLedger, HookError> {
        let db = Database::create(path).at(path)?;
        let txn = db.begin_write().at(path)?;
        let mut interrupted = Vec::new();
        {
            let mut runs = txn.open_table(RUNS).at(path)?;
            txn.open_table(ORDER).at(path)?;
            let mut pending = txn.open_table(PENDING).at(path)?;
            let mut keys = Vec::new();
            for item in pending.iter().at(path)? {
                let (key, _) = item.at(path)?;
                let (proposal, hook) = key.value();
                keys.push((proposal.to_owned(), hook.to_owned()));
            }
            for (proposal, hook) in keys {
                let key = (proposal.as_str(), hook.as_str());
                let Some(stored) = runs.get(key).at(path)? else {
                    return Err(corrupt(path, key, "pending run has no record".into()));
                };
                let mut run = decode(path, key, stored.value())?;
                drop(stored);
                run.status = HookStatus::Interrupted;
                runs.insert(key, encode(&run).as_slice()).at(path)?;
                pending.remove(key).at(path)?;
                interrupted.push(run);
            }
        }
        txn.commit().at(path)?;
        for run in &interrupted {
            tracing::warn!(proposal = %run.proposal_id, hook = %run.hook, "hook run interrupted by a restart; not re-run");
            metrics::counter!("synod_hook_runs_total", "hook" => run.hook.clone(), "result" => "interrupted")
                .increment(1);
        }
        Ok(HookLedger {
            db: Arc::new(db),
            path: path.to_path_buf(),
            interrupted: Arc::new(interrupted),
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The runs found unfinished, and marked interrupted, when this ledger was opened.
    pub fn interrupted_at_open(&self) -> &[HookRun] {
        &self.interrupted
    }

    /// Claims the run of `hook` on `proposal_id`: records it as started,
    /// durably, and returns it, or returns `None` if it was ever claimed
    /// before (on this node, before or after a restart). Claims are
    /// serialized by redb's single writer, so two concurrent callers never
    /// both get `Some`.
    pub fn try_start(
        &self,
        proposal_id: &str,
        hook: &str,
        started_at_ms: u64,
    ) -> Result<Option<HookRun>, HookError> {
        let path = self.path.as_path();
        let key = (proposal_id, hook);
        let txn = self.db.begin_write().at(path)?;
        let run = {
            let mut runs = txn.open_table(RUNS).at(path)?;
            if runs.get(key).at(path)?.is_some() {
                return Ok(None); // dropping the transaction aborts it
            }
            let mut order = txn.open_table(ORDER).at(path)?;
            let seq = order.last().at(path)?.map_or(1, |(k, _)| k.value() + 1);
            let run = HookRun::started(proposal_id, hook, seq, started_at_ms);
            runs.insert(key, encode(&run).as_slice()).at(path)?;
            order.insert(seq, key).at(path)?;
            txn.open_table(PENDING).at(path)?.insert(key, ()).at(path)?;
            run
        };
        txn.commit().at(path)?;
        Ok(Some(run))
    }

    /// Records the result of a run claimed by [`HookLedger::try_start`].
    ///
    /// # Panics
    /// If `run` has no final status: recording "running" again is a bug.
    pub fn finish(&self, run: &HookRun) -> Result<(), HookError> {
        assert!(run.is_finished(), "finish() needs a final status, got {:?}", run.status);
        let path = self.path.as_path();
        let key = (run.proposal_id.as_str(), run.hook.as_str());
        let txn = self.db.begin_write().at(path)?;
        {
            txn.open_table(RUNS).at(path)?.insert(key, encode(run).as_slice()).at(path)?;
            txn.open_table(PENDING).at(path)?.remove(key).at(path)?;
        }
        txn.commit().at(path)
    }

    /// The log index of the last decision whose hooks were all handled,
    /// `None` on a new ledger.
    pub fn watermark(&self) -> Result<Option<u64>, HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_read().at(path)?;
        let meta = match txn.open_table(META) {
            Ok(meta) => meta,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e).at(path),
        };
        Ok(meta.get(WATERMARK).at(path)?.map(|v| v.value()))
    }

    /// When this ledger was first opened (ms since the Unix epoch): hooks
    /// act on decisions taken from then on, not on older ones a node
    /// replays when it joins or comes back with an empty data directory.
    pub fn created_at_ms(&self) -> Result<u64, HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_read().at(path)?;
        if let Ok(meta) = txn.open_table(META) {
            if let Some(at) = meta.get(CREATED).at(path)? {
                return Ok(at.value());
            }
        }
        drop(txn);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let txn = self.db.begin_write().at(path)?;
        let at = {
            let mut meta = txn.open_table(META).at(path)?;
            let existing = meta.get(CREATED).at(path)?.map(|v| v.value());
            match existing {
                Some(at) => at,
                None => {
                    meta.insert(CREATED, now).at(path)?;
                    now
                }
            }
        };
        txn.commit().at(path)?;
        Ok(at)
    }

    /// Records, durably, that every decision up to log index `index` has
    /// had its hooks handled.
    pub fn set_watermark(&self, index: u64) -> Result<(), HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_write().at(path)?;
        txn.open_table(META).at(path)?.insert(WATERMARK, index).at(path)?;
        txn.commit().at(path)
    }

    /// The run of `hook` on `proposal_id`, if claimed.
    pub fn get(&self, proposal_id: &str, hook: &str) -> Result<Option<HookRun>, HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_read().at(path)?;
        let runs = txn.open_table(RUNS).at(path)?;
        let key = (proposal_id, hook);
        let stored = runs.get(key).at(path)?;
        stored.map(|v| decode(path, key, v.value())).transpose()
    }

    /// Every run on `proposal_id`, in start order.
    pub fn results(&self, proposal_id: &str) -> Result<Vec<HookRun>, HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_read().at(path)?;
        let runs = txn.open_table(RUNS).at(path)?;
        let mut out = Vec::new();
        for item in runs.range((proposal_id, "")..).at(path)? {
            let (key, value) = item.at(path)?;
            let key = key.value();
            if key.0 != proposal_id {
                break;
            }
            out.push(decode(path, key, value.value())?);
        }
        out.sort_by_key(|r| r.seq);
        Ok(out)
    }

    /// The latest `n` runs started (at most [`RECENT_MAX`]), newest first.
    pub fn recent(&self, n: usize) -> Result<Vec<HookRun>, HookError> {
        let path = self.path.as_path();
        let txn = self.db.begin_read().at(path)?;
        let order = txn.open_table(ORDER).at(path)?;
        let runs = txn.open_table(RUNS).at(path)?;
        let mut out = Vec::new();
        for item in order.iter().at(path)?.rev().take(n.min(RECENT_MAX)) {
            let (seq, key) = item.at(path)?;
            let key = key.value();
            let Some(stored) = runs.get(key).at(path)? else {
                return Err(corrupt(path, key, format!("run #{} has no record", seq.value())));
            };
            out.push(decode(path, key, stored.value())?);
        }
        Ok(out)
    }
}

fn encode(run: &HookRun) -> Vec<u8> {
    let json = serde_json::to_vec(run).expect("a HookRun always serializes");
    let mut out = Vec::with_capacity(json.len() + 4);
    out.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
    out.extend_from_slice(&json);
    out
}

fn decode(path: &Path, key: (&str, &str), bytes: &[u8]) -> Result<HookRun, HookError> {
    let Some((crc, json)) = bytes.split_first_chunk::<4>() else {
        return Err(corrupt(path, key, format!("record of {} bytes", bytes.len())));
    };
    if u32::from_le_bytes(*crc) != crc32fast::hash(json) {
        return Err(corrupt(path, key, "checksum mismatch".into()));
    }
    serde_json::from_slice(json).map_err(|e| corrupt(path, key, e.to_string()))
}

fn corrupt(path: &Path, (proposal, hook): (&str, &str), reason: String) -> HookError {
    HookError::Corrupt { path: path.to_path_buf(), key: format!("{proposal}/{hook}"), reason }
}

/// Attaches the ledger path to a redb error.
trait At<T> {
    fn at(self, path: &Path) -> Result<T, HookError>;
}

impl<T, E: Into<redb::Error>> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, HookError> {
        self.map_err(|e| HookError::Storage { path: path.to_path_buf(), source: e.into() })
    }
}
