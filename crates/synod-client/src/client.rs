//! [`Client`]: endpoint selection, leader redirects and safe retries.

use std::sync::Mutex;
use std::time::Duration;

use synod_proto::cluster::v1 as cpb;
use synod_proto::cluster::v1::cluster_client::ClusterClient;
use synod_proto::kv::v1 as kpb;
use synod_proto::kv::v1::kv_client::KvClient;
use synod_proto::LeaderHint;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use crate::ClientError;

/// How a client connects and retries.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Deadline of each call.
    pub timeout: Duration,
    /// Redirects and reconnections per call before giving up.
    pub attempts_max: u32,
    /// Pause between attempts when no leader is known.
    pub retry_delay: Duration,
    /// TLS (the cluster CA and a client certificate), if the cluster uses it.
    pub tls: Option<ClientTlsConfig>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(5),
            attempts_max: 20,
            retry_delay: Duration::from_millis(100),
            tls: None,
        }
    }
}

/// A client of a synod cluster; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Client {
    endpoints: Vec<String>,
    pub(crate) options: ClientOptions,
    /// The endpoint that last answered as leader, with its channel.
    current: Mutex<Option<(String, Channel)>>,
}

/// What an attempt's failure means for the next one.
enum Next {
    /// Go to this address (a redirect).
    Redirect(String),
    /// Try another endpoint after a pause; nothing took effect.
    Retry(String),
    /// The request never reached a server; try another endpoint.
    Unsent(String),
    /// Stop with this error.
    Fail(ClientError),
}

/// Server messages that guarantee the request did not take effect.
const NOTHING_HAPPENED: &[&str] = &[
    "not the leader",
    "node is starting",
    "proposal lost to a leader change",
    "leadership transfer in progress",
];

/// Transport errors that prove the request never left this client.
const NEVER_SENT: &[&str] = &[
    "tcp connect error",
    "Connection refused",
    "invalid peer certificate",
    "certificate required",
    "HandshakeFailure",
    "UnknownIssuer",
    "BadCertificate",
];

