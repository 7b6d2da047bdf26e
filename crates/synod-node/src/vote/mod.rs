//! Proposals and votes over the replicated log (issue 6): the vote book
//! of `synod_core::vote` run inside the node's state machine, the
//! quarantine list, leader-measured deadlines, decision hooks, the event
//! stream and the `Votes` gRPC service.
//!
//! * **Commands** ([`VoteCommand`]): create, cast, expire, quarantine add
//!   and remove. Only the leader proposes them, after checking them
//!   against its own book so bad input never reaches the log; it stamps
//!   each with its wall clock (ms since the Unix epoch). Every replica
//!   applies the same commands in the same order ([`VoteState`]), so all
//!   report the same decision, once.
//! * **Deadlines** ([`expiry`]): the leader watches the earliest open
//!   deadline and commits an expiry command when its clock passes it. A
//!   new leader finds the open proposals in its book and does the same,
//!   so a leader change neither loses nor doubles a deadline (the book
//!   refuses a second expiry of a decided proposal).
//! * **Participants**: given explicitly, or "all live voting members":
//!   the Raft voters that SWIM holds alive when the leader accepts the
//!   proposal, named `n<id>`. With mTLS a client votes only as the name
//!   in its certificate.
//! * **Quarantine**: identifiers added and removed by command; a rejected
//!   proposal of a kind listed in `votes.quarantine_kinds` adds the
//!   identifier found in its payload (`votes.quarantine_fields`, the
//!   first one present; else the proposal id).
//! * **Hooks** ([`hook_task`]): every node runs its configured hooks on
//!   the decisions it applies, in log order, each at most once per
//!   decision (the hook ledger) and at least once (a watermark of the
//!   last decision handled, kept in the ledger, is advanced only after
//!   the hooks of a decision have run).

mod command;
mod convert;
mod event;
pub mod expiry;
pub mod hook_task;
pub(crate) mod metrics;
mod service;
mod state;

#[cfg(test)]
mod tests;

pub use command::{VoteCommand, VOTE_FORMAT};
pub use event::{EventBody, VoteEvent};
pub use service::{VoteSettings, VotesService};
pub use state::{
    check_quarantine, Applied, QuarantineEntry, Refusal, StoredProposal, VoteApplied, VoteOutput,
    VoteState, PROPOSAL_PREFIX, QUARANTINE_ID_BYTES_MAX, QUARANTINE_PREFIX,
    QUARANTINE_REASON_BYTES_MAX, STATS_KEY,
};

/// Milliseconds since the Unix epoch: the clock the leader stamps.
pub fn unix_now() -> synod_core::Time {
    let since =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    synod_core::Time(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}
