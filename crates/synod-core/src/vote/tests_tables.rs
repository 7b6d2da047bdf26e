//! Decision tables of the built-in algorithms, one row per ballot, as on
//! paper. Ballot notation (see `test_support::ballot`): one token per
//! participant, `F`/`A`/`N` for for/against/abstain with an optional
//! score, `.` for a participant who has not voted. "open" means no
//! decision yet; at the deadline ("dl") open becomes timeout.

use std::collections::BTreeMap;

use super::test_support::{judge, node, proposal, width};
use super::{test_support::ballot, Outcome, Params};
use Outcome::{Approved as Yes, Rejected as No, Timeout as Out};

/// Runs one table: (ballot, at deadline?, expected) against proposals
/// built by `make(participants)`.
fn check(table: &[(&str, bool, Option<Outcome>)], make: impl Fn(usize) -> super::Proposal) {
    for (i, &(tokens, timed_out, expected)) in table.iter().enumerate() {
        let p = make(width(tokens));
        let got = judge(&p, &ballot(tokens), timed_out);
        assert_eq!(got, expected, "row {i}: `{tokens}` dl={timed_out} params={:?}", p.params);
    }
}

fn threshold(t: u8) -> Params {
    Params { threshold_percent: Some(t), ..Params::default() }
}

// Issue 6, item 2: quorum = strictly more than the threshold of all
// participants in favour; settled as soon as no missing vote can change it.
#[test]
fn quorum_default_majority() {
    check(
        &[
            ("F F .", false, Some(Yes)),  // 2/3 > 50 %: the third vote cannot undo it
            ("F . .", false, None),       // 1/3, two could still come in favour
            ("F A .", false, None),       // split: the last vote tips it
            ("F A A", false, Some(No)),   // 1/3 with everyone voted
            ("A A .", false, Some(No)),   // even a third "for" gives 1/3
            ("F F A A", false, Some(No)), // tie 2/4 = 50 % is not more than 50 %
            ("F F . .", false, None),     // 2/4 so far, one more wins
            ("F F F .", false, Some(Yes)), // 3/4
            ("F N .", false, None),       // abstention: not in favour
            ("F N N", false, Some(No)),   // abstentions weigh like votes against
            ("N N N", false, Some(No)),   // nobody in favour
            ("F", false, Some(Yes)),      // a single participant
            ("F . .", true, Some(Out)),   // deadline: partial, no majority
            ("F A .", true, Some(Out)),   // deadline: still undecided
            ("F F . . .", true, Some(Out)), // 2/5 at the deadline
            ("F F F . .", true, Some(Yes)), // a quorum reached stays approved at the deadline
            (". . .", true, Some(Out)),   // nobody voted
        ],
        |n| proposal("q", "quorum", n, Params::default()),
    );
}

#[test]
fn quorum_thresholds() {
    let with = |t: u8, rows: &[(&str, bool, Option<Outcome>)]| {
        check(rows, |n| proposal("q", "quorum", n, threshold(t)));
    };
    // 2/3 = 66.7 % > 66 but not > 67 (integer comparison: 200 > 198, 200 > 201).
    with(66, &[("F F .", false, Some(Yes))]);
    with(67, &[("F F .", false, None), ("F F A", false, Some(No)), ("F F F", false, Some(Yes))]);
    // Threshold 0: one vote in favour suffices; nobody in favour never does.
    with(
        0,
        &[("F . . .", false, Some(Yes)), (". . . .", false, None), ("A A A A", false, Some(No))],
    );
    // Threshold 99 of 10: only all ten in favour.
    with(99, &[("F F F F F F F F F .", false, None), ("F F F F F F F F F A", false, Some(No))]);
    with(99, &[("F F F F F F F F F F", false, Some(Yes))]);
    // Three quarters of four: 3 of 4 is 75, not more than 75.
    with(75, &[("F F F A", false, Some(No)), ("F F F .", false, None)]);
}

fn weights(ws: &[u32], t: Option<u8>) -> Params {
    let weights: BTreeMap<_, _> = ws.iter().enumerate().map(|(i, &w)| (node(i), w)).collect();
    Params { weights, threshold_percent: t, ..Params::default() }
}

// Issue 6, item 2: weighted = strictly more than the threshold of the
// total weight in favour.
#[test]
fn weighted_by_weight() {
    let w = [5, 3, 1, 1]; // total 10
    check(
        &[
            ("F . . .", false, None), // 5/10 is not more than half; 5 more could come
            ("F F . .", false, Some(Yes)), // 8/10
            ("F . F .", false, Some(Yes)), // 6/10
            ("A F F F", false, Some(No)), // 5/10: a weight tie is not a majority
            ("A . . .", false, Some(No)), // the heavy voter against: at most 5/10 left
            ("N . . .", false, Some(No)), // an abstention of weight 5 likewise
            (". F F F", false, None), // 5/10, the heavy vote decides
            ("F . . .", true, Some(Out)), // deadline
            (". F F .", true, Some(Out)), // deadline, 4/10
        ],
        |_| proposal("w", "weighted", 4, weights(&w, None)),
    );
    check(
        &[
            ("F F . .", false, Some(Yes)), // 8/10 > 70 %
            ("F . F .", false, None),      // 6/10, 4 more possible
            ("F . F A", false, None),      // 6/10, weight 3 still missing: 9/10 possible
            ("F A F F", false, Some(No)),  // 7/10 is not more than 70 %
        ],
        |_| proposal("w", "weighted", 4, weights(&w, Some(70))),
    );
}

