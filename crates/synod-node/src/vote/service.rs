//! The `Votes` gRPC service.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use synod_core::vote::{Participant, Proposal, ProposalId, Vote, VoteError};
use synod_core::{NodeId, Time};
use synod_proto::vote::v1 as pb;
use synod_proto::vote::v1::votes_server::Votes;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use super::convert::{
    choice_from_pb, decision_to_pb, event_to_pb, hook_run_to_pb, params_from_pb, proposal_to_pb,
    quarantine_to_pb, stats_to_pb,
};
use super::{check_quarantine, unix_now, EventBody, Refusal, VoteApplied, VoteCommand};
use crate::grpc::to_status;
use crate::hooks::HookLedger;
use crate::machine::{Applied, NodeStateMachine};
use crate::membership::MembershipHandle;
use crate::{Directory, NodeError, NodeHandle};

/// How long `Wait` blocks at most, whatever the client's deadline: past
/// the longest deadline a proposal can have, with room for the expiry.
const WAIT_MAX: Duration = Duration::from_secs(330);
/// Proposals `List` returns by default, and at most.
const LIST_DEFAULT: usize = 100;
const LIST_MAX: usize = 1000;
/// Hook runs `HookRuns` returns without a proposal id.
const HOOK_RUNS_RECENT: usize = 100;

/// Node-level vote settings (`consensus.votes` in the config file).
#[derive(Clone, Debug, PartialEq)]
pub struct VoteSettings {
    /// A rejected proposal of one of these kinds quarantines its identifier.
    pub quarantine_kinds: Vec<String>,
    /// Payload fields holding the identifier, tried in order; the
    /// proposal id when none is present.
    pub quarantine_fields: Vec<String>,
    /// How long a write waits for the cluster.
    pub request_timeout: Duration,
}

