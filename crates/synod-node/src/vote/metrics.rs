//! Vote statistics on `/metrics`.

use synod_core::vote::{Counts, VoteStats};

/// Publishes the replicated statistics (the same on every node) as
/// counters, per algorithm: `synod_vote_proposals_total`,
/// `synod_vote_decisions_total{outcome}`, `synod_vote_decision_ms_total`,
/// and the gauge `synod_vote_open_proposals`; totals are their sums.
pub(crate) fn record(stats: &VoteStats) {
    for (algorithm, counts) in &stats.by_algorithm {
        publish(algorithm, counts);
    }
}

fn publish(algorithm: &str, c: &Counts) {
    let a = algorithm.to_owned();
    metrics::counter!("synod_vote_proposals_total", "algorithm" => a.clone()).absolute(c.proposals);
    for (outcome, n) in
        [("approved", c.approved), ("rejected", c.rejected), ("timeout", c.timeouts)]
    {
        let labels = [("algorithm", a.clone()), ("outcome", outcome.to_owned())];
        metrics::counter!("synod_vote_decisions_total", &labels).absolute(n);
    }
    metrics::counter!("synod_vote_decision_ms_total", "algorithm" => a.clone())
        .absolute(c.duration_ms_sum);
    metrics::gauge!("synod_vote_open_proposals", "algorithm" => a).set(c.open() as f64);
}
