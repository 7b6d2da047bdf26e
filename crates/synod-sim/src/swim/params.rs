//! The shape of one SWIM run: cluster size, loss, scenario and protocol
//! variant come from the caller; everything else — delays, who crashes,
//! who is slow and when it starves, the partition's sides and length — is
//! derived from the seed. The derivation never looks at the variant, so a
//! plain-SWIM run and a Lifeguard run of the same seed face the same
//! network, the same crash victims and the same starvation schedule.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod_core::swim::{Lifeguard, SwimConfig};

/// What happens after the warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// One member changes its metadata; measure how long until 99.9 % of
    /// the members know (SWIM §4.1, infection-style dissemination).
    Spread,
    /// Members crash one after another; measure the time from each crash
    /// to "dead" at every live member (SWIM §3.1, §4.2).
    Crash,
    /// One member is CPU-starved: its inbound messages are handled late.
    /// Count healthy members falsely declared dead (Lifeguard §5's setting).
    Slow,
    /// The cluster splits in two, then heals; measure the time until every
    /// member agrees on who is alive again.
    Partition,
    /// Nothing happens; measure the datagrams and bytes each member sends
    /// per protocol period.
    Load,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 5] =
        [Scenario::Spread, Scenario::Crash, Scenario::Slow, Scenario::Partition, Scenario::Load];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Spread => "spread",
            Scenario::Crash => "crash",
            Scenario::Slow => "slow",
            Scenario::Partition => "partition",
            Scenario::Load => "load",
        }
    }

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A deliberately broken setup, to show that the checkers can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimBug {
    /// Node 0 is mute: it receives and handles everything, but nothing it
    /// sends reaches anyone — no ack, no refutation, no push-pull (a
    /// broken send path). The checkers are still told it is healthy, so
    /// when the others rightly declare it dead, the "no false dead"
    /// checker must flag that.
    Mute,
}

/// CPU starvation of the slow member: it runs in episodes during which its
/// packet handling is starved (Lifeguard §5 delays message processing at a
/// member). A datagram that arrives during an episode waits until the
/// episode ends, so it is handled up to the episode's length late; the
/// member's timers keep firing, each up to `timer_lag_ms_max` late (in
/// memberlist the probe loop and the packet handler are separate
/// goroutines, and only the latter is starved by a flood of work).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Starvation {
    /// The slow member's index.
    pub node: usize,
    /// Episodes as `(start, length)` in ms from the start of the slow
    /// phase, in time order, all within `slow_ms`.
    pub episodes: Vec<(u64, u64)>,
    /// The longest a timer of the slow member fires late during an episode.
    pub timer_lag_ms_max: u64,
}

/// Every parameter of one run.
#[derive(Clone, Debug)]
pub struct SwimParams {
    /// The run's seed.
    pub seed: u64,
    /// Members (at least 2).
    pub nodes: usize,
    /// Per-datagram loss after the warm-up, in per-mille.
    pub loss_permille: u32,
    /// What happens after the warm-up.
    pub scenario: Scenario,
    /// The protocol configuration of every member.
    pub config: SwimConfig,
    /// One-way datagram delay range in ms (push-pull legs too).
    pub delay_ms: (u64, u64),
    /// The member whose metadata changes ([`Scenario::Spread`]).
    pub origin: usize,
    /// The members that crash, one after the other ([`Scenario::Crash`]):
    /// five, or a third of the cluster if that is fewer.
    pub victims: Vec<usize>,
    /// Length of the slow phase ([`Scenario::Slow`]).
    pub slow_ms: u64,
    /// The slow member and its starvation episodes ([`Scenario::Slow`]).
    pub starvation: Starvation,
    /// Each member's side of the partition ([`Scenario::Partition`]).
    pub sides: Vec<bool>,
    /// How long the partition lasts.
    pub partition_ms: u64,
    /// Length of the measurement window of [`Scenario::Load`]: at least
    /// one push-pull interval, so every member's exchange is in it.
    pub load_ms: u64,
    /// A deliberately broken setup.
    pub bug: Option<SimBug>,
}

/// A parameter combination that cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsError(pub String);