impl Default for VoteSettings {
    fn default() -> Self {
        VoteSettings {
            quarantine_kinds: vec!["commit".to_owned()],
            quarantine_fields: ["commit", "version", "id"].map(String::from).to_vec(),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// Serves `Votes` from a node's handle once the node is running.
#[derive(Clone, Debug)]
pub struct VotesService {
    me: NodeId,
    handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
    directory: Directory,
    membership: MembershipHandle,
    hooks: Option<HookLedger>,
    settings: VoteSettings,
}

type EventStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::Event, Status>> + Send>>;

impl VotesService {
    /// A service that answers UNAVAILABLE until `handle` is set.
    pub fn new(
        me: NodeId,
        handle: Arc<OnceLock<NodeHandle<NodeStateMachine>>>,
        directory: Directory,
        membership: MembershipHandle,
        hooks: Option<HookLedger>,
        settings: VoteSettings,
    ) -> VotesService {
        VotesService { me, handle, directory, membership, hooks, settings }
    }

    fn node(&self) -> Result<&NodeHandle<NodeStateMachine>, Status> {
        self.handle.get().ok_or_else(|| Status::unavailable("node is starting"))
    }

    /// Writes are the leader's: it stamps the time and checks the command
    /// against its book. Elsewhere: the redirect with the leader's address.
    fn leader(&self) -> Result<&NodeHandle<NodeStateMachine>, Status> {
        let node = self.node()?;
        let leader = node.leadership().1;
        if leader != Some(self.me) {
            return Err(to_status(&self.directory, NodeError::NotLeader { leader_hint: leader }));
        }
        Ok(node)
    }

    /// Runs `query` after a ReadIndex round (leader only; followers
    /// redirect).
    async fn read<R: Send + 'static>(
        &self,
        query: impl FnOnce(&NodeStateMachine) -> R + Send + 'static,
    ) -> Result<R, Status> {
        let node = self.node()?;
        tokio::time::timeout(self.settings.request_timeout, node.read(true, query))
            .await
            .unwrap_or(Err(NodeError::Timeout))
            .map_err(|e| to_status(&self.directory, e))
    }

    /// Runs `query` on this node's replica at once.
    async fn read_local<R: Send + 'static>(
        &self,
        query: impl FnOnce(&NodeStateMachine) -> R + Send + 'static,
    ) -> Result<R, Status> {
        self.node()?.read(false, query).await.map_err(|e| to_status(&self.directory, e))
    }

    /// Commits `command` and returns its index and what it did.
    async fn commit(&self, command: VoteCommand) -> Result<(u64, VoteApplied), Status> {
        let node = self.leader()?;
        let proposal = node.propose(Bytes::from(command.encode()));
        let (index, applied) = tokio::time::timeout(self.settings.request_timeout, proposal)
            .await
            .unwrap_or(Err(NodeError::Timeout))
            .map_err(|e| to_status(&self.directory, e))?;
        match applied {
            Applied::Vote(Ok(done)) => Ok((index.0, done)),
            Applied::Vote(Err(refusal)) => Err(refusal_status(&refusal)),
            Applied::Kv(other) => {
                Err(Status::internal(format!("state machine answered {other:?}")))
            }
        }
    }

    /// Who the caller is allowed to be: the name in its client
    /// certificate under mTLS, anyone without TLS (`None`).
    fn certified<T>(request: &Request<T>) -> Result<Option<String>, Status> {
        match crate::tls::peer_cert(request) {
            None => Ok(None),
            Some(cert) => match cert.name() {
                Some(name) => Ok(Some(name.to_owned())),
                None => Err(Status::permission_denied("the client certificate names no one")),
            },
        }
    }

    /// The acting name: `claimed` if given, else the certificate's name,
    /// else this node's; under mTLS a claim other than the certificate's
    /// name is refused.
    fn acting_as(
        &self,
        claimed: String,
        certified: Option<String>,
        role: &str,
    ) -> Result<Participant, Status> {
        let name = match (claimed.is_empty(), &certified) {
            (false, _) => claimed,
            (true, Some(cert)) => cert.clone(),
            (true, None) => Participant::from(self.me).0,
        };
        if let Some(cert) = certified.filter(|cert| *cert != name) {
            return Err(Status::permission_denied(format!(
                "this client's certificate names {cert}; it may act only as {cert}, not as {role} {name}"
            )));
        }
        let participant = Participant(name);
        participant.check().map_err(|reason| {
            Status::invalid_argument(format!("{role} name {:?} {reason}", participant.0))
        })?;
        Ok(participant)
    }

    /// The Raft voters SWIM holds alive (this node always), as names.
    async fn live_voters(&self) -> Result<Vec<Participant>, Status> {
        let status = self.node()?.status().await.map_err(|e| to_status(&self.directory, e))?;
        let view = self.membership.view();
        let alive = |id: &NodeId| {
            *id == self.me
                || view
                    .members
                    .iter()
                    .any(|(m, _)| m.id == *id && m.state == synod_core::swim::MemberState::Alive)
        };
        Ok(status.membership.voters.iter().filter(|id| alive(id)).map(|&id| id.into()).collect())
    }

    /// The identifier a rejection of this proposal quarantines, if its
    /// kind is guarded.
    fn quarantine_id(&self, kind: &str, payload: &serde_json::Value, id: &str) -> Option<String> {
        if !self.settings.quarantine_kinds.iter().any(|k| k == kind) {
            return None;
        }
        let found =
            self.settings.quarantine_fields.iter().find_map(|field| match payload.get(field)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        Some(found.unwrap_or_else(|| id.to_owned()))
    }

    async fn get_stored(&self, id: String) -> Result<pb::ProposalInfo, Status> {
        let key = ProposalId(id.clone());
        let stored = self.read(move |sm| sm.votes().get(&key)).await?;
        stored.map(|s| proposal_to_pb(&s)).ok_or_else(|| {
            refusal_status(&Refusal::Vote(VoteError::UnknownProposal { id: ProposalId(id) }))
        })
    }
}

/// What `Propose` answers about `proposal`, committed at `revision`.
fn propose_response(proposal: &Proposal, deadline: Time, revision: u64) -> pb::ProposeResponse {
    pb::ProposeResponse {
        id: proposal.id.0.clone(),
        participants: proposal.participants.iter().map(|p| p.0.clone()).collect(),
        created_at_ms: proposal.created_at.0,
        deadline_ms: deadline.0,
        revision,
    }
}

/// Whether `retry` asks for the proposal `first` again: everything but
/// the creation time the same.
fn same_request(first: &Proposal, retry: &Proposal) -> bool {
    first.proposer == retry.proposer
        && first.kind == retry.kind
        && first.payload == retry.payload
        && first.algorithm == retry.algorithm
        && first.params == retry.params
        && first.deadline_ms == retry.deadline_ms
        && first.participants == retry.participants
}

/// The status for a refused command: unknown proposals are NOT_FOUND,
/// refusals because of the proposal's state FAILED_PRECONDITION, bad
/// input INVALID_ARGUMENT.
fn refusal_status(refusal: &Refusal) -> Status {
    let message = refusal.to_string();
    match refusal {
        Refusal::Vote(VoteError::UnknownProposal { .. }) => Status::not_found(message),
        Refusal::Vote(
            VoteError::AlreadyVoted { .. }
            | VoteError::AlreadyDecided { .. }
            | VoteError::DeadlinePassed { .. }
            | VoteError::NotParticipant { .. }
            | VoteError::DuplicateProposal { .. }
            | VoteError::TooManyOpen { .. },
        ) => Status::failed_precondition(message),
        Refusal::Malformed(_) => Status::internal(message),
        _ => Status::invalid_argument(message),
    }
}

fn text(field: &str, value: String, max: usize) -> Result<Option<String>, Status> {
    if value.len() > max {
        return Err(Status::invalid_argument(format!(
            "{field} is {} bytes, over the limit of {max} bytes",
            value.len()
        )));
    }
    Ok((!value.is_empty()).then_some(value))
}

#[tonic::async_trait]
impl Votes for VotesService {
    async fn propose(
        &self,
        request: Request<pb::ProposeRequest>,
    ) -> Result<Response<pb::ProposeResponse>, Status> {
        let certified = Self::certified(&request)?;
        let req = request.into_inner();
        self.leader()?;
        let proposer = self.acting_as(req.proposer, certified, "proposer")?;
        let payload = if req.payload.trim().is_empty() { "{}".to_owned() } else { req.payload };
        let limit = synod_core::vote::Config::default().payload_bytes_max;
        text("payload", payload.clone(), limit)?;
        let json: serde_json::Value = serde_json::from_str(&payload)
            .map_err(|e| Status::invalid_argument(format!("payload is not valid JSON: {e}")))?;
        let id =
            if req.id.is_empty() { format!("p-{:016x}", rand::random::<u64>()) } else { req.id };
        let participants = if req.participants.is_empty() {
            self.live_voters().await?
        } else {
            req.participants.into_iter().map(Participant).collect()
        };
        let algorithm = if req.algorithm.is_empty() { "quorum".to_owned() } else { req.algorithm };
        let quarantine_id = self.quarantine_id(&req.kind, &json, &id);
        let mut proposal =
            Proposal::new(id, proposer, req.kind, algorithm, participants, unix_now())
                .with_payload(payload)
                .with_params(params_from_pb(req.params)?);
        proposal.deadline_ms = (req.timeout_ms != 0).then_some(req.timeout_ms);
        let check = proposal.clone();
        let (checked, existing) = self
            .read_local(move |sm| {
                let votes = sm.votes();
                (votes.book().check_create(&check), votes.get(&check.id))
            })
            .await?;
        let deadline = match (checked, existing) {
            (Ok(deadline), _) => deadline,
            // A retry of a create that went through: the same proposal,
            // answered as the first time (with its revision), not opened twice.
            (Err(VoteError::DuplicateProposal { .. }), Some(first))
                if same_request(&first.record.proposal, &proposal) =>
            {
                let (record, revision) = (&first.record, first.created_index);
                return Ok(Response::new(propose_response(
                    &record.proposal,
                    record.deadline,
                    revision,
                )));
            }
            (Err(e), _) => return Err(refusal_status(&Refusal::Vote(e))),
        };
        let response = propose_response(&proposal, deadline, 0);
        let (revision, _) = self.commit(VoteCommand::Create { proposal, quarantine_id }).await?;
        Ok(Response::new(pb::ProposeResponse { revision, ..response }))
    }

    async fn cast(
        &self,
        request: Request<pb::CastRequest>,
    ) -> Result<Response<pb::CastResponse>, Status> {
        let certified = Self::certified(&request)?;
        let req = request.into_inner();
        self.leader()?;
        let participant = self.acting_as(req.participant, certified, "participant")?;
        let limits = synod_core::vote::Config::default();
        let score = match req.score {
            Some(s) if s > 100 => {
                return Err(Status::invalid_argument(format!(
                    "score is {s}; it must be between 0 and 100"
                )))
            }
            other => other.map(|s| s as u8),
        };
        let vote = Vote {
            participant: participant.clone(),
            choice: choice_from_pb(req.choice)?,
            score,
            reason: text("reason", req.reason, limits.reason_bytes_max)?,
            metadata: text("metadata", req.metadata, limits.metadata_bytes_max)?,
        };
        if req.id.is_empty() {
            return Err(Status::invalid_argument("proposal id is empty"));
        }
        let (id, at) = (ProposalId(req.id), unix_now());
        let (check_id, check_vote) = (id.clone(), vote.clone());
        self.read_local(move |sm| sm.votes().book().check_cast(&check_id, &check_vote, at))
            .await?
            .map_err(|e| refusal_status(&Refusal::Vote(e)))?;
        let (revision, done) = self.commit(VoteCommand::Cast { id, vote, at }).await?;
        Ok(Response::new(pb::CastResponse {
            participant: participant.0,
            decision: done.decision.as_ref().map(decision_to_pb),
            revision,
        }))
    }

    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::ProposalInfo>, Status> {
        Ok(Response::new(self.get_stored(request.into_inner().id).await?))
    }

    async fn list(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResponse>, Status> {
        let req = request.into_inner();
        let limit = match req.limit as usize {
            0 => LIST_DEFAULT,
            n => n.min(LIST_MAX),
        };
        let proposals = self
            .read(move |sm| {
                let mut all: Vec<_> = sm
                    .votes()
                    .list()
                    .filter(|s| req.kind.is_empty() || s.record.proposal.kind == req.kind)
                    .filter(|s| !req.open_only || s.record.is_open())
                    .collect();
                all.sort_by_key(|s| std::cmp::Reverse(s.created_index));
                all.truncate(limit);
                all.iter().map(proposal_to_pb).collect()
            })
            .await?;
        Ok(Response::new(pb::ListResponse { proposals }))
    }

    async fn wait(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::ProposalInfo>, Status> {
        let id = ProposalId(request.into_inner().id);
        let (mut events, known) = {
            let key = id.clone();
            self.read_local(move |sm| {
                let events = sm.events().subscribe();
                let stored = sm.votes().get(&key);
                (events, stored)
            })
            .await?
        };
        match known {
            Some(stored) if stored.record.decision.is_some() => {
                return Ok(Response::new(proposal_to_pb(&stored)));
            }
            Some(_) => {}
            // Unknown here: unknown everywhere (NOT_FOUND), or this replica
            // is behind and the decision may already be taken.
            None => {
                let info = self.get_stored(id.0.clone()).await?;
                if info.decision.is_some() {
                    return Ok(Response::new(info));
                }
            }
        }
        let decided = async {
            loop {
                match events.recv().await {
                    Ok(e) => match &e.body {
                        EventBody::DecisionReached(d) if d.proposal_id == id => return Ok(()),
                        _ => continue,
                    },
                    // Missed some: the state tells whether the decision was among them.
                    Err(RecvError::Lagged(_)) => {
                        let key = id.clone();
                        let decided = self
                            .read_local(move |sm| {
                                sm.votes().get(&key).and_then(|s| s.record.decision)
                            })
                            .await?;
                        if decided.is_some() {
                            return Ok(());
                        }
                    }
                    Err(RecvError::Closed) => return Err(Status::unavailable("node is stopping")),
                }
            }
        };
        tokio::time::timeout(WAIT_MAX, decided).await.map_err(|_| {
            Status::deadline_exceeded(format!("proposal {id} undecided after {WAIT_MAX:?}"))
        })??;
        let key = id.clone();
        let stored = self.read_local(move |sm| sm.votes().get(&key)).await?;
        let stored = stored.ok_or_else(|| Status::internal("decided proposal vanished"))?;
        Ok(Response::new(proposal_to_pb(&stored)))
    }

    type WatchStream = EventStream;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let kind = request.into_inner().kind;
        let me = self.me.0;
        let events = self.read_local(|sm| sm.events().subscribe()).await?;
        let stream = BroadcastStream::new(events).filter_map(move |item| match item {
            Ok(e) if kind.is_empty() || e.kind.is_empty() || e.kind == kind => {
                Some(Ok(event_to_pb(me, &e)))
            }
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Some(Err(Status::data_loss(format!("watcher fell behind; {n} events skipped"))))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn stats(
        &self,
        _: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        Ok(Response::new(self.read(|sm| stats_to_pb(sm.votes().stats())).await?))
    }

    async fn hook_runs(
        &self,
        request: Request<pb::HookRunsRequest>,
    ) -> Result<Response<pb::HookRunsResponse>, Status> {
        let id = request.into_inner().proposal_id;
        let Some(ledger) = self.hooks.clone() else {
            return Ok(Response::new(pb::HookRunsResponse {
                node_id: self.me.0,
                runs: Vec::new(),
            }));
        };
        let runs = tokio::task::spawn_blocking(move || {
            if id.is_empty() {
                ledger.recent(HOOK_RUNS_RECENT)
            } else {
                ledger.results(&id)
            }
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::internal(e.to_string()))?;
        let runs = runs.iter().map(hook_run_to_pb).collect();
        Ok(Response::new(pb::HookRunsResponse { node_id: self.me.0, runs }))
    }

    async fn quarantine_add(
        &self,
        request: Request<pb::QuarantineAddRequest>,
    ) -> Result<Response<pb::QuarantineChangeResponse>, Status> {
        let req = request.into_inner();
        check_quarantine(&req.id, &req.reason).map_err(|e| refusal_status(&e))?;
        let command = VoteCommand::QuarantineAdd { id: req.id, reason: req.reason, at: unix_now() };
        let (revision, done) = self.commit(command).await?;
        Ok(Response::new(pb::QuarantineChangeResponse { changed: done.changed, revision }))
    }

    async fn quarantine_remove(
        &self,
        request: Request<pb::QuarantineRemoveRequest>,
    ) -> Result<Response<pb::QuarantineChangeResponse>, Status> {
        let id = request.into_inner().id;
        check_quarantine(&id, "").map_err(|e| refusal_status(&e))?;
        let (revision, done) =
            self.commit(VoteCommand::QuarantineRemove { id, at: unix_now() }).await?;
        Ok(Response::new(pb::QuarantineChangeResponse { changed: done.changed, revision }))
    }

    async fn quarantine_list(
        &self,
        _: Request<pb::QuarantineListRequest>,
    ) -> Result<Response<pb::QuarantineListResponse>, Status> {
        let entries = self
            .read(|sm| sm.votes().quarantine().values().map(quarantine_to_pb).collect())
            .await?;
        Ok(Response::new(pb::QuarantineListResponse { entries }))
    }

    async fn quarantine_check(
        &self,
        request: Request<pb::QuarantineCheckRequest>,
    ) -> Result<Response<pb::QuarantineCheckResponse>, Status> {
        let id = request.into_inner().id;
        check_quarantine(&id, "").map_err(|e| refusal_status(&e))?;
        let entry =
            self.read(move |sm| sm.votes().quarantine().get(&id).map(quarantine_to_pb)).await?;
        Ok(Response::new(pb::QuarantineCheckResponse { quarantined: entry.is_some(), entry }))
    }
}
