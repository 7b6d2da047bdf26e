//! What a SWIM run measured, and summaries over many seeds.

use super::params::Scenario;

/// Counters of what members put on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Datagrams sent (pings, indirect pings, acks, nacks, gossip).
    pub messages: u64,
    /// Their size, from `Message::size_bytes`.
    pub bytes: u64,
    /// Of which gossip-tick datagrams.
    pub gossip: u64,
    /// Datagrams the network lost or the partition cut.
    pub lost: u64,
    /// Push-pull exchanges started.
    pub push_pulls: u64,
    /// Push-pull exchanges that failed (partition, crashed or starved end).
    pub push_pulls_failed: u64,
    /// Bytes of the views exchanged by push-pull, both directions.
    pub push_pull_bytes: u64,
}

impl Traffic {
    /// The counts accumulated since `earlier`.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            messages: self.messages - earlier.messages,
            bytes: self.bytes - earlier.bytes,
            gossip: self.gossip - earlier.gossip,
            lost: self.lost - earlier.lost,
            push_pulls: self.push_pulls - earlier.push_pulls,
            push_pulls_failed: self.push_pulls_failed - earlier.push_pulls_failed,
            push_pull_bytes: self.push_pull_bytes - earlier.push_pull_bytes,
        }
    }
}

/// How one crash was detected, in ms after the crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The first member suspected it (SWIM's failure detection, §3.1).
    pub first_suspect_ms: Option<u64>,
    /// The first member declared it dead.
    pub first_dead_ms: u64,
    /// Every live member held it dead.
    pub all_dead_ms: u64,
}

/// How far one metadata update spread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    /// Simulated ms until 99.9 % of the members knew it.
    pub ms: u64,
    /// The same in gossip rounds: `ceil(ms / gossip_interval_ms)`.
    pub rounds: u64,
    /// Simulated ms until every member knew it, if within the bound.
    pub all_ms: Option<u64>,
}

/// "Dead" declarations about members that did not crash, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FalseDead {
    /// A healthy member (not the starved one, not in a partition run)
    /// declared dead: the false positives Lifeguard targets.
    pub healthy: u64,
    /// Of `healthy`, declared by the starved member itself.
    pub by_slow: u64,
    /// The starved member declared dead (it was unresponsive for seconds).
    pub slow: u64,
    /// A member declared dead while the cluster was split (expected).
    pub partitioned: u64,
    /// A member declared dead after the partition healed (until the end of
    /// the run): the far side's verdicts crossing over, or suspicions from
    /// the split that expire after it.
    pub after_heal: u64,
    /// Suspicions of members that did not crash (every cause).
    pub suspicions: u64,
}

/// The result of one run that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Members.
    pub nodes: usize,
    /// Datagram loss in per-mille.
    pub loss_permille: u32,
    /// The scenario.
    pub scenario: Scenario,
    /// Whether the members ran Lifeguard (else plain SWIM).
    pub lifeguard: bool,
    /// The protocol period.
    pub probe_interval_ms: u64,
    /// Simulated ms of the warm-up (bootstrap gossip drained).
    pub warmup_ms: u64,
    /// Simulated ms of the scenario phase (faults on).
    pub scenario_ms: u64,
    /// Simulated ms from the scenario's start to the end of settling: the
    /// time false deads are counted over.
    pub observed_ms: u64,
    /// Traffic during the scenario phase.
    pub window: Traffic,
    /// Traffic of the whole run.
    pub total: Traffic,
    /// The metadata update's spread ([`Scenario::Spread`]).
    pub spread: Option<Spread>,
    /// One entry per crash ([`Scenario::Crash`]).
    pub detections: Vec<Detection>,
    /// Ms from the heal until the live sets agreed ([`Scenario::Partition`]).
    pub heal_ms: Option<u64>,
    /// Total ms the slow member spent starved ([`Scenario::Slow`]).
    pub starved_ms: u64,
    /// False "dead" declarations by cause.
    pub false_dead: FalseDead,
    /// Simulated ms of the whole run.
    pub sim_ms: u64,
}

impl Report {
    /// Member-hours over which false deads were counted.
    pub fn node_hours(&self) -> f64 {
        self.nodes as f64 * self.observed_ms as f64 / 3_600_000.0
    }

    /// Protocol periods per member in the scenario window.
    fn periods(&self) -> f64 {
        self.nodes as f64 * self.scenario_ms as f64 / self.probe_interval_ms as f64
    }

    /// Datagrams each member sent per protocol period in the scenario window.
    pub fn messages_per_member_period(&self) -> f64 {
        self.window.messages as f64 / self.periods()
    }

    /// Datagram bytes each member sent per protocol period.
    pub fn bytes_per_member_period(&self) -> f64 {
        self.window.bytes as f64 / self.periods()
    }

    /// Push-pull bytes per member per protocol period.
    pub fn push_pull_bytes_per_member_period(&self) -> f64 {
        self.window.push_pull_bytes as f64 / self.periods()
    }
}

/// The value at quantile `q` (nearest rank) of `values`, sorted in place.
pub fn quantile(values: &mut [u64], q: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// Median, p99 and maximum, as `a/b/c` (or `-`).
fn spread_of(mut values: Vec<u64>) -> String {
    match (quantile(&mut values, 0.5), quantile(&mut values, 0.99), values.last()) {
        (Some(m), Some(p), Some(x)) => format!("{m}/{p}/{x}"),
        _ => "-".into(),
    }
}

/// Several runs of one configuration (scenario, size, loss, variant).
#[derive(Clone, Debug)]
pub struct Summary<'a> {
    reports: &'a [Report],
}