#[test]
fn weighted_zero_weights_settle_early() {
    // n3 weighs nothing: once n1 and n2 have voted, its vote cannot matter.
    let w = [1, 1, 0];
    check(
        &[
            ("F A .", false, Some(No)),  // 1/2 is not more than half, n3 adds nothing
            ("F F .", false, Some(Yes)), // 2/2
            ("F . F", false, None),      // n2 decides
        ],
        |_| proposal("w", "weighted", 3, weights(&w, None)),
    );
}

// Issue 6, item 2: unanimous. Abstaining does not veto; nobody for is no
// approval; one against vetoes at once.
#[test]
fn unanimous_table() {
    check(
        &[
            ("F F F", false, Some(Yes)),
            ("F F .", false, None), // the last one could veto
            ("F F A", false, Some(No)),
            ("A . .", false, Some(No)),  // veto settles it early
            ("F N F", false, Some(Yes)), // abstention is no veto
            ("N N N", false, Some(No)),  // nobody in favour
            ("N N .", false, None),      // the last one could still support it
            ("F", false, Some(Yes)),
            ("N", false, Some(No)),
            ("F F .", true, Some(Out)), // silence is not consent
            ("N . .", true, Some(Out)),
        ],
        |n| proposal("u", "unanimous", n, Params::default()),
    );
}

fn bars(avg: Option<u8>, approval: Option<u8>) -> Params {
    Params { min_average_score: avg, min_approval_percent: approval, ..Params::default() }
}

// Issue 6, item 2: score = average ≥ min_average_score (70) and approvals
// ≥ min_approval_percent (50) of the participants — commit adoption.
#[test]
fn score_defaults() {
    check(
        &[
            ("F90 F80 . .", false, None), // 50 %, average 85 — but two zeros would make it 42
            ("F90 F80 F70 .", false, None), // a late 0 would pull the average to 60
            ("F90 F80 F70 F0", false, Some(No)), // ... as it does: 60 < 70
            ("F90 F80 F70 F100", false, Some(Yes)),
            ("F100 F100 F100 .", false, Some(Yes)), // 300 ≥ 70·4: even a 0 leaves 75
            ("A0 A0 A0 .", false, Some(No)),        // at most 1/4 in favour
            ("A10 A10 . .", false, Some(No)),       // two 100s give 55 < 70: settled low
            ("F60 F60 A100 A100", false, Some(Yes)), // every score counts, whatever the choice
            ("F90 N F90 A90", false, Some(Yes)),    // an abstention without score is not averaged
            ("F70 F70 F70 F70", false, Some(Yes)),  // average exactly 70 reaches the bar
            ("F70 F70 A70 A70", false, Some(Yes)),  // approvals exactly 50 % reach the bar
            ("F69 F70 F70 F70", false, Some(No)),   // 69.75 < 70
            ("F100 A100 A100 A100", false, Some(No)), // 25 % in favour
            ("N N N N", false, Some(No)),           // no score, no average
            ("N50 N50 N50 N50", false, Some(No)),   // nobody in favour
            ("N100 N100 . .", false, None),         // two more in favour would carry it
            ("F90 F80 . .", true, Some(Yes)),       // at the deadline the votes so far carry it
            ("F90 . . .", true, Some(Out)),         // 25 % at the deadline
            ("F60 F60 . .", true, Some(Out)),       // average 60 at the deadline
            ("N . . .", true, Some(Out)),           // no average at the deadline
        ],
        |n| proposal("s", "score", n, Params::default()),
    );
}

#[test]
fn score_custom_bars() {
    check(
        &[
            (". .", false, None), // no bar on approvals, but no average yet
            ("N .", false, None),
            ("F0 .", false, Some(Yes)), // any scored vote meets a 0 average
            ("N N", false, Some(No)),   // still no average
        ],
        |n| proposal("s", "score", n, bars(Some(0), Some(0))),
    );
    check(
        &[
            ("F100 F100 F100 .", false, None), // 75 % < 100 % so far
            ("F100 F100 F100 A100", false, Some(No)),
            ("F90 F90 F90 F90", false, Some(No)), // average 90 < 95
            ("F95 F95 F95 F95", false, Some(Yes)),
        ],
        |n| proposal("s", "score", n, bars(Some(95), Some(100))),
    );
}
