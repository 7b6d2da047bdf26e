//! Merkle roots signed with ed25519, so that a receiver merges state only
//! from a peer whose key it knows.
//!
//! Keys are supplied by the caller: the core never generates them (that
//! would need randomness from the operating system).

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::Digest;
use crate::NodeId;

/// Domain separation: a root signature can never be mistaken for a
/// signature over anything else synod signs.
const DOMAIN: &[u8] = b"synod/merkle-root/v1";

/// A Merkle root as announced by `node`, with its signature.
///
/// `counter` increases with every root a node announces, so a receiver can
/// refuse to go back to an older announcement (replay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRoot {
    /// The node that announces the root.
    pub node: NodeId,
    /// The root hash.
    pub root: Digest,
    /// The depth of the tree the root belongs to.
    pub depth: u8,
    /// Announcement counter of `node`, increasing.
    pub counter: u64,
    /// ed25519 signature over the fields above; `None` when unsigned.
    pub signature: Option<[u8; 64]>,
}

/// Why a [`SignedRoot`] was rejected. Nothing was merged in any case.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The root carries no signature.
    #[error("root from {peer} is unsigned")]
    Unsigned {
        /// The peer that sent it.
        peer: NodeId,
    },
    /// The signature does not match the root and the peer's public key:
    /// the state was tampered with or signed by someone else.
    #[error("root from {peer} failed signature verification")]
    BadSignature {
        /// The peer that sent it.
        peer: NodeId,
    },
    /// The root names a node other than the peer it came from.
    #[error("root from {peer} claims to be from {claimed}")]
    WrongSender {
        /// The peer that sent it.
        peer: NodeId,
        /// The node named inside the root.
        claimed: NodeId,
    },
    /// No public key is known for the peer.
    #[error("no public key known for {peer}; its root cannot be verified")]
    UnknownPeer {
        /// The peer that sent it.
        peer: NodeId,
    },
}

impl SignedRoot {
    /// An unsigned announcement (for tests and for clusters that do not sign).
    pub fn unsigned(node: NodeId, root: Digest, depth: u8, counter: u64) -> SignedRoot {
        SignedRoot { node, root, depth, counter, signature: None }
    }

    /// An announcement signed with `key`.
    pub fn sign(
        node: NodeId,
        root: Digest,
        depth: u8,
        counter: u64,
        key: &SigningKey,
    ) -> SignedRoot {
        let mut signed = SignedRoot::unsigned(node, root, depth, counter);
        signed.signature = Some(key.sign(&signed.signed_bytes()).to_bytes());
        signed
    }

    /// Checks that this root came from `peer` and is signed with `key`,
    /// the public key the receiver already knows for `peer`.
    pub fn verify(&self, peer: NodeId, key: &VerifyingKey) -> Result<(), VerifyError> {
        if self.node != peer {
            return Err(VerifyError::WrongSender { peer, claimed: self.node });
        }
        let bytes = self.signature.ok_or(VerifyError::Unsigned { peer })?;
        let signature = Signature::from_bytes(&bytes);
        key.verify(&self.signed_bytes(), &signature).map_err(|_| VerifyError::BadSignature { peer })
    }

    /// [`verify`](SignedRoot::verify) against a table of known public keys.
    pub fn verify_known(
        &self,
        peer: NodeId,
        keys: &BTreeMap<NodeId, VerifyingKey>,
    ) -> Result<(), VerifyError> {
        let key = keys.get(&peer).ok_or(VerifyError::UnknownPeer { peer })?;
        self.verify(peer, key)
    }

    /// The bytes the signature covers.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(DOMAIN.len() + 8 + 1 + 8 + 32);
        bytes.extend_from_slice(DOMAIN);
        bytes.extend_from_slice(&self.node.0.to_be_bytes());
        bytes.push(self.depth);
        bytes.extend_from_slice(&self.counter.to_be_bytes());
        bytes.extend_from_slice(&self.root);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn signed_root_verifies_against_senders_key() {
        let root = SignedRoot::sign(NodeId(3), [7; 32], 12, 1, &key(3));
        assert_eq!(root.verify(NodeId(3), &key(3).verifying_key()), Ok(()));
    }

    #[test]
    fn tampered_root_is_rejected_naming_the_peer() {
        let mut root = SignedRoot::sign(NodeId(3), [7; 32], 12, 1, &key(3));
        root.root[0] ^= 1;
        let err = root.verify(NodeId(3), &key(3).verifying_key()).unwrap_err();
        assert_eq!(err.to_string(), "root from n3 failed signature verification");

        let mut replayed = SignedRoot::sign(NodeId(3), [7; 32], 12, 1, &key(3));
        replayed.counter = 2;
        assert_eq!(
            replayed.verify(NodeId(3), &key(3).verifying_key()),
            Err(VerifyError::BadSignature { peer: NodeId(3) })
        );
    }

    #[test]
    fn root_signed_by_another_key_is_rejected() {
        let root = SignedRoot::sign(NodeId(3), [7; 32], 12, 1, &key(9));
        assert_eq!(
            root.verify(NodeId(3), &key(3).verifying_key()),
            Err(VerifyError::BadSignature { peer: NodeId(3) })
        );
    }

    #[test]
    fn unsigned_root_is_rejected_naming_the_peer() {
        let root = SignedRoot::unsigned(NodeId(3), [7; 32], 12, 1);
        let err = root.verify(NodeId(3), &key(3).verifying_key()).unwrap_err();
        assert_eq!(err.to_string(), "root from n3 is unsigned");
    }

    #[test]
    fn root_naming_another_node_or_unknown_peer_is_rejected() {
        let root = SignedRoot::sign(NodeId(4), [7; 32], 12, 1, &key(4));
        assert_eq!(
            root.verify(NodeId(3), &key(4).verifying_key()),
            Err(VerifyError::WrongSender { peer: NodeId(3), claimed: NodeId(4) })
        );
        let keys = BTreeMap::from([(NodeId(4), key(4).verifying_key())]);
        assert_eq!(root.verify_known(NodeId(4), &keys), Ok(()));
        let err = root.verify_known(NodeId(5), &keys).unwrap_err();
        assert_eq!(err.to_string(), "no public key known for n5; its root cannot be verified");
    }
}
