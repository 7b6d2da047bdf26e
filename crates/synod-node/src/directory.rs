//! Who is where: the gRPC address of every known member.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use synod_core::NodeId;

/// Addresses of members, shared by the transport and the services.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    addresses: Arc<RwLock<BTreeMap<NodeId, SocketAddr>>>,
}

impl Directory {
    /// Records `id`'s address.
    pub fn insert(&self, id: NodeId, address: SocketAddr) {
        self.addresses.write().expect("directory lock").insert(id, address);
    }

    /// `id`'s address, if known.
    pub fn get(&self, id: NodeId) -> Option<SocketAddr> {
        self.addresses.read().expect("directory lock").get(&id).copied()
    }

    /// Every known member and address.
    pub fn all(&self) -> Vec<(NodeId, SocketAddr)> {
        self.addresses.read().expect("directory lock").iter().map(|(k, v)| (*k, *v)).collect()
    }
}
