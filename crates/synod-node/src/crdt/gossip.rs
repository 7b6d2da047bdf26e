//! Anti-entropy gossip between node processes: every interval the node
//! opens a `Gossip.Exchange` stream to `fanout` random peers and runs one
//! [`AntiEntropySession`] over it; peers answer on the same stream. The
//! session's first message is each side's ed25519-signed Merkle root,
//! verified against the key the sender committed to the replicated log.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use rand::seq::IteratorRandom;
use synod_core::antientropy::{AntiEntropySession, Auth, Config, Effect, Outcome, SessionError};
use synod_core::{NodeId, Time};
use synod_proto::gossip::v1::gossip_client::GossipClient;
use synod_proto::gossip::v1::gossip_server::Gossip;
use synod_proto::gossip::v1::GossipFrame;
use synod_proto::gossip::{decode_frame, encode_frame};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

use super::keys;
use super::state::CrdtState;
use crate::config::TlsFiles;
use crate::machine::NodeStateMachine;
use crate::membership::MembershipHandle;
use crate::{tls, Directory, NodeHandle};

/// The longest one session may take, whatever its retries.
const SESSION_TIME_MAX: Duration = Duration::from_secs(30);

/// Largest gossip frame accepted (a batch is bounded by the session's
/// `batch_bytes_max`, 256 KiB, unless one object is larger).
pub const FRAME_BYTES_MAX: usize = 8 << 20;

/// What both sides of a session need.
#[derive(Clone)]
pub struct GossipContext {
    state: CrdtState,
    node: NodeHandle<NodeStateMachine>,
    signing_key: SigningKey,
    root_counter: Arc<AtomicU64>,
    next_session: Arc<AtomicU64>,
    config: Config,
}

impl std::fmt::Debug for GossipContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipContext").field("me", &self.state.me()).finish()
    }
}

impl GossipContext {
    /// Context for gossip of `state`, signed with `signing_key`.
    pub fn new(
        state: CrdtState,
        node: NodeHandle<NodeStateMachine>,
        signing_key: SigningKey,
    ) -> GossipContext {
        // Announcement counters only grow, also across restarts.
        let start = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_micros());
        GossipContext {
            state,
            node,
            signing_key,
            root_counter: Arc::new(AtomicU64::new(start as u64)),
            next_session: Arc::new(AtomicU64::new(start as u64)),
            config: Config::default(),
        }
    }

    /// Keys for a session with `peer`, or why there can be none yet.
    async fn auth(&self, peer: NodeId) -> Result<Auth, String> {
        let peer_key = keys::lookup(&self.node, peer).await.ok_or_else(|| {
            format!("no public key of {peer} is committed here yet; refusing its state")
        })?;
        Ok(Auth {
            signing_key: Some(self.signing_key.clone()),
            root_counter: self.root_counter.fetch_add(1, Ordering::Relaxed),
            peer_key: Some(peer_key),
        })
    }
}

/// Runs a session to its end over `inbound`/`outbound`; returns its
/// outcome. State merged before a failure stays merged.
async fn drive(
    ctx: &GossipContext,
    mut session: AntiEntropySession,
    peer: NodeId,
    mut inbound: Streaming<GossipFrame>,
    outbound: mpsc::Sender<Result<GossipFrame, Status>>,
) -> Result<Outcome, String> {
    let me = ctx.state.me();
    let epoch = Instant::now();
    let now = || Time(epoch.elapsed().as_millis() as u64);
    let give_up = epoch + SESSION_TIME_MAX;
    let mut result = None;
    loop {
        for effect in session.take_effects() {
            match effect {
                Effect::Send { msg, .. } => {
                    let frame = encode_frame(me, &msg);
                    metrics::counter!("synod_crdt_gossip_bytes_sent_total")
                        .increment(prost::Message::encoded_len(&frame) as u64);
                    // A closed stream shows up as a failed receive below.
                    let _ = outbound.send(Ok(frame)).await;
                }
                Effect::Done(outcome) => result = Some(Ok(outcome)),
                Effect::Failed(err) => result = Some(Err(session_error(err))),
            }
        }
        if let Some(result) = result {
            return result;
        }
        let deadline = session
            .next_deadline()
            .map_or(give_up, |t| epoch + Duration::from_millis(t.0))
            .min(give_up);
        tokio::select! {
            frame = inbound.message() => {
                let frame = match frame {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return Err(format!("{peer} closed the gossip stream")),
                    Err(status) => return Err(format!("gossip stream with {peer}: {}", status.message())),
                };
                let (from, msg) = decode_frame(frame).map_err(|e| format!("from {peer}: {e}"))?;
                if from != peer {
                    return Err(format!("a frame on {peer}'s stream claims to come from {from}"));
                }
                let mut replica = ctx.state.replica();
                session.handle_message(&mut *replica, peer, msg, now());
            }
            _ = tokio::time::sleep_until(deadline) => {
                if Instant::now() >= give_up {
                    return Err(format!("session with {peer} exceeded {SESSION_TIME_MAX:?}"));
                }
                session.handle_timeout(now());
            }
        }
    }
}

