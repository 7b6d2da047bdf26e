//! The task that runs this node's SWIM member: datagrams in and out over
//! UDP (sealed), timers, push-pull over gRPC, events to watchers, metrics.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use synod_core::failure::{Config as PhiConfig, FailureDetectors};
use synod_core::swim::{
    Address, Effect, MemberEvent, MemberInfo, Message, Metadata, PushPull, Swim, Update,
};
use synod_core::{NodeId, Time};
use synod_proto::membership::v1 as pb;
use synod_proto::membership::v1::membership_client::MembershipClient;
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use super::codec::{decode_message, encode_message, encode_state, DATAGRAM_BYTES_MAX};
use super::seal::{OpenError, Sealer};
use super::view::{to_proto_event, View};
use super::{to_address, to_socket};
use crate::config::TlsFiles;

/// A request to the driver.
pub(crate) enum Command {
    /// A peer's push-pull request: merge it, answer with our state.
    PushPullIn { state: PushPull, reply: oneshot::Sender<PushPull> },
    /// The answer to our own push-pull request.
    PushPullAnswer { from: Address, state: PushPull },
    /// Leave gracefully; answered when done (or timed out).
    Leave { reply: oneshot::Sender<()> },
}

/// What the driver needs to run.
pub(crate) struct DriverParts {
    pub swim: Swim,
    pub socket: UdpSocket,
    pub sealer: Sealer,
    pub seeds: watch::Receiver<Vec<SocketAddr>>,
    pub commands: mpsc::Receiver<Command>,
    pub command_tx: mpsc::Sender<Command>,
    pub events: broadcast::Sender<pb::MemberEvent>,
    pub view: watch::Sender<View>,
    pub tls: Option<TlsFiles>,
    pub phi: PhiConfig,
}

/// How often the published view is refreshed without an event.
const VIEW_REFRESH: Duration = Duration::from_millis(250);

/// Rate limit of the log line per drop reason.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

pub(crate) async fn run(parts: DriverParts) {
    let DriverParts {
        mut swim,
        socket,
        sealer,
        mut seeds,
        mut commands,
        command_tx,
        events,
        view,
        tls,
        phi,
    } = parts;
    let me = swim.id();
    let my_addr = swim.addr();
    let metadata_max = swim.config().metadata_bytes_max;
    let epoch = Instant::now();
    let now = || Time(epoch.elapsed().as_millis() as u64);
    let mut detectors = FailureDetectors::new(phi).expect("validated with the node config");
    let mut dropped_logged: HashMap<&'static str, Instant> = HashMap::new();
    let mut leaving: Vec<oneshot::Sender<()>> = Vec::new();
    let mut buf = vec![0u8; DATAGRAM_BYTES_MAX + 1];
    // Changes without an event (our own refutation, phi values) reach the
    // view at this pace.
    let mut refresh = tokio::time::interval(VIEW_REFRESH);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let initial = others(&seeds.borrow_and_update(), my_addr);
    swim.join(&initial, now());
    loop {
        let mut changed = false;
        for effect in swim.take_effects() {
            match effect {
                Effect::Send { to, msg } => send(&socket, &sealer, to, &msg).await,
                Effect::PushPull { to } => {
                    let state = swim.push_pull_state();
                    let grpc = grpc_address(&swim, to);
                    tokio::spawn(push_pull(me, to, grpc, state, tls.clone(), command_tx.clone()));
                }
                Effect::Event(event) => {
                    changed = true;
                    report(me, &event, &events);
                    if matches!(event, MemberEvent::Dead(_) | MemberEvent::Left(_)) {
                        detectors.remove(&event.member().id);
                    }
                }
                Effect::LeaveDone => {
                    for reply in leaving.drain(..) {
                        let _ = reply.send(());
                    }
                }
            }
        }
        if changed {
            publish(&swim, &detectors, now(), &view);
        }
        let deadline = swim.next_deadline().map(|t| epoch + Duration::from_millis(t.0));
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((len, from)) = received else { continue };
                match open(&sealer, &buf[..len], metadata_max) {
                    Ok(msg) => {
                        metrics::counter!("synod_swim_datagrams_received_total").increment(1);
                        if msg.from() != me {
                            detectors.heartbeat(msg.from(), now());
                        }
                        swim.handle_message(to_address(from), msg, now());
                    }
                    Err(reason) => dropped(reason, from, &mut dropped_logged),
                }
            }
            command = commands.recv() => match command {
                Some(Command::PushPullIn { state, reply }) => {
                    let from = state.members.iter().find(|m| m.id == state.from).map(|m| m.addr);
                    let _ = reply.send(swim.push_pull_state());
                    if let Some(from) = from {
                        swim.merge_push_pull(from, state, now());
                    }
                }
                Some(Command::PushPullAnswer { from, state }) => swim.merge_push_pull(from, state, now()),
                Some(Command::Leave { reply }) => {
                    if swim.has_left() {
                        let _ = reply.send(());
                    } else {
                        leaving.push(reply);
                        swim.leave(now());
                    }
                }
                None => return,
            },
            _ = seeds.changed() => {
                let fresh = others(&seeds.borrow_and_update(), my_addr);
                swim.join(&fresh, now());
            }
            _ = sleep_until(deadline) => swim.handle_timeout(now()),
            _ = refresh.tick() => publish(&swim, &detectors, now(), &view),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Why a datagram was dropped, for the counter and the log.
enum Drop {
    Seal(OpenError),
    Oversized(usize),
    Malformed(String),
    OversizedMetadata(usize),
}

fn open(sealer: &Sealer, datagram: &[u8], metadata_max: usize) -> Result<Message, Drop> {
    if datagram.len() > DATAGRAM_BYTES_MAX {
        return Err(Drop::Oversized(datagram.len()));
    }
    let payload = sealer.open(datagram).map_err(Drop::Seal)?;
    let msg = decode_message(&payload).map_err(Drop::Malformed)?;
    // The core ignores such an update too; refusing the whole datagram
    // here makes the reason visible.
    for update in msg.updates() {
        if let Update::Alive { meta, .. } = update {
            if meta.data.len() > metadata_max {
                return Err(Drop::OversizedMetadata(meta.data.len()));
            }
        }
    }
    Ok(msg)
}

fn dropped(reason: Drop, from: SocketAddr, logged: &mut HashMap<&'static str, Instant>) {
    let (label, text) = match reason {
        Drop::Seal(e) => (e.label(), e.to_string()),
        Drop::Oversized(len) => {
            ("oversized", format!("datagram of {len}+ bytes exceeds {DATAGRAM_BYTES_MAX}"))
        }
        Drop::Malformed(e) => ("malformed", format!("undecodable message: {e}")),
        Drop::OversizedMetadata(len) => {
            ("oversized_metadata", format!("an update carries {len} bytes of metadata"))
        }
    };
    metrics::counter!("synod_swim_datagrams_dropped_total", "reason" => label).increment(1);
    let last = logged.get(label).copied();
    if last.is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY) {
        logged.insert(label, Instant::now());
        tracing::warn!(%from, reason = label, "dropped SWIM datagram: {text}");
    }
}

