//! Unit tests; each says which part of Hayashibara et al. (2004) it checks.

use super::{Config, ConfigError, FailureDetectors, PhiAccrualDetector, PHI_MAX};
use crate::{NodeId, Time};

fn detector(config: Config) -> PhiAccrualDetector {
    PhiAccrualDetector::new(config).unwrap()
}

/// Heartbeats at `start`, `start + intervals[0]`, ...; returns the last time.
fn beat(d: &mut PhiAccrualDetector, start: u64, intervals: &[u64]) -> Time {
    let mut now = Time(start);
    d.heartbeat(now);
    for &i in intervals {
        now = now.plus_ms(i);
        d.heartbeat(now);
    }
    now
}

/// φ for a silence of `y` standard deviations past the expected arrival,
/// straight from the logistic formula (φ = log10(1 + e^z)).
fn phi_at_y(y: f64) -> f64 {
    (1.0 + (1.5976 * y + 0.070566 * y * y * y).exp()).log10()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

// §3: φ = −log10(P_later(t_now − T_last)) rises as the silence lengthens.
#[test]
fn phi_grows_with_silence() {
    let mut d = detector(Config::default());
    let last = beat(&mut d, 0, &[1_000; 20]);
    let phis: Vec<f64> = (0..=30).map(|k| d.phi(last.plus_ms(k * 100))).collect();
    assert!(phis.windows(2).all(|w| w[0] < w[1]), "{phis:?}");
    assert!(d.is_available(last.plus_ms(1_000)));
    assert!(!d.is_available(last.plus_ms(3_000)));
}

// §3.2: with regular heartbeats φ stays low; at exactly the mean interval
// P_later = ½, so φ = log10 2 whatever the history.
#[test]
fn regular_heartbeats_keep_phi_low() {
    let mut d = detector(Config::default());
    let mut now = Time(0);
    d.heartbeat(now);
    for _ in 0..100 {
        now = now.plus_ms(1_000);
        assert!(d.phi(now) < 0.5, "phi {} just before the beat at {now}", d.phi(now));
        d.heartbeat(now);
    }
    assert!(close(d.phi(now.plus_ms(1_000)), 2f64.log10()));
}

// §4.1: the distribution is fitted to the observed intervals, so a jittery
// peer is allowed a longer silence than a regular one with the same mean.
#[test]
fn jitter_raises_the_tolerated_gap() {
    let mut regular = detector(Config::default());
    let mut jittery = detector(Config::default());
    let last_r = beat(&mut regular, 0, &[1_000; 40]);
    let last_j = beat(&mut jittery, 0, &[500, 1_500].repeat(20));
    assert_eq!(regular.distribution_ms(), (1_000.0, 100.0));
    assert_eq!(jittery.distribution_ms(), (1_000.0, 500.0));

    let gap = 2_000;
    assert!(!regular.is_available(last_r.plus_ms(gap)));
    assert!(jittery.is_available(last_j.plus_ms(gap)));
    assert!(close(jittery.phi(last_j.plus_ms(gap)), phi_at_y(2.0)));
    let tolerated_r = regular.suspect_at().unwrap().ms_since(last_r);
    let tolerated_j = jittery.suspect_at().unwrap().ms_since(last_j);
    assert!(tolerated_j > tolerated_r + 1_000, "{tolerated_r} vs {tolerated_j}");
}

// Acceptable pause (Akka's extension of §4.1): φ behaves as if the mean
// interval were longer by the pause, i.e. the curve shifts right.
#[test]
fn acceptable_pause_shifts_phi() {
    let pause_ms = 3_000;
    let mut plain = detector(Config::default());
    let mut patient = detector(Config { acceptable_pause_ms: pause_ms, ..Config::default() });
    let last = beat(&mut plain, 0, &[1_000; 10]);
    beat(&mut patient, 0, &[1_000; 10]);
    for silence in [0, 500, 1_000, 1_500, 2_500] {
        assert_eq!(plain.phi(last.plus_ms(silence)), patient.phi(last.plus_ms(silence + pause_ms)));
    }
    assert!(!plain.is_available(last.plus_ms(2_500)));
    assert!(patient.is_available(last.plus_ms(2_500)));
    let shift = patient.suspect_at().unwrap().ms_since(plain.suspect_at().unwrap());
    assert_eq!(shift, pause_ms);
}

// §4.1: the window has a fixed size; old intervals are forgotten, so the
// estimate follows a network whose behaviour changes.
#[test]
fn window_is_bounded_and_forgets() {
    let mut d = detector(Config { samples_max: 10, ..Config::default() });
    beat(&mut d, 0, &[100; 50]);
    assert_eq!(d.samples(), 10);
    assert_eq!(d.distribution_ms().0, 100.0);
    let last = beat(&mut d, 10_000, &[1_000; 10]);
    assert_eq!(d.samples(), 10);
    assert_eq!(d.distribution_ms(), (1_000.0, 100.0));
    assert!(d.is_available(last.plus_ms(1_000)));
}

// A perfectly regular history has σ = 0; the floor keeps a few ms of lateness
// from counting as impossible.
#[test]
fn min_std_deviation_is_a_floor() {
    let mut d = detector(Config { std_deviation_ms_min: 250.0, ..Config::default() });
    let last = beat(&mut d, 0, &[1_000; 30]);
    assert_eq!(d.distribution_ms(), (1_000.0, 250.0));
    assert!(close(d.phi(last.plus_ms(1_250)), phi_at_y(1.0)));
    assert!(d.is_available(last.plus_ms(1_050)));

    // A σ above the floor is used as measured.
    let mut wide = detector(Config { std_deviation_ms_min: 250.0, ..Config::default() });
    beat(&mut wide, 0, &[200, 1_800].repeat(10));
    assert_eq!(wide.distribution_ms(), (1_000.0, 800.0));
}

// Before any interval is measured the configured estimate stands in, with
// σ = estimate / 4; before any heartbeat nothing is suspected.
#[test]
fn first_heartbeat_uses_the_estimate() {
    let config = Config { first_heartbeat_estimate_ms: 2_000, ..Config::default() };
    let mut d = detector(config);
    assert_eq!(d.phi(Time(1_000_000)), 0.0);
    assert!(d.is_available(Time(1_000_000)));
    assert_eq!(d.suspect_at(), None);

    d.heartbeat(Time(10));
    assert_eq!(d.samples(), 0);
    assert_eq!(d.distribution_ms(), (2_000.0, 500.0));
    assert!(close(d.phi(Time(2_010)), 2f64.log10()));
}

#[test]
fn stale_heartbeat_is_ignored() {
    let mut d = detector(Config::default());
    beat(&mut d, 5_000, &[1_000; 3]);
    d.heartbeat(Time(1_000));
    assert_eq!(d.last_heartbeat(), Some(Time(8_000)));
    assert_eq!(d.samples(), 3);
}

#[test]
fn suspect_at_is_the_first_suspicious_millisecond() {
    let mut d = detector(Config::default());
    beat(&mut d, 0, &[900, 1_100, 1_000, 950, 1_050]);
    let at = d.suspect_at().unwrap();
    assert!(d.is_available(Time(at.0 - 1)));
    assert!(!d.is_available(at));
}

// φ must stay a number even where the cubic overflows: a tiny σ floor and
// a silence of centuries.
#[test]
fn phi_is_capped_never_nan() {
    let config = Config { std_deviation_ms_min: 1e-300, ..Config::default() };
    let mut d = detector(config);
    let last = beat(&mut d, 0, &[1_000; 3]);
    assert_eq!(d.phi(Time(u64::MAX)), PHI_MAX);
    assert_eq!(d.phi(last), 0.0);
    assert!(!d.is_available(Time(u64::MAX)));
}

#[test]
fn invalid_configs_are_rejected() {
    let bad = |c: Config| PhiAccrualDetector::new(c).unwrap_err();
    let d = Config::default();
    assert_eq!(bad(Config { samples_max: 0, ..d.clone() }), ConfigError::WindowEmpty);
    for t in [0.0, -1.0, f64::INFINITY] {
        assert_eq!(bad(Config { threshold: t, ..d.clone() }), ConfigError::BadThreshold(t));
    }
    assert!(matches!(
        bad(Config { threshold: f64::NAN, ..d.clone() }),
        ConfigError::BadThreshold(_)
    ));
    for s in [0.0, -100.0, f64::INFINITY] {
        let e = bad(Config { std_deviation_ms_min: s, ..d.clone() });
        assert_eq!(e, ConfigError::BadStdDeviationMin(s));
    }
    let e = bad(Config { std_deviation_ms_min: f64::NAN, ..d.clone() });
    assert!(matches!(e, ConfigError::BadStdDeviationMin(_)));
    assert_eq!(
        bad(Config { first_heartbeat_estimate_ms: 0, ..d.clone() }),
        ConfigError::EstimateZero
    );
    assert!(FailureDetectors::<NodeId>::new(Config { samples_max: 0, ..d }).is_err());
    assert_eq!(
        ConfigError::BadThreshold(-1.0).to_string(),
        "threshold must be a positive finite number, got -1"
    );
}

#[test]
fn table_tracks_peers_separately() {
    let mut t = FailureDetectors::new(Config::default()).unwrap();
    assert!(t.is_empty());
    for s in 0..30 {
        t.heartbeat(NodeId(3), Time(s * 1_000));
        t.heartbeat(NodeId(1), Time(s * 1_000));
        if s < 20 {
            t.heartbeat(NodeId(2), Time(s * 1_000));
        }
    }
    let now = Time(29_500);
    assert_eq!(t.len(), 3);
    assert_eq!(t.phi(&NodeId(9), now), None);
    assert_eq!(t.is_available(&NodeId(9), now), None);
    assert_eq!(t.suspects(now), vec![NodeId(2)]);
    assert_eq!(t.is_available(&NodeId(1), now), Some(true));

    // n1 and n3 beat in step, so they become suspect at the same moment.
    let deadline = t.next_deadline(now).unwrap();
    assert_eq!(Some(deadline), t.get(&NodeId(1)).unwrap().suspect_at());
    assert_eq!(t.suspects(deadline), vec![NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(t.next_deadline(deadline), None);

    assert!(t.remove(&NodeId(2)));
    assert!(!t.remove(&NodeId(2)));
    assert_eq!(t.peers().copied().collect::<Vec<_>>(), vec![NodeId(1), NodeId(3)]);
}
