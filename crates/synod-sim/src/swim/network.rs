//! The simulated network and event queue of the SWIM simulation:
//! datagrams are delayed (so reordered), lost at random and cut by a
//! two-sided partition; push-pull exchanges ride a reliable channel that
//! only a partition, a crash or a starved end can break.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use synod_core::swim::{Address, Message, PushPull};
use synod_core::NodeId;

/// The address of member `i`: 10.x.y.z, port 7946.
pub fn addr(i: usize) -> Address {
    let n = i as u32 + 1;
    Address::from_ipv4([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 7946)
}

/// The member index behind an address made by [`addr`].
pub fn index_of(addr: Address) -> usize {
    let [_, a, b, c] = addr.ipv4().expect("the simulation only hands out IPv4 addresses");
    ((u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c)) - 1) as usize
}

/// The id of member `i`.
pub fn node_id(i: usize) -> NodeId {
    NodeId(i as u64 + 1)
}

/// The member index of an id made by [`node_id`].
pub fn index_of_id(id: NodeId) -> usize {
    id.0 as usize - 1
}

/// Something that happens at a point of simulated time.
#[derive(Debug)]
pub enum Event {
    /// A datagram arrives at member `to`.
    Deliver {
        /// Sender's index.
        from: usize,
        /// Receiver's index.
        to: usize,
        /// The datagram.
        msg: Message,
    },
    /// The bootstrap introduces the members of feed chunk `c` to everyone.
    Feed(usize),
    /// Member `n`'s next deadline may have come.
    Timer(usize),
    /// The starved member's timer, handled late.
    LateTimer(usize),
    /// A starvation episode of member `n` begins; it ends at `until`.
    StarveStart {
        /// The starved member.
        node: usize,
        /// When the episode ends.
        until: u64,
    },
    /// A starvation episode ends: member `n` handles what queued up.
    StarveEnd(usize),
    /// A push-pull request with the initiator's view arrives.
    PushPullRequest {
        /// Initiator.
        from: usize,
        /// Responder.
        to: usize,
        /// The initiator's view.
        state: PushPull,
    },
    /// The responder's view arrives back at the initiator.
    PushPullResponse {
        /// Responder.
        from: usize,
        /// Initiator.
        to: usize,
        /// The responder's view.
        state: PushPull,
    },
}

/// Pending events of this simulation.
pub type EventQueue = crate::event_queue::EventQueue<Event>;

/// Delay, loss and the partition.
#[derive(Debug)]
pub struct Network {
    /// Current per-datagram loss, in per-mille (0 during warm-up and settling).
    pub loss_permille: u32,
    delay_ms: (u64, u64),
    /// The side of each member while a partition is on.
    sides: Option<Vec<bool>>,
}

impl Network {
    /// A lossless network without a partition.
    pub fn new(delay_ms: (u64, u64)) -> Network {
        Network { loss_permille: 0, delay_ms, sides: None }
    }

    /// Splits the members into those with `sides[i]` true and the rest.
    pub fn split(&mut self, sides: Vec<bool>) {
        self.sides = Some(sides);
    }

    /// Heals the partition.
    pub fn heal(&mut self) {
        self.sides = None;
    }

    /// Whether a partition is on and puts `a` and `b` on different sides.
    pub fn is_cut(&self, a: usize, b: usize) -> bool {
        self.sides.as_ref().is_some_and(|s| s[a] != s[b])
    }

    /// The delay after which a datagram sent now from `from` to `to`
    /// arrives: `None` when lost or cut.
    pub fn transmit(&self, rng: &mut ChaCha8Rng, from: usize, to: usize) -> Option<u64> {
        if self.is_cut(from, to) {
            return None;
        }
        if self.loss_permille > 0 && rng.random_range(0..1000) < self.loss_permille {
            return None;
        }
        Some(self.delay(rng))
    }

    /// One leg of a reliable exchange: never lost, only delayed.
    pub fn delay(&self, rng: &mut ChaCha8Rng) -> u64 {
        rng.random_range(self.delay_ms.0..=self.delay_ms.1)
    }
}

/// Conservative encoded size of a push-pull view, in the conventions of
/// `Message::size_bytes` (maximal varints, IPv6 addresses): per member an
/// id, an address, a state tag, an incarnation and the metadata.
pub fn push_pull_bytes(state: &PushPull) -> u64 {
    let per_member: usize =
        state.members.iter().map(|m| 10 + 32 + 5 + 10 + m.meta.size_bytes()).sum();
    (10 + 10 + per_member) as u64
}
