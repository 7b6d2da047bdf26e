//! Exhaustive model checking of the Raft core with stateright, 3 nodes and
//! small bounds (see `synod_sim::model`). Each run prints its state count.
//!
//! Bounds can be raised from the environment for a deeper run, e.g.
//! `SYNOD_MODEL_TERMS=3 SYNOD_MODEL_IN_FLIGHT=4 cargo test --release -p synod-sim --test model_check -- --nocapture`.

use synod_core::raft::Bugs;
use synod_sim::model::{
    check, ModelConfig, ModelReport, COMMAND_COMMITTED, COMMITTED_AGREE, ELECTION_SAFETY,
    LEADER_ELECTED, LOG_MATCHING,
};

fn env_usize(name: &str) -> Option<usize> {
    let value = std::env::var(name).ok()?;
    Some(value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

/// Applies `SYNOD_MODEL_*` overrides to a configuration.
fn with_env_bounds(mut config: ModelConfig) -> ModelConfig {
    if let Some(terms) = env_usize("SYNOD_MODEL_TERMS") {
        config.max_term = terms as u64;
    }
    if let Some(log) = env_usize("SYNOD_MODEL_LOG") {
        config.max_log_len = log as u64;
    }
    if let Some(in_flight) = env_usize("SYNOD_MODEL_IN_FLIGHT") {
        config.max_in_flight = in_flight;
    }
    if let Some(per_link) = env_usize("SYNOD_MODEL_PER_LINK") {
        config.max_in_flight_per_link = per_link;
    }
    config
}

fn check_safe(config: ModelConfig) -> ModelReport {
    let report = check(&with_env_bounds(config));
    println!("{report}");
    for property in [ELECTION_SAFETY, LOG_MATCHING, COMMITTED_AGREE] {
        assert!(!report.found(property), "\"{property}\" violated:\n{report}");
    }
    for property in [LEADER_ELECTED, COMMAND_COMMITTED] {
        assert!(
            report.found(property),
            "\"{property}\" never happens, the model is vacuous:\n{report}"
        );
    }
    report
}

// Raft §5.2 Election Safety, §5.3 Log Matching and §5.4.3 State Machine
// Safety (on committed prefixes), for Raft as in the paper.
#[test]
fn raft_is_safe() {
    check_safe(ModelConfig::plain());
}

// The same with PreVote (thesis §9.6) and CheckQuorum (thesis §6.2), as
// synod runs by default.
#[test]
fn raft_with_pre_vote_and_check_quorum_is_safe() {
    check_safe(ModelConfig::pre_vote_check_quorum());
}

// Raft §5.2: "each server will vote for at most one candidate in a given
// term". A core that grants a second vote lets two candidates of one term
// win, and the model must find it.
#[test]
fn finds_two_leaders_when_a_node_votes_twice_in_a_term() {
    let config = ModelConfig {
        max_term: 1,
        max_log_len: 1,
        max_in_flight: 5,
        bugs: Bugs { grant_two_votes_per_term: true, ..Bugs::default() },
        stop_at_violation: true,
        ..ModelConfig::plain()
    };
    let report = check(&config);
    println!("{report}");
    assert!(report.found(ELECTION_SAFETY), "two leaders in one term not found:\n{report}");
}

// Raft §5.2 with crashes: the vote must be durable before it is sent. A
// core that forgets its vote in a restart votes twice in one term.
#[test]
fn finds_two_leaders_when_a_vote_is_not_persisted() {
    let config = ModelConfig {
        max_term: 1,
        max_log_len: 1,
        max_in_flight: 5,
        max_crashes: 1,
        bugs: Bugs { skip_vote_persist: true, ..Bugs::default() },
        stop_at_violation: true,
        ..ModelConfig::plain()
    };
    let report = check(&config);
    println!("{report}");
    assert!(report.found(ELECTION_SAFETY), "two leaders in one term not found:\n{report}");
}
