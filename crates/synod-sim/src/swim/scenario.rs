//! The phases of a run: bootstrap and warm-up on a perfect network, the
//! scenario with its faults, then settling with every fault gone, when the
//! final checks run.

use rand::Rng;

use super::checker::Violation;
use super::network::index_of_id;
use super::node::metadata;
use super::params::Scenario;
use super::report::{Detection, Report, Spread};
use super::world::{CrashWatch, PartitionPhase, Simulation, SpreadWatch};

/// The warm-up ends once no gossip datagram went out for this long.
const QUIET_MS: u64 = 2_000;
/// The warm-up must have ended by then.
const WARMUP_MS_MAX: u64 = 900_000;
/// Push-pull intervals within which gossip or, failing that, anti-entropy
/// must have done its work: a metadata update reached 99.9 % of the
/// members, or every live member agrees once the faults stopped. The
/// latter may take several: a lone stale view heals only when its holder
/// exchanges state with a member that knows better, and partners are drawn
/// from every member known, the dead included.
const PUSH_PULLS_MAX: u64 = 5;
/// Share of the members an update must reach.
const SPREAD_SHARE: f64 = 0.999;

impl Simulation {
    /// Runs the whole seed: warm-up, scenario, settling and final checks.
    pub fn run(mut self) -> Result<Report, Violation> {
        self.bootstrap();
        self.warm_up()?;
        let p = &self.params;
        let mut report = Report {
            seed: p.seed,
            nodes: p.nodes,
            loss_permille: p.loss_permille,
            scenario: p.scenario,
            lifeguard: p.lifeguard(),
            probe_interval_ms: p.config.probe_interval_ms,
            warmup_ms: self.now,
            scenario_ms: 0,
            observed_ms: 0,
            window: Default::default(),
            total: Default::default(),
            spread: None,
            detections: Vec::new(),
            heal_ms: None,
            starved_ms: 0,
            false_dead: Default::default(),
            sim_ms: 0,
        };
        self.network.loss_permille = p.loss_permille;
        self.counting = true;
        let (start, before) = (self.now, self.traffic);
        match self.params.scenario {
            Scenario::Spread => report.spread = Some(self.spread_update()?),
            Scenario::Crash => report.detections = self.crash_one_by_one()?,
            Scenario::Slow => report.starved_ms = self.starve()?,
            Scenario::Partition => report.heal_ms = Some(self.partition()?),
            Scenario::Load => self.run_for(self.params.load_ms)?,
        }
        report.scenario_ms = self.now - start;
        report.window = self.traffic.since(&before);
        self.settle()?;
        report.observed_ms = self.now - start;
        report.false_dead = self.false_dead;
        report.total = self.traffic;
        report.sim_ms = self.now;
        Ok(report)
    }

    /// Lossless and fault-free until the feed is done, every member knows
    /// every member and the bootstrap broadcasts are drained (no gossip
    /// for [`QUIET_MS`]).
    fn warm_up(&mut self) -> Result<(), Violation> {
        // The load window must see every member's push-pull exactly once:
        // wait until every push-pull timer runs at the full cluster's period.
        let config = &self.params.config;
        let periodic = match self.params.scenario {
            Scenario::Load => config.push_pull_interval_for(self.nodes.len()),
            _ => 0,
        };
        let min = self.feed_end_ms() + periodic;
        let quiet = self.run_until(WARMUP_MS_MAX, |s| {
            s.now >= min && s.now >= s.last_gossip_at + QUIET_MS && s.views.is_agreed()
        })?;
        if !quiet {
            return Err(Violation {
                property: "warm-up",
                detail: format!("gossip still going after {WARMUP_MS_MAX} ms without faults"),
            });
        }
        Ok(())
    }

    /// The origin changes its metadata; rounds until 99.9 % know it.
    fn spread_update(&mut self) -> Result<Spread, Violation> {
        let (origin, n) = (self.params.origin, self.nodes.len());
        let version = self.nodes[origin].swim.metadata().version + 1;
        let mut known = vec![false; n];
        known[origin] = true;
        self.spread = Some(SpreadWatch { subject: origin, version, known, count: 1 });
        let start = self.now;
        let meta = metadata(origin, version);
        self.nodes[origin]
            .swim
            .set_metadata(meta, synod_core::Time(start))
            .expect("the metadata fits");
        self.process_effects(origin);
        let target = ((n as f64) * SPREAD_SHARE).ceil() as usize;
        let count = |s: &Simulation| s.spread.as_ref().map_or(0, |w| w.count);
        let bound = PUSH_PULLS_MAX * self.params.config.push_pull_interval_for(n);
        if !self.run_until(start + bound, |s| count(s) >= target)? {
            return Err(Violation {
                property: "dissemination",
                detail: format!(
                    "node {origin}'s metadata update reached {} of {n} members in {bound} ms",
                    count(self)
                ),
            });
        }
        let ms = self.now - start;
        let all = self.run_until(start + bound, |s| count(s) >= n)?;
        Ok(Spread {
            ms,
            rounds: ms.div_ceil(self.params.config.gossip_interval_ms),
            all_ms: all.then(|| self.now - start),
        })
    }

