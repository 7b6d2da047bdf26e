//! The simulated network and event queue of the gossip simulation:
//! messages are lost, duplicated, delayed (so reordered) and cut by a
//! two-sided partition.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use synod_core::antientropy::Message;

/// Something that happens at a point of simulated time.
#[derive(Debug)]
pub enum Event {
    /// A message arrives at node `to`.
    Deliver {
        /// Sender's index.
        from: usize,
        /// Receiver's index.
        to: usize,
        /// The message.
        msg: Message,
    },
    /// The retry timer of session `session` at node `node` may be due.
    Timer {
        /// Node index.
        node: usize,
        /// The peer's index.
        peer: usize,
        /// The session id.
        session: u64,
    },
    /// Node `node` starts a gossip round.
    Round(usize),
    /// The `n`-th planned write happens.
    Write(usize),
    /// The partition forms.
    Split,
    /// The partition heals.
    Heal,
}

/// Pending events of this simulation.
pub type EventQueue = crate::event_queue::EventQueue<Event>;

/// Loss, duplication, delay and the partition.
#[derive(Debug)]
pub struct Network {
    loss_permille: u32,
    duplicate_permille: u32,
    delay_ms: (u64, u64),
    /// The side of each node while a partition is on.
    sides: Option<Vec<bool>>,
}

impl Network {
    /// A network without a partition.
    pub fn new(loss_permille: u32, duplicate_permille: u32, delay_ms: (u64, u64)) -> Network {
        Network { loss_permille, duplicate_permille, delay_ms, sides: None }
    }

    /// Splits the nodes into those with `sides[i]` true and the rest.
    pub fn split(&mut self, sides: Vec<bool>) {
        self.sides = Some(sides);
    }

    /// Heals the partition.
    pub fn heal(&mut self) {
        self.sides = None;
    }

    /// Whether the partition cuts `from` from `to` (checked when a message
    /// is sent and again when it would arrive).
    pub fn is_cut(&self, from: usize, to: usize) -> bool {
        self.sides.as_ref().is_some_and(|s| s[from] != s[to])
    }

    /// The delays after which copies of a message sent now from `from` to
    /// `to` arrive: none when lost or cut, two when duplicated.
    pub fn transmit(&self, rng: &mut ChaCha8Rng, from: usize, to: usize) -> Vec<u64> {
        if self.is_cut(from, to) || rng.random_range(0..1000) < self.loss_permille {
            return Vec::new();
        }
        let (lo, hi) = self.delay_ms;
        let mut delays = vec![rng.random_range(lo..=hi)];
        if rng.random_range(0..1000) < self.duplicate_permille {
            delays.push(rng.random_range(lo..=hi));
        }
        delays
    }
}
