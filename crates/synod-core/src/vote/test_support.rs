//! Helpers shared by the vote tests: ballots written as short strings.

use std::collections::BTreeMap;

use super::{
    Choice, Config, Outcome, Params, Participant, Proposal, ProposalId, Registry, Vote, VoteBook,
    VoteError,
};
use crate::{NodeId, Time};

/// Participant `i` (0-based) of a test proposal: node `i + 1`, `n<i+1>`.
pub(crate) fn node(i: usize) -> Participant {
    NodeId(i as u64 + 1).into()
}

/// Participants n1..=n`count`.
pub(crate) fn nodes(count: usize) -> Vec<Participant> {
    (0..count).map(node).collect()
}

/// A proposal `id` on `algorithm` for n1..=n`count`, created at 0.
pub(crate) fn proposal(id: &str, algorithm: &str, count: usize, params: Params) -> Proposal {
    Proposal::new(id, NodeId(1), "commit", algorithm, nodes(count), Time(0)).with_params(params)
}

/// One vote per token, participant i for token i: `F`, `A`, `N` (for,
/// against, abstain), each optionally followed by a score (`F80`), or `.`
/// for a missing vote.
pub(crate) fn ballot(tokens: &str) -> BTreeMap<Participant, Vote> {
    let mut votes = BTreeMap::new();
    for (i, token) in tokens.split_whitespace().enumerate() {
        if let Some(vote) = parse_vote(node(i), token) {
            votes.insert(node(i), vote);
        }
    }
    votes
}

fn parse_vote(who: Participant, token: &str) -> Option<Vote> {
    let (head, score) = token.split_at(1);
    let choice = match head {
        "F" => Choice::For,
        "A" => Choice::Against,
        "N" => Choice::Abstain,
        "." => return None,
        other => panic!("bad vote token {other:?}"),
    };
    let mut vote = Vote::new(who, choice);
    vote.score = (!score.is_empty()).then(|| score.parse().unwrap());
    Some(vote)
}

/// How many participants a ballot string names.
pub(crate) fn width(tokens: &str) -> usize {
    tokens.split_whitespace().count()
}

/// What the registry's algorithm makes of `votes`: `None` while open,
/// the outcome once settled; at the deadline an unsettled ballot is a
/// timeout, exactly as the book records it.
pub(crate) fn judge(
    proposal: &Proposal,
    votes: &BTreeMap<Participant, Vote>,
    timed_out: bool,
) -> Option<Outcome> {
    let registry = Registry::new();
    let algorithm = registry.get(&proposal.algorithm).expect("registered");
    algorithm.validate(proposal).expect("valid test proposal");
    match algorithm.decide(proposal, votes, timed_out) {
        Some(v) => Some(v.into()),
        None if timed_out => Some(Outcome::Timeout),
        None => None,
    }
}

/// A book with the default config and the built-ins.
pub(crate) fn book() -> VoteBook {
    VoteBook::new(Config::default()).unwrap()
}

pub(crate) fn id(s: &str) -> ProposalId {
    ProposalId::from(s)
}

/// Runs `command` and checks that it was refused with `expected` and left
/// the book exactly as it was.
pub(crate) fn refused<T: std::fmt::Debug>(
    book: &mut VoteBook,
    expected: VoteError,
    command: impl FnOnce(&mut VoteBook) -> Result<T, VoteError>,
) {
    let (before, deadline) = (book.state().clone(), book.next_deadline());
    let got = command(book);
    assert_eq!(got.unwrap_err(), expected);
    assert_eq!(book.state(), &before, "a refused command changed the state");
    assert_eq!(book.next_deadline(), deadline);
}
