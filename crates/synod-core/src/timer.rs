//! A fixed table of protocol timers that yields one next deadline.
//!
//! Each core declares an enum of its timers; the table holds at most one
//! deadline per timer, so a core never accumulates stale timeouts and the
//! driver only ever sleeps until [`TimerTable::next_deadline`].

use std::marker::PhantomData;

use crate::Time;

/// An enum of timers usable as an index into a [`TimerTable`].
pub trait TimerKind: Copy + 'static {
    /// Every timer, in index order.
    const ALL: &'static [Self];
    /// This timer's slot in the table, below `ALL.len()`.
    fn index(self) -> usize;
}

/// Deadlines for the `N` timers of kind `T`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimerTable<T: TimerKind, const N: usize> {
    deadlines: [Option<Time>; N],
    _kind: PhantomData<T>,
}

impl<T: TimerKind, const N: usize> Default for TimerTable<T, N> {
    fn default() -> Self {
        assert_eq!(T::ALL.len(), N, "timer table size must match the timer enum");
        Self { deadlines: [None; N], _kind: PhantomData }
    }
}

impl<T: TimerKind, const N: usize> TimerTable<T, N> {
    /// Arms `timer` to fire at `at`, replacing any earlier deadline.
    pub fn set(&mut self, timer: T, at: Time) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: T) {
        self.deadlines[timer.index()] = None;
    }

    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: T) -> Option<Time> {
        self.deadlines[timer.index()]
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Disarms and returns every timer whose deadline is at or before `now`,
    /// in table order.
    pub fn take_expired(&mut self, now: Time) -> Vec<T> {
        let mut expired = Vec::new();
        for timer in T::ALL {
            let slot = &mut self.deadlines[timer.index()];
            if slot.is_some_and(|at| at <= now) {
                *slot = None;
                expired.push(*timer);
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum T {
        A,
        B,
    }
    impl TimerKind for T {
        const ALL: &'static [T] = &[T::A, T::B];
        fn index(self) -> usize {
            self as usize
        }
    }

    #[test]
    fn yields_earliest_deadline_and_expires_in_order() {
        let mut table = TimerTable::<T, 2>::default();
        assert_eq!(table.next_deadline(), None);
        table.set(T::B, Time(5));
        table.set(T::A, Time(9));
        assert_eq!(table.next_deadline(), Some(Time(5)));
        assert_eq!(table.take_expired(Time(4)), vec![]);
        assert_eq!(table.take_expired(Time(9)), vec![T::A, T::B]);
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn set_replaces_earlier_deadline() {
        let mut table = TimerTable::<T, 2>::default();
        table.set(T::A, Time(3));
        table.set(T::A, Time(7));
        assert_eq!(table.take_expired(Time(5)), vec![]);
        table.stop(T::A);
        assert_eq!(table.get(T::A), None);
    }
}