impl<'a> Summary<'a> {
    /// Summarizes `reports` (all of one configuration; `None` when empty).
    pub fn of(reports: &'a [Report]) -> Option<Summary<'a>> {
        (!reports.is_empty()).then_some(Summary { reports })
    }

    fn first(&self) -> &Report {
        &self.reports[0]
    }

    /// Total false deads of healthy members per member-hour, over all runs.
    pub fn false_dead_per_node_hour(&self) -> f64 {
        let count: u64 = self.reports.iter().map(|r| r.false_dead.healthy).sum();
        count as f64 / self.node_hours()
    }

    /// Member-hours observed over all runs.
    pub fn node_hours(&self) -> f64 {
        self.reports.iter().map(Report::node_hours).sum()
    }

    /// False-dead counts summed over the runs.
    pub fn false_dead(&self) -> FalseDead {
        let mut t = FalseDead::default();
        for r in self.reports {
            let f = &r.false_dead;
            t.healthy += f.healthy;
            t.by_slow += f.by_slow;
            t.slow += f.slow;
            t.partitioned += f.partitioned;
            t.after_heal += f.after_heal;
            t.suspicions += f.suspicions;
        }
        t
    }

    fn mean(&self, f: impl Fn(&Report) -> f64) -> f64 {
        self.reports.iter().map(f).sum::<f64>() / self.reports.len() as f64
    }

    /// Every crash's time to "dead everywhere", over all runs.
    pub fn all_dead_ms(&self) -> Vec<u64> {
        self.reports.iter().flat_map(|r| r.detections.iter().map(|d| d.all_dead_ms)).collect()
    }

    /// Every spread's 99.9 % time and rounds, over all runs.
    pub fn spreads(&self) -> Vec<Spread> {
        self.reports.iter().filter_map(|r| r.spread).collect()
    }

    /// The table row of these runs (see [`table_header`]).
    pub fn row(&self) -> String {
        let r = self.first();
        let variant = if r.lifeguard { "lifeguard" } else { "plain" };
        let head = format!(
            "{:<9} {:>5} {:>5} {:<9} {:>4}",
            r.scenario.name(),
            r.nodes,
            format!("{:.1}%", f64::from(r.loss_permille) / 10.0),
            variant,
            self.reports.len()
        );
        let fd = format!("{:.3}", self.false_dead_per_node_hour());
        let body = match r.scenario {
            Scenario::Spread => {
                let s = self.spreads();
                let all: Vec<u64> = s.iter().filter_map(|s| s.all_ms).collect();
                format!(
                    "{:>20} {:>20} {:>16}",
                    spread_of(s.iter().map(|s| s.rounds).collect()),
                    spread_of(s.iter().map(|s| s.ms).collect()),
                    spread_of(all)
                )
            }
            Scenario::Crash => {
                let d: Vec<&Detection> = self.reports.iter().flat_map(|r| &r.detections).collect();
                format!(
                    "{:>20} {:>20} {:>16}",
                    spread_of(d.iter().filter_map(|d| d.first_suspect_ms).collect()),
                    spread_of(d.iter().map(|d| d.first_dead_ms).collect()),
                    spread_of(self.all_dead_ms())
                )
            }
            Scenario::Slow => {
                let f = self.false_dead();
                format!(
                    "{:>20} {:>20} {:>16}",
                    format!("{}/{}", f.healthy, f.by_slow),
                    format!("{}/{}", f.slow, f.suspicions),
                    format!("{:.1}", self.node_hours())
                )
            }
            Scenario::Partition => {
                let heal: Vec<u64> = self.reports.iter().filter_map(|r| r.heal_ms).collect();
                let f = self.false_dead();
                format!("{:>20} {:>20} {:>16}", spread_of(heal), f.partitioned, f.after_heal)
            }
            Scenario::Load => format!(
                "{:>20.2} {:>20.0} {:>16.0}",
                self.mean(Report::messages_per_member_period),
                self.mean(Report::bytes_per_member_period),
                self.mean(Report::push_pull_bytes_per_member_period)
            ),
        };
        format!("{head} {body} {fd:>17}")
    }
}

/// The header of a scenario's table; three columns depend on it.
pub fn table_header(scenario: Scenario) -> String {
    let (a, b, c) = match scenario {
        Scenario::Spread => ("rounds med/p99/max", "ms 99.9% med/p99/max", "ms 100% med/p99/max"),
        Scenario::Crash => ("1st suspect ms", "1st dead ms", "dead everywhere ms"),
        Scenario::Slow => ("healthy dead/by slow", "slow dead/suspicions", "node-hours"),
        Scenario::Partition => ("heal ms med/p99/max", "dead while split", "dead after heal"),
        Scenario::Load => ("msgs/member/period", "bytes/member/period", "push-pull B/m/p"),
    };
    format!(
        "{:<9} {:>5} {:>5} {:<9} {:>4} {a:>20} {b:>20} {c:>16} {:>17}",
        "scenario", "nodes", "loss", "variant", "runs", "false dead/node-h"
    )
}
