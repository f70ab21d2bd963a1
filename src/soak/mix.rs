//! `soak-mix`: a steady stream of mixed order types for soak runs.
//!
//! Why a dedicated strategy: a soak must push every order path the engine
//! has (taker, resting, post-only, cancel, modify, conditional) at a steady
//! rate, keep its inventory bounded so it can run for hours, and write down
//! what it asked for and every fill it was told about, so the end-of-run
//! comparison has the engine's side of the story. It also labels each order
//! it submits as *fillable* or not at the moment of submission (see
//! [`SubmittedOrder::fillable`]), which is what the fill rate is computed on.

use super::rng::SoakRng;
use crate::engine::{BookTicker, Context, OrderOptions, Strategy};
use crate::model::{
    ClientOrderId, Decimal, Fill, InstrumentId, Order, OrderEvent, OrderEventKind, OrderType,
    PositionSide, Price, Quantity, Rounding, Side, TimeInForce,
};
use crate::strategies::{offset_bps, offset_ticks};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Knobs of the mix.
#[derive(Debug, Clone)]
pub struct MixSettings {
    /// Instrument traded.
    pub instrument: InstrumentId,
    /// Quantity of every order (clears minQty and MIN_NOTIONAL).
    pub quantity: Quantity,
    /// Tick size.
    pub tick: Price,
    /// Seed of the action choice.
    pub seed: u64,
    /// Largest absolute position before taker orders only reduce it.
    pub max_position: Decimal,
    /// Most resting orders (plain + conditional) at once.
    pub max_resting: usize,
    /// Marketable prices cross the opposite best by this many basis points.
    pub cross_bps: i64,
    /// A book older than this makes a marketable order "not fillable".
    pub max_book_age: Duration,
}

impl MixSettings {
    /// Defaults for `quantity`/`tick`: inventory within 8 orders, 16 resting,
    /// cross by 50 bps, books up to 1 s old count as current.
    pub fn new(instrument: InstrumentId, quantity: Quantity, tick: Price, seed: u64) -> Self {
        MixSettings {
            instrument,
            quantity,
            tick,
            seed,
            max_position: Decimal::from_raw(quantity.raw().saturating_mul(8)),
            max_resting: 16,
            cross_bps: 50,
            max_book_age: Duration::from_secs(1),
        }
    }
}

/// One order as the strategy asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmittedOrder {
    /// The engine-issued client id (`clientAlgoId` for conditional types).
    pub client_id: ClientOrderId,
    /// Order type.
    pub order_type: OrderType,
    /// Time in force (LIMIT).
    pub time_in_force: TimeInForce,
    /// Side.
    pub side: Side,
    /// Fillable: a MARKET order, or a LIMIT (IOC, FOK or GTC) priced at
    /// least `cross_bps` through the opposite best of a book no older than
    /// `max_book_age`, not reduce-only. The venue should fill every such
    /// order completely; one that ends unfilled is a failure of the venue
    /// model or of the engine's view.
    pub fillable: bool,
}

/// Everything the strategy saw and did, shared with the soak driver.
#[derive(Debug, Default)]
pub struct MixLog {
    /// Orders handed to the engine, in order.
    pub submitted: Vec<SubmittedOrder>,
    /// Every fill event delivered (`Filled` and `ExternalFill`), duplicates
    /// included: a duplicate here is a duplicated fill.
    pub fills: Vec<Fill>,
    /// Cancels and modifies requested.
    pub cancels: u64,
    /// Modifies requested.
    pub modifies: u64,
    /// Commands the engine refused to queue (queue full, invalid).
    pub command_errors: u64,
    /// Rejections by venue/local code.
    pub rejections: BTreeMap<i32, u64>,
    /// Orders whose fate was reported unknown at least once.
    pub unknown_fates: u64,
}

/// Shared between the strategy thread and the soak driver.
#[derive(Debug, Default)]
pub struct MixShared {
    log: Mutex<MixLog>,
    draining: AtomicBool,
    drained: AtomicBool,
}

