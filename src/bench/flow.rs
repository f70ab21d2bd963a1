//! The benchmark's order flow: a strategy that keeps the engine busy with a
//! mix that exercises every measured path, and marks where warm-up ends.
//!
//! Why this mix: a benchmark that only places resting orders never measures
//! fill delivery, and one that only takes liquidity walks the position away.
//! The flow cycles through four orders — resting LIMIT BUY (cancelled on its
//! ack), MARKET BUY (fills), resting LIMIT SELL (cancelled), MARKET SELL
//! (fills) — so acks, cancels and fills all happen and the position stays
//! within one order's quantity (two when several orders are in flight).
//!
//! One order cycle is one order from submit to its final state (cancelled,
//! filled, expired or rejected). Back to back (`rate = 0`) keeps one cycle in
//! flight; with a rate, orders are released on schedule with a bounded
//! number in flight. Between warm-up and the measured orders, and after the
//! last one, the flow goes quiet for a moment (`settle`) and snapshots the
//! engine threads' allocation counts, so late work of one phase is not
//! charged to the other. Nothing here allocates after start-up.
//!
//! Interleaving: the measured orders are split into blocks. Between blocks
//! the flow pauses and waits for [`FlowStats::block_allowed`], so whoever
//! started it can measure a floor block while the engine is quiet, then let
//! the next engine block run. Per block the flow times submit→ack on the
//! strategy clock; with a [`FillStamps`] table from the in-process
//! simulator it also times every fill exactly, from the simulator's
//! matching instant to this callback.

use super::alloc::AllocSnapshot;
use crate::engine::{BookTicker, Context, OrderOptions, Strategy};
use crate::latency::{MAX_NS, MIN_NS, SIGFIG};
use crate::model::{
    ClientOrderId, Decimal, InstrumentId, OrderEvent, OrderEventKind, Price, Quantity, Rounding,
    Side, TimeInForce,
};
use crate::sim::venue::fill_stamps::{FillStage, FillStamps};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most orders in flight at once when a rate is set.
pub const MAX_IN_FLIGHT: usize = 64;

/// Venue codes that mean "throttled" (too many requests / orders).
const THROTTLE_CODES: [i32; 2] = [-1003, -1015];

/// What to send and how fast.
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// Instrument traded.
    pub instrument: InstrumentId,
    /// Quantity of every order (must clear minQty and MIN_NOTIONAL).
    pub qty: Quantity,
    /// Price tick, so resting prices are on the grid.
    pub tick: Price,
    /// Cycles before measuring starts (caches, pools, connections warm up).
    pub warmup: u64,
    /// Measured cycles.
    pub orders: u64,
    /// Orders per second; 0 = back to back (one in flight).
    pub rate_per_sec: u64,
    /// Quiet time at the phase boundaries before allocation snapshots.
    pub settle: Duration,
    /// An order with no final state after this long stops the run.
    pub stall_timeout: Duration,
    /// Measured blocks (at least 1; at most `orders`).
    pub blocks: u64,
    /// Pause before each block until [`FlowStats::block_allowed`] lets it
    /// run (interleaving with a floor); `false` runs the blocks back to back.
    pub gated: bool,
    /// The simulator's fill instants, for exact fill-to-strategy.
    pub fill_stamps: Option<Arc<FillStamps>>,
}

impl FlowSettings {
    /// The flow's defaults for `instrument`: 10,000 measured orders after
    /// 500 warm-up orders, back to back.
    pub fn new(instrument: InstrumentId, qty: Quantity, tick: Price) -> Self {
        FlowSettings {
            instrument,
            qty,
            tick,
            warmup: 500,
            orders: 10_000,
            rate_per_sec: 0,
            settle: Duration::from_millis(50),
            stall_timeout: Duration::from_secs(10),
            blocks: 1,
            gated: false,
            fill_stamps: None,
        }
    }

    /// Blocks actually run: `blocks` clamped to 1..=orders.
    pub fn block_count(&self) -> u64 {
        self.blocks.clamp(1, self.orders.max(1))
    }

    /// Measured orders in block `k` (the first `orders % blocks` blocks take
    /// one more).
    pub fn block_len(&self, k: u64) -> u64 {
        let b = self.block_count();
        self.orders / b + u64::from(k < self.orders % b)
    }
}

