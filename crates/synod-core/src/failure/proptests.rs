//! Property tests: φ is a well-behaved function of the silence.
//!
//! A failing case is saved under `proptest-regressions/` and replayed
//! first on the next run; replay a whole run with
//! `PROPTEST_RNG_SEED=<seed> cargo test -p synod-core failure::proptests`.

use super::{Config, FailureDetectors, PhiAccrualDetector};
use crate::Time;
use proptest::prelude::*;

/// Valid configs, from tiny σ floors (where the cubic overflows) to wide
/// ones, with and without an acceptable pause.
fn config() -> impl Strategy<Value = Config> {
    (1usize..50, 0.1f64..50.0, -300i32..6, 0u64..10_000, 1u64..100_000).prop_map(
        |(samples_max, threshold, floor_exp, acceptable_pause_ms, first)| Config {
            samples_max,
            threshold,
            std_deviation_ms_min: 10f64.powi(floor_exp),
            acceptable_pause_ms,
            first_heartbeat_estimate_ms: first,
        },
    )
}

fn history() -> impl Strategy<Value = (u64, Vec<u64>)> {
    (0u64..1 << 40, prop::collection::vec(0u64..100_000, 0..60))
}

fn detector_after(config: Config, (start, intervals): &(u64, Vec<u64>)) -> PhiAccrualDetector {
    let mut d = PhiAccrualDetector::new(config).unwrap();
    let mut now = Time(*start);
    d.heartbeat(now);
    for &i in intervals {
        now = now.plus_ms(i);
        d.heartbeat(now);
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // Paper §3: φ is non-decreasing in the time since the last heartbeat.
    #[test]
    fn phi_is_monotone_in_silence(
        c in config(),
        h in history(),
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let d = detector_after(c, &h);
        let last = d.last_heartbeat().unwrap();
        let (early, late) = (a.min(b), a.max(b));
        let (p1, p2) = (d.phi(last.plus_ms(early)), d.phi(last.plus_ms(late)));
        prop_assert!(p1 <= p2, "phi({early}) = {p1} > phi({late}) = {p2}");
    }

    // Small steps too, where rounding would show first.
    #[test]
    fn phi_is_monotone_step_by_step(c in config(), h in history(), from in 0u64..200_000) {
        let d = detector_after(c, &h);
        let last = d.last_heartbeat().unwrap();
        let mut previous = d.phi(last.plus_ms(from));
        for step in 1..200 {
            let p = d.phi(last.plus_ms(from + step));
            prop_assert!(previous <= p, "phi fell from {previous} to {p} at +{step}");
            previous = p;
        }
    }

    // φ is a probability's −log10: never NaN, never negative, always finite.
    #[test]
    fn phi_is_finite_and_non_negative(c in config(), h in history(), at in any::<u64>()) {
        let d = detector_after(c, &h);
        let p = d.phi(Time(at));
        prop_assert!(p.is_finite() && p >= 0.0, "phi = {p}");
    }

    // `suspect_at` is exactly where `is_available` flips.
    #[test]
    fn suspect_at_matches_is_available(c in config(), h in history()) {
        let d = detector_after(c, &h);
        if let Some(at) = d.suspect_at() {
            prop_assert!(!d.is_available(at));
            prop_assert!(at == d.last_heartbeat().unwrap() || d.is_available(Time(at.0 - 1)));
        }
    }

    // The window never holds more than `samples_max` intervals.
    #[test]
    fn window_never_exceeds_its_bound(c in config(), h in history()) {
        let bound = c.samples_max;
        let d = detector_after(c, &h);
        prop_assert!(d.samples() <= bound);
        prop_assert_eq!(d.samples(), h.1.len().min(bound));
    }

    // The table answers for each peer exactly as a lone detector would.
    #[test]
    fn table_agrees_with_lone_detectors(c in config(), h in history(), at in any::<u64>()) {
        let mut table = FailureDetectors::new(c.clone()).unwrap();
        let mut now = Time(h.0);
        table.heartbeat("p", now);
        for &i in &h.1 {
            now = now.plus_ms(i);
            table.heartbeat("p", now);
        }
        let lone = detector_after(c, &h);
        prop_assert_eq!(table.phi(&"p", Time(at)), Some(lone.phi(Time(at))));
        prop_assert_eq!(table.suspects(Time(at)).is_empty(), lone.is_available(Time(at)));
    }
}
