//! The event queue every simulator runs on: pending events in time order,
//! ties in scheduling order, so a run is a function of its seed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Scheduled<E> {
    at: u64,
    order: u64,
    event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: the earliest (time, order) is greatest.
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// Pending events of type `E` in time order (ties in scheduling order).
pub struct EventQueue<E> {
    heap: BinaryHeap<Scheduled<E>>,
    order: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), order: 0 }
    }
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EventQueue({} pending)", self.heap.len())
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `at` ms of simulated time.
    pub fn push(&mut self, at: u64, event: E) {
        self.order += 1;
        self.heap.push(Scheduled { at, order: self.order, event });
    }

    /// When the next event happens.
    pub fn peek_at(&self) -> Option<u64> {
        self.heap.peek().map(|s| s.at)
    }

    /// The next event, if any.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|s| (s.at, s.event))
    }
}
