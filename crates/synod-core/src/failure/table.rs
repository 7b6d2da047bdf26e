//! A φ accrual detector per monitored peer.

use std::collections::BTreeMap;

use super::config::{Config, ConfigError};
use super::detector::PhiAccrualDetector;
use crate::Time;

/// One [`PhiAccrualDetector`] per peer, all with the same [`Config`].
///
/// A peer enters the table with its first heartbeat and leaves only through
/// [`remove`](Self::remove): the membership layer decides when a peer is
/// gone for good, the detector only says how suspicious its silence is.
/// Peers are kept in a `BTreeMap` so that every listing comes out in the
/// same order on every run, as the simulator's replays need.
#[derive(Clone, Debug)]
pub struct FailureDetectors<K> {
    config: Config,
    detectors: BTreeMap<K, PhiAccrualDetector>,
}

impl<K: Ord + Clone> FailureDetectors<K> {
    /// An empty table; the config is checked once here.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(FailureDetectors { config, detectors: BTreeMap::new() })
    }

    /// Records a heartbeat from `peer` at `now`, starting to monitor it if
    /// it is new.
    pub fn heartbeat(&mut self, peer: K, now: Time) {
        self.detectors
            .entry(peer)
            .or_insert_with(|| PhiAccrualDetector::new_validated(self.config.clone()))
            .heartbeat(now);
    }

    /// φ of `peer` at `now`, or `None` for a peer never heard from.
    pub fn phi(&self, peer: &K, now: Time) -> Option<f64> {
        self.detectors.get(peer).map(|d| d.phi(now))
    }

    /// Whether `peer` is trusted at `now`, or `None` for an unknown peer.
    pub fn is_available(&self, peer: &K, now: Time) -> Option<bool> {
        self.detectors.get(peer).map(|d| d.is_available(now))
    }

    /// The monitored peers whose φ has reached the threshold at `now`, in
    /// key order.
    pub fn suspects(&self, now: Time) -> Vec<K> {
        self.detectors
            .iter()
            .filter(|(_, d)| !d.is_available(now))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The earliest time after `now` at which a peer that is trusted now
    /// becomes suspect, if none heartbeats: when the driver should call
    /// [`suspects`](Self::suspects) again.
    pub fn next_deadline(&self, now: Time) -> Option<Time> {
        self.detectors
            .values()
            .filter_map(PhiAccrualDetector::suspect_at)
            .filter(|t| *t > now)
            .min()
    }

    /// Stops monitoring `peer`; returns whether it was monitored.
    pub fn remove(&mut self, peer: &K) -> bool {
        self.detectors.remove(peer).is_some()
    }

    /// The detector of `peer`, for its statistics.
    pub fn get(&self, peer: &K) -> Option<&PhiAccrualDetector> {
        self.detectors.get(peer)
    }

    /// The monitored peers, in key order.
    pub fn peers(&self) -> impl Iterator<Item = &K> {
        self.detectors.keys()
    }

    /// How many peers are monitored.
    pub fn len(&self) -> usize {
        self.detectors.len()
    }

    /// Whether no peer is monitored.
    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }
}
