//! Merkle anti-entropy between two replicas of a keyed store, sans-IO.
//!
//! An [`AntiEntropySession`] repairs the differences between this replica
//! and one peer:
//!
//! 1. each side sends its [`SignedRoot`](crate::merkle::SignedRoot); a side
//!    that knows the peer's public key verifies it before merging anything,
//!    and equal roots end the session after one message each way;
//! 2. the sides exchange 8-byte windows of the hashes of the children of
//!    differing nodes, level by level, descending only into subtrees that
//!    differ — past the stored leaves if need be
//!    ([`MerkleTree::subtree`](crate::merkle::MerkleTree::subtree));
//! 3. once listing a differing subtree's keys is cheaper than descending
//!    further (about one key left), one side sends its `(key, window of
//!    the entry digest)` pairs; the other answers with the keys it wants,
//!    with its full entry digests, and ships its own deltas (full state
//!    for keys the peer lacks, via [`Replica::delta_for`]; for keys it
//!    holds differently, via [`Replica::delta_for_partial`], since only a
//!    window of the peer's digest is known);
//! 4. deltas travel in batches bounded by [`Config::batch_bytes_max`], and
//!    the session ends with [`Effect::Done`] on both sides.
//!
//! Lists, wants and deltas are held back until they fill a batch or the
//! side has nothing else to send, so that they travel in a few large
//! messages rather than a few per level; wants and deltas go sorted by
//! key, which helps the wire's compression.
//!
//! Batches are left uncompressed: compressing them (zstd) is the node's
//! business, on the wire. Messages may be lost or duplicated: the side
//! whose message is unanswered resends it, each message is processed once,
//! and [`Replica::apply`] must be idempotent anyway.
//!
//! ```
//! use synod_core::antientropy::{AntiEntropySession, Auth, Config, Effect};
//! # use synod_core::antientropy::{ApplyError, Replica};
//! # use synod_core::merkle::{Digest, MerkleTree};
//! use synod_core::{NodeId, Time};
//! # struct Store(MerkleTree);
//! # impl Replica for Store {
//! #     fn tree(&self) -> &MerkleTree { &self.0 }
//! #     fn delta_for(&self, key: &[u8], _: Option<&Digest>) -> Option<Vec<u8>> {
//! #         self.0.get(key).map(|d| d.to_vec())
//! #     }
//! #     fn apply(&mut self, key: &[u8], payload: &[u8]) -> Result<bool, ApplyError> {
//! #         let d: Digest = payload.try_into().map_err(|_| ApplyError("len".into()))?;
//! #         Ok(self.0.get(key).is_none_or(|mine| *mine < d) && self.0.upsert(key, d))
//! #     }
//! # }
//!
//! let (mut a, mut b) = (Store(MerkleTree::new(8).unwrap()), Store(MerkleTree::new(8).unwrap()));
//! a.0.upsert(b"only-on-a", [1; 32]);
//! let now = Time(0);
//! let mut sa = AntiEntropySession::initiate(Config::default(), NodeId(1), NodeId(2), 7, Auth::default(), &a, now);
//! let mut sb = AntiEntropySession::respond(Config::default(), NodeId(2), NodeId(1), 7, Auth::default());
//! while !(sa.is_finished() && sb.is_finished()) {
//!     for effect in sa.take_effects() {
//!         if let Effect::Send { msg, .. } = effect { sb.handle_message(&mut b, NodeId(1), msg, now) }
//!     }
//!     for effect in sb.take_effects() {
//!         if let Effect::Send { msg, .. } = effect { sa.handle_message(&mut a, NodeId(2), msg, now) }
//!     }
//! }
//! assert_eq!(a.0.root(), b.0.root());
//! ```

mod config;
mod message;
mod replica;
mod session;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_descent;

pub use config::{Config, ConfigError, BATCH_BYTES_MIN};
pub use message::{Body, Message, SubtreeEntries};
pub use replica::{ApplyError, Replica};
pub use session::{AntiEntropySession, Auth, Effect, Outcome, SessionError};