/// The status message with the chain of its underlying errors.
pub(crate) fn status_text(status: &Status) -> String {
    let mut text = status.message().to_string();
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn classify(status: &Status, write: bool) -> Next {
    if let Some(hint) = LeaderHint::from_status(status) {
        if let Some(address) = hint.address {
            return Next::Redirect(address);
        }
    }
    let message = status_text(status);
    // The connection was never established (refused, or TLS handshake
    // failed): nothing was sent, so nothing took effect.
    if NEVER_SENT.iter().any(|m| message.contains(m)) {
        return Next::Unsent(message);
    }
    let safe = NOTHING_HAPPENED.iter().any(|m| message.contains(m));
    match status.code() {
        Code::FailedPrecondition if safe => Next::Retry(message),
        Code::Unavailable if safe => Next::Retry(message),
        Code::Unavailable | Code::Unknown | Code::Cancelled if write => {
            Next::Fail(ClientError::Ambiguous(message))
        }
        Code::Unavailable | Code::Unknown | Code::Cancelled => Next::Retry(message),
        Code::DeadlineExceeded if write => Next::Fail(ClientError::Ambiguous(message)),
        Code::DeadlineExceeded => Next::Retry(message),
        Code::InvalidArgument
        | Code::OutOfRange
        | Code::FailedPrecondition
        | Code::PermissionDenied
        | Code::Unauthenticated => Next::Fail(ClientError::Invalid(message)),
        _ => Next::Fail(ClientError::Server(format!("{:?}: {message}", status.code()))),
    }
}

impl Client {
    /// A client of the cluster reachable at `endpoints` (`host:port`).
    pub fn new(endpoints: Vec<String>, options: ClientOptions) -> Client {
        Client { endpoints, options, current: Mutex::new(None) }
    }

    /// The endpoints, in the order given.
    pub(crate) fn endpoint_list(&self) -> &[String] {
        &self.endpoints
    }

    async fn connect(&self, address: &str) -> Result<Channel, String> {
        let scheme = if self.options.tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| format!("bad endpoint {address}: {e}"))?
            .connect_timeout(Duration::from_secs(1))
            .timeout(self.options.timeout)
            .tcp_nodelay(true);
        if let Some(tls) = &self.options.tls {
            endpoint = endpoint.tls_config(tls.clone()).map_err(|e| format!("TLS: {e}"))?;
        }
        endpoint.connect().await.map_err(|e| format!("{address}: {}", source_chain(&e)))
    }

    /// Connects and proves the link with a cheap `Status` call, so that a
    /// refused link (a TLS 1.3 server rejects a client certificate only
    /// after the handshake) is known before any write is sent on it.
    pub(crate) async fn connect_checked(&self, address: &str) -> Result<Channel, String> {
        let channel = self.connect(address).await?;
        match ClusterClient::new(channel.clone()).status(cpb::StatusRequest {}).await {
            Ok(_) => Ok(channel),
            Err(status) => {
                let text = status_text(&status);
                if self.options.tls.is_some() && status.code() != Code::Unimplemented {
                    Err(format!(
                        "{address}: {text} (the node refused the connection: is the client certificate signed by the cluster CA?)"
                    ))
                } else {
                    Err(format!("{address}: {text}"))
                }
            }
        }
    }

    /// Runs `call` against the leader, following redirects; `write` calls
    /// are retried only when the failure proves nothing took effect.
    pub(crate) async fn with_leader<T, F, Fut>(
        &self,
        write: bool,
        call: F,
    ) -> Result<T, ClientError>
    where
        F: Fn(Channel) -> Fut,
        Fut: std::future::Future<Output = Result<T, Status>>,
    {
        let mut next_address: Option<String> =
            self.current.lock().expect("client lock").as_ref().map(|(a, _)| a.clone());
        let mut last_error = String::from("no endpoints");
        let mut rotation = 0usize;
        let mut leaderless = 0u32;
        for _ in 0..self.options.attempts_max {
            let address = next_address.take().unwrap_or_else(|| {
                rotation += 1;
                self.endpoints[(rotation - 1) % self.endpoints.len().max(1)].clone()
            });
            let cached = self.current.lock().expect("client lock").clone();
            let channel = match cached {
                Some((a, channel)) if a == address => channel,
                _ => match self.connect_checked(&address).await {
                    Ok(channel) => channel,
                    Err(err) => {
                        last_error = err;
                        continue;
                    }
                },
            };
            match call(channel.clone()).await {
                Ok(value) => {
                    *self.current.lock().expect("client lock") = Some((address, channel));
                    return Ok(value);
                }
                Err(status) => match classify(&status, write) {
                    Next::Redirect(to) => {
                        last_error = format!("redirected to the leader at {to}");
                        next_address = Some(to);
                    }
                    Next::Unsent(message) => {
                        *self.current.lock().expect("client lock") = None;
                        last_error = message;
                    }
                    Next::Retry(message) => {
                        *self.current.lock().expect("client lock") = None;
                        leaderless += 1;
                        last_error = message;
                        tokio::time::sleep(self.options.retry_delay).await;
                    }
                    Next::Fail(err) => {
                        // A refusal came from a working leader: keep its
                        // connection. Anything else may mean a broken link.
                        let mut current = self.current.lock().expect("client lock");
                        *current = match err {
                            ClientError::Invalid(_) => Some((address, channel)),
                            _ => None,
                        };
                        return Err(err);
                    }
                },
            }
        }
        if leaderless > 0 {
            Err(ClientError::NoLeader(last_error))
        } else {
            Err(ClientError::Unreachable(last_error))
        }
    }

    /// Writes `value` at `key`; returns the write's revision.
    pub async fn put(&self, key: &[u8], value: &[u8]) -> Result<u64, ClientError> {
        let req = kpb::PutRequest { key: key.to_vec().into(), value: value.to_vec().into() };
        self.with_leader(true, |ch| {
            let req = req.clone();
            async move { KvClient::new(ch).put(req).await.map(|r| r.into_inner().revision) }
        })
        .await
    }

    /// Reads `key` linearizably.
    pub async fn get(&self, key: &[u8]) -> Result<Option<kpb::KeyValue>, ClientError> {
        self.get_with(key, false).await
    }

    /// Reads `key`; `serializable` reads the contacted node's replica
    /// without a leader round (may be stale).
    pub async fn get_with(
        &self,
        key: &[u8],
        serializable: bool,
    ) -> Result<Option<kpb::KeyValue>, ClientError> {
        let req = kpb::GetRequest { key: key.to_vec().into(), serializable };
        self.with_leader(false, |ch| {
            let req = req.clone();
            async move { KvClient::new(ch).get(req).await.map(|r| r.into_inner().kv) }
        })
        .await
    }

    /// Deletes `key`; returns (revision, whether it existed).
    pub async fn delete(&self, key: &[u8]) -> Result<(u64, bool), ClientError> {
        let req = kpb::DeleteRequest { key: key.to_vec().into() };
        self.with_leader(true, |ch| {
            let req = req.clone();
            async move {
                KvClient::new(ch).delete(req).await.map(|r| {
                    let r = r.into_inner();
                    (r.revision, r.deleted)
                })
            }
        })
        .await
    }

    /// Sets `key` to `value` if it currently holds `expect` (`None`: if it
    /// is absent); returns whether it did, and the key's state after.
    pub async fn compare_and_swap(
        &self,
        key: &[u8],
        expect: Option<&[u8]>,
        value: &[u8],
    ) -> Result<(bool, Option<kpb::KeyValue>), ClientError> {
        use kpb::compare_and_swap_request::Expect;
        let expect = match expect {
            Some(v) => Expect::ExpectValue(v.to_vec().into()),
            None => Expect::ExpectAbsent(true),
        };
        let req = kpb::CompareAndSwapRequest {
            key: key.to_vec().into(),
            expect: Some(expect),
            value: value.to_vec().into(),
        };
        self.with_leader(true, |ch| {
            let req = req.clone();
            async move {
                KvClient::new(ch).compare_and_swap(req).await.map(|r| {
                    let r = r.into_inner();
                    (r.succeeded, r.current)
                })
            }
        })
        .await
    }

    /// Keys starting with `prefix`, in order, at most `limit` (0: the
    /// server's maximum); the flag says whether more remain.
    pub async fn range(
        &self,
        prefix: &[u8],
        limit: u64,
    ) -> Result<(Vec<kpb::KeyValue>, bool), ClientError> {
        let req = kpb::RangeRequest { prefix: prefix.to_vec().into(), limit, ..Default::default() };
        self.with_leader(false, |ch| {
            let req = req.clone();
            async move {
                KvClient::new(ch).range(req).await.map(|r| {
                    let r = r.into_inner();
                    (r.kvs, r.more)
                })
            }
        })
        .await
    }

    /// The status of the first endpoint that answers.
    pub async fn status(&self) -> Result<cpb::StatusResponse, ClientError> {
        let mut last = String::from("no endpoints");
        for address in &self.endpoints {
            match self.connect(address).await {
                Ok(ch) => match ClusterClient::new(ch).status(cpb::StatusRequest {}).await {
                    Ok(r) => return Ok(r.into_inner()),
                    Err(s) => last = format!("{address}: {}", s.message()),
                },
                Err(e) => last = e,
            }
        }
        Err(ClientError::Unreachable(last))
    }

    /// Adds a member (as a voter unless `learner`).
    pub async fn add_member(
        &self,
        id: u64,
        address: &str,
        learner: bool,
    ) -> Result<cpb::AddMemberResponse, ClientError> {
        let req = cpb::AddMemberRequest { id, address: address.to_string(), learner };
        self.with_leader(true, |ch| {
            let req = req.clone();
            async move { ClusterClient::new(ch).add_member(req).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Removes a member.
    pub async fn remove_member(&self, id: u64) -> Result<cpb::RemoveMemberResponse, ClientError> {
        let req = cpb::RemoveMemberRequest { id };
        self.with_leader(true, |ch| async move {
            ClusterClient::new(ch).remove_member(req).await.map(|r| r.into_inner())
        })
        .await
    }

    /// Hands leadership to `target`; returns once it leads.
    pub async fn transfer_leader(
        &self,
        target: u64,
    ) -> Result<cpb::TransferLeaderResponse, ClientError> {
        let req = cpb::TransferLeaderRequest { target };
        self.with_leader(true, |ch| async move {
            ClusterClient::new(ch).transfer_leader(req).await.map(|r| r.into_inner())
        })
        .await
    }
}

fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
