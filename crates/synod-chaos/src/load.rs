//! Write load with a ledger of outcomes, and the check that every
//! acknowledged write survived.
//!
//! Each write puts a unique key with a unique value, so a read of the whole
//! prefix afterwards says exactly which writes took effect. The client's
//! contract decides what each outcome allows:
//!
//! | outcome | after the run the key must be |
//! |---|---|
//! | `Ok(revision)` | present, with its value, modified at `revision` |
//! | `Ambiguous` (or our own deadline) | present with its value, or absent |
//! | `NoLeader`, `Unreachable`, `Invalid` | absent: nothing took effect |

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use synod_client::{Client, ClientError, KeyValue};
use tokio::task::JoinSet;

/// An acknowledged write.
#[derive(Clone, Debug)]
pub struct Ack {
    /// The value written.
    pub value: String,
    /// The revision the server acknowledged.
    pub revision: u64,
    /// When the acknowledgement arrived.
    pub at: Instant,
}

/// What happened to every write of a run, by key.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Acknowledged writes.
    pub acked: BTreeMap<String, Ack>,
    /// Writes whose outcome is unknown, with their values.
    pub ambiguous: BTreeMap<String, String>,
    /// Writes that certainly did not take effect, with the error.
    pub refused: BTreeMap<String, String>,
    /// Error counts by kind, for the report.
    pub errors: BTreeMap<String, u64>,
}

impl Ledger {
    fn record(&mut self, key: String, value: String, outcome: Result<u64, WriteError>) {
        match outcome {
            Ok(revision) => {
                self.acked.insert(key, Ack { value, revision, at: Instant::now() });
            }
            Err(WriteError::Ambiguous(text)) => {
                *self.errors.entry(format!("ambiguous: {}", short(&text))).or_default() += 1;
                self.ambiguous.insert(key, value);
            }
            Err(WriteError::Refused(text)) => {
                *self.errors.entry(format!("refused: {}", short(&text))).or_default() += 1;
                self.refused.insert(key, text);
            }
        }
    }

    /// Adds another ledger's records.
    pub fn merge(&mut self, other: Ledger) {
        self.acked.extend(other.acked);
        self.ambiguous.extend(other.ambiguous);
        self.refused.extend(other.refused);
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
    }

    /// Acknowledgements that arrived after `t`.
    pub fn acked_after(&self, t: Instant) -> usize {
        self.acked.values().filter(|a| a.at > t).count()
    }

    /// The first acknowledgement after `t`.
    pub fn first_ack_after(&self, t: Instant) -> Option<Instant> {
        self.acked.values().map(|a| a.at).filter(|at| *at > t).min()
    }

    /// The longest stretch without an acknowledgement after `t` (from `t`
    /// to the first one, or between two): the unavailability a fault caused.
    pub fn longest_gap_after(&self, t: Instant) -> Duration {
        let mut times: Vec<Instant> =
            self.acked.values().map(|a| a.at).filter(|at| *at > t).collect();
        times.sort();
        let mut previous = t;
        let mut longest = Duration::ZERO;
        for at in times {
            longest = longest.max(at - previous);
            previous = at;
        }
        longest
    }

    /// Compares the ledger with `data`, everything read under `prefix`.
    pub fn check(&self, prefix: &str, data: &BTreeMap<Vec<u8>, KeyValue>) -> Verdict {
        let mut v = Verdict { acked: self.acked.len(), ..Verdict::default() };
        for (key, ack) in &self.acked {
            match data.get(key.as_bytes()) {
                None => v.missing.push(key.clone()),
                Some(kv) if kv.value != ack.value.as_bytes() || kv.mod_revision != ack.revision => {
                    v.wrong.push(format!(
                        "{key}: acked {:?} at {}, read {:?} at {}",
                        ack.value,
                        ack.revision,
                        String::from_utf8_lossy(&kv.value),
                        kv.mod_revision
                    ))
                }
                Some(_) => v.acked_present += 1,
            }
        }
        for (key, value) in &self.ambiguous {
            match data.get(key.as_bytes()) {
                None => v.ambiguous_absent += 1,
                Some(kv) if kv.value == value.as_bytes() => v.ambiguous_present += 1,
                Some(kv) => v.wrong.push(format!("{key}: ambiguous write read back as {kv:?}")),
            }
        }
        for key in self.refused.keys() {
            if data.contains_key(key.as_bytes()) {
                v.refused_present.push(key.clone());
            }
        }
        for key in data.keys() {
            let text = String::from_utf8_lossy(key).to_string();
            let known = self.acked.contains_key(&text)
                || self.ambiguous.contains_key(&text)
                || self.refused.contains_key(&text);
            if text.starts_with(prefix) && !known {
                v.unknown.push(text);
            }
        }
        v
    }
}

