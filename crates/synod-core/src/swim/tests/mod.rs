//! Tests of the SWIM core over a small simulated network, one file per
//! concern. Each cites the rule it checks: SWIM (Das, Gupta & Motivala,
//! 2002) by section, Lifeguard (Dadgar, Phillips & Currey, 2018) by part.

mod net;

mod dissemination;
mod failure;
mod hostile;
mod lifeguard;
mod membership;
mod randomized;

use super::{MemberEvent, SwimConfig};

/// The seed of every fixed-seed test, so that runs replay exactly.
pub(super) const SEED: u64 = 0x5EED;

/// The defaults with `tweak` applied, validated.
pub(super) fn config(tweak: impl FnOnce(&mut SwimConfig)) -> SwimConfig {
    let mut config = SwimConfig::default();
    tweak(&mut config);
    config.validate().unwrap();
    config
}

pub(super) fn is_suspect(e: &MemberEvent) -> bool {
    matches!(e, MemberEvent::Suspect(_))
}

pub(super) fn is_dead(e: &MemberEvent) -> bool {
    matches!(e, MemberEvent::Dead(_))
}