fn session_error(err: SessionError) -> String {
    if matches!(err, SessionError::Untrusted(_)) {
        metrics::counter!("synod_crdt_gossip_untrusted_total").increment(1);
    }
    err.to_string()
}

/// Records a finished session and makes what it merged durable.
async fn finish(
    ctx: &GossipContext,
    role: &'static str,
    peer: NodeId,
    result: Result<Outcome, String>,
) {
    match result {
        Ok(outcome) => {
            metrics::counter!("synod_crdt_gossip_sessions_total", "role" => role, "result" => "ok")
                .increment(1);
            metrics::counter!("synod_crdt_keys_repaired_total").increment(outcome.keys_repaired);
            metrics::gauge!("synod_crdt_divergent_keys").set(outcome.keys_repaired as f64);
            if outcome.keys_repaired > 0 {
                tracing::debug!(%peer, repaired = outcome.keys_repaired, "anti-entropy repaired keys");
                metrics::gauge!("synod_crdt_objects").set(ctx.state.replica().len() as f64);
            }
        }
        Err(err) => {
            metrics::counter!("synod_crdt_gossip_sessions_total", "role" => role, "result" => "failed")
                .increment(1);
            if err.contains("no public key") {
                // Normal for a moment after a member joins.
                tracing::debug!(%peer, %err, "anti-entropy session refused");
            } else {
                tracing::warn!(%peer, %err, "anti-entropy session failed");
            }
        }
    }
    // Also after a failure: what was merged stays merged.
    if let Err(err) = ctx.state.flush().await {
        tracing::error!(%err, "cannot persist CRDT state merged by gossip");
    }
}

/// The server side: answers sessions peers open.
#[derive(Clone, Debug)]
pub struct GossipService {
    ctx: Arc<OnceLock<GossipContext>>,
    check_identity: bool,
}

impl GossipService {
    /// Serves the context once it is set (UNAVAILABLE before); with
    /// `check_identity`, a session must come from the node named in the
    /// peer's TLS certificate.
    pub fn new(ctx: Arc<OnceLock<GossipContext>>, check_identity: bool) -> GossipService {
        GossipService { ctx, check_identity }
    }
}

#[tonic::async_trait]
impl Gossip for GossipService {
    type ExchangeStream = ReceiverStream<Result<GossipFrame, Status>>;