/// A histogram with the recorder's bounds that never resizes (recording
/// in range does not allocate).
pub fn latency_histogram() -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(MIN_NS, MAX_NS, SIGFIG)
        .unwrap_or_else(|e| unreachable!("constant histogram bounds are valid: {e}"));
    h.auto(false);
    h
}

/// The hops of a fill from the simulator's match to the strategy callback,
/// in order (series names; each is the time from the previous stamp):
///
/// 1. `sim_publish`: match → the first frame carrying the trade queued for
///    the engine's user-stream connection (the venue's remaining work, the
///    REST reply when it goes first, JSON, fan-out);
/// 2. `sim_write`: → that frame on the socket (the connection's writer);
/// 3. `engine_read`: → the engine's network thread read it (loopback,
///    wake-up of the network thread);
/// 4. `net_to_exec`: → the execution thread took it off the channel;
/// 5. `exec_work`: → the execution thread handed the fill to the strategy
///    channel (decode, tracker, positions, and any frame ahead of it);
/// 6. `exec_to_strategy`: → the strategy thread received it;
/// 7. `strategy_cb`: → the strategy's callback timed it.
pub const FILL_STAGES: [&str; 7] = [
    "sim_publish",
    "sim_write",
    "engine_read",
    "net_to_exec",
    "exec_work",
    "exec_to_strategy",
    "strategy_cb",
];

/// Latencies the flow measures itself, on the strategy thread.
#[derive(Debug)]
pub struct FlowLatency {
    /// Submit → ack (strategy clock) per measured block.
    pub block_acks: Vec<Histogram<u64>>,
    /// Simulator's matching instant → strategy fill callback (measured
    /// phase; empty without fill stamps).
    pub exact_fill: Histogram<u64>,
    /// Measured fills whose matching instant was not found.
    pub unstamped_fills: u64,
    /// The exact fill latency split at every stamp on its way, one
    /// histogram per [`FILL_STAGES`] entry; only fills with every stamp.
    pub fill_stages: Vec<Histogram<u64>>,
    /// Active time of each engine block (first submit → last final state).
    pub block_ns: Vec<u64>,
}

impl FlowLatency {
    fn new(blocks: u64) -> Self {
        let n = usize::try_from(blocks).unwrap_or(1);
        FlowLatency {
            block_acks: (0..n).map(|_| latency_histogram()).collect(),
            exact_fill: latency_histogram(),
            unstamped_fills: 0,
            fill_stages: FILL_STAGES.iter().map(|_| latency_histogram()).collect(),
            block_ns: vec![0; n],
        }
    }
}

/// What the flow saw, shared with whoever started it (read after the run).
#[derive(Debug)]
pub struct FlowStats {
    /// Orders submitted (warm-up included).
    pub sent: AtomicU64,
    /// Venue acks seen.
    pub acked: AtomicU64,
    /// Orders completely filled.
    pub filled: AtomicU64,
    /// Orders cancelled.
    pub canceled: AtomicU64,
    /// Orders expired.
    pub expired: AtomicU64,
    /// Orders rejected (any code).
    pub rejected: AtomicU64,
    /// Rejections for rate limits (-1003, -1015).
    pub throttled: AtomicU64,
    /// Cycles finished (warm-up included).
    pub completed: AtomicU64,
    /// Engine monotonic ns when the measured phase began.
    pub measure_start_ns: AtomicU64,
    /// Engine monotonic ns when the last measured cycle finished.
    pub measure_end_ns: AtomicU64,
    /// Set once the measured phase finished and the end snapshot is taken.
    pub done: AtomicBool,
    /// Set when warm-up is over and the flow waits for its first block.
    pub warmed: AtomicBool,
    /// Blocks the flow may run: block `k` starts once this exceeds `k`
    /// (only with [`FlowSettings::gated`]).
    pub block_allowed: AtomicU64,
    /// Blocks finished (every order of the block reached a final state).
    pub blocks_done: AtomicU64,
    /// Per-block and exact latencies (locked once per ack and fill on the
    /// strategy thread, uncontended; read after the run).
    pub latency: Mutex<FlowLatency>,
    /// Engine threads' allocation counts at the end of warm-up (`None` when
    /// the counting allocator is not installed).
    pub alloc_start: Mutex<Option<AllocSnapshot>>,
    /// The same at the end of the measured phase.
    pub alloc_end: Mutex<Option<AllocSnapshot>>,
    /// Why the flow stopped early, if it did.
    pub failure: Mutex<Option<String>>,
}

