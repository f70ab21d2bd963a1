//! Fixtures of the reconciliation tests: an in-process simulator, a config
//! aimed at it with the reconciliation timers under test control, a strategy
//! that rests N buy orders and records everything, and ways to change the
//! venue *behind the engine's back* (the venue acts, its user events are
//! discarded, exactly what a stream gap looks like from the client).
//! Every wait is bounded in time.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use binance_exec::cli::demo::{demo_sim_settings, order_size, sim_config};
use binance_exec::config::Config;
use binance_exec::engine::{
    BookTicker, Context, Engine, EngineHandle, EngineOptions, EngineSummary, Strategy,
};
use binance_exec::model::{
    ClientOrderId, Decimal, InstrumentId, OrderEvent, OrderEventKind, PositionEvent, Price,
    Quantity, Rounding, Side, Symbol, TimeInForce,
};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use binance_exec::sim::venue::{Method, Outbox, Params, Request};

pub const SYMBOL: &str = "BTCUSDT";

/// A running simulator and its settings.
pub struct Sim {
    pub handle: SimHandle,
    pub settings: SimSettings,
}

impl Sim {
    pub fn start(edit: impl FnOnce(&mut SimSettings)) -> Sim {
        let mut settings = demo_sim_settings(11, false);
        edit(&mut settings);
        let handle = SimServer::start(&settings).unwrap_or_else(|e| panic!("sim: {e}"));
        Sim { handle, settings }
    }

    /// A client config with the sweep and silence timers off unless the
    /// test turns them on.
    pub fn config(&self) -> Config {
        let mut c = sim_config(&self.handle, &self.settings, SYMBOL, false)
            .unwrap_or_else(|e| panic!("config: {e}"));
        c.engine.reconcile_interval = Duration::ZERO;
        c.engine.user_stream_silence = Duration::ZERO;
        c.engine.cancel_all_on_shutdown = false;
        c
    }

    pub fn size(&self) -> (Price, Quantity) {
        order_size(&self.settings, SYMBOL).unwrap_or_else(|| panic!("{SYMBOL} not listed"))
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
    InstrumentId::perp(Symbol::new(SYMBOL).unwrap_or_else(|e| panic!("{e}")))
}

/// What the strategy saw, shared with the test thread.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub sent: Vec<ClientOrderId>,
    pub errors: Vec<String>,
    pub events: Vec<OrderEvent>,
    pub positions: Vec<PositionEvent>,
}

impl Seen {
    /// Fills (of our orders) in the order the strategy received them.
    pub fn fills(&self) -> Vec<binance_exec::model::Fill> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                OrderEventKind::Filled(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    pub fn accepted(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, OrderEventKind::Accepted))
            .count()
    }

    pub fn kinds_of(&self, id: ClientOrderId) -> Vec<OrderEventKind> {
        self.events
            .iter()
            .filter(|e| e.client_id == id)
            .map(|e| e.kind)
            .collect()
    }
}

/// Switches the test thread flips to make the strategy act on its timer.
#[derive(Default)]
pub struct Switches {
    /// Cancel every order sent (once).
    pub cancel_all: AtomicBool,
    /// Send one MARKET buy (once).
    pub market_buy: AtomicBool,
}

/// Rests `count` LIMIT buys `below` (fraction, e.g. "0.99") under the first
/// bid, then waits for the test's switches.
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

pub fn seen(s: &Arc<Mutex<Seen>>) -> MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl Strategy for Rester {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.started || t.bid_price.raw() <= 0 {
            return;
        }
        self.started = true;
        let px = t
            .bid_price
            .value()
            .checked_mul("0.99".parse().unwrap_or_default(), Rounding::Floor)
            .and_then(|p| p.round_to_step(self.tick.value(), Rounding::Floor).ok())
            .map(Price)
            .unwrap_or(t.bid_price);
        for _ in 0..self.count {
            let r = ctx
                .orders()
                .limit(
                    instrument(),
                    Side::Buy,
                    self.qty,
                    px,
                    TimeInForce::Gtc,
                    Default::default(),
                )
                .map_err(|e| e.to_string())
                .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()));
            match r {
                Ok(id) => seen(&self.seen).sent.push(id),
                Err(e) => seen(&self.seen).errors.push(e),
            }
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
            let r = ctx
                .orders()
                .market(instrument(), Side::Buy, self.qty, Default::default())
                .map_err(|e| e.to_string())
                .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()));
            match r {
                Ok(id) => seen(&self.seen).sent.push(id),
                Err(e) => seen(&self.seen).errors.push(e),
            }
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
    EngineOptions {
        timer_interval: Some(Duration::from_millis(20)),
        max_runtime: Some(Duration::from_secs(60)),
        hgrm_dir: None,
    }
}

pub fn start(config: Config, strategy: Rester) -> EngineHandle {
    Engine::start(config, strategy, options()).unwrap_or_else(|e| panic!("engine start: {e}"))
}

/// Polls until `pred` holds or `limit` passes.
pub fn wait_until(
    s: &Arc<Mutex<Seen>>,
    limit: Duration,
    mut pred: impl FnMut(&Seen) -> bool,
) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if pred(&seen(s)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    pred(&seen(s))
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

/// A price `pct` percent (e.g. "0.97") of `p`, on the tick.
pub fn scaled(p: Decimal, pct: &str, tick: Price) -> Decimal {
    p.checked_mul(pct.parse().unwrap_or_default(), Rounding::Floor)
        .and_then(|x| x.round_to_step(tick.value(), Rounding::Floor).ok())
        .unwrap_or(p)
}
