//! Fixtures of the reconciliation tests, on top of the shared ones: one
//! symbol, a config with the reconciliation timers under test control, a
//! strategy that rests N buy orders and records everything, and ways to
//! change the venue *behind the engine's back* (the venue acts, its user
//! events are discarded, exactly what a stream gap looks like from the
//! client). Every wait is bounded in time.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use binance_exec::config::Config;
use binance_exec::engine::{
    BookTicker, Context, EngineHandle, EngineOptions, EngineSummary, Strategy,
};
use binance_exec::model::{
    Decimal, InstrumentId, OrderEvent, PositionEvent, Price, Quantity, Side, TimeInForce,
};
use binance_exec::sim::SimSettings;
use binance_exec::sim::venue::{Method, Outbox, Params, Request};

// Re-exported so a reconciliation test needs one `use support::recover::*`;
// test crates that do not use them would otherwise warn.
#[allow(unused_imports)]
pub use super::{Seen, scaled, seen, wait_until};

pub const SYMBOL: &str = "BTCUSDT";

/// The shared simulator seen through the reconciliation tests: one-way,
/// seeded for their price path, everything about [`SYMBOL`].
pub struct Sim(super::Sim);

impl Deref for Sim {
    type Target = super::Sim;
    fn deref(&self) -> &super::Sim {
        &self.0
    }
}

impl Sim {
    pub fn start(edit: impl FnOnce(&mut SimSettings)) -> Sim {
        Sim(super::Sim::start_seeded(11, false, edit))
    }

    /// A client config with the sweep and silence timers off unless the
    /// test turns them on.
    pub fn config(&self) -> Config {
        let mut c = self.0.config(SYMBOL, false);
        c.engine.reconcile_interval = Duration::ZERO;
        c.engine.user_stream_silence = Duration::ZERO;
        c.engine.cancel_all_on_shutdown = false;
        c
    }

    pub fn size(&self) -> (Price, Quantity) {
        self.0.size(SYMBOL)
    }

    /// Moves the last price to `px` with the user events discarded: resting
    /// orders fill at the venue and the engine hears nothing.
    pub fn move_price_silently(&self, px: Decimal) {
        self.handle.with_venue(|v| {
            let mut out = Outbox::default();
            v.set_price(SYMBOL, Some(px), None, now_ms(), &mut out)
                .unwrap_or_else(|e| panic!("set_price: {e:?}"));
        });
    }

    /// Cancels an order at the venue with the user events discarded (as if
    /// another session or the venue did it while our stream missed it).
    pub fn cancel_silently(&self, client_id: &str) -> u16 {
        self.handle.with_venue(|v| {
            let params = Params {
                pairs: vec![
                    ("symbol".into(), SYMBOL.into()),
                    ("origClientOrderId".into(), client_id.into()),
                ],
            };
            let req = Request {
                method: Method::Delete,
                path: "/fapi/v1/order",
                params: &params,
                account: Some(0),
            };
            let mut out = Outbox::default();
            v.handle(&req, now_ms(), &mut out).status
        })
    }

    /// The venue's one-way position of account 0.
    pub fn venue_position(&self) -> String {
        self.handle.with_venue(|v| {
            v.ledger()
                .positions
                .iter()
                .find(|p| p.account == 0 && p.symbol == SYMBOL)
                .map(|p| p.amount.to_string())
                .unwrap_or_else(|| "0".into())
        })
    }

    /// The venue's trade ids of account 0 (ascending).
    pub fn venue_trade_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.handle.with_venue(|v| {
            v.ledger()
                .fills
                .iter()
                .filter(|f| f.account == 0 && f.symbol == SYMBOL)
                .map(|f| f.trade_id)
                .collect()
        });
        ids.sort_unstable();
        ids
    }

    /// Current last price.
    pub fn last_price(&self) -> Decimal {
        self.handle
            .with_venue(|v| v.prices(SYMBOL).map(|p| p.0))
            .unwrap_or_else(|| panic!("no price"))
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn instrument() -> InstrumentId {
    super::instrument(SYMBOL)
}

/// Switches the test thread flips to make the strategy act on its timer.
#[derive(Default)]
pub struct Switches {
    /// Cancel every order sent (once).
    pub cancel_all: AtomicBool,
    /// Send one MARKET buy (once).
    pub market_buy: AtomicBool,
}

/// Rests `count` LIMIT buys 1 % under the first bid, then waits for the
/// test's switches.
pub struct Rester {
    pub count: usize,
    pub qty: Quantity,
    pub tick: Price,
    pub seen: Arc<Mutex<Seen>>,
    pub switches: Arc<Switches>,
    started: bool,
    cancelled: bool,
    bought: bool,
}

impl Rester {
    pub fn new(count: usize, qty: Quantity, tick: Price) -> Rester {
        Rester {
            count,
            qty,
            tick,
            seen: Arc::new(Mutex::new(Seen::default())),
            switches: Arc::new(Switches::default()),
            started: false,
            cancelled: false,
            bought: false,
        }
    }
}

impl Strategy for Rester {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.started || t.bid_price.raw() <= 0 {
            return;
        }
        self.started = true;
        let px = Price(scaled(t.bid_price.value(), "0.99", self.tick));
        for _ in 0..self.count {
            let order = ctx.orders().limit(
                instrument(),
                Side::Buy,
                self.qty,
                px,
                TimeInForce::Gtc,
                Default::default(),
            );
            super::submit_recorded(ctx, &self.seen, order);
        }
    }

    fn on_timer<C: Context>(&mut self, ctx: &mut C, _id: u64, _now: u64) {
        if !self.cancelled && self.switches.cancel_all.load(Ordering::Acquire) {
            self.cancelled = true;
            let ids = seen(&self.seen).sent.clone();
            for id in ids {
                let _ = ctx.cancel(instrument(), id);
            }
        }
        if !self.bought && self.switches.market_buy.load(Ordering::Acquire) {
            self.bought = true;
            let order = ctx
                .orders()
                .market(instrument(), Side::Buy, self.qty, Default::default());
            super::submit_recorded(ctx, &self.seen, order);
        }
    }

    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, ev: &OrderEvent) {
        seen(&self.seen).events.push(*ev);
    }

    fn on_position<C: Context>(&mut self, _ctx: &mut C, ev: &PositionEvent) {
        seen(&self.seen).positions.push(*ev);
    }
}

pub fn options() -> EngineOptions {
    super::options_with(Duration::from_millis(20), Duration::from_secs(60))
}

pub fn start(config: Config, strategy: Rester) -> EngineHandle {
    super::start_with(config, strategy, options())
}

pub fn stop(h: EngineHandle) -> EngineSummary {
    h.stop().unwrap_or_else(|e| panic!("engine stop: {e}"))
}

/// The engine's one-way position in the summary.
pub fn engine_position(s: &EngineSummary) -> String {
    s.positions
        .iter()
        .find(|p| p.symbol.as_str() == SYMBOL)
        .map(|p| p.amount.to_string())
        .unwrap_or_else(|| "0".into())
}
