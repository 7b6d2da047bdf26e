//! Vote calls (`synod.vote.v1.Votes`): proposals, votes, decisions and the
//! quarantine list.
//!
//! Every call starts at the first endpoint that answers (or the last known
//! leader) and follows the "not the leader" hint, as KV calls do: writes
//! are the leader's, and so are linearizable reads (a follower redirects).
//! Writes (propose, cast, quarantine add and remove) are retried only when
//! the failure proves nothing was recorded. `Wait`, `Watch` and `HookRuns`
//! are sent to the first reachable endpoint and not retried elsewhere (only
//! a redirect is followed): a wait that ran out must not start over on the
//! next node, and watch and hook runs are one node's view.

use std::time::Duration;

use synod_proto::vote::v1 as pb;
use synod_proto::vote::v1::votes_client::VotesClient;
use synod_proto::LeaderHint;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};

use crate::client::{status_text, Client};
use crate::ClientError;

impl Client {
    /// Opens a proposal on the leader; returns its id once committed.
    ///
    /// Choose the `id` to make the call safe to repeat: a retry with the
    /// same id and fields is answered with the first proposal, while the
    /// same id with other fields is refused.
    pub async fn vote_propose(
        &self,
        request: pb::ProposeRequest,
    ) -> Result<pb::ProposeResponse, ClientError> {
        self.with_leader(true, |channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).propose(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Casts a vote on the leader; the response carries the decision if
    /// this vote settled the proposal.
    pub async fn vote_cast(
        &self,
        request: pb::CastRequest,
    ) -> Result<pb::CastResponse, ClientError> {
        self.with_leader(true, |channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).cast(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// One proposal with its votes and decision.
    pub async fn vote_get(&self, id: &str) -> Result<pb::ProposalInfo, ClientError> {
        let request = pb::GetRequest { id: id.to_string() };
        self.with_leader(false, |channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).get(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Proposals, newest first.
    pub async fn vote_list(
        &self,
        request: pb::ListRequest,
    ) -> Result<pb::ListResponse, ClientError> {
        self.with_leader(false, |channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).list(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Blocks until the proposal `id` is decided, at most `timeout`.
    ///
    /// Every call of this client is bounded by
    /// [`ClientOptions::timeout`](crate::ClientOptions), so a longer wait is
    /// made of several `Wait` calls, each at most that long.
    pub async fn vote_wait(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<pb::ProposalInfo, ClientError> {
        let request = pb::GetRequest { id: id.to_string() };
        let deadline = tokio::time::Instant::now() + timeout;
        let per_call = self.options.timeout;
        self.with_first_node(|channel| {
            let request = request.clone();
            async move {
                loop {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let slice = left.min(per_call);
                    let mut call = tonic::Request::new(request.clone());
                    call.set_timeout(slice);
                    match VotesClient::new(channel.clone()).wait(call).await {
                        Ok(response) => return Ok(response.into_inner()),
                        Err(status) if is_deadline(&status) && slice < left => continue,
                        Err(status) if is_deadline(&status) => {
                            return Err(Status::deadline_exceeded(format!(
                                "the wait's deadline passed before {id} was decided"
                            )))
                        }
                        Err(status) => return Err(status),
                    }
                }
            }
        })
        .await
    }

    /// Events as the first reachable node applies them; `kind` empty: all
    /// kinds (quarantine changes always pass).
    pub async fn vote_watch(&self, kind: &str) -> Result<Streaming<pb::Event>, ClientError> {
        let request = pb::WatchRequest { kind: kind.to_string() };
        self.with_first_node(|channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).watch(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Totals and per-algorithm counters.
    pub async fn vote_stats(&self) -> Result<pb::StatsResponse, ClientError> {
        self.with_leader(false, |channel| async move {
            VotesClient::new(channel).stats(pb::StatsRequest {}).await.map(|r| r.into_inner())
        })
        .await
    }

    /// Decision-hook runs on the first reachable node, of the proposal
    /// `proposal_id` (empty: the most recent runs).
    pub async fn vote_hook_runs(
        &self,
        proposal_id: &str,
    ) -> Result<pb::HookRunsResponse, ClientError> {
        let request = pb::HookRunsRequest { proposal_id: proposal_id.to_string() };
        self.with_first_node(|channel| {
            let request = request.clone();
            async move { VotesClient::new(channel).hook_runs(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Puts `id` on the quarantine list; `changed` is false when it was
    /// already there.
    pub async fn quarantine_add(
        &self,
        id: &str,
        reason: &str,
    ) -> Result<pb::QuarantineChangeResponse, ClientError> {
        let request = pb::QuarantineAddRequest { id: id.to_string(), reason: reason.to_string() };
        self.with_leader(true, |channel| {
            let request = request.clone();
            async move {
                VotesClient::new(channel).quarantine_add(request).await.map(|r| r.into_inner())
            }
        })
        .await
    }

    /// Takes `id` off the quarantine list; `changed` is false when it was
    /// not there.
    pub async fn quarantine_remove(
        &self,
        id: &str,
    ) -> Result<pb::QuarantineChangeResponse, ClientError> {
        let request = pb::QuarantineRemoveRequest { id: id.to_string() };
        self.with_leader(true, |channel| {
            let request = request.clone();
            async move {
                VotesClient::new(channel).quarantine_remove(request).await.map(|r| r.into_inner())
            }
        })
        .await
    }

    /// The quarantine list.
    pub async fn quarantine_list(&self) -> Result<pb::QuarantineListResponse, ClientError> {
        self.with_leader(false, |channel| async move {
            VotesClient::new(channel)
                .quarantine_list(pb::QuarantineListRequest {})
                .await
                .map(|r| r.into_inner())
        })
        .await
    }

    /// Whether `id` is on the quarantine list, with its entry if so.
    pub async fn quarantine_check(
        &self,
        id: &str,
    ) -> Result<pb::QuarantineCheckResponse, ClientError> {
        let request = pb::QuarantineCheckRequest { id: id.to_string() };
        self.with_leader(false, |channel| {
            let request = request.clone();
            async move {
                VotesClient::new(channel).quarantine_check(request).await.map(|r| r.into_inner())
            }
        })
        .await
    }

    /// Sends `call` to the first endpoint that accepts a connection, and to
    /// the leader if that node redirects; any other failure of the call is
    /// not retried elsewhere.
    async fn with_first_node<T, F, Fut>(&self, call: F) -> Result<T, ClientError>
    where
        F: Fn(Channel) -> Fut,
        Fut: std::future::Future<Output = Result<T, Status>>,
    {
        let mut last_error = String::from("no endpoints");
        let mut first = None;
        for address in self.endpoint_list() {
            match self.connect_checked(address).await {
                Ok(channel) => {
                    first = Some((address.clone(), channel));
                    break;
                }
                Err(err) => last_error = err,
            }
        }
        let Some((address, channel)) = first else {
            return Err(ClientError::Unreachable(last_error));
        };
        let status = match call(channel).await {
            Ok(value) => return Ok(value),
            Err(status) => status,
        };
        let Some(leader) = LeaderHint::from_status(&status).and_then(|hint| hint.address) else {
            return Err(call_error(&address, &status));
        };
        let channel = self.connect_checked(&leader).await.map_err(ClientError::Unreachable)?;
        call(channel).await.map_err(|status| call_error(&leader, &status))
    }
}

/// The error of a call sent once to the node at `address`.
fn call_error(address: &str, status: &Status) -> ClientError {
    let message = status_text(status);
    match status.code() {
        Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::PermissionDenied
        | Code::Unauthenticated => ClientError::Invalid(message),
        Code::Unavailable => ClientError::Unreachable(format!("{address}: {message}")),
        code => ClientError::Server(format!("{code:?}: {message}")),
    }
}

/// Whether the call's deadline passed: the server's DEADLINE_EXCEEDED, or
/// the client's own timer (CANCELLED, "Timeout expired").
fn is_deadline(status: &Status) -> bool {
    match status.code() {
        Code::DeadlineExceeded => true,
        Code::Cancelled => status.message() == "Timeout expired",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_call_maps_codes_to_errors() {
        let invalid = call_error("a:1", &Status::failed_precondition("already voted"));
        assert!(matches!(invalid, ClientError::Invalid(m) if m == "already voted"));
        let down = call_error("a:1", &Status::unavailable("node is starting"));
        assert!(matches!(down, ClientError::Unreachable(m) if m == "a:1: node is starting"));
        let missing = call_error("a:1", &Status::not_found("no proposal p1"));
        assert!(matches!(missing, ClientError::Server(m) if m == "NotFound: no proposal p1"));
    }

    #[test]
    fn deadline_is_recognised_from_either_side() {
        assert!(is_deadline(&Status::deadline_exceeded("deadline")));
        assert!(is_deadline(&Status::cancelled("Timeout expired")));
        assert!(!is_deadline(&Status::cancelled("the client went away")));
        assert!(!is_deadline(&Status::not_found("no proposal p1")));
    }
}
