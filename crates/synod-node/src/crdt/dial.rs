//! Dialing a peer for CRDT traffic, with the node's TLS identity.

use std::net::SocketAddr;
use std::time::Duration;

use synod_core::NodeId;
use tonic::transport::Endpoint;

use crate::config::TlsFiles;
use crate::tls;

/// An endpoint for `peer` at `address`; with TLS, the peer's server
/// certificate must name `peer`, and this node presents its own.
pub(crate) fn peer_endpoint(
    peer: NodeId,
    address: SocketAddr,
    tls: Option<&TlsFiles>,
) -> Result<Endpoint, String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(5));
    if let Some(files) = tls {
        let config = tls::client_tls(files, &peer.to_string()).map_err(|e| e.to_string())?;
        endpoint = endpoint.tls_config(config).map_err(|e| e.to_string())?;
    }
    Ok(endpoint)
}