impl FlowStats {
    fn new(blocks: u64) -> Self {
        FlowStats {
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            filled: AtomicU64::new(0),
            canceled: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            measure_start_ns: AtomicU64::new(0),
            measure_end_ns: AtomicU64::new(0),
            done: AtomicBool::new(false),
            warmed: AtomicBool::new(false),
            block_allowed: AtomicU64::new(0),
            blocks_done: AtomicU64::new(0),
            latency: Mutex::new(FlowLatency::new(blocks)),
            alloc_start: Mutex::new(None),
            alloc_end: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }

    /// Measured cycles per second of engine time (0 before the run
    /// finished). Pauses between blocks (floor measurements) do not count.
    pub fn orders_per_sec(&self, measured: u64) -> f64 {
        let active: u64 = lock(&self.latency).block_ns.iter().sum();
        let start = self.measure_start_ns.load(Ordering::Acquire);
        let end = self.measure_end_ns.load(Ordering::Acquire);
        let span = if active > 0 {
            active
        } else {
            end.saturating_sub(start)
        };
        if span == 0 || end <= start || measured == 0 {
            return 0.0;
        }
        measured as f64 * 1e9 / span as f64
    }

    /// Allocations per engine thread during the measured phase, `None` when
    /// not measured (allocator not installed or the run did not finish).
    pub fn measured_allocations(&self) -> Option<[u64; 3]> {
        let start = (*lock(&self.alloc_start))?;
        let end = (*lock(&self.alloc_end))?;
        Some(end.since(&start))
    }

    /// The early-stop reason, if any.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The four orders of the flow, in sending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    RestingBuy,
    MarketBuy,
    RestingSell,
    MarketSell,
}

impl Kind {
    fn of(seq: u64) -> Kind {
        match seq % 4 {
            0 => Kind::RestingBuy,
            1 => Kind::MarketBuy,
            2 => Kind::RestingSell,
            _ => Kind::MarketSell,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: ClientOrderId,
    kind: Kind,
    filled_raw: i64,
    sent_ns: u64,
    /// Measured block the order belongs to (`None` in warm-up).
    block: Option<u64>,
    acked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    WaitingForBook,
    Warmup,
    SettleWarmup {
        until_ns: u64,
    },
    /// Waiting for permission to run measured block `next`.
    Paused {
        next: u64,
    },
    Measure {
        block: u64,
    },
    SettleEnd {
        until_ns: u64,
    },
    Done,
}

/// The benchmark strategy (see the module docs).
#[derive(Debug)]
pub struct Flow {
    s: FlowSettings,
    stats: Arc<FlowStats>,
    slots: [Option<InFlight>; MAX_IN_FLIGHT],
    in_flight: usize,
    sent: u64,
    completed: u64,
    phase: Phase,
    phase_start_ns: u64,
    phase_start_sent: u64,
    /// Cycles completed when the current block's orders are all done.
    block_end: u64,
    below: Decimal,
    above: Decimal,
}

impl Flow {
    /// A flow with fresh shared stats.
    pub fn new(s: FlowSettings) -> Self {
        let blocks = s.block_count();
        Flow {
            s,
            stats: Arc::new(FlowStats::new(blocks)),
            slots: [None; MAX_IN_FLIGHT],
            in_flight: 0,
            sent: 0,
            completed: 0,
            phase: Phase::WaitingForBook,
            phase_start_ns: 0,
            phase_start_sent: 0,
            block_end: 0,
            // 3 % away from the touch: rests, inside PERCENT_PRICE (±5 %).
            below: Decimal::from_raw(97_000_000),
            above: Decimal::from_raw(103_000_000),
        }
    }

    /// The shared stats (clone the `Arc` before handing the flow to the engine).
    pub fn stats(&self) -> Arc<FlowStats> {
        Arc::clone(&self.stats)
    }

    fn max_in_flight(&self) -> usize {
        if self.s.rate_per_sec == 0 {
            1
        } else {
            MAX_IN_FLIGHT
        }
    }

    fn fail<C: Context>(&mut self, ctx: &mut C, why: String) {
        *lock(&self.stats.failure) = Some(why);
        self.phase = Phase::Done;
        ctx.request_stop();
    }

    /// Sends whatever the phase, the rate and the in-flight bound allow.
    fn pump<C: Context>(&mut self, ctx: &mut C) {
        loop {
            let limit = match self.phase {
                Phase::Warmup => self.s.warmup,
                Phase::Measure { .. } => self.block_end,
                _ => return,
            };
            if self.sent >= limit || self.in_flight >= self.max_in_flight() {
                return;
            }
            if self.s.rate_per_sec > 0 {
                let elapsed = ctx.now().saturating_sub(self.phase_start_ns);
                let due = self.phase_start_sent
                    + (u128::from(elapsed) * u128::from(self.s.rate_per_sec) / 1_000_000_000)
                        as u64
                    + 1;
                if self.sent >= due {
                    return;
                }
            }
            if !self.send_one(ctx) {
                return;
            }
        }
    }

    fn price(&self, book: &BookTicker, kind: Kind) -> Option<Price> {
        let step = self.s.tick.value();
        let p = match kind {
            Kind::RestingBuy => book
                .bid_price
                .value()
                .checked_mul(self.below, Rounding::Floor)?
                .round_to_step(step, Rounding::Floor)
                .ok()?,
            _ => book
                .ask_price
                .value()
                .checked_mul(self.above, Rounding::Ceil)?
                .round_to_step(step, Rounding::Ceil)
                .ok()?,
        };
        p.is_positive().then_some(Price(p))
    }

    fn send_one<C: Context>(&mut self, ctx: &mut C) -> bool {
        let kind = Kind::of(self.sent);
        let inst = self.s.instrument;
        let order = match kind {
            Kind::MarketBuy | Kind::MarketSell => {
                let side = if kind == Kind::MarketBuy {
                    Side::Buy
                } else {
                    Side::Sell
                };
                ctx.orders()
                    .market(inst, side, self.s.qty, OrderOptions::default())
            }
            Kind::RestingBuy | Kind::RestingSell => {
                let Some(book) = ctx.book(&inst) else {
                    return false;
                };
                let Some(price) = self.price(&book, kind) else {
                    self.fail(ctx, format!("no resting price from the book {book:?}"));
                    return false;
                };
                let side = if kind == Kind::RestingBuy {
                    Side::Buy
                } else {
                    Side::Sell
                };
                ctx.orders().limit(
                    inst,
                    side,
                    self.s.qty,
                    price,
                    TimeInForce::Gtc,
                    OrderOptions::default(),
                )
            }
        };
        let order = match order {
            Ok(o) => o,
            Err(e) => {
                self.fail(ctx, format!("order factory refused the order: {e}"));
                return false;
            }
        };
        let Some(free) = self.slots.iter().position(Option::is_none) else {
            return false;
        };
        let block = match self.phase {
            Phase::Measure { block } => Some(block),
            _ => None,
        };
        let now = ctx.now();
        match ctx.submit(order) {
            Ok(id) => {
                if let Some(slot) = self.slots.get_mut(free) {
                    *slot = Some(InFlight {
                        id,
                        kind,
                        filled_raw: 0,
                        sent_ns: now,
                        block,
                        acked: false,
                    });
                }
                self.in_flight += 1;
                self.sent += 1;
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.fail(ctx, format!("submit failed: {e}"));
                false
            }
        }
    }

    fn slot_of(&self, id: &ClientOrderId) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|f| f.id == *id))
    }