impl MixShared {
    /// The log (a poisoned lock still yields the data).
    pub fn log(&self) -> MutexGuard<'_, MixLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Stop opening orders; cancel every live one.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }
    /// True once draining found no live order left.
    pub fn is_drained(&self) -> bool {
        self.drained.load(Ordering::Acquire)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    /// Sent, not acknowledged.
    Pending,
    /// Resting at the venue (or waiting in the algo service).
    Resting,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    side: Side,
    order_type: OrderType,
    price: Option<Price>,
    quantity: Quantity,
    filled: Quantity,
    life: Life,
    cancel_sent_ns: u64,
}

/// The `soak-mix` strategy (see the module docs).
#[derive(Debug)]
pub struct SoakMix {
    st: MixSettings,
    rng: SoakRng,
    shared: Arc<MixShared>,
    live: BTreeMap<ClientOrderId, Live>,
}

/// How long a cancel may stay unanswered before draining sends it again.
const CANCEL_RETRY_NS: u64 = 1_000_000_000;

impl SoakMix {
    /// A mix with its own shared log.
    pub fn new(st: MixSettings) -> Self {
        SoakMix {
            rng: SoakRng::new(st.seed),
            st,
            shared: Arc::new(MixShared::default()),
            live: BTreeMap::new(),
        }
    }

    /// The log and drain switch, for the driver.
    pub fn shared(&self) -> Arc<MixShared> {
        Arc::clone(&self.shared)
    }

    fn position<C: Context>(&self, ctx: &C) -> Decimal {
        ctx.position(self.st.instrument.symbol, PositionSide::Both)
            .map(|p| p.amount)
            .unwrap_or(Decimal::ZERO)
    }