    /// Crashes the victims one after the other, each once the previous
    /// one is dead everywhere (plus a few seconds).
    fn crash_one_by_one(&mut self) -> Result<Vec<Detection>, Violation> {
        let mut detections = Vec::new();
        let bound = self.params.config.suspicion_max_ms(self.nodes.len()) + 60_000;
        for victim in self.params.victims.clone() {
            let at = self.now;
            self.crash_node(victim);
            self.crash =
                Some(CrashWatch { node: victim, at, first_suspect: None, first_dead: None });
            if !self.run_until(at + bound, |s| s.views.is_dead_everywhere(victim))? {
                let context = format!("node {victim} crashed at {at} ms, {bound} ms later");
                return Err(self.views.disagreement("crash detected", &context));
            }
            let c = self.crash.take().expect("watching the crash");
            detections.push(Detection {
                first_suspect_ms: c.first_suspect.map(|t| t - c.at),
                first_dead_ms: c.first_dead.expect("dead everywhere") - c.at,
                all_dead_ms: self.now - c.at,
            });
            let gap = self.rng.random_range(2_000..=5_000);
            self.run_for(gap)?;
        }
        Ok(detections)
    }

    /// The slow member goes through its starvation episodes.
    fn starve(&mut self) -> Result<u64, Violation> {
        self.schedule_starvation();
        self.run_for(self.params.slow_ms)?;
        Ok(self.params.starvation.episodes.iter().map(|e| e.1).sum())
    }

    /// Split, wait, heal; ms from the heal until the live sets agree.
    fn partition(&mut self) -> Result<u64, Violation> {
        let sides = self.params.sides.clone();
        self.partition = PartitionPhase::Split;
        self.network.split(sides);
        self.run_for(self.params.partition_ms)?;
        self.network.heal();
        self.partition = PartitionPhase::Healed;
        let healed = self.now;
        let n = self.nodes.len();
        let bound = PUSH_PULLS_MAX * self.params.config.push_pull_interval_for(n)
            + self.params.config.suspicion_max_ms(n);
        if !self.run_until(healed + bound, |s| s.views.is_live_set_agreed())? {
            let context = format!("healed at {healed} ms, {bound} ms later");
            return Err(self.views.disagreement("partition heal", &context));
        }
        Ok(self.now - healed)
    }

    /// Every fault gone (loss off, partition healed, starvation over):
    /// every live member must come to hold every running member `Alive`
    /// and every crashed one `Dead`; then the final checks.
    fn settle(&mut self) -> Result<(), Violation> {
        self.network.loss_permille = 0;
        self.network.heal();
        let n = self.nodes.len();
        let config = &self.params.config;
        let bound = config.suspicion_max_ms(n) + PUSH_PULLS_MAX * config.push_pull_interval_for(n);
        let start = self.now;
        if !self.run_until(start + bound, |s| s.views.is_agreed())? {
            let context = format!("{bound} ms after the faults stopped at {start} ms");
            return Err(self.views.disagreement("agreement", &context));
        }
        if let Some(w) = &self.spread {
            let live = self.views.live_count();
            if w.count < live {
                return Err(Violation {
                    property: "dissemination",
                    detail: format!(
                        "after settling, {} of {live} members know node {}'s metadata version {}",
                        w.count, w.subject, w.version
                    ),
                });
            }
        }
        self.check_events_match_tables()
    }

    /// The views built from events must be each member's own table.
    fn check_events_match_tables(&self) -> Result<(), Violation> {
        for (o, node) in self.nodes.iter().enumerate().filter(|(_, n)| !n.crashed) {
            let mut known = 0;
            for info in node.swim.members() {
                let s = index_of_id(info.id);
                if s == o {
                    continue;
                }
                known += 1;
                if self.views.state(o, s) != Some(info.state) {
                    return Err(Violation {
                        property: "events",
                        detail: format!(
                            "node {o}'s table holds node {s} as {:?}, its events said {:?}",
                            info.state,
                            self.views.state(o, s)
                        ),
                    });
                }
            }
            let from_events = (0..self.nodes.len())
                .filter(|&s| s != o && self.views.state(o, s).is_some())
                .count();
            if from_events != known {
                return Err(Violation {
                    property: "events",
                    detail: format!(
                        "node {o}'s table knows {known} members, its events announced {from_events}"
                    ),
                });
            }
        }
        Ok(())
    }
}
