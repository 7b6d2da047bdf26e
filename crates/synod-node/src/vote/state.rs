//! [`VoteState`]: the vote book and the quarantine list as part of the
//! node's replicated state machine.
//!
//! The book lives in memory for speed; every change is also written, in
//! the same transaction as the rest of the entry's effects, to reserved
//! keys of the KV store, so the KV store's applied index, snapshots and
//! crash recovery cover the votes too:
//!
//! * `__synod/vote/p/<id>` — a proposal, its votes, its decision (JSON);
//! * `__synod/vote/stats` — the statistics (JSON);
//! * `__synod/quarantine/<id>` — a quarantined identifier (JSON).
//!
//! On start and after a snapshot is installed the book is rebuilt from
//! those keys ([`VoteState::load`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use synod_core::vote::{
    BookState, Config, Decision, Outcome, ProposalId, ProposalRecord, Registry, VoteBook,
    VoteError, VoteStats,
};
use synod_core::Time;
use synod_store::{KvCommand, KvStore};

use super::{EventBody, VoteCommand, VoteEvent};

/// Keys of proposals: this prefix, then the proposal id.
pub const PROPOSAL_PREFIX: &[u8] = b"__synod/vote/p/";
/// Key of the statistics.
pub const STATS_KEY: &[u8] = b"__synod/vote/stats";
/// Keys of quarantined identifiers: this prefix, then the identifier.
pub const QUARANTINE_PREFIX: &[u8] = b"__synod/quarantine/";
/// The longest quarantined identifier, in bytes.
pub const QUARANTINE_ID_BYTES_MAX: usize = 256;
/// The longest quarantine reason, in bytes.
pub const QUARANTINE_REASON_BYTES_MAX: usize = 1024;

/// A proposal as stored: the book's record plus what the node adds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredProposal {
    /// The book's record.
    pub record: ProposalRecord,
    /// What a rejection puts in quarantine.
    pub quarantine_id: Option<String>,
    /// Log index of the create command.
    pub created_index: u64,
    /// Log index of the command that decided it.
    pub decided_index: Option<u64>,
}

/// One quarantined identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// The identifier (a commit hash, a version).
    pub id: String,
    /// Why.
    pub reason: String,
    /// When (leader's clock, ms since the Unix epoch).
    pub added_at: Time,
    /// The rejected proposal that added it, if one did.
    pub proposal_id: Option<String>,
    /// Log index of the command that added it.
    pub revision: u64,
}

/// Why a vote command changed nothing.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The vote book refused it.
    #[error(transparent)]
    Vote(#[from] VoteError),
    /// A quarantine command with a bad identifier or reason.
    #[error("{0}")]
    Quarantine(String),
    /// The entry's bytes are not a vote command.
    #[error("malformed vote command: {0}")]
    Malformed(String),
}

/// What applying one vote command produced for its proposer.
#[derive(Clone, Debug, PartialEq)]
pub struct VoteApplied {
    /// The decision, if the command took one.
    pub decision: Option<Decision>,
    /// For quarantine commands: whether the list changed.
    pub changed: bool,
}

/// The output of a vote command.
pub type VoteOutput = Result<VoteApplied, Refusal>;

/// Everything one vote command did.
#[derive(Debug)]
pub struct Applied {
    /// For the proposer.
    pub output: VoteOutput,
    /// The KV writes recording it (empty when refused).
    pub writes: KvCommand,
    /// For watchers, in order.
    pub events: Vec<VoteEvent>,
}

/// The vote book, the node's additions to each proposal, and the
/// quarantine list.
#[derive(Debug)]
pub struct VoteState {
    book: VoteBook,
    extras: BTreeMap<ProposalId, Extra>,
    /// Decided proposals by the index of the deciding command.
    decided: BTreeMap<u64, ProposalId>,
    quarantine: BTreeMap<String, QuarantineEntry>,
}

#[derive(Clone, Debug, Default)]
struct Extra {
    quarantine_id: Option<String>,
    created_index: u64,
    decided_index: Option<u64>,
}

/// Checks a quarantine identifier and reason.
pub fn check_quarantine(id: &str, reason: &str) -> Result<(), Refusal> {
    let bad = |m: String| Err(Refusal::Quarantine(m));
    if id.trim().is_empty() {
        return bad("quarantine id is empty".into());
    }
    if id.len() > QUARANTINE_ID_BYTES_MAX {
        return bad(format!(
            "quarantine id is {} bytes, over the limit of {QUARANTINE_ID_BYTES_MAX}",
            id.len()
        ));
    }
    if let Some(c) = id.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return bad(format!(
            "quarantine id contains {c:?}; whitespace and control characters are not allowed"
        ));
    }
    if reason.len() > QUARANTINE_REASON_BYTES_MAX {
        return bad(format!(
            "quarantine reason is {} bytes, over the limit of {QUARANTINE_REASON_BYTES_MAX}",
            reason.len()
        ));
    }
    Ok(())
}