    /// One cycle reached its final state.
    fn complete<C: Context>(&mut self, ctx: &mut C, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = None;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.completed += 1;
        self.stats.completed.fetch_add(1, Ordering::Relaxed);
        let now = ctx.now();
        let settle = u64::try_from(self.s.settle.as_nanos()).unwrap_or(u64::MAX);
        match self.phase {
            Phase::Warmup if self.completed >= self.s.warmup => {
                self.phase = Phase::SettleWarmup {
                    until_ns: now.saturating_add(settle),
                };
            }
            Phase::Measure { block } if self.completed >= self.block_end => {
                if let Some(ns) = lock(&self.stats.latency)
                    .block_ns
                    .get_mut(usize::try_from(block).unwrap_or(usize::MAX))
                {
                    *ns = now.saturating_sub(self.phase_start_ns);
                }
                self.stats.blocks_done.store(block + 1, Ordering::Release);
                if block + 1 >= self.s.block_count() {
                    self.stats.measure_end_ns.store(now, Ordering::Release);
                    self.phase = Phase::SettleEnd {
                        until_ns: now.saturating_add(settle),
                    };
                } else {
                    self.phase = Phase::Paused { next: block + 1 };
                    self.try_start_block(ctx);
                }
            }
            _ => self.pump(ctx),
        }
    }

