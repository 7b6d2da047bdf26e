//! Dialing another node's gRPC server for push-pull.

use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::Endpoint;

use crate::config::TlsFiles;
use crate::tls;

/// An endpoint for the node at `address`. Its id may not be known yet (a
/// seed), so with TLS any certificate of the cluster CA is accepted; the
/// server checks ours, and what it sends is only membership state that
/// SWIM would learn by gossip anyway.
pub(crate) fn endpoint(address: SocketAddr, tls: Option<&TlsFiles>) -> Result<Endpoint, String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    if let Some(files) = tls {
        let config = tls::client_tls(files, "localhost").map_err(|e| e.to_string())?;
        endpoint = endpoint.tls_config(config).map_err(|e| e.to_string())?;
    }
    Ok(endpoint)
}
