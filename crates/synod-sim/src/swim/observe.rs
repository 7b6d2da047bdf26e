//! What the simulator learns from each membership event a member
//! emits: the views the checkers compare with the truth, the spread and
//! crash watches, and the false "dead" declarations by cause.

use synod_core::swim::MemberEvent;

use super::checker::Violation;
use super::network::index_of_id;
use super::params::Scenario;
use super::world::{PartitionPhase, Simulation};

impl Simulation {
    /// Feeds one membership event of observer `o` to the views, the
    /// watches and the false-dead counters.
    pub(super) fn on_event(&mut self, o: usize, event: &MemberEvent) {
        let info = event.member();
        let s = index_of_id(info.id);
        if s >= self.nodes.len() {
            return;
        }
        self.views.set(o, s, info.state);
        if let Some(w) = &mut self.spread {
            if s == w.subject && info.meta.version >= w.version && !w.known[o] {
                w.known[o] = true;
                w.count += 1;
            }
        }
        let crashed = self.views.is_crashed(s);
        match event {
            MemberEvent::Suspect(_) if crashed => {
                if let Some(c) = self.crash.as_mut().filter(|c| c.node == s) {
                    c.first_suspect.get_or_insert(self.now);
                }
            }
            MemberEvent::Suspect(_) => self.false_dead.suspicions += u64::from(self.counting),
            MemberEvent::Dead(_) if crashed => {
                if let Some(c) = self.crash.as_mut().filter(|c| c.node == s) {
                    c.first_dead.get_or_insert(self.now);
                }
            }
            MemberEvent::Dead(_) => self.on_false_dead(o, s),
            _ => {}
        }
    }

    /// A member that did not crash was declared dead by `o`.
    fn on_false_dead(&mut self, o: usize, s: usize) {
        if self.params.is_fault_free() && self.violation.is_none() {
            self.violation = Some(Violation {
                property: "false dead",
                detail: format!(
                    "node {o} declared node {s} dead at {} ms, yet node {s} runs and nothing \
                     (loss, starvation, partition) kept it from answering",
                    self.now
                ),
            });
        }
        if !self.counting {
            return;
        }
        let f = &mut self.false_dead;
        let slow = self.params.starvation.node;
        if self.partition == PartitionPhase::Split {
            f.partitioned += 1;
        } else if self.partition == PartitionPhase::Healed {
            f.after_heal += 1;
        } else if self.params.scenario == Scenario::Slow && s == slow {
            f.slow += 1;
        } else {
            f.healthy += 1;
            f.by_slow += u64::from(self.params.scenario == Scenario::Slow && o == slow);
        }
    }
}
