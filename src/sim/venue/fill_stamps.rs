//! Opt-in, allocation-free record of the monotonic instant the simulator
//! matched each fill, keyed by trade id.
//!
//! Why: the venue's `T` field has millisecond resolution, so a fill-to-strategy
//! latency computed from it is mostly rounding. A benchmark against the
//! in-process simulator can do better: the matching engine stamps
//! [`crate::latency::now_ns`] (the one process clock) when it applies a fill,
//! and the benchmark joins that with the strategy's callback instant for the
//! same trade id. The table is a preallocated ring; stamping is two relaxed
//! stores and a release store, so it costs nothing measurable and never
//! allocates. Off (no table) unless a caller installs one with
//! [`super::Venue::stamp_fills`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// One ring slot: the trade id it holds and when it was matched.
#[derive(Debug, Default)]
struct Slot {
    trade_id: AtomicI64,
    ns: AtomicU64,
}

/// Fill instants by trade id (see the module docs). Trade ids are unique per
/// symbol only: install it for a single-symbol benchmark.
#[derive(Debug)]
pub struct FillStamps {
    slots: Box<[Slot]>,
}

impl FillStamps {
    /// A table remembering the last `capacity` trades (rounded up to a power
    /// of two, at least 1024).
    pub fn with_capacity(capacity: usize) -> FillStamps {
        let n = capacity.max(1024).next_power_of_two();
        FillStamps {
            slots: (0..n).map(|_| Slot::default()).collect(),
        }
    }

    fn slot(&self, trade_id: i64) -> Option<&Slot> {
        let mask = self.slots.len().wrapping_sub(1);
        self.slots.get((trade_id as u64 as usize) & mask)
    }

    /// Records that trade `trade_id` was matched at `ns`. The first stamp of
    /// a trade wins (the taker's and the maker's fill share the trade id).
    pub fn stamp(&self, trade_id: i64, ns: u64) {
        let Some(s) = self.slot(trade_id) else {
            return;
        };
        if s.trade_id.load(Ordering::Acquire) == trade_id {
            return;
        }
        // Invalidate, write the instant, then publish the id: a reader that
        // sees the id sees the instant that belongs to it.
        s.trade_id.store(0, Ordering::Release);
        s.ns.store(ns, Ordering::Release);
        s.trade_id.store(trade_id, Ordering::Release);
    }

    /// When trade `trade_id` was matched, if it is still in the ring.
    pub fn get(&self, trade_id: i64) -> Option<u64> {
        let s = self.slot(trade_id)?;
        if s.trade_id.load(Ordering::Acquire) != trade_id {
            return None;
        }
        let ns = s.ns.load(Ordering::Acquire);
        (s.trade_id.load(Ordering::Acquire) == trade_id && ns != 0).then_some(ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_stamp_wins_and_old_trades_fall_out() {
        let t = FillStamps::with_capacity(10);
        assert_eq!(t.get(5), None);
        t.stamp(5, 100);
        t.stamp(5, 200);
        assert_eq!(t.get(5), Some(100));
        // 1024 slots: trade 5 + 1024 reuses trade 5's slot.
        t.stamp(5 + 1024, 300);
        assert_eq!(t.get(5), None);
        assert_eq!(t.get(5 + 1024), Some(300));
    }
}
