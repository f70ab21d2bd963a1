//! `maker`: post-only quotes on both sides of the book, inside an inventory
//! limit.
//!
//! Why it ships: it is the smallest strategy that exercises the loop a
//! market maker lives in — book move → cancel → requote, fills moving
//! inventory, a side switched off at the limit — and it does so without
//! allocating per event (quotes are two fixed slots, statistics atomics).
//!
//! Quotes are GTX, so a quote the book has run through is refused (-5022)
//! instead of taking; the side simply requotes on the next ticker. A quote is
//! replaced by cancel-then-submit rather than modify because a GTX modify
//! that would cross cancels the order anyway, and the two-step form keeps at
//! most one order per side live at the venue.

use super::offset_ticks;
use crate::engine::{BookTicker, Context, OrderOptions, Strategy};
use crate::model::{
    ClientOrderId, Decimal, InstrumentId, OrderEvent, OrderEventKind, PositionEvent, PositionSide,
    Price, Quantity, Side,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Knobs of the maker.
#[derive(Debug, Clone)]
pub struct MakerSettings {
    /// Instrument to quote.
    pub instrument: InstrumentId,
    /// Size of each quote.
    pub quantity: Quantity,
    /// Tick size (PRICE_FILTER).
    pub tick: Price,
    /// Largest absolute inventory: a side whose next fill would pass it is
    /// not quoted.
    pub max_position: Decimal,
    /// Ticks behind the touch (0 = join the best bid/ask).
    pub offset_ticks: i64,
    /// A live quote this many ticks or more off its target is replaced.
    pub requote_ticks: i64,
    /// Least time between two actions on one side, so a jittery book cannot
    /// burn the order rate limit.
    pub min_requote_interval: Duration,
    /// Hedge-mode account: bids open LONG, asks open SHORT; inventory is
    /// their sum.
    pub hedge: bool,
}

impl MakerSettings {
    /// Sensible defaults for `quantity`/`tick`: join the touch, requote on a
    /// one-tick move, at most 5 quotes' worth of inventory.
    pub fn new(instrument: InstrumentId, quantity: Quantity, tick: Price) -> Self {
        MakerSettings {
            instrument,
            quantity,
            tick,
            max_position: Decimal::from_raw(quantity.raw().saturating_mul(5)),
            offset_ticks: 0,
            requote_ticks: 1,
            min_requote_interval: Duration::from_millis(50),
            hedge: false,
        }
    }
}

/// What the maker did, readable from another thread while it runs.
#[derive(Debug, Default)]
pub struct MakerStats {
    /// Quotes submitted.
    pub quotes: AtomicU64,
    /// Cancels sent (requotes and limit stops).
    pub cancels: AtomicU64,
    /// Fills received.
    pub fills: AtomicU64,
    /// Quotes the venue refused (mostly -5022: the book moved through).
    pub rejects: AtomicU64,
    /// Times a side was switched off at the inventory limit.
    pub limit_hits: AtomicU64,
    /// Current inventory, raw decimal mantissa (value × 10^8).
    pub position_raw: AtomicI64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// No order on this side.
    Idle,
    /// Submitted, not acknowledged.
    Pending,
    /// Resting at the venue.
    Live,
    /// Our cancel is in flight.
    Canceling,
}

#[derive(Debug, Clone, Copy)]
struct Quote {
    side: Side,
    client_id: Option<ClientOrderId>,
    price: Price,
    state: QuoteState,
    last_action_ns: u64,
    filled: Quantity,
}

impl Quote {
    fn new(side: Side) -> Self {
        Quote {
            side,
            client_id: None,
            price: Price::ZERO,
            state: QuoteState::Idle,
            last_action_ns: 0,
            filled: Quantity::ZERO,
        }
    }
}

/// The `maker` strategy.
#[derive(Debug)]
pub struct Maker {
    settings: MakerSettings,
    quotes: [Quote; 2],
    long: Decimal,
    short: Decimal,
    stats: Arc<MakerStats>,
}

impl Maker {
    /// A maker with `settings`, flat and with no quotes.
    pub fn new(settings: MakerSettings) -> Self {
        Maker {
            settings,
            quotes: [Quote::new(Side::Buy), Quote::new(Side::Sell)],
            long: Decimal::ZERO,
            short: Decimal::ZERO,
            stats: Arc::new(MakerStats::default()),
        }
    }

    /// The statistics handle; keep a clone before handing the strategy to the
    /// engine.
    pub fn stats(&self) -> Arc<MakerStats> {
        self.stats.clone()
    }

    /// Net inventory (long + short legs; one-way mode keeps it in `long`).
    pub fn inventory(&self) -> Decimal {
        self.long.checked_add(self.short).unwrap_or(self.long)
    }

    /// Whether one more fill on `side` stays inside the limit.
    fn side_allowed(&self, side: Side) -> bool {
        let q = self.settings.quantity.value();
        let after = match side {
            Side::Buy => self.inventory().checked_add(q),
            _ => self.inventory().checked_sub(q),
        };
        after.is_some_and(|a| a.abs() <= self.settings.max_position)
    }

    fn opts(&self, side: Side) -> OrderOptions {
        match (self.settings.hedge, side) {
            (false, _) => OrderOptions::default(),
            (true, Side::Buy) => OrderOptions::hedge(PositionSide::Long),
            (true, _) => OrderOptions::hedge(PositionSide::Short),
        }
    }

    fn target(&self, side: Side, book: &BookTicker) -> Option<Price> {
        let off = self.settings.offset_ticks;
        match side {
            Side::Buy => offset_ticks(book.bid_price, -off, self.settings.tick),
            _ => offset_ticks(book.ask_price, off, self.settings.tick),
        }
    }

    fn work_side<C: Context>(&mut self, ctx: &mut C, i: usize, book: &BookTicker) {
        let Some(q) = self.quotes.get(i).copied() else {
            return;
        };
        let now = ctx.now();
        let min_gap = u64::try_from(self.settings.min_requote_interval.as_nanos()).unwrap_or(0);
        if now.saturating_sub(q.last_action_ns) < min_gap && q.last_action_ns != 0 {
            return;
        }
        let allowed = self.side_allowed(q.side);
        let inst = self.settings.instrument;
        let mut next = q;
        match q.state {
            QuoteState::Pending | QuoteState::Canceling => return,
            QuoteState::Live => {
                let off_target = match self.target(q.side, book) {
                    Some(t) => {
                        (t.raw() - q.price.raw()).abs()
                            >= self
                                .settings
                                .tick
                                .raw()
                                .saturating_mul(self.settings.requote_ticks)
                    }
                    None => true,
                };
                if (!allowed || off_target)
                    && let Some(id) = q.client_id
                    && ctx.cancel(inst, id).is_ok()
                {
                    if !allowed {
                        self.stats.limit_hits.fetch_add(1, Ordering::Relaxed);
                    }
                    self.stats.cancels.fetch_add(1, Ordering::Relaxed);
                    next.state = QuoteState::Canceling;
                    next.last_action_ns = now;
                }
            }
            QuoteState::Idle => {
                if !allowed {
                    return;
                }
                let Some(price) = self.target(q.side, book) else {
                    return;
                };
                let opts = self.opts(q.side);
                let order =
                    ctx.orders()
                        .post_only(inst, q.side, self.settings.quantity, price, opts);
                if let Ok(order) = order
                    && let Ok(id) = ctx.submit(order)
                {
                    self.stats.quotes.fetch_add(1, Ordering::Relaxed);
                    next = Quote {
                        side: q.side,
                        client_id: Some(id),
                        price,
                        state: QuoteState::Pending,
                        last_action_ns: now,
                        filled: Quantity::ZERO,
                    };
                }
            }
        }
        if let Some(slot) = self.quotes.get_mut(i) {
            *slot = next;
        }
    }

    fn book_fill(&mut self, side: Side, qty: Quantity, position_side: PositionSide) {
        let signed = if side == Side::Buy {
            qty.value()
        } else {
            qty.value().neg()
        };
        let leg = if position_side == PositionSide::Short {
            &mut self.short
        } else {
            &mut self.long
        };
        *leg = leg.checked_add(signed).unwrap_or(*leg);
        self.publish_position();
    }

    fn publish_position(&self) {
        self.stats
            .position_raw
            .store(self.inventory().raw(), Ordering::Relaxed);
    }
}

impl Strategy for Maker {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, ticker: &BookTicker) {
        if ticker.instrument != self.settings.instrument || ticker.bid_price.raw() <= 0 {
            return;
        }
        for i in 0..self.quotes.len() {
            self.work_side(ctx, i, ticker);
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        let Some(i) = self
            .quotes
            .iter()
            .position(|q| q.client_id == Some(ev.client_id))
        else {
            return;
        };
        let Some(q) = self.quotes.get(i).copied() else {
            return;
        };
        let mut next = q;
        let mut rework = false;
        match ev.kind {
            OrderEventKind::Accepted if q.state == QuoteState::Pending => {
                next.state = QuoteState::Live;
            }
            OrderEventKind::Filled(f) => {
                self.stats.fills.fetch_add(1, Ordering::Relaxed);
                self.book_fill(f.side, f.quantity, f.position_side);
                next.filled = Quantity(
                    q.filled
                        .value()
                        .checked_add(f.quantity.value())
                        .unwrap_or(q.filled.value()),
                );
                // A full fill ends the quote; partial fills keep it live.
                if next.filled.value() >= self.settings.quantity.value() {
                    next = Quote::new(q.side);
                    rework = true;
                }
            }
            OrderEventKind::Rejected { .. } => {
                self.stats.rejects.fetch_add(1, Ordering::Relaxed);
                next = Quote::new(q.side);
                next.last_action_ns = q.last_action_ns;
                rework = true;
            }
            OrderEventKind::Canceled | OrderEventKind::Expired { .. } => {
                next = Quote::new(q.side);
                rework = true;
            }
            OrderEventKind::CancelRejected { .. } => {
                // Already closed (filled or cancelled): its final event follows.
            }
            OrderEventKind::Resolved { state, .. } => {
                if state.is_terminal() {
                    next = Quote::new(q.side);
                    rework = true;
                } else {
                    next.state = QuoteState::Live;
                }
            }
            _ => {}
        }
        if let Some(slot) = self.quotes.get_mut(i) {
            *slot = next;
        }
        if rework && let Some(book) = ctx.book(&self.settings.instrument) {
            self.work_side(ctx, i, &book);
        }
    }

    fn on_position<C: Context>(&mut self, _ctx: &mut C, ev: &PositionEvent) {
        if ev.symbol != self.settings.instrument.symbol {
            return;
        }
        // The engine's (or venue's) position is the truth; our running sum
        // only bridges the gap until it arrives.
        match ev.position_side {
            PositionSide::Short => self.short = ev.amount,
            _ => self.long = ev.amount,
        }
        self.publish_position();
    }

    fn on_stop<C: Context>(&mut self, ctx: &mut C) {
        let _ = ctx.cancel_all(self.settings.instrument);
    }
}
