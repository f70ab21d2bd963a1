//! Opt-in, allocation-free record of the monotonic instants a fill passed
//! each stage of its way to the strategy, keyed by trade id.
//!
//! Why: the venue's `T` field has millisecond resolution, so a fill-to-strategy
//! latency computed from it is mostly rounding. A benchmark against the
//! in-process simulator can do better: the matching engine stamps
//! [`crate::latency::now_ns`] (the one process clock) when it applies a fill,
//! the simulator's transport stamps when the first frame carrying that trade
//! was handed to its connection and when it was on the socket, and the
//! benchmark joins those with the engine's own stamps and the strategy's
//! callback instant for the same trade id, so a slow percentile can be pinned
//! to one stage. The table is a preallocated ring; stamping is a few atomic
//! stores, so it costs nothing measurable and never allocates. Off (no table)
//! unless a caller installs one with [`super::Venue::stamp_fills`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The simulator-side stages of a fill, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillStage {
    /// The matching engine applied the fill.
    Matched = 0,
    /// The first user-stream frame carrying the trade was queued for (or
    /// written by) the subscriber's connection.
    Published = 1,
    /// That frame was on the socket.
    Written = 2,
}

const STAGES: usize = 3;

/// One ring slot: the trade id it holds and when it passed each stage.
#[derive(Debug, Default)]
struct Slot {
    trade_id: AtomicI64,
    ns: [AtomicU64; STAGES],
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
        // Invalidate, write the instants, then publish the id: a reader that
        // sees the id sees the instant that belongs to it.
        s.trade_id.store(0, Ordering::Release);
        s.ns[FillStage::Matched as usize].store(ns, Ordering::Release);
        for later in &s.ns[1..] {
            later.store(0, Ordering::Release);
        }
        s.trade_id.store(trade_id, Ordering::Release);
    }

    /// Records that trade `trade_id` reached a later `stage` at `ns`; the
    /// first stamp wins, and a trade never matched (or already overwritten)
    /// is ignored.
    pub fn stamp_stage(&self, trade_id: i64, stage: FillStage, ns: u64) {
        let Some(s) = self.slot(trade_id) else {
            return;
        };
        if stage == FillStage::Matched || s.trade_id.load(Ordering::Acquire) != trade_id {
            return;
        }
        let Some(cell) = s.ns.get(stage as usize) else {
            return;
        };
        let _ = cell.compare_exchange(0, ns, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// When trade `trade_id` was matched, if it is still in the ring.
    pub fn get(&self, trade_id: i64) -> Option<u64> {
        self.get_stage(trade_id, FillStage::Matched)
    }

    /// When trade `trade_id` passed `stage`, if it did and is still in the
    /// ring.
    pub fn get_stage(&self, trade_id: i64, stage: FillStage) -> Option<u64> {
        let s = self.slot(trade_id)?;
        if s.trade_id.load(Ordering::Acquire) != trade_id {
            return None;
        }
        let ns = s.ns.get(stage as usize)?.load(Ordering::Acquire);
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

    #[test]
    fn later_stages_need_the_match_and_keep_their_first_stamp() {
        let t = FillStamps::with_capacity(10);
        t.stamp_stage(7, FillStage::Written, 50);
        assert_eq!(t.get_stage(7, FillStage::Written), None);
        t.stamp(7, 100);
        t.stamp_stage(7, FillStage::Published, 110);
        t.stamp_stage(7, FillStage::Published, 999);
        t.stamp_stage(7, FillStage::Written, 120);
        assert_eq!(t.get_stage(7, FillStage::Published), Some(110));
        assert_eq!(t.get_stage(7, FillStage::Written), Some(120));
        // Reusing the slot clears the later stages.
        t.stamp(7 + 1024, 200);
        assert_eq!(t.get_stage(7 + 1024, FillStage::Published), None);
        assert_eq!(t.get_stage(7, FillStage::Published), None);
    }
}