    /// The side of the next order: toward flat when past the limit, else
    /// a coin flip.
    fn pick_side<C: Context>(&mut self, ctx: &C) -> Side {
        let pos = self.position(ctx);
        if pos > self.st.max_position {
            Side::Sell
        } else if pos < self.st.max_position.neg() || self.rng.chance(50) {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    fn fresh_book<C: Context>(&self, ctx: &C) -> Option<(BookTicker, bool)> {
        let b = ctx.book(&self.st.instrument)?;
        let age = ctx.now().saturating_sub(b.ts_recv_ns);
        Some((b, age <= self.st.max_book_age.as_nanos() as u64))
    }

    fn resting(&self) -> Vec<(ClientOrderId, Live)> {
        self.live
            .iter()
            .filter(|(_, l)| l.life == Life::Resting && l.cancel_sent_ns == 0)
            .map(|(c, l)| (*c, *l))
            .collect()
    }

    fn submit<C: Context>(&mut self, ctx: &mut C, order: Order, fillable: bool) {
        let rec = SubmittedOrder {
            client_id: order.client_id,
            order_type: order.order_type,
            time_in_force: order.time_in_force,
            side: order.side,
            fillable,
        };
        match ctx.submit(order) {
            Ok(id) => {
                self.live.insert(
                    id,
                    Live {
                        side: order.side,
                        order_type: order.order_type,
                        price: order.price,
                        quantity: order.quantity,
                        filled: Quantity::ZERO,
                        life: Life::Pending,
                        cancel_sent_ns: 0,
                    },
                );
                self.shared.log().submitted.push(rec);
            }
            Err(_) => self.shared.log().command_errors += 1,
        }
    }

    fn act<C: Context>(&mut self, ctx: &mut C) {
        let Some((book, fresh)) = self.fresh_book(ctx) else {
            return;
        };
        let (inst, q, tick) = (self.st.instrument, self.st.quantity, self.st.tick);
        let resting = self.resting();
        let full = resting.len() >= self.st.max_resting;
        let roll = self.rng.below(100);
        let opts = OrderOptions::default();
        let built: Result<(Order, bool), ()> = match roll {
            // MARKET.
            0..18 => {
                let side = self.pick_side(ctx);
                ctx.orders()
                    .market(inst, side, q, opts)
                    .map(|o| (o, true))
                    .map_err(|_| ())
            }
            // Marketable IOC / FOK / GTC.
            18..46 => {
                let side = self.pick_side(ctx);
                let tif = match roll {
                    18..32 => TimeInForce::Ioc,
                    32..40 => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                };
                let px = match side {
                    Side::Buy => {
                        offset_bps(book.ask_price, self.st.cross_bps, tick, Rounding::Ceil)
                    }
                    _ => offset_bps(book.bid_price, -self.st.cross_bps, tick, Rounding::Floor),
                };
                match px {
                    Some(px) => ctx
                        .orders()
                        .limit(inst, side, q, px, tif, opts)
                        .map(|o| (o, fresh))
                        .map_err(|_| ()),
                    None => Err(()),
                }
            }
            // Passive GTC / GTX, on the side that does not grow inventory
            // past the limit.
            46..72 if !full => {
                let side = self.pick_side(ctx);
                let behind = self.rng.range(0, 6) as i64;
                let px = match side {
                    Side::Buy => offset_ticks(book.bid_price, -behind, tick),
                    _ => offset_ticks(book.ask_price, behind, tick),
                };
                let tif = if roll < 60 {
                    TimeInForce::Gtc
                } else {
                    TimeInForce::Gtx
                };
                match px {
                    Some(px) => ctx
                        .orders()
                        .limit(inst, side, q, px, tif, opts)
                        .map(|o| (o, false))
                        .map_err(|_| ()),
                    None => Err(()),
                }
            }
            // Conditional orders far from the market: they rest in the algo
            // service until cancelled (or a big move / ADL fires them).
            72..80 if !full => self.conditional(ctx, &book),
            // Modify a resting plain LIMIT (stays passive).
            80..90 => {
                self.modify_one(ctx, &book, &resting);
                return;
            }
            // Cancel one resting order (also when full).
            _ => {
                self.cancel_one(ctx, &resting);
                return;
            }
        };
        if let Ok((order, fillable)) = built {
            self.submit(ctx, order, fillable);
        }
    }

    fn conditional<C: Context>(
        &mut self,
        ctx: &mut C,
        book: &BookTicker,
    ) -> Result<(Order, bool), ()> {
        let (inst, q, tick) = (self.st.instrument, self.st.quantity, self.st.tick);
        let opts = OrderOptions::default();
        let side = if self.rng.chance(50) {
            Side::Buy
        } else {
            Side::Sell
        };
        // Buy stops above the market, sell stops below; take-profits the
        // other way round; 3 % away.
        let up = offset_bps(book.ask_price, 300, tick, Rounding::Ceil).ok_or(())?;
        let down = offset_bps(book.bid_price, -300, tick, Rounding::Floor).ok_or(())?;
        let kind = self.rng.below(3);
        let f = ctx.orders();
        let o = match (kind, side) {
            (0, Side::Buy) => f.stop_market(inst, side, q, up, opts),
            (0, _) => f.stop_market(inst, side, q, down, opts),
            (1, Side::Buy) => f.take_profit_market(inst, side, q, down, opts),
            (1, _) => f.take_profit_market(inst, side, q, up, opts),
            // Trailing: a buy activates below the market, a sell above.
            (_, Side::Buy) => f.trailing_stop_market(
                inst,
                side,
                q,
                Decimal::from_raw(200_000_000),
                Some(down),
                opts,
            ),
            (_, _) => f.trailing_stop_market(
                inst,
                side,
                q,
                Decimal::from_raw(200_000_000),
                Some(up),
                opts,
            ),
        };
        o.map(|o| (o, false)).map_err(|_| ())
    }

    fn modify_one<C: Context>(
        &mut self,
        ctx: &mut C,
        book: &BookTicker,
        resting: &[(ClientOrderId, Live)],
    ) {
        let limits: Vec<_> = resting
            .iter()
            .filter(|(_, l)| l.order_type == OrderType::Limit)
            .collect();
        if limits.is_empty() {
            return;
        }
        let pick = self.rng.below(limits.len() as u64) as usize;
        let Some((id, l)) = limits.get(pick) else {
            return;
        };
        let behind = self.rng.range(1, 6) as i64;
        let px = match l.side {
            Side::Buy => offset_ticks(book.bid_price, -behind, self.st.tick),
            _ => offset_ticks(book.ask_price, behind, self.st.tick),
        };
        // The venue refuses a modify that changes nothing (-5027).
        if let Some(px) = px.filter(|p| Some(*p) != l.price) {
            let qty = l.quantity;
            if ctx.modify(self.st.instrument, *id, px, qty).is_ok() {
                self.shared.log().modifies += 1;
            } else {
                self.shared.log().command_errors += 1;
            }
        }
    }

    fn cancel_one<C: Context>(&mut self, ctx: &mut C, resting: &[(ClientOrderId, Live)]) {
        if resting.is_empty() {
            return;
        }
        let pick = self.rng.below(resting.len() as u64) as usize;
        if let Some((id, _)) = resting.get(pick) {
            self.send_cancel(ctx, *id);
        }
    }

    fn send_cancel<C: Context>(&mut self, ctx: &mut C, id: ClientOrderId) {
        let now = ctx.now().max(1);
        match ctx.cancel(self.st.instrument, id) {
            Ok(()) => {
                if let Some(l) = self.live.get_mut(&id) {
                    l.cancel_sent_ns = now;
                }
                self.shared.log().cancels += 1;
            }
            Err(crate::engine::CommandError::UnknownOrder(_)) => {
                // The engine no longer has it open: it finished.
                self.live.remove(&id);
            }
            Err(_) => self.shared.log().command_errors += 1,
        }
    }

    fn drain<C: Context>(&mut self, ctx: &mut C) {
        let now = ctx.now();
        let due: Vec<ClientOrderId> = self
            .live
            .iter()
            .filter(|(_, l)| {
                l.life == Life::Resting
                    && (l.cancel_sent_ns == 0
                        || now.saturating_sub(l.cancel_sent_ns) > CANCEL_RETRY_NS)
            })
            .map(|(c, _)| *c)
            .collect();
        for id in due {
            self.send_cancel(ctx, id);
        }
        if self.live.is_empty() {
            self.shared.drained.store(true, Ordering::Release);
        }
    }

    fn on_event(&mut self, ev: &OrderEvent) {
        let done = match ev.kind {
            OrderEventKind::Filled(f) => {
                self.shared.log().fills.push(f);
                match self.live.get_mut(&ev.client_id) {
                    Some(l) => {
                        l.filled =
                            Quantity::from_raw(l.filled.raw().saturating_add(f.quantity.raw()));
                        l.filled >= l.quantity
                    }
                    None => false,
                }
            }
            OrderEventKind::ExternalFill(f) => {
                self.shared.log().fills.push(f);
                false
            }
            OrderEventKind::Accepted | OrderEventKind::Triggered { .. } => {
                if let Some(l) = self.live.get_mut(&ev.client_id) {
                    // Takers are done by their fill/expiry; only resting
                    // types wait to be cancelled.
                    let resting = l.order_type != OrderType::Market;
                    if resting {
                        l.life = Life::Resting;
                    }
                }
                false
            }
            OrderEventKind::Amended { price, quantity } => {
                if let Some(l) = self.live.get_mut(&ev.client_id) {
                    l.price = Some(price);
                    l.quantity = quantity;
                }
                false
            }
            OrderEventKind::Rejected { code, .. } => {
                *self.shared.log().rejections.entry(code).or_insert(0) += 1;
                true
            }
            OrderEventKind::Canceled | OrderEventKind::Expired { .. } => true,
            OrderEventKind::StatusUnknown { .. } => {
                self.shared.log().unknown_fates += 1;
                false
            }
            OrderEventKind::Resolved { state, .. } => {
                // An unknown fate settled by query: a live answer means it
                // rests at the venue (no `Accepted` comes for it), so the
                // drain must cancel it like any acknowledged order.
                if !state.is_terminal()
                    && let Some(l) = self.live.get_mut(&ev.client_id)
                    && l.order_type != OrderType::Market
                {
                    l.life = Life::Resting;
                }
                state.is_terminal()
            }
            OrderEventKind::CancelRejected { .. } => {
                // Usually "unknown order" (-2011): it just finished. The
                // terminal event settles it; the drain retries after
                // CANCEL_RETRY_NS (the cancel stays marked as sent).
                false
            }
            _ => false,
        };
        if done {
            self.live.remove(&ev.client_id);
        }
    }
}

impl Strategy for SoakMix {
    fn on_timer<C: Context>(&mut self, ctx: &mut C, _timer_id: u64, _now_ns: u64) {
        if self.shared.draining.load(Ordering::Acquire) {
            self.drain(ctx);
        } else {
            self.act(ctx);
        }
    }

    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, event: &OrderEvent) {
        self.on_event(event);
    }
}
