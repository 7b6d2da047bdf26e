//! The in-memory view of the replicated log: a snapshot prefix, the entries
//! after it, and how far they are committed, durable and applied.

use super::{Entry, EntryPayload, Membership, SnapshotMeta};
use crate::{LogIndex, Term};

/// The log of one core. `entries[i].index == snapshot.index + 1 + i`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RaftLog {
    /// The compacted prefix.
    pub snapshot: SnapshotMeta,
    entries: Vec<Entry>,
    /// Highest index known committed (§5.3).
    pub committed: LogIndex,
    /// Highest index handed to the state machine.
    pub applied: LogIndex,
    /// Highest index at which durable storage matches this log.
    pub persisted: LogIndex,
    /// Lowest index changed since the last persist request, if any.
    pub unstable_from: Option<LogIndex>,
}

impl RaftLog {
    /// An empty log whose prefix up to `snapshot.index` is compacted.
    pub fn new(snapshot: SnapshotMeta) -> RaftLog {
        let index = snapshot.index;
        RaftLog {
            snapshot,
            entries: Vec::new(),
            committed: index,
            applied: index,
            persisted: index,
            unstable_from: None,
        }
    }

    /// Rebuilds the log from durable state; everything in it is persisted.
    pub fn restore(snapshot: SnapshotMeta, entries: Vec<Entry>, commit: LogIndex) -> RaftLog {
        let mut log = RaftLog::new(snapshot);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry.index.0, log.snapshot.index.0 + 1 + i as u64, "durable log has a gap");
        }
        log.entries = entries;
        log.persisted = log.last_index();
        log.committed = commit.max(log.snapshot.index).min(log.last_index());
        log
    }

    /// Index of the first entry still held (after the snapshot).
    pub fn first_index(&self) -> LogIndex {
        self.snapshot.index.next()
    }

    /// Index of the last entry, or of the snapshot when there are none.
    pub fn last_index(&self) -> LogIndex {
        self.entries.last().map_or(self.snapshot.index, |e| e.index)
    }

    /// Term of the last entry or the snapshot.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot.term, |e| e.term)
    }

    /// Term of the entry at `index`, if known (compacted entries are not,
    /// except the snapshot's last one).
    pub fn term(&self, index: LogIndex) -> Option<Term> {
        if index == self.snapshot.index {
            return Some(self.snapshot.term);
        }
        self.entry(index).map(|e| e.term)
    }

    /// The entry at `index`, if held.
    pub fn entry(&self, index: LogIndex) -> Option<&Entry> {
        let offset = index.0.checked_sub(self.first_index().0)?;
        self.entries.get(offset as usize)
    }

    /// Whether the log holds an entry at `index` with `term` (§5.3).
    pub fn matches(&self, index: LogIndex, term: Term) -> bool {
        self.term(index) == Some(term)
    }

    /// Whether a candidate's log is at least as up-to-date as ours (§5.4.1).
    pub fn is_up_to_date(&self, last_index: LogIndex, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// Entries from `from` on, as many as fit in `bytes_max` (at least one).
    pub fn entries_from(&self, from: LogIndex, bytes_max: usize) -> Vec<Entry> {
        let Some(offset) = from.0.checked_sub(self.first_index().0) else {
            return Vec::new();
        };
        let mut bytes = 0;
        let mut out = Vec::new();
        for entry in self.entries.iter().skip(offset as usize) {
            bytes += entry.size_bytes();
            if !out.is_empty() && bytes > bytes_max {
                break;
            }
            out.push(entry.clone());
        }
        out
    }

    /// Entries in `from..=to`.
    pub fn slice(&self, from: LogIndex, to: LogIndex) -> &[Entry] {
        if to < from || from < self.first_index() {
            return &[];
        }
        let lo = (from.0 - self.first_index().0) as usize;
        let hi = ((to.0 - self.first_index().0 + 1) as usize).min(self.entries.len());
        &self.entries[lo.min(hi)..hi]
    }

    /// The first index of the term of the entry at `index`, not below the
    /// first held entry (the conflict hint of fast backtracking, §5.3).
    pub fn first_index_of_term_at(&self, index: LogIndex) -> LogIndex {
        let term = self.term(index);
        let mut i = index;
        while i > self.first_index() && self.term(i.prev()) == term {
            i = i.prev();
        }
        i
    }

    /// The last index whose entry has `term`, if any entry does.
    pub fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        if let Some(entry) = self.entries.iter().rev().find(|e| e.term <= term) {
            return (entry.term == term).then_some(entry.index);
        }
        (self.snapshot.term == term).then_some(self.snapshot.index)
    }

    /// Appends a new entry at the end (leader path).
    pub fn push(&mut self, entry: Entry) {
        assert_eq!(entry.index, self.last_index().next(), "appended entry leaves a gap");
        self.mark_unstable(entry.index);
        self.entries.push(entry);
    }

    /// Stores entries received after a matching `prev` (§5.3): skips the
    /// ones already held, truncates at the first conflict, appends the rest.
    pub fn append_after_match(&mut self, entries: Vec<Entry>) {
        let mut rest = entries.into_iter().peekable();
        while let Some(entry) = rest.peek() {
            if entry.index <= self.snapshot.index {
                rest.next();
                continue;
            }
            match self.term(entry.index) {
                Some(term) if term == entry.term => {
                    rest.next();
                }
                Some(_) => {
                    assert!(entry.index > self.committed, "conflict with a committed entry");
                    self.truncate_from(entry.index);
                    break;
                }
                None => break,
            }
        }
        for entry in rest {
            self.push(entry);
        }
    }

    /// Drops entries at or after `index`.
    pub fn truncate_from(&mut self, index: LogIndex) {
        let keep = (index.0 - self.first_index().0) as usize;
        self.entries.truncate(keep);
        self.persisted = self.persisted.min(index.prev());
        self.mark_unstable(index);
    }

    fn mark_unstable(&mut self, index: LogIndex) {
        self.unstable_from = Some(self.unstable_from.map_or(index, |u| u.min(index)));
    }

    /// Takes the entries changed since the last call, and where they start.
    pub fn take_unstable(&mut self) -> Option<(LogIndex, Vec<Entry>)> {
        let from = self.unstable_from.take()?;
        let from = from.max(self.first_index());
        Some((from, self.slice(from, self.last_index()).to_vec()))
    }

    /// Records that storage holds this log up to `index`, if the entry
    /// there still has `term` (a later truncation may have replaced it).
    pub fn stable_to(&mut self, index: LogIndex, term: Term) {
        if index > self.persisted && self.term(index) == Some(term) {
            self.persisted = index;
        }
    }

    /// Advances the commit index; never moves it back.
    pub fn commit_to(&mut self, index: LogIndex) -> bool {
        let index = index.min(self.last_index());
        if index > self.committed {
            self.committed = index;
            return true;
        }
        false
    }

    /// Committed, durable entries not yet handed to the state machine.
    pub fn take_applicable(&mut self) -> Vec<Entry> {
        let to = self.committed.min(self.persisted);
        if to <= self.applied {
            return Vec::new();
        }
        let out = self.slice(self.applied.next(), to).to_vec();
        self.applied = to;
        out
    }

    /// Discards entries up to `meta.index`, which must be applied.
    pub fn compact(&mut self, meta: SnapshotMeta) {
        assert!(meta.index <= self.applied, "compacting unapplied entries");
        let drop = (meta.index.0 + 1).saturating_sub(self.first_index().0) as usize;
        self.entries.drain(..drop.min(self.entries.len()));
        self.snapshot = meta;
    }

    /// Installs a snapshot from the leader (§7): the entries after it are
    /// kept when `keep_suffix` (they match), else the whole log is dropped.
    pub fn install(&mut self, meta: SnapshotMeta, keep_suffix: bool) {
        let index = meta.index;
        if keep_suffix {
            let drop = (index.0 + 1).saturating_sub(self.first_index().0) as usize;
            self.entries.drain(..drop.min(self.entries.len()));
        } else {
            self.entries.clear();
            self.persisted = self.persisted.min(index);
            self.unstable_from = None;
        }
        self.snapshot = meta;
        self.committed = self.committed.max(index);
        self.applied = index;
    }

    /// The latest configuration in the log at or before `index`, with its index.
    pub fn membership_at(&self, index: LogIndex) -> (LogIndex, Membership) {
        let upto = index.min(self.last_index());
        for entry in self.slice(self.first_index(), upto).iter().rev() {
            if let EntryPayload::Membership(m) = &entry.payload {
                return (entry.index, m.clone());
            }
        }
        (self.snapshot.index, self.snapshot.membership.clone())
    }
}
