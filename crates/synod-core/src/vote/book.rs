//! The vote book: the deterministic state machine of proposals and votes.

use std::collections::{BTreeMap, BTreeSet};

use super::checks::{check_proposal, check_vote};
use super::{
    Algorithm, BookState, Config, ConfigError, Decision, Outcome, Proposal, ProposalId,
    ProposalRecord, Registry, Tally, Vote, VoteError, VoteStats,
};
use crate::Time;

/// Proposals, their votes and their decisions: the state machine the
/// node runs inside its replicated log (issue 6, items 2 and 3).
///
/// Every method is a deterministic function of the book and its
/// arguments — `BTreeMap`s, integer comparisons, time passed in — so the
/// replicas that apply the same commands in the same order hold the same
/// book. Commands and their rules:
///
/// * [`VoteBook::create`] opens a proposal; a custom algorithm may settle
///   it at once.
/// * [`VoteBook::cast`] records a vote. A participant votes **once**: a
///   second vote is refused ([`VoteError::AlreadyVoted`]), never
///   replaces the first, because otherwise the decision would depend on
///   which of two votes reached the log last. Only participants vote,
///   only before the deadline, only while undecided. The proposal is
///   decided the moment the outcome can no longer change (see each
///   algorithm's docs).
/// * [`VoteBook::expire`] is the leader's "deadline reached for X at T":
///   the algorithm judges the votes so far, and what it cannot settle is
///   an [`Outcome::Timeout`]. [`VoteBook::tick`] expires everything due,
///   for drivers that do not route expiries through a log.
///
/// A decision is final: it is never recomputed or reversed. A refused
/// command changes nothing.
#[derive(Debug)]
pub struct VoteBook {
    config: Config,
    registry: Registry,
    state: BookState,
    /// Open proposals by deadline, then id: feeds `tick` and
    /// `next_deadline`. Derived from `state`, so not snapshotted.
    deadlines: BTreeSet<(Time, ProposalId)>,
}

impl VoteBook {
    /// An empty book with the built-in algorithms.
    pub fn new(config: Config) -> Result<VoteBook, ConfigError> {
        VoteBook::with_registry(config, Registry::new())
    }

    /// An empty book deciding with the algorithms of `registry`.
    pub fn with_registry(config: Config, registry: Registry) -> Result<VoteBook, ConfigError> {
        config.validate()?;
        let (state, deadlines) = (BookState::default(), BTreeSet::new());
        Ok(VoteBook { config, registry, state, deadlines })
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The algorithms known.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Adds a custom algorithm (see [`Registry::register`]); the name is
    /// also held to `Config::algorithm_name_bytes_max`.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        algorithm: Box<dyn Algorithm>,
    ) -> Result<(), VoteError> {
        let name = name.into();
        let max = self.config.algorithm_name_bytes_max;
        if name.len() > max {
            return Err(VoteError::TooLarge { field: "algorithm name", bytes: name.len(), max });
        }
        self.registry.register(name, algorithm)
    }

    /// Checks everything [`VoteBook::create`] checks, changing nothing:
    /// a leader runs it before putting the command in the log, so bad
    /// input is refused without leaving a trace.
    pub fn check_create(&self, proposal: &Proposal) -> Result<Time, VoteError> {
        let deadline = check_proposal(&self.config, proposal)?;
        if self.state.records.contains_key(&proposal.id) {
            return Err(VoteError::DuplicateProposal { id: proposal.id.clone() });
        }
        let Some(algorithm) = self.registry.get(&proposal.algorithm) else {
            return Err(VoteError::UnknownAlgorithm { name: proposal.algorithm.clone() });
        };
        algorithm.validate(proposal)?;
        if self.deadlines.len() >= self.config.open_proposals_max {
            return Err(VoteError::TooManyOpen { max: self.config.open_proposals_max });
        }
        Ok(deadline)
    }

    /// Opens `proposal`, after checking its fields, its algorithm and the
    /// algorithm's parameters. Returns the decision if the algorithm
    /// settles the empty ballot (no built-in does).
    pub fn create(&mut self, proposal: Proposal) -> Result<Option<Decision>, VoteError> {
        let deadline = self.check_create(&proposal)?;
        let (id, now) = (proposal.id.clone(), proposal.created_at);
        self.state.stats.on_create(&proposal.algorithm);
        self.deadlines.insert((deadline, id.clone()));
        let record = ProposalRecord { proposal, deadline, votes: BTreeMap::new(), decision: None };
        self.state.records.insert(id.clone(), record);
        Ok(self.maybe_decide(&id, now))
    }

    /// Checks everything [`VoteBook::cast`] checks, changing nothing.
    pub fn check_cast(&self, id: &ProposalId, vote: &Vote, now: Time) -> Result<(), VoteError> {
        let record = self.open_record(id)?;
        if now >= record.deadline {
            let deadline = record.deadline;
            return Err(VoteError::DeadlinePassed { id: id.clone(), deadline, now });
        }
        let participant = &vote.participant;
        if !record.proposal.is_participant(participant) {
            let participant = participant.clone();
            return Err(VoteError::NotParticipant { id: id.clone(), participant });
        }
        if record.votes.contains_key(participant) {
            let participant = participant.clone();
            return Err(VoteError::AlreadyVoted { id: id.clone(), participant });
        }
        check_vote(&self.config, vote)?;
        self.algorithm_of(record).check_vote(&record.proposal, vote)
    }