    /// Starts block `next` if it is allowed (always, when not gated).
    fn try_start_block<C: Context>(&mut self, ctx: &mut C) {
        let Phase::Paused { next } = self.phase else {
            return;
        };
        if self.s.gated && self.stats.block_allowed.load(Ordering::Acquire) <= next {
            return;
        }
        let now = ctx.now();
        self.phase = Phase::Measure { block: next };
        self.phase_start_ns = now;
        self.phase_start_sent = self.sent;
        self.block_end = self.completed + self.s.block_len(next);
        self.pump(ctx);
    }

    /// Times the ack of a measured order (once per order).
    fn record_ack(&mut self, slot: usize, now: u64) {
        let Some(Some(f)) = self.slots.get_mut(slot) else {
            return;
        };
        if f.acked {
            return;
        }
        f.acked = true;
        let Some(block) = f.block else {
            return;
        };
        let elapsed = now.saturating_sub(f.sent_ns).clamp(MIN_NS, MAX_NS);
        if let Some(h) = lock(&self.stats.latency)
            .block_acks
            .get_mut(usize::try_from(block).unwrap_or(usize::MAX))
        {
            let _ = h.record(elapsed);
        }
    }

    /// Times a measured fill from the simulator's matching instant.
    fn record_fill(&self, trade_id: i64, block: Option<u64>, now: u64) {
        let (Some(stamps), Some(_)) = (&self.s.fill_stamps, block) else {
            return;
        };
        let mut l = lock(&self.stats.latency);
        let Some(matched) = stamps.get(trade_id) else {
            l.unstamped_fills += 1;
            return;
        };
        let _ = l
            .exact_fill
            .record(now.saturating_sub(matched).clamp(MIN_NS, MAX_NS));
        let cb = crate::engine::strategy_thread::current_callback_stamps();
        let points = [
            Some(matched),
            stamps.get_stage(trade_id, FillStage::Published),
            stamps.get_stage(trade_id, FillStage::Written),
            (cb.event.read_ns != 0).then_some(cb.event.read_ns),
            (cb.event.exec_in_ns != 0).then_some(cb.event.exec_in_ns),
            (cb.event.handoff_ns != 0).then_some(cb.event.handoff_ns),
            (cb.received_ns != 0).then_some(cb.received_ns),
            Some(now),
        ];
        if points.iter().any(Option::is_none) {
            return;
        }
        for (i, h) in l.fill_stages.iter_mut().enumerate() {
            if let (Some(Some(a)), Some(Some(b))) = (points.get(i), points.get(i + 1)) {
                // Stamps from different threads can be a few ns out of
                // order; the histogram floor absorbs that.
                let _ = h.record(b.saturating_sub(*a).clamp(MIN_NS, MAX_NS));
            }
        }
    }

    fn begin_warmup<C: Context>(&mut self, ctx: &mut C) {
        self.phase = Phase::Warmup;
        self.phase_start_ns = ctx.now();
        self.phase_start_sent = 0;
        if self.s.warmup == 0 {
            self.phase = Phase::SettleWarmup {
                until_ns: self.phase_start_ns,
            };
            return;
        }
        self.pump(ctx);
    }
}

