//! Hybrid logical clocks (Kulkarni, Demirbas, Madeppa, Avva, Leone:
//! "Logical Physical Clocks and Consistent Snapshots in Globally
//! Distributed Databases", 2014), with physical time passed in.

use crate::NodeId;

/// A hybrid logical clock timestamp: `l` (here `wall_ms`), `c` (here
/// `logical`) and the node that issued it.
///
/// Timestamps order by `wall_ms`, then `logical`, then `node`: the node id
/// breaks the tie between two timestamps issued independently with the same
/// `(wall_ms, logical)`, so the order is total and deterministic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HlcTimestamp {
    /// The greatest physical time (ms) known when the timestamp was issued.
    pub wall_ms: u64,
    /// Events issued at the same `wall_ms`, counted.
    pub logical: u32,
    /// The node that issued the timestamp.
    pub node: NodeId,
}

/// A node's hybrid logical clock.
///
/// Every timestamp it issues is greater than every timestamp it issued or
/// observed before, and `wall_ms` never runs behind the physical time
/// passed in (Kulkarni et al. §3, Fig. 5). When `logical` would overflow,
/// `wall_ms` moves one millisecond ahead instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Hlc {
    last: HlcTimestamp,
}

impl Hlc {
    /// A clock of `node` that has issued nothing.
    pub fn new(node: NodeId) -> Hlc {
        Hlc { last: HlcTimestamp { wall_ms: 0, logical: 0, node } }
    }

    /// The last timestamp issued (or the zero timestamp).
    pub fn last(&self) -> HlcTimestamp {
        self.last
    }

    /// A timestamp for a local or send event, given the physical time.
    pub fn now(&mut self, physical_ms: u64) -> HlcTimestamp {
        let old = self.last.wall_ms;
        let wall_ms = old.max(physical_ms);
        let logical = if wall_ms == old { self.last.logical.checked_add(1) } else { Some(0) };
        self.set(wall_ms, logical)
    }

    /// A timestamp for receiving a message stamped `remote`, given the
    /// physical time. The result is greater than both `remote` and every
    /// timestamp this clock issued before.
    pub fn observe(&mut self, remote: HlcTimestamp, physical_ms: u64) -> HlcTimestamp {
        let old = self.last;
        let wall_ms = old.wall_ms.max(remote.wall_ms).max(physical_ms);
        let logical = if wall_ms == old.wall_ms && wall_ms == remote.wall_ms {
            old.logical.max(remote.logical).checked_add(1)
        } else if wall_ms == old.wall_ms {
            old.logical.checked_add(1)
        } else if wall_ms == remote.wall_ms {
            remote.logical.checked_add(1)
        } else {
            Some(0)
        };
        self.set(wall_ms, logical)
    }

    fn set(&mut self, wall_ms: u64, logical: Option<u32>) -> HlcTimestamp {
        let (wall_ms, logical) = match logical {
            Some(c) => (wall_ms, c),
            None => (wall_ms + 1, 0),
        };
        self.last = HlcTimestamp { wall_ms, logical, node: self.last.node };
        self.last
    }
}
