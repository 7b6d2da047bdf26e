//! Membership over the network: SWIM with Lifeguard (the sans-IO core in
//! `synod_core::swim`) carried over UDP datagrams sealed with the cluster
//! key ([`seal`]), push-pull state sync over gRPC, phi-accrual values of
//! the direct paths, and the `Membership` service.
//!
//! SWIM listens on UDP at `membership.bind_address`, by default the same
//! IP and port number as the node's gRPC server (TCP), so a member's gRPC
//! address follows from its SWIM address; members also announce it in
//! their metadata (`grpc=IP:PORT`).

pub mod codec;
mod dial;
mod driver;
pub mod seal;
mod service;
mod view;

use std::net::SocketAddr;
use std::time::Duration;

use synod_core::failure::Config as PhiConfig;
use synod_core::swim::{Address, Lifeguard, Swim, SwimConfig};
use synod_core::NodeId;
use synod_proto::membership::v1 as pb;
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use codec::DATAGRAM_BYTES_MAX;
pub use service::MembershipService;
pub use view::View;

use crate::config::NodeConfig;
use crate::discovery::Discovery;
use driver::Command;

/// A cloneable handle to the running membership driver.
#[derive(Clone, Debug)]
pub struct MembershipHandle {
    me: NodeId,
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<pb::MemberEvent>,
    view: watch::Receiver<View>,
    /// Where SWIM listens.
    pub address: SocketAddr,
}

impl MembershipHandle {
    /// The member table as of the last change.
    pub fn view(&self) -> View {
        self.view.borrow().clone()
    }

    /// Leaves the cluster gracefully: waits (at most `within`) until the
    /// `Left` broadcast has gone out.
    pub async fn leave(&self, within: Duration) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Leave { reply }).await.is_ok() {
            let _ = tokio::time::timeout(within, done).await;
        }
    }
}

/// Binds the UDP socket, starts discovery and the driver.
pub async fn start(
    config: &NodeConfig,
    grpc_address: SocketAddr,
) -> Result<(MembershipHandle, Vec<JoinHandle<()>>), String> {
    let m = &config.membership;
    let socket = UdpSocket::bind(m.bind_address)
        .await
        .map_err(|e| format!("cannot listen for SWIM on udp {}: {e}", m.bind_address))?;
    let address = socket.local_addr().map_err(|e| e.to_string())?;
    let mut swim_config = SwimConfig {
        probe_interval_ms: m.probe_interval.as_millis() as u64,
        probe_timeout_ms: (m.probe_interval.as_millis() as u64 / 2).max(1),
        datagram_bytes_max: DATAGRAM_BYTES_MAX - seal::SEAL_OVERHEAD_BYTES - 32,
        ..SwimConfig::default()
    };
    if !m.lifeguard {
        swim_config.lifeguard = Lifeguard::OFF;
    }
    swim_config.validate().map_err(|e| format!("membership: {e}"))?;
    let phi = PhiConfig {
        threshold: config.suspect_threshold,
        first_heartbeat_estimate_ms: config.detector_heartbeat_interval.as_millis().max(1) as u64,
        ..PhiConfig::default()
    };
    phi.validate().map_err(|e| format!("fault_tolerance: {e}"))?;
    let seed = config.node_id.0 ^ std::process::id() as u64 ^ address.port() as u64;
    let swim = Swim::new(
        swim_config,
        config.node_id,
        to_address(address),
        driver::metadata_for(grpc_address),
        seed,
    );
    let (discovery, seeds) = Discovery::from_config(m.discovery.clone())?;
    let (command_tx, commands) = mpsc::channel(1024);
    let (events, _) = broadcast::channel(1024);
    let (view_tx, view) = watch::channel(View::default());
    let parts = driver::DriverParts {
        swim,
        socket,
        sealer: seal::Sealer::new(m.cluster_key),
        seeds,
        commands,
        command_tx: command_tx.clone(),
        events: events.clone(),
        view: view_tx,
        tls: config.tls.clone(),
        phi,
    };
    let tasks = vec![discovery.spawn(), tokio::spawn(driver::run(parts))];
    let handle =
        MembershipHandle { me: config.node_id, commands: command_tx, events, view, address };
    Ok((handle, tasks))
}

/// The core's form of a socket address.
pub fn to_address(addr: SocketAddr) -> Address {
    match addr {
        SocketAddr::V4(v4) => Address::from_ipv4(v4.ip().octets(), v4.port()),
        SocketAddr::V6(v6) => Address::new(v6.ip().octets(), v6.port()),
    }
}

/// The socket address of a core address (IPv4-mapped ones as IPv4).
pub fn to_socket(addr: Address) -> SocketAddr {
    match addr.ipv4() {
        Some(v4) => SocketAddr::from((v4, addr.port())),
        None => SocketAddr::from((addr.ip(), addr.port())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_round_trip_through_the_core_form() {
        for text in ["127.0.0.1:7001", "[::1]:7946", "[2001:db8::5]:1"] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(to_socket(to_address(addr)), addr, "{text}");
        }
        assert_eq!(to_address("10.0.0.7:9".parse().unwrap()).to_string(), "10.0.0.7:9");
    }
}