impl Strategy for Flow {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.phase == Phase::WaitingForBook
            && t.instrument == self.s.instrument
            && t.bid_price.raw() > 0
            && t.ask_price.raw() > 0
        {
            self.begin_warmup(ctx);
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        let Some(slot) = self.slot_of(&ev.client_id) else {
            return;
        };
        let Some(f) = self.slots.get(slot).copied().flatten() else {
            return;
        };
        match ev.kind {
            OrderEventKind::Accepted => {
                self.record_ack(slot, ctx.now());
                self.stats.acked.fetch_add(1, Ordering::Relaxed);
                if matches!(f.kind, Kind::RestingBuy | Kind::RestingSell)
                    && let Err(e) = ctx.cancel(self.s.instrument, f.id)
                {
                    self.fail(ctx, format!("cancel failed: {e}"));
                }
            }
            OrderEventKind::Filled(fill) => {
                let now = ctx.now();
                self.record_fill(fill.trade_id, f.block, now);
                let filled = f.filled_raw.saturating_add(fill.quantity.raw());
                if filled >= self.s.qty.raw() {
                    self.stats.filled.fetch_add(1, Ordering::Relaxed);
                    self.complete(ctx, slot);
                } else if let Some(Some(s)) = self.slots.get_mut(slot) {
                    s.filled_raw = filled;
                }
            }
            OrderEventKind::Canceled => {
                self.stats.canceled.fetch_add(1, Ordering::Relaxed);
                self.complete(ctx, slot);
            }
            OrderEventKind::Expired { .. } => {
                self.stats.expired.fetch_add(1, Ordering::Relaxed);
                self.complete(ctx, slot);
            }
            OrderEventKind::Rejected { code, .. } => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                if THROTTLE_CODES.contains(&code) {
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                }
                self.complete(ctx, slot);
            }
            _ => {}
        }
    }

    fn on_timer<C: Context>(&mut self, ctx: &mut C, _timer_id: u64, now_ns: u64) {
        match self.phase {
            Phase::SettleWarmup { until_ns } if now_ns >= until_ns => {
                *lock(&self.stats.alloc_start) = AllocSnapshot::from_strategy_thread();
                super::alloc::arm_trace();
                let now = ctx.now();
                self.stats.measure_start_ns.store(now, Ordering::Release);
                self.stats.warmed.store(true, Ordering::Release);
                if self.s.orders == 0 {
                    self.stats.measure_end_ns.store(now, Ordering::Release);
                    self.phase = Phase::SettleEnd { until_ns: now };
                    return;
                }
                self.phase = Phase::Paused { next: 0 };
                self.try_start_block(ctx);
            }
            Phase::Paused { .. } => self.try_start_block(ctx),
            Phase::SettleEnd { until_ns } if now_ns >= until_ns => {
                *lock(&self.stats.alloc_end) = AllocSnapshot::from_strategy_thread();
                super::alloc::disarm_trace();
                self.phase = Phase::Done;
                self.stats.done.store(true, Ordering::Release);
                ctx.request_stop();
            }
            Phase::Warmup | Phase::Measure { .. } => {
                let stall = u64::try_from(self.s.stall_timeout.as_nanos()).unwrap_or(u64::MAX);
                let stuck = self
                    .slots
                    .iter()
                    .flatten()
                    .find(|f| now_ns.saturating_sub(f.sent_ns) > stall)
                    .copied();
                if let Some(f) = stuck {
                    self.fail(
                        ctx,
                        format!(
                            "order {} ({:?}) has no final state after {:?}",
                            f.id, f.kind, self.s.stall_timeout
                        ),
                    );
                    return;
                }
                self.pump(ctx);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_cycle_so_the_position_stays_flat() {
        let kinds: Vec<Kind> = (0..8).map(Kind::of).collect();
        assert_eq!(
            kinds[..4],
            [
                Kind::RestingBuy,
                Kind::MarketBuy,
                Kind::RestingSell,
                Kind::MarketSell
            ]
        );
        assert_eq!(kinds[4..], kinds[..4]);
    }

    #[test]
    fn blocks_split_the_measured_orders() {
        let inst = InstrumentId::perp(crate::model::Symbol::new("BTCUSDT").expect("symbol"));
        let mut s = FlowSettings::new(inst, Quantity(Decimal::ONE), Price(Decimal::ONE));
        s.orders = 25;
        s.blocks = 10;
        let lens: Vec<u64> = (0..s.block_count()).map(|k| s.block_len(k)).collect();
        assert_eq!(lens.iter().sum::<u64>(), 25);
        assert_eq!(lens[..5], [3; 5]);
        assert_eq!(lens[5..], [2; 5]);
        s.orders = 3;
        assert_eq!(s.block_count(), 3);
        s.orders = 0;
        assert_eq!(s.block_count(), 1);
    }

    #[test]
    fn rate_is_zero_until_the_run_ends() {
        let s = FlowStats::new(1);
        assert_eq!(s.orders_per_sec(100), 0.0);
        s.measure_start_ns.store(1_000_000_000, Ordering::Relaxed);
        s.measure_end_ns.store(3_000_000_000, Ordering::Relaxed);
        assert!((s.orders_per_sec(100) - 50.0).abs() < 1e-9);
        assert_eq!(s.measured_allocations(), None);
    }
}