    async fn exchange(
        &self,
        request: Request<Streaming<GossipFrame>>,
    ) -> Result<Response<Self::ExchangeStream>, Status> {
        let ctx = self.ctx.get().ok_or_else(|| Status::unavailable("node is starting"))?;
        let certified = if self.check_identity { tls::peer_cert(&request) } else { None };
        let mut inbound = request.into_inner();
        let first = inbound.message().await?.ok_or_else(|| {
            Status::invalid_argument("gossip stream closed before its first frame")
        })?;
        let (peer, msg) = decode_frame(first).map_err(|e| {
            metrics::counter!("synod_crdt_gossip_rejected_total").increment(1);
            Status::invalid_argument(e.to_string())
        })?;
        tls::check_claim(certified.as_ref(), peer)?;
        if peer == ctx.state.me() {
            return Err(Status::invalid_argument("a node does not gossip with itself"));
        }
        let auth = ctx.auth(peer).await.map_err(|e| {
            metrics::counter!("synod_crdt_gossip_untrusted_total").increment(1);
            Status::failed_precondition(e)
        })?;
        let me = ctx.state.me();
        let mut session =
            AntiEntropySession::respond(ctx.config.clone(), me, peer, msg.session, auth);
        session.handle_message(&mut *ctx.state.replica(), peer, msg, Time(0));
        let (tx, rx) = mpsc::channel(16);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let result = drive(&ctx, session, peer, inbound, tx).await;
            finish(&ctx, "responder", peer, result).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The initiating side: every `interval`, a session with each of up to
/// `fanout` random peers, concurrently. Peers that SWIM holds dead or gone
/// are skipped, so rounds are not spent on timeouts.
pub async fn run(
    ctx: GossipContext,
    directory: Directory,
    membership: MembershipHandle,
    tls: Option<TlsFiles>,
    interval: Duration,
    fanout: u32,
) {
    let mut channels: HashMap<NodeId, (SocketAddr, Channel)> = HashMap::new();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let me = ctx.state.me();
        let view = membership.view();
        let gone = |id: NodeId| view.members.iter().any(|(m, _)| m.id == id && !m.state.is_live());
        let peers = directory
            .all()
            .into_iter()
            .filter(|(id, _)| *id != me && !gone(*id))
            .choose_multiple(&mut rand::rng(), fanout as usize);
        metrics::counter!("synod_crdt_gossip_rounds_total").increment(1);
        let mut sessions = tokio::task::JoinSet::new();
        for (peer, address) in peers {
            let channel = match channels.get(&peer) {
                Some((known, channel)) if *known == address => channel.clone(),
                _ => match channel_to(peer, address, tls.as_ref()) {
                    Ok(channel) => {
                        channels.insert(peer, (address, channel.clone()));
                        channel
                    }
                    Err(err) => {
                        tracing::warn!(%peer, %err, "cannot dial peer for gossip");
                        continue;
                    }
                },
            };
            let auth = match ctx.auth(peer).await {
                Ok(auth) => auth,
                Err(reason) => {
                    // Normal for a moment after a member joins.
                    metrics::counter!("synod_crdt_gossip_untrusted_total").increment(1);
                    tracing::debug!(%peer, %reason, "no gossip with peer yet");
                    continue;
                }
            };
            let ctx = ctx.clone();
            sessions.spawn(async move {
                let result = initiate(&ctx, peer, channel, auth).await;
                finish(&ctx, "initiator", peer, result).await;
            });
        }
        // Bounded: a round ends when its sessions end (each at most
        // SESSION_TIME_MAX), so rounds never pile up.
        while sessions.join_next().await.is_some() {}
    }
}

async fn initiate(
    ctx: &GossipContext,
    peer: NodeId,
    channel: Channel,
    auth: Auth,
) -> Result<Outcome, String> {
    let me = ctx.state.me();
    let id = ctx.next_session.fetch_add(1, Ordering::Relaxed);
    let session = {
        let replica = ctx.state.replica();
        AntiEntropySession::initiate(ctx.config.clone(), me, peer, id, auth, &*replica, Time(0))
    };
    let (tx, rx) = mpsc::channel(16);
    let mut client = GossipClient::new(channel)
        .max_decoding_message_size(FRAME_BYTES_MAX)
        .max_encoding_message_size(FRAME_BYTES_MAX);
    // The first frame must be queued before the call: the server reads it
    // before answering with its response stream.
    let mut session = session;
    let mut first = Vec::new();
    for effect in session.take_effects() {
        if let Effect::Send { msg, .. } = effect {
            first.push(encode_frame(me, &msg));
        }
    }
    for frame in first {
        metrics::counter!("synod_crdt_gossip_bytes_sent_total")
            .increment(prost::Message::encoded_len(&frame) as u64);
        let _ = tx.send(Ok(frame)).await;
    }
    let outbound = ReceiverStream::new(rx);
    let outbound =
        tokio_stream::StreamExt::filter_map(outbound, |f: Result<GossipFrame, Status>| f.ok());
    let inbound = tokio::time::timeout(SESSION_TIME_MAX, client.exchange(outbound))
        .await
        .map_err(|_| format!("{peer} did not answer the gossip call"))?
        .map_err(|status| format!("{peer} refused gossip: {}", status.message()))?
        .into_inner();
    drive(ctx, session, peer, inbound, tx).await
}

fn channel_to(
    peer: NodeId,
    address: SocketAddr,
    tls: Option<&TlsFiles>,
) -> Result<Channel, String> {
    Ok(super::dial::peer_endpoint(peer, address, tls)?.connect_lazy())
}
