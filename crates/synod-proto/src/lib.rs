//! synod's gRPC wire format.
//!
//! The `.proto` files under `proto/synod/` define synod's services; this crate
//! compiles them at build time with protox (no system `protoc` needed) and
//! exposes the generated prost messages and tonic clients and servers:
//!
//! * [`raft::v1`] — `RaftTransport`, node to node: each node keeps one
//!   client stream of [`MessageBatch`](raft::v1::MessageBatch)es open to
//!   each peer.
//! * [`kv::v1`] — `Kv`, the client key-value API (put, get, delete,
//!   compare-and-swap, range).
//! * [`cluster::v1`] — `Cluster`, status and membership changes.
//! * [`gossip::v1`] — `Gossip`, node to node: Merkle anti-entropy
//!   sessions on one bidirectional stream, `Deltas` batches zstd-compressed
//!   by the [`GossipCodec`](gossip::GossipCodec) (see [`gossip`]).
//! * [`membership::v1`] — `Membership`, SWIM members, their changes as a
//!   stream, and push-pull state sync between nodes.
//! * [`vote::v1`] — `Votes`, proposals and votes decided through the
//!   log, the quarantine list, decision-hook runs and an event stream.
//! * [`crdt::v1`] — `Crdt`, named CRDT objects (counters, sets, registers,
//!   maps) that converge by gossip.
//!
//! Raft messages convert to and from synod-core's types losslessly
//! (`From<&Message>` and `TryFrom<RaftMessage>`, see [`convert`]); the
//! checked direction returns a [`ProtoError`] and never panics. Followers
//! redirect clients to the leader with the metadata described in
//! [`redirect`].
//!
//! Clients are generated without tonic's transport: build one from a
//! channel (`RaftTransportClient::new(channel)`), with tonic's `transport`
//! feature enabled in the crate that dials.
//!
//! ```
//! use prost::Message as _;
//! use synod_core::raft::{Body, Message};
//! use synod_core::{NodeId, Term};
//! use synod_proto::raft::v1::MessageBatch;
//!
//! let msg = Message { from: NodeId(1), to: NodeId(2), term: Term(7), body: Body::TimeoutNow };
//! let batch = MessageBatch::from_messages(42, NodeId(1), NodeId(2), [&msg]);
//! let wire = batch.encode_to_vec();
//!
//! let received = MessageBatch::decode(wire.as_slice()).unwrap();
//! assert_eq!(received.into_messages(42).unwrap(), vec![msg]);
//! ```
#![warn(missing_docs)]

mod batch;
pub mod convert;
mod error;
pub mod gossip;
pub mod redirect;

pub use error::{GossipDecodeError, ProtoError};
pub use redirect::{LeaderHint, LEADER_ADDRESS_METADATA, LEADER_ID_METADATA};

/// The encoded `FileDescriptorSet` of every synod `.proto` file, for gRPC
/// server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("synod_descriptor");

/// Raft traffic between nodes (`synod.raft.v1`).
pub mod raft {
    /// Version 1 of the Raft wire format.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("synod.raft.v1");
    }
}

/// The client key-value API (`synod.kv.v1`).
pub mod kv {
    /// Version 1 of the key-value API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("synod.kv.v1");
    }
}

/// Cluster status and membership changes (`synod.cluster.v1`).
pub mod cluster {
    /// Version 1 of the cluster API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("synod.cluster.v1");
    }
}

/// Who is alive: SWIM membership (`synod.membership.v1`).
pub mod membership {
    /// Version 1 of the membership API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("synod.membership.v1");
    }
}

/// Proposals, votes, decisions and the quarantine list (`synod.vote.v1`).
pub mod vote {
    /// Version 1 of the vote API.
    pub mod v1 {
        #![allow(missing_docs, clippy::large_enum_variant)]
        tonic::include_proto!("synod.vote.v1");
    }
}

/// Named CRDT objects, the AP state (`synod.crdt.v1`).
pub mod crdt {
    /// Version 1 of the CRDT API.
    pub mod v1 {
        #![allow(missing_docs)]
        tonic::include_proto!("synod.crdt.v1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_have_their_package_names() {
        assert_eq!(raft::v1::raft_transport_server::SERVICE_NAME, "synod.raft.v1.RaftTransport");
        assert_eq!(kv::v1::kv_server::SERVICE_NAME, "synod.kv.v1.Kv");
        assert_eq!(cluster::v1::cluster_server::SERVICE_NAME, "synod.cluster.v1.Cluster");
        assert_eq!(gossip::v1::gossip_server::SERVICE_NAME, "synod.gossip.v1.Gossip");
        assert_eq!(crdt::v1::crdt_server::SERVICE_NAME, "synod.crdt.v1.Crdt");
        assert_eq!(
            membership::v1::membership_server::SERVICE_NAME,
            "synod.membership.v1.Membership"
        );
    }

    #[test]
    fn descriptor_set_holds_every_file() {
        let holds =
            |name: &str| FILE_DESCRIPTOR_SET.windows(name.len()).any(|w| w == name.as_bytes());
        for file in
            ["synod/raft/v1/raft.proto", "synod/kv/v1/kv.proto", "synod/cluster/v1/cluster.proto"]
        {
            assert!(holds(file), "{file} missing from FILE_DESCRIPTOR_SET");
        }
    }
}