/// The result of [`Ledger::check`].
#[derive(Debug, Default)]
pub struct Verdict {
    /// Acknowledged writes.
    pub acked: usize,
    /// Of those, present with the acknowledged value and revision.
    pub acked_present: usize,
    /// Acknowledged but absent: lost writes.
    pub missing: Vec<String>,
    /// Present with another value or revision.
    pub wrong: Vec<String>,
    /// Ambiguous writes that took effect.
    pub ambiguous_present: usize,
    /// Ambiguous writes that did not.
    pub ambiguous_absent: usize,
    /// Writes reported as not taken effect that did.
    pub refused_present: Vec<String>,
    /// Keys under the prefix that no write of the ledger made.
    pub unknown: Vec<String>,
}

impl Verdict {
    /// Whether nothing acknowledged was lost and nothing unexplained appeared.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty()
            && self.wrong.is_empty()
            && self.refused_present.is_empty()
            && self.unknown.is_empty()
    }
}

/// A write's failure, by what it allows afterwards.
#[derive(Debug)]
pub enum WriteError {
    /// May have taken effect.
    Ambiguous(String),
    /// Certainly did not take effect.
    Refused(String),
}

/// One put, bounded by `within` on top of the client's own deadlines.
pub async fn put(
    client: &Client,
    key: &str,
    value: &str,
    within: Duration,
) -> Result<u64, WriteError> {
    match tokio::time::timeout(within, client.put(key.as_bytes(), value.as_bytes())).await {
        Err(_) => Err(WriteError::Ambiguous(format!("no answer within {within:?}"))),
        Ok(Ok(revision)) => Ok(revision),
        Ok(Err(ClientError::Ambiguous(m))) => Err(WriteError::Ambiguous(m)),
        Ok(Err(ClientError::Server(m))) => Err(WriteError::Ambiguous(format!("server: {m}"))),
        Ok(Err(e)) => Err(WriteError::Refused(e.to_string())),
    }
}

/// A linearizable read of `key` after an ambiguous write: `present`,
/// `absent` or `unknown` (the read failed too).
async fn read_back(client: &Client, key: &str, within: Duration) -> &'static str {
    match tokio::time::timeout(within, client.get(key.as_bytes())).await {
        Ok(Ok(Some(_))) => "present",
        Ok(Ok(None)) => "absent",
        _ => "unknown",
    }
}

/// A bounded run of writers, each with its own client.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Keys are `<prefix>w<writer>/<seq>`.
    pub prefix: String,
    /// How long the writers write.
    pub duration: Duration,
    /// Writes per writer at most.
    pub writes_per_writer_max: u64,
    /// Bound on one write, retries included.
    pub write_timeout: Duration,
}

/// Runs one writer per client for `spec.duration` (and at most
/// `spec.writes_per_writer_max` writes each); returns the merged ledger.
pub async fn run_writers(clients: Vec<Client>, spec: LoadSpec) -> Ledger {
    let mut tasks = JoinSet::new();
    for (w, client) in clients.into_iter().enumerate() {
        let spec = spec.clone();
        tasks.spawn(async move {
            let until = Instant::now() + spec.duration;
            let mut ledger = Ledger::default();
            for seq in 0..spec.writes_per_writer_max {
                if Instant::now() >= until {
                    break;
                }
                let key = format!("{}w{w}/{seq:06}", spec.prefix);
                let value = format!("value of {key}");
                let outcome = put(&client, &key, &value, spec.write_timeout).await;
                if outcome.is_err() {
                    // Back off a little so a leaderless cluster is not hammered.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if matches!(outcome, Err(WriteError::Ambiguous(_))) {
                    // The client's contract: read before going on after an
                    // unknown outcome. (The read also lets the client look
                    // for a new leader; writes alone may not, see the report.)
                    let found = read_back(&client, &key, spec.write_timeout).await;
                    *ledger.errors.entry(format!("ambiguous, read back: {found}")).or_default() +=
                        1;
                }
                ledger.record(key, value, outcome);
            }
            ledger
        });
    }
    let mut ledger = Ledger::default();
    while let Some(done) = tasks.join_next().await {
        ledger.merge(done.expect("writer task panicked"));
    }
    ledger
}

/// Writes keys `<prefix><000000..count>` with `concurrency` tasks sharing
/// `client`; a write refused as not taken effect is retried (up to 5
/// times). Stops at `within`.
pub async fn write_many(
    client: Arc<Client>,
    prefix: &str,
    count: u64,
    concurrency: usize,
    within: Duration,
) -> Ledger {
    let next = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + within;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, prefix) = (client.clone(), next.clone(), prefix.to_string());
        tasks.spawn(async move {
            let mut ledger = Ledger::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() >= until {
                    return ledger;
                }
                let key = format!("{prefix}{i:06}");
                let value = format!("v{i}");
                let mut outcome = put(&client, &key, &value, Duration::from_secs(10)).await;
                for _ in 0..5 {
                    if !matches!(outcome, Err(WriteError::Refused(_))) || Instant::now() >= until {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    outcome = put(&client, &key, &value, Duration::from_secs(10)).await;
                }
                ledger.record(key, value, outcome);
            }
        });
    }
    let mut ledger = Ledger::default();
    while let Some(done) = tasks.join_next().await {
        ledger.merge(done.expect("writer task panicked"));
    }
    ledger
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}
