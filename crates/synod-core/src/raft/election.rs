//! Leader election (§5.2), PreVote (thesis §9.6), CheckQuorum (thesis §6.2)
//! and the receiving side of leadership transfer (thesis §3.10).

use super::node::Role;
use super::Body;
use crate::{LogIndex, NodeId, Term};

impl super::Raft {
    pub(crate) fn on_election_timeout(&mut self) {
        if self.is_leader() {
            return;
        }
        if !self.membership.is_voter(self.id()) {
            // Learners and removed nodes never campaign (thesis §4.2.1).
            self.reset_election_timer();
            return;
        }
        if self.config.pre_vote {
            self.campaign_pre_vote();
        } else {
            self.campaign(false);
        }
    }

    /// Thesis §9.6: ask whether we could win before disturbing anyone's term.
    fn campaign_pre_vote(&mut self) {
        self.role = Role::PreCandidate;
        self.votes.clear();
        self.set_leader(None);
        self.reset_election_timer();
        self.votes.insert(self.id(), true);
        self.request_votes(self.term.next(), true, false);
        self.maybe_win_election(true);
    }

    /// §5.2: increment the term, vote for ourselves, ask everyone else.
    pub(crate) fn campaign(&mut self, transfer: bool) {
        self.term = self.term.next();
        self.vote = Some(self.id());
        self.vote_is_volatile = false;
        self.role = Role::Candidate;
        self.votes.clear();
        self.set_leader(None);
        self.reset_election_timer();
        // Our own vote counts only once it is durable, like any other.
        let grant = Body::RequestVoteResponse { granted: true, pre_vote: false };
        self.send_after_persist(self.id(), grant);
        self.request_votes(self.term, false, transfer);
    }

    fn request_votes(&mut self, term: Term, pre_vote: bool, transfer: bool) {
        let body = Body::RequestVote {
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            pre_vote,
            transfer,
        };
        let me = self.id();
        let voters: Vec<NodeId> = self.membership.voters.iter().copied().collect();
        for to in voters.into_iter().filter(|id| *id != me) {
            let msg = super::Message { from: me, to, term, body: body.clone() };
            self.effects.push(super::Effect::Send(msg));
        }
    }

    pub(crate) fn handle_vote_request(
        &mut self,
        from: NodeId,
        term: Term,
        last_log_index: LogIndex,
        last_log_term: Term,
        pre_vote: bool,
    ) {
        let up_to_date = self.log.is_up_to_date(last_log_index, last_log_term);
        if pre_vote {
            // A PreVote is granted for a later term to a candidate whose log
            // is up to date; nothing changes here.
            let granted = term > self.term && up_to_date;
            let reply = super::Message {
                from: self.id(),
                to: from,
                term: if granted { term } else { self.term },
                body: Body::RequestVoteResponse { granted, pre_vote: true },
            };
            self.effects.push(super::Effect::Send(reply));
            return;
        }
        // §5.2: at most one vote per term, first come first served, and
        // only for a candidate at least as up to date (§5.4.1).
        let can_vote = self.vote == Some(from)
            || (self.vote.is_none() && self.leader.is_none())
            || self.bug_grant_two_votes();
        if can_vote && up_to_date {
            self.vote = Some(from);
            self.reset_election_timer();
            let body = Body::RequestVoteResponse { granted: true, pre_vote: false };
            if self.bug_skip_vote_persist() {
                self.vote_is_volatile = true;
                self.send(from, body);
            } else {
                self.send_after_persist(from, body);
            }
        } else {
            self.send(from, Body::RequestVoteResponse { granted: false, pre_vote: false });
        }
    }

    pub(crate) fn handle_vote_response(
        &mut self,
        from: NodeId,
        term: Term,
        granted: bool,
        pre_vote: bool,
    ) {
        let expected = if pre_vote { Role::PreCandidate } else { Role::Candidate };
        if self.role != expected || (pre_vote && term != self.term.next() && granted) {
            return;
        }
        self.votes.insert(from, granted);
        self.maybe_win_election(pre_vote);
    }

    fn maybe_win_election(&mut self, pre_vote: bool) {
        let granted = self.votes.iter().filter(|(_, g)| **g).map(|(id, _)| id);
        if self.membership.has_quorum(granted) {
            if pre_vote {
                self.campaign(false);
            } else {
                self.become_leader();
            }
            return;
        }
        let rejected = self.votes.iter().filter(|(_, g)| !**g).map(|(id, _)| id);
        if self.membership.has_quorum(rejected) {
            self.become_follower(self.term, None);
        }
    }

    /// Thesis §3.10: the leader asks us to start an election at once.
    pub(crate) fn handle_timeout_now(&mut self, from: NodeId) {
        if self.membership.is_voter(self.id()) && self.leader == Some(from) {
            self.campaign(true);
        }
    }

    /// Thesis §6.2 (CheckQuorum): a leader that has not heard from a
    /// majority within the minimum election timeout steps down. Checked at
    /// every heartbeat, so it steps down at most one heartbeat late.
    /// Returns whether it is still leader.
    pub(crate) fn check_quorum(&mut self) -> bool {
        let me = self.id();
        let window = self.config.election_timeout_ms_min;
        let now = self.now;
        let active = self
            .progress
            .iter()
            .filter(|(_, pr)| now.ms_since(pr.last_active) < window)
            .map(|(id, _)| id)
            .chain(std::iter::once(&me));
        if self.config.check_quorum && !self.membership.has_quorum(active) {
            self.become_follower(self.term, None);
            return false;
        }
        if self.config.check_quorum {
            self.leader_contact = self.quorum_contact_time();
        }
        true
    }

    /// The latest time by which a majority (counting us) had been heard from.
    fn quorum_contact_time(&self) -> Option<crate::Time> {
        let me = self.id();
        let mut times: Vec<crate::Time> = self
            .membership
            .voters
            .iter()
            .map(|id| {
                if *id == me {
                    self.now
                } else {
                    self.progress.get(id).map_or(crate::Time(0), |p| p.last_active)
                }
            })
            .collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.get(self.membership.quorum().checked_sub(1)?).copied()
    }

    #[cfg(feature = "bug-injection")]
    fn bug_grant_two_votes(&self) -> bool {
        self.config.bugs.grant_two_votes_per_term
    }
    #[cfg(not(feature = "bug-injection"))]
    fn bug_grant_two_votes(&self) -> bool {
        false
    }
    #[cfg(feature = "bug-injection")]
    fn bug_skip_vote_persist(&self) -> bool {
        self.config.bugs.skip_vote_persist
    }
    #[cfg(not(feature = "bug-injection"))]
    fn bug_skip_vote_persist(&self) -> bool {
        false
    }
}
