//! Unit tests of the Raft core, one file per rule, over a small harness.
//!
//! [`Cluster`] holds N cores and an explicit message queue. Messages are
//! delivered instantly and in order by [`Cluster::deliver_all`], unless a
//! link is cut or the filter drops them; time moves only through
//! [`Cluster::run_for`] (fires every due timer) or [`Cluster::fire`] (fires
//! one node's timers). Persist requests are applied to each node's
//! [`DurableState`] and confirmed at once, except for nodes in
//! `manual_persist`, whose requests wait in `held` for
//! [`Cluster::confirm_persists`].

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{
    Body, Config, DurableState, Effect, Entry, EntryPayload, HardState, Membership, Message,
    PersistRequest, Raft, Role, Snapshot, SnapshotMeta,
};
use crate::{LogIndex, NodeId, Term, Time};

mod cluster;
mod network;

use cluster::Cluster;

#[cfg(feature = "bug-injection")]
mod bug_injection;
mod check_quorum;
mod commit_rule;
mod durability;
mod durability_terms;
mod election;
mod flow_control;
mod leader_completeness;
mod lease;
mod log_matching;
mod membership;
mod prevote;
mod read_index;
mod restart;
mod snapshot;
mod snapshot_follower;
mod transfer;

/// The seed every test cluster uses, so that runs replay exactly.
pub(super) const SEED: u64 = 0x5EED;

pub(super) fn n(id: u64) -> NodeId {
    NodeId(id)
}

pub(super) fn data(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// A config with the defaults, the test seed and `tweak` applied.
pub(super) fn config(id: u64, tweak: &dyn Fn(&mut Config)) -> Config {
    let mut config = Config::new(n(id));
    config.rng_seed = SEED;
    tweak(&mut config);
    config.validate().unwrap();
    config
}

/// Entries 1.. with the given terms; each carries its index as command.
pub(super) fn entries(terms: &[u64]) -> Vec<Entry> {
    let entry = |(i, t): (usize, &u64)| Entry {
        term: Term(*t),
        index: LogIndex(i as u64 + 1),
        payload: EntryPayload::Command(data(&format!("e{}", i + 1))),
    };
    terms.iter().enumerate().map(entry).collect()
}

/// What a node of `voters` would have stored: this hard state and a log
/// with `terms`, after an empty snapshot carrying the configuration.
pub(super) fn durable(voters: &[u64], hs: (u64, Option<u64>, u64), terms: &[u64]) -> DurableState {
    let membership = Membership::with_voters(voters.iter().map(|id| n(*id)));
    let meta = SnapshotMeta { index: LogIndex(0), term: Term(0), membership };
    DurableState {
        hard_state: HardState { term: Term(hs.0), vote: hs.1.map(n), commit: LogIndex(hs.2) },
        snapshot: Some(Snapshot { meta, data: Bytes::new() }),
        entries: entries(terms),
    }
}

/// Whether `msg` is an AppendEntries to `to` carrying entries.
pub(super) fn is_append_with_entries(msg: &Message, to: u64) -> bool {
    msg.to == n(to)
        && matches!(&msg.body, Body::AppendEntries { entries, .. } if !entries.is_empty())
}
