//! Gossip simulation targets (issue item 8), over several seeds each:
//!
//! * 3 nodes converge within 10 rounds;
//! * 1,000 nodes converge within 15 rounds at fanout 3;
//! * after a partition heals, every update made on either side is visible
//!   on every node;
//! * and the checker fails on replicas that do not join.
//!
//! Run in release (`cargo test -p synod-sim --release --test gossip`): the
//! 1,000-node runs take seconds in debug builds.

use synod_sim::gossip::{
    replay_command, run_seed, GossipParams, ReplicaBug, Report, Violation, Workload,
};

/// Runs one seed; a violation fails the test with the seed and the
/// command that replays it.
fn run(seed: u64, nodes: usize, fanout: usize, loss_permille: u32, workload: Workload) -> Report {
    let params = GossipParams::from_seed(seed, nodes, fanout, loss_permille, workload);
    run_seed(params.clone()).unwrap_or_else(|v| {
        panic!("seed {seed}: {v}\n  replay: {}", replay_command(&params));
    })
}

/// Runs `seeds` and asserts each converges within `rounds_max` rounds;
/// returns the reports.
fn assert_rounds(
    seeds: std::ops::Range<u64>,
    nodes: usize,
    fanout: usize,
    loss_permille: u32,
    workload: Workload,
    rounds_max: u64,
) -> Vec<Report> {
    let reports: Vec<Report> =
        seeds.map(|seed| run(seed, nodes, fanout, loss_permille, workload)).collect();
    for r in &reports {
        let params = GossipParams::from_seed(r.seed, nodes, fanout, loss_permille, workload);
        assert!(
            r.rounds <= rounds_max,
            "seed {}: {nodes} nodes took {} rounds (> {rounds_max}) under {workload:?}\n  replay: {}",
            r.seed,
            r.rounds,
            replay_command(&params)
        );
    }
    let rounds: Vec<u64> = reports.iter().map(|r| r.rounds).collect();
    let bytes: Vec<f64> = reports.iter().map(Report::bytes_per_node_round).collect();
    println!(
        "{workload:?} n={nodes} fanout={fanout} loss={loss_permille}‰: rounds {rounds:?}, \
         bytes/node/round {bytes:.0?}"
    );
    reports
}

#[test]
fn three_nodes_converge_within_10_rounds() {
    for workload in [Workload::Spread, Workload::Concurrent] {
        for loss_permille in [0, 50] {
            assert_rounds(0..20, 3, 3, loss_permille, workload, 10);
        }
    }
}

#[test]
fn thousand_nodes_converge_within_15_rounds_at_fanout_3() {
    // Demers et al. 1987 §1.3: push-pull anti-entropy spreads an update in
    // O(log n) rounds; with 3 partners per round, about log_7(1000) ≈ 3.5
    // rounds while few nodes have it, then a short tail.
    assert_rounds(0..4, 1000, 3, 0, Workload::Spread, 15);
    // With 1 % loss a lost message costs its session a resend, not a round.
    assert_rounds(100..102, 1000, 3, 10, Workload::Spread, 15);
}

#[test]
fn hundred_nodes_with_concurrent_writers_converge() {
    assert_rounds(0..5, 100, 3, 0, Workload::Concurrent, 15);
    assert_rounds(5..10, 100, 3, 10, Workload::Concurrent, 15);
}

#[test]
fn after_a_partition_heals_every_update_is_visible_everywhere() {
    // Both sides write the same keys while cut off; the checker compares
    // every replica, key by key, with the join of every update made.
    for (nodes, seeds) in [(3, 0..15), (10, 0..15), (50, 0..6), (200, 0..2)] {
        for loss_permille in [0, 10] {
            let reports = assert_rounds(
                seeds.clone(),
                nodes,
                3,
                loss_permille,
                Workload::Partition,
                GossipParams::from_seed(0, nodes, 3, 0, Workload::Partition).rounds_max,
            );
            assert!(
                reports.iter().all(|r| r.total.sessions_failed > 0),
                "the partition cut nothing"
            );
        }
    }
}

#[test]
fn runs_are_reproducible_from_their_seed() {
    let a = run(42, 30, 3, 20, Workload::Partition);
    let b = run(42, 30, 3, 20, Workload::Partition);
    assert_eq!(a, b);
}

/// The first violation of `bug` in seeds `0..seeds` of a 10-node
/// partition run, which must not fail without the bug.
fn first_violation(bug: ReplicaBug, seeds: u64) -> (u64, Violation) {
    (0..seeds)
        .find_map(|seed| {
            let mut params = GossipParams::from_seed(seed, 10, 3, 0, Workload::Partition);
            params.rounds_max = 20;
            run_seed(params.clone())
                .unwrap_or_else(|v| panic!("seed {seed} fails without bug: {v}"));
            params.bug = Some(bug);
            run_seed(params).err().map(|v| (seed, v))
        })
        .unwrap_or_else(|| panic!("{bug:?} went unnoticed in {seeds} seeds"))
}

#[test]
fn checker_catches_a_replica_that_drops_payloads() {
    // Updates to keys a replica already holds never get in: the replicas
    // never reach the join of all updates.
    let (seed, v) = first_violation(ReplicaBug::DropPayloadsForKnownKeys, 5);
    println!("DropPayloadsForKnownKeys caught at seed {seed}: {v}");
    assert_eq!(v.property, "convergence", "{v}");
}

#[test]
fn checker_catches_a_replica_that_overwrites_instead_of_joining() {
    // "Newest payload wins" makes the replicas agree, but on a state that
    // lost the other side's updates: caught the moment state shrinks.
    let (seed, v) = first_violation(ReplicaBug::OverwriteInsteadOfJoin, 5);
    println!("OverwriteInsteadOfJoin caught at seed {seed}: {v}");
    assert_eq!(v.property, "lost update", "{v}");
}
