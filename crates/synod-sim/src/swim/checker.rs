//! The SWIM checkers. The truth is what the simulator did — which members
//! it crashed — never what members tell each other. Every member's view of
//! every other member is kept from the events it emits, with counters
//! maintained on each change so that "everyone agrees" is an O(1) question
//! even at 1,000 members:
//!
//! * a member that did not crash must not be declared dead in a run
//!   without loss, starvation or partition ("false dead");
//! * every live member eventually holds each crashed member dead
//!   ("crash detected");
//! * after a partition heals, every live member holds the same live set,
//!   and once faults stop, every live member holds every other live member
//!   `Alive` — so every member that refuted a suspicion ends alive
//!   everywhere ("agreement");
//! * the views built from events match each member's own table
//!   ("events");
//! * every datagram fits `datagram_bytes_max` ("datagram size").

use synod_core::swim::MemberState;

/// A broken property, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which property: `false dead`, `crash detected`, `agreement`,
    /// `partition heal`, `dissemination`, `events`, `datagram size`,
    /// `warm-up` or `params`.
    pub property: &'static str,
    /// What was observed.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// How many disagreeing pairs a violation lists.
const PAIRS_REPORTED_MAX: usize = 5;

/// A member's view of another, as a byte: 0 = not known.
fn code(state: MemberState) -> u8 {
    match state {
        MemberState::Alive => 1,
        MemberState::Suspect => 2,
        MemberState::Dead => 3,
        MemberState::Left => 4,
    }
}

const UNKNOWN: u8 = 0;
const ALIVE: u8 = 1;
const SUSPECT: u8 = 2;
const DEAD: u8 = 3;

fn is_live(view: u8) -> bool {
    view == ALIVE || view == SUSPECT
}

/// Every member's view of every member, from events, with the counters
/// the checks need.
#[derive(Debug)]
pub struct Views {
    n: usize,
    /// `states[o * n + s]`: what observer `o` holds about subject `s`.
    states: Vec<u8>,
    crashed: Vec<bool>,
    live: usize,
    /// Pairs (live observer, other subject) whose view is not the truth
    /// (`Alive` for members that run, `Dead` for crashed ones).
    wrong: usize,
    /// Pairs whose view disagrees with the truth on liveness only (a
    /// suspect counts as live).
    wrong_live: usize,
    /// Live observers holding each subject dead.
    dead_by: Vec<usize>,
}

impl Views {
    /// `n` members that know nobody yet.
    pub fn new(n: usize) -> Views {
        Views {
            n,
            states: vec![UNKNOWN; n * n],
            crashed: vec![false; n],
            live: n,
            wrong: n * (n - 1),
            wrong_live: n * (n - 1),
            dead_by: vec![0; n],
        }
    }

    /// Whether `o`'s view of `s` counts against agreement, strictly and
    /// on liveness. Only live observers' views of others count.
    fn misses(&self, o: usize, s: usize) -> (bool, bool) {
        if o == s || self.crashed[o] {
            return (false, false);
        }
        let view = self.states[o * self.n + s];
        let expected = if self.crashed[s] { DEAD } else { ALIVE };
        (view != expected, is_live(view) == self.crashed[s])
    }

    fn count(&mut self, o: usize, s: usize, sign: isize) {
        let (strict, live) = self.misses(o, s);
        let apply = |c: &mut usize, on: bool| {
            if on {
                *c = c.checked_add_signed(sign).expect("counters stay in range");
            }
        };
        apply(&mut self.wrong, strict);
        apply(&mut self.wrong_live, live);
        let dead = o != s && !self.crashed[o] && self.states[o * self.n + s] == DEAD;
        apply(&mut self.dead_by[s], dead);
    }

    /// Records that observer `o` now holds `s` in `state`.
    pub fn set(&mut self, o: usize, s: usize, state: MemberState) {
        self.count(o, s, -1);
        self.states[o * self.n + s] = code(state);
        self.count(o, s, 1);
    }

    /// The simulator crashed `s`: it stops observing, and the truth about
    /// it becomes "dead".
    pub fn crash(&mut self, s: usize) {
        for t in 0..self.n {
            self.count(s, t, -1);
            if t != s {
                self.count(t, s, -1);
            }
        }
        self.crashed[s] = true;
        self.live -= 1;
        for t in (0..self.n).filter(|&t| t != s) {
            self.count(t, s, 1);
        }
    }

    /// What `o` holds about `s` (`None`: not known).
    pub fn state(&self, o: usize, s: usize) -> Option<MemberState> {
        match self.states[o * self.n + s] {
            ALIVE => Some(MemberState::Alive),
            SUSPECT => Some(MemberState::Suspect),
            DEAD => Some(MemberState::Dead),
            UNKNOWN => None,
            _ => Some(MemberState::Left),
        }
    }

    /// Whether `s` crashed.
    pub fn is_crashed(&self, s: usize) -> bool {
        self.crashed[s]
    }

    /// Members that did not crash.
    pub fn live_count(&self) -> usize {
        self.live
    }

    /// Whether every live member holds `s` dead.
    pub fn is_dead_everywhere(&self, s: usize) -> bool {
        self.dead_by[s] == self.live - usize::from(!self.crashed[s])
    }

    /// Whether every live member holds every running member `Alive` and
    /// every crashed member `Dead`.
    pub fn is_agreed(&self) -> bool {
        self.wrong == 0
    }

    /// Whether every live member holds exactly the running members live.
    pub fn is_live_set_agreed(&self) -> bool {
        self.wrong_live == 0
    }

    /// A violation naming the first few pairs that miss the truth.
    pub fn disagreement(&self, property: &'static str, context: &str) -> Violation {
        let mut pairs = Vec::new();
        'outer: for o in 0..self.n {
            for s in 0..self.n {
                if self.misses(o, s).0 {
                    let truth = if self.crashed[s] { "crashed" } else { "running" };
                    pairs.push(format!(
                        "\n  node {o} holds node {s} ({truth}) as {:?}",
                        self.state(o, s)
                    ));
                    if pairs.len() == PAIRS_REPORTED_MAX {
                        break 'outer;
                    }
                }
            }
        }
        Violation {
            property,
            detail: format!("{context}: {} views miss the truth{}", self.wrong, pairs.concat()),
        }
    }
}