impl std::fmt::Display for ParamsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Starvation episodes last 1 to 16 s, with 5 to 45 s of normal service
/// between them: short ones are harmless, long ones outlast SWIM's
/// suspicion timeout (4 s at 10 members, 8 s at 100, 12 s at 1,000).
pub const EPISODE_MS: (u64, u64) = (1_000, 16_000);
/// Normal service between two starvation episodes.
pub const EPISODE_GAP_MS: (u64, u64) = (5_000, 45_000);

impl SwimParams {
    /// The run of `seed` for `nodes` members with `loss_permille` datagram
    /// loss under `scenario`, running Lifeguard (`lifeguard`) or plain SWIM.
    pub fn from_seed(
        seed: u64,
        nodes: usize,
        loss_permille: u32,
        scenario: Scenario,
        lifeguard: bool,
    ) -> SwimParams {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x51A1_0000);
        let n = nodes.max(2);
        let delay_lo = rng.random_range(1..=3);
        let delay_hi = delay_lo + rng.random_range(4..=9);
        let mut shuffled: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            shuffled.swap(i, rng.random_range(0..=i));
        }
        let origin = shuffled[0];
        let victims = shuffled.iter().copied().take(5.min(n / 3)).collect();
        let slow_ms = 600_000;
        let node = shuffled[n - 1];
        let starvation =
            Starvation { node, episodes: episodes(&mut rng, slow_ms), timer_lag_ms_max: 200 };
        let side_a = rng.random_range((n / 10).max(1)..=(n / 2).max(1));
        let mut sides = vec![false; n];
        for &i in shuffled.iter().skip(1).take(side_a) {
            sides[i] = true;
        }
        let config = SwimConfig {
            lifeguard: if lifeguard { Lifeguard::ALL } else { Lifeguard::OFF },
            ..SwimConfig::default()
        };
        let load_ms = config.push_pull_interval_for(n).max(60_000);
        SwimParams {
            seed,
            nodes,
            loss_permille,
            scenario,
            delay_ms: (delay_lo, delay_hi),
            origin,
            victims,
            slow_ms,
            starvation,
            sides,
            partition_ms: rng.random_range(20..=60) * 1_000,
            load_ms,
            config,
            bug: None,
        }
    }

    /// Whether the members run Lifeguard (all three parts).
    pub fn lifeguard(&self) -> bool {
        self.config.lifeguard == Lifeguard::ALL
    }

    /// Whether nothing but crashes can make a member look dead: no loss,
    /// no slow member, no partition. Then any "dead" about a member that
    /// did not crash is a violation.
    pub fn is_fault_free(&self) -> bool {
        self.loss_permille == 0
            && matches!(self.scenario, Scenario::Spread | Scenario::Crash | Scenario::Load)
    }

    /// Rejects combinations that cannot run.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let err = |s: String| Err(ParamsError(s));
        if self.nodes < 2 {
            return err(format!("{} nodes: a cluster needs at least 2", self.nodes));
        }
        if self.nodes > 60_000 {
            return err(format!("{} nodes: addresses cover at most 60,000", self.nodes));
        }
        if self.loss_permille >= 1000 {
            return err(format!("loss {}‰ loses every datagram", self.loss_permille));
        }
        if self.delay_ms.0 == 0 || self.delay_ms.0 > self.delay_ms.1 {
            return err(format!("delay range {:?} is empty or zero", self.delay_ms));
        }
        if self.scenario == Scenario::Crash && self.victims.len() >= self.nodes {
            return err("every member would crash".into());
        }
        self.config.validate().map_err(|e| ParamsError(e.to_string()))
    }
}

/// Starvation episodes covering `slow_ms`, from the seed.
fn episodes(rng: &mut ChaCha8Rng, slow_ms: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = rng.random_range(EPISODE_GAP_MS.0..=EPISODE_GAP_MS.1);
    while at < slow_ms {
        let length = rng.random_range(EPISODE_MS.0..=EPISODE_MS.1).min(slow_ms - at);
        out.push((at, length));
        at += length + rng.random_range(EPISODE_GAP_MS.0..=EPISODE_GAP_MS.1);
    }
    out
}