    /// Records `vote` on proposal `id`, stamped `now`, and returns the
    /// decision if this vote settles the outcome.
    pub fn cast(
        &mut self,
        id: &ProposalId,
        vote: Vote,
        now: Time,
    ) -> Result<Option<Decision>, VoteError> {
        self.check_cast(id, &vote, now)?;
        self.record_mut(id).votes.insert(vote.participant.clone(), vote);
        Ok(self.maybe_decide(id, now))
    }

    /// The deadline of proposal `id` has been reached at `now`: decide it
    /// on the votes so far, [`Outcome::Timeout`] if they settle nothing.
    pub fn expire(&mut self, id: &ProposalId, now: Time) -> Result<Decision, VoteError> {
        let record = self.open_record(id)?;
        if now < record.deadline {
            let deadline = record.deadline;
            return Err(VoteError::DeadlineNotReached { id: id.clone(), deadline, now });
        }
        Ok(self.time_out(id, now))
    }

    /// Expires every open proposal whose deadline is at or before `now`,
    /// earliest deadline first (ties by id).
    pub fn tick(&mut self, now: Time) -> Vec<Decision> {
        self.due(now).iter().map(|id| self.time_out(id, now)).collect()
    }

    /// The open proposals whose deadline is at or before `now`, earliest
    /// first: what a leader turns into expiry commands.
    pub fn due(&self, now: Time) -> Vec<ProposalId> {
        let due = self.deadlines.iter().take_while(|(deadline, _)| *deadline <= now);
        due.map(|(_, id)| id.clone()).collect()
    }

    /// The earliest deadline of an open proposal.
    pub fn next_deadline(&self) -> Option<Time> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// The proposal `id`, with its votes and decision.
    pub fn get(&self, id: &ProposalId) -> Option<&ProposalRecord> {
        self.state.records.get(id)
    }

    /// Every proposal, open or decided, in id order.
    pub fn list(&self) -> impl Iterator<Item = &ProposalRecord> + '_ {
        self.state.records.values()
    }

    /// Totals and per-algorithm counters.
    pub fn stats(&self) -> &VoteStats {
        &self.state.stats
    }

    /// The replicated state, for a snapshot.
    pub fn state(&self) -> &BookState {
        &self.state
    }

    /// Replaces the book's state with a snapshot's. Refused, with the book
    /// unchanged, when an open proposal names an algorithm this node has
    /// not registered.
    pub fn restore(&mut self, state: BookState) -> Result<(), VoteError> {
        let open = state.records.values().filter(|r| r.is_open());
        if let Some(r) = open.clone().find(|r| !self.registry.contains(&r.proposal.algorithm)) {
            return Err(VoteError::UnknownAlgorithm { name: r.proposal.algorithm.clone() });
        }
        self.deadlines = open.map(|r| (r.deadline, r.proposal.id.clone())).collect();
        self.state = state;
        Ok(())
    }

    fn open_record(&self, id: &ProposalId) -> Result<&ProposalRecord, VoteError> {
        let record =
            self.state.records.get(id).ok_or(VoteError::UnknownProposal { id: id.clone() })?;
        match &record.decision {
            Some(d) => Err(VoteError::AlreadyDecided { id: id.clone(), outcome: d.outcome }),
            None => Ok(record),
        }
    }

    fn record_mut(&mut self, id: &ProposalId) -> &mut ProposalRecord {
        self.state.records.get_mut(id).expect("the proposal was found a moment ago")
    }

    /// Open proposals' algorithms are registered (checked by `create` and
    /// `restore`, and names are never unregistered).
    fn algorithm_of(&self, record: &ProposalRecord) -> &dyn Algorithm {
        self.registry.get(&record.proposal.algorithm).expect("open proposal's algorithm")
    }

    fn maybe_decide(&mut self, id: &ProposalId, now: Time) -> Option<Decision> {
        let record = &self.state.records[id];
        let verdict = self.algorithm_of(record).decide(&record.proposal, &record.votes, false)?;
        Some(self.conclude(id, verdict.into(), now))
    }

    fn time_out(&mut self, id: &ProposalId, now: Time) -> Decision {
        let record = &self.state.records[id];
        let verdict = self.algorithm_of(record).decide(&record.proposal, &record.votes, true);
        self.conclude(id, verdict.map_or(Outcome::Timeout, Outcome::from), now)
    }

    /// Takes the decision: recorded once, counted once, off the deadlines.
    fn conclude(&mut self, id: &ProposalId, outcome: Outcome, now: Time) -> Decision {
        let record = self.state.records.get_mut(id).expect("concluding a known proposal");
        assert!(record.decision.is_none(), "a decision is never reversed: {id}");
        let decision = Decision {
            proposal_id: id.clone(),
            outcome,
            algorithm: record.proposal.algorithm.clone(),
            tally: Tally::count(&record.proposal, &record.votes),
            voters: record.votes.keys().cloned().collect(),
            decided_at: now,
            duration_ms: now.ms_since(record.proposal.created_at),
        };
        record.decision = Some(decision.clone());
        self.deadlines.remove(&(record.deadline, id.clone()));
        self.state.stats.on_decision(&decision);
        decision
    }
}