async fn send(socket: &UdpSocket, sealer: &Sealer, to: Address, msg: &Message) {
    let to = to_socket(to);
    let datagram = sealer.seal(&encode_message(msg));
    if datagram.len() > DATAGRAM_BYTES_MAX {
        // The core packs messages by a conservative estimate; never send
        // a datagram that could be fragmented.
        metrics::counter!("synod_swim_datagrams_dropped_total", "reason" => "oversized_outbound")
            .increment(1);
        tracing::error!(len = datagram.len(), "SWIM message exceeds the datagram limit; not sent");
        return;
    }
    metrics::counter!("synod_swim_datagrams_sent_total").increment(1);
    metrics::counter!("synod_swim_bytes_sent_total").increment(datagram.len() as u64);
    if let Err(err) = socket.send_to(&datagram, to).await {
        tracing::debug!(%to, %err, "SWIM datagram not sent");
    }
}

/// The gRPC address of the member at SWIM address `to`: from its metadata
/// (`grpc=IP:PORT`), else the same address (the default layout).
fn grpc_address(swim: &Swim, to: Address) -> SocketAddr {
    swim.members()
        .find(|m| m.addr == to)
        .and_then(|m| super::view::metadata_grpc(&m.meta))
        .unwrap_or_else(|| to_socket(to))
}

/// The seeds other than this member, as core addresses.
fn others(seeds: &[SocketAddr], me: Address) -> Vec<Address> {
    seeds.iter().map(|s| to_address(*s)).filter(|a| *a != me).collect()
}

async fn push_pull(
    me: NodeId,
    to: Address,
    grpc: SocketAddr,
    state: PushPull,
    tls: Option<TlsFiles>,
    commands: mpsc::Sender<Command>,
) {
    let result = async {
        let endpoint = super::dial::endpoint(grpc, tls.as_ref())?;
        let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
        let reply = MembershipClient::new(channel)
            .max_decoding_message_size(super::codec::PUSH_PULL_BYTES_MAX)
            .push_pull(pb::PushPullRequest { from: me.0, state: encode_state(&state).into() })
            .await
            .map_err(|s| s.message().to_string())?;
        super::codec::decode_state(&reply.into_inner().state)
    }
    .await;
    match result {
        Ok(state) => {
            metrics::counter!("synod_swim_push_pull_total", "result" => "ok").increment(1);
            let _ = commands.send(Command::PushPullAnswer { from: to, state }).await;
        }
        Err(err) => {
            metrics::counter!("synod_swim_push_pull_total", "result" => "failed").increment(1);
            tracing::debug!(%grpc, %err, "push-pull failed");
        }
    }
}

fn report(me: NodeId, event: &MemberEvent, events: &broadcast::Sender<pb::MemberEvent>) {
    let member = event.member();
    let kind = super::view::event_name(event);
    metrics::counter!("synod_swim_events_total", "kind" => kind).increment(1);
    tracing::info!(member = %member.id, incarnation = member.incarnation, "member {kind}");
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let _ = events.send(to_proto_event(me, event, unix_ms));
}

fn publish(
    swim: &Swim,
    detectors: &FailureDetectors<NodeId>,
    now: Time,
    view: &watch::Sender<View>,
) {
    let members: Vec<(MemberInfo, f64)> =
        swim.members().map(|m| (m.clone(), detectors.phi(&m.id, now).unwrap_or(0.0))).collect();
    for state in ["alive", "suspect", "dead", "left"] {
        let count =
            members.iter().filter(|(m, _)| super::view::state_name(m.state) == state).count();
        metrics::gauge!("synod_swim_members", "state" => state).set(count as f64);
    }
    metrics::gauge!("synod_swim_local_health").set(swim.local_health() as f64);
    view.send_replace(View { members: Arc::new(members), local_health: swim.local_health() });
}

/// Metadata announcing where this node serves gRPC.
pub(crate) fn metadata_for(grpc: SocketAddr) -> Metadata {
    Metadata::new(format!("grpc={grpc}").into_bytes())
}
