//! The types the node writes into the replicated log and its snapshots
//! are serializable. synod-core has no encoding crate among its
//! dependencies, so this checks the bounds at compile time; the postcard
//! round trip itself belongs to the node, which owns the encoding.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    BookState, Choice, Config, Counts, Decision, Outcome, Params, Proposal, ProposalId,
    ProposalRecord, Tally, Verdict, Vote, VoteStats,
};

fn encodable<T: Serialize + DeserializeOwned>() {}

#[test]
fn wire_and_state_types_are_serde() {
    encodable::<Proposal>();
    encodable::<ProposalId>();
    encodable::<Params>();
    encodable::<Vote>();
    encodable::<Choice>();
    encodable::<Decision>();
    encodable::<Outcome>();
    encodable::<Verdict>();
    encodable::<Tally>();
    encodable::<ProposalRecord>();
    encodable::<VoteStats>();
    encodable::<Counts>();
    encodable::<BookState>();
    encodable::<Config>();
}