impl VoteState {
    /// An empty state deciding with `registry`.
    pub fn new(registry: Registry) -> VoteState {
        let book = VoteBook::with_registry(Config::default(), registry)
            .expect("the default vote config is valid");
        VoteState {
            book,
            extras: BTreeMap::new(),
            decided: BTreeMap::new(),
            quarantine: BTreeMap::new(),
        }
    }

    /// The vote book, for reads and pre-checks.
    pub fn book(&self) -> &VoteBook {
        &self.book
    }

    /// Proposal `id` as stored.
    pub fn get(&self, id: &ProposalId) -> Option<StoredProposal> {
        let record = self.book.get(id)?;
        Some(self.stored(record))
    }

    /// Every proposal, as stored, in id order.
    pub fn list(&self) -> impl Iterator<Item = StoredProposal> + '_ {
        self.book.list().map(|r| self.stored(r))
    }

    /// Decided proposals whose deciding command is above `index`, in log
    /// order, at most `limit`: what the hook task has yet to act on.
    pub fn decided_after(&self, index: u64, limit: usize) -> Vec<(u64, StoredProposal)> {
        let after = self.decided.range(index + 1..).take(limit);
        after.filter_map(|(&i, id)| Some((i, self.get(id)?))).collect()
    }

    /// The quarantine list, in identifier order.
    pub fn quarantine(&self) -> &BTreeMap<String, QuarantineEntry> {
        &self.quarantine
    }

    /// The statistics.
    pub fn stats(&self) -> &VoteStats {
        self.book.stats()
    }

    fn stored(&self, record: &ProposalRecord) -> StoredProposal {
        let extra = self.extras.get(&record.proposal.id).cloned().unwrap_or_default();
        StoredProposal {
            record: record.clone(),
            quarantine_id: extra.quarantine_id,
            created_index: extra.created_index,
            decided_index: extra.decided_index,
        }
    }

    /// Applies the vote command in `bytes`, carried by entry `index`.
    pub fn apply(&mut self, index: u64, bytes: &[u8]) -> Applied {
        let command = match VoteCommand::decode(bytes) {
            Ok(command) => command,
            Err(e) => return refused(Refusal::Malformed(e)),
        };
        let at = command.at();
        let mut change = Change { index, at, writes: Vec::new(), events: Vec::new() };
        let result = match command {
            VoteCommand::Create { proposal, quarantine_id } => {
                let (id, kind) = (proposal.id.clone(), proposal.kind.clone());
                match self.book.create(proposal) {
                    Ok(decision) => {
                        let extra =
                            Extra { quarantine_id, created_index: index, decided_index: None };
                        self.extras.insert(id.clone(), extra.clone());
                        let record = Box::new(self.book.get(&id).expect("just created").clone());
                        let quarantine_id = extra.quarantine_id;
                        change.event(&kind, EventBody::ProposalCreated { record, quarantine_id });
                        Ok(self.after(&mut change, &id, decision))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            VoteCommand::Cast { id, vote, at } => match self.book.cast(&id, vote.clone(), at) {
                Ok(decision) => {
                    let kind = self.kind_of(&id);
                    change.event(&kind, EventBody::VoteCast { id: id.clone(), vote });
                    Ok(self.after(&mut change, &id, decision))
                }
                Err(e) => Err(e.into()),
            },
            VoteCommand::Expire { id, at } => match self.book.expire(&id, at) {
                Ok(decision) => Ok(self.after(&mut change, &id, Some(decision))),
                Err(e) => Err(e.into()),
            },
            VoteCommand::QuarantineAdd { id, reason, at } => {
                check_quarantine(&id, &reason).map(|()| {
                    let entry = QuarantineEntry {
                        id,
                        reason,
                        added_at: at,
                        proposal_id: None,
                        revision: index,
                    };
                    let changed = self.add_quarantine(&mut change, entry);
                    VoteApplied { decision: None, changed }
                })
            }
            VoteCommand::QuarantineRemove { id, .. } => check_quarantine(&id, "").map(|()| {
                let changed = self.quarantine.remove(&id).is_some();
                if changed {
                    change.delete(quarantine_key(&id));
                    let body = EventBody::QuarantineChanged {
                        id,
                        quarantined: false,
                        reason: String::new(),
                    };
                    change.event("", body);
                }
                VoteApplied { decision: None, changed }
            }),
        };
        match result {
            Ok(applied) => {
                Applied { output: Ok(applied), writes: change.batch(), events: change.events }
            }
            Err(refusal) => refused(refusal),
        }
    }

    /// Records what changed on proposal `id` (and the decision, if one was
    /// taken): the proposal's key, the statistics, maybe a quarantine.
    fn after(
        &mut self,
        change: &mut Change,
        id: &ProposalId,
        decision: Option<Decision>,
    ) -> VoteApplied {
        let kind = self.kind_of(id);
        if let Some(decision) = &decision {
            let extra = self.extras.entry(id.clone()).or_default();
            extra.decided_index = Some(change.index);
            let quarantine_id = extra.quarantine_id.clone();
            self.decided.insert(change.index, id.clone());
            change.event(&kind, EventBody::DecisionReached(decision.clone()));
            if let (Outcome::Rejected, Some(qid)) = (decision.outcome, quarantine_id) {
                let entry = QuarantineEntry {
                    id: qid,
                    reason: format!("proposal {id} ({kind}) was rejected"),
                    added_at: change.at,
                    proposal_id: Some(id.0.clone()),
                    revision: change.index,
                };
                self.add_quarantine(change, entry);
            }
        }
        let stored = self.get(id).expect("the proposal exists");
        change.put(proposal_key(id), json(&stored));
        change.put(STATS_KEY.to_vec(), json(self.book.stats()));
        VoteApplied { decision, changed: false }
    }

    fn add_quarantine(&mut self, change: &mut Change, entry: QuarantineEntry) -> bool {
        if self.quarantine.contains_key(&entry.id) {
            return false;
        }
        change.put(quarantine_key(&entry.id), json(&entry));
        let body = EventBody::QuarantineChanged {
            id: entry.id.clone(),
            quarantined: true,
            reason: entry.reason.clone(),
        };
        change.event("", body);
        self.quarantine.insert(entry.id.clone(), entry);
        true
    }

    fn kind_of(&self, id: &ProposalId) -> String {
        self.book.get(id).map(|r| r.proposal.kind.clone()).unwrap_or_default()
    }

    /// Rebuilds the state from the reserved keys of `kv`.
    pub fn load(&mut self, kv: &KvStore) -> Result<(), String> {
        let mut state = BookState::default();
        let (mut extras, mut decided) = (BTreeMap::new(), BTreeMap::new());
        for (key, value) in scan(kv, PROPOSAL_PREFIX)? {
            let stored: StoredProposal = parse(&key, &value)?;
            let id = stored.record.proposal.id.clone();
            if let Some(index) = stored.decided_index {
                decided.insert(index, id.clone());
            }
            let extra = Extra {
                quarantine_id: stored.quarantine_id,
                created_index: stored.created_index,
                decided_index: stored.decided_index,
            };
            extras.insert(id.clone(), extra);
            state.records.insert(id, stored.record);
        }
        if let Some(kv) = kv.get(STATS_KEY).map_err(|e| e.to_string())? {
            state.stats = parse(&kv.key, &kv.value)?;
        }
        let mut quarantine = BTreeMap::new();
        for (key, value) in scan(kv, QUARANTINE_PREFIX)? {
            let entry: QuarantineEntry = parse(&key, &value)?;
            quarantine.insert(entry.id.clone(), entry);
        }
        self.book.restore(state).map_err(|e| format!("cannot restore the vote book: {e}"))?;
        (self.extras, self.decided, self.quarantine) = (extras, decided, quarantine);
        Ok(())
    }
}

fn refused(refusal: Refusal) -> Applied {
    Applied {
        output: Err(refusal),
        writes: KvCommand::Batch { puts: Vec::new(), deletes: Vec::new() },
        events: Vec::new(),
    }
}

/// The effects of one command as they pile up.
struct Change {
    index: u64,
    at: Time,
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    events: Vec<VoteEvent>,
}

impl Change {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push((key, Some(value)));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.writes.push((key, None));
    }

    fn event(&mut self, kind: &str, body: EventBody) {
        let (at, revision) = (self.at, self.index);
        self.events.push(VoteEvent { at, revision, kind: kind.to_owned(), body });
    }

    /// The writes as one batch; a key written twice keeps its last write.
    fn batch(&self) -> KvCommand {
        let last: BTreeMap<&Vec<u8>, &Option<Vec<u8>>> =
            self.writes.iter().map(|(k, v)| (k, v)).collect();
        let (mut puts, mut deletes) = (Vec::new(), Vec::new());
        for (key, value) in last {
            match value {
                Some(value) => puts.push((key.clone(), value.clone())),
                None => deletes.push(key.clone()),
            }
        }
        KvCommand::Batch { puts, deletes }
    }
}

fn proposal_key(id: &ProposalId) -> Vec<u8> {
    [PROPOSAL_PREFIX, id.0.as_bytes()].concat()
}

fn quarantine_key(id: &str) -> Vec<u8> {
    [QUARANTINE_PREFIX, id.as_bytes()].concat()
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("vote records serialize to JSON")
}

fn parse<T: for<'de> Deserialize<'de>>(key: &[u8], value: &[u8]) -> Result<T, String> {
    serde_json::from_slice(value)
        .map_err(|e| format!("record {:?} is not valid: {e}", key.escape_ascii().to_string()))
}

type KeyAndValue = (Vec<u8>, Vec<u8>);

/// Every key under `prefix`, page by page.
fn scan(kv: &KvStore, prefix: &[u8]) -> Result<Vec<KeyAndValue>, String> {
    let mut out = Vec::new();
    let mut after = Vec::new();
    loop {
        let page = kv.range_after(prefix, &after, 0).map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { return Ok(out) };
        after = last.key.clone();
        out.extend(page.into_iter().map(|kv| (kv.key, kv.value)));
    }
}
