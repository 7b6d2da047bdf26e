//! The checkers must be able to fail: each deliberately broken core is
//! caught within a bounded number of seeds.

use synod_core::raft::Bugs;
use synod_sim::raft::run_seed;

const SEEDS_MAX: u64 = 3000;

fn first_violation(bugs: Bugs) -> Option<(u64, String)> {
    (0..SEEDS_MAX).find_map(|seed| run_seed(seed, &bugs).err().map(|v| (seed, v.to_string())))
}

/// Asserts the bug is caught, as a violation of one of `properties`.
fn assert_caught(name: &str, bugs: Bugs, properties: &[&str]) {
    let (seed, violation) = first_violation(bugs)
        .unwrap_or_else(|| panic!("bug `{name}` went unnoticed in {SEEDS_MAX} seeds"));
    println!("bug `{name}` caught at seed {seed}: {violation}");
    assert!(
        properties.iter().any(|p| violation.starts_with(p)),
        "bug `{name}` caught as `{violation}`, expected one of {properties:?}"
    );
}

/// What two leaders in one term, or a lost committed entry, show up as
/// first: whichever checker sees the damage first.
const SAFETY: &[&str] = &[
    "election safety",
    "log matching",
    "committed entry changed",
    "committed entry lost",
    "state machine safety",
    "linearizable read",
];

#[test]
fn counting_replicas_of_old_terms_is_caught() {
    // Raft §5.4.2 / Figure 8: committing an older-term entry by counting replicas.
    let bugs = Bugs { commit_old_term_by_count: true, ..Bugs::default() };
    assert_caught("commit_old_term_by_count", bugs, SAFETY);
}

#[test]
fn granting_two_votes_in_a_term_is_caught() {
    // Raft §5.2: each server votes for at most one candidate per term.
    let bugs = Bugs { grant_two_votes_per_term: true, ..Bugs::default() };
    assert_caught("grant_two_votes_per_term", bugs, &["election safety", "log matching"]);
}

#[test]
fn forgetting_to_persist_the_vote_is_caught() {
    // Raft §5.2 and Figure 2: votedFor is persistent state, written before replying.
    let bugs = Bugs { skip_vote_persist: true, ..Bugs::default() };
    assert_caught("skip_vote_persist", bugs, &["election safety", "log matching"]);
}

#[test]
fn reads_without_a_heartbeat_round_are_caught() {
    // Thesis §6.4: a leader must confirm it still leads before serving a read.
    let bugs = Bugs { read_without_heartbeat: true, ..Bugs::default() };
    assert_caught("read_without_heartbeat", bugs, &["linearizable read"]);
}
