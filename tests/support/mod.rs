//! Shared fixtures of the engine end-to-end tests: an in-process simulator on
//! an ephemeral loopback port, a client config aimed at it, a scriptable
//! probe strategy, and bounded waits. The reconciliation tests add their
//! venue-behind-the-engine's-back fixtures in [`recover`] on top of these.
//! Every wait is bounded in time; every loop in count.
#![allow(dead_code)]

pub mod recover;

use binance_exec::cli::demo::{SimControl, demo_sim_settings, order_size, sim_config};
use binance_exec::config::Config;
use binance_exec::engine::{
    BookTicker, Context, Engine, EngineError, EngineHandle, EngineOptions, EngineSummary, Strategy,
};
use binance_exec::model::{
    ClientOrderId, Decimal, Fill, InstrumentId, Order, OrderError, OrderEvent, OrderEventKind,
    OrderState, PositionEvent, Price, Quantity, Rounding, Side, Symbol, TimeInForce,
};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use binance_exec::strategies::{CycleReport, OrderCycle, OrderCycleSettings, Scenario};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Longest any single engine run in these tests may take.
pub const RUN_LIMIT: Duration = Duration::from_secs(45);

/// A running simulator with its settings and control client.
pub struct Sim {
    pub handle: SimHandle,
    pub settings: SimSettings,
    pub control: SimControl,
}

impl Sim {
    /// Starts a quiet, seeded simulator; `edit` adjusts settings first.
    pub fn start(hedge: bool, edit: impl FnOnce(&mut SimSettings)) -> Sim {
        Sim::start_seeded(7, hedge, edit)
    }

    /// [`Sim::start`] with another seed, for test sets tuned to their own
    /// price path.
    pub fn start_seeded(seed: u64, hedge: bool, edit: impl FnOnce(&mut SimSettings)) -> Sim {
        let mut settings = demo_sim_settings(seed, hedge);
        edit(&mut settings);
        let handle = SimServer::start(&settings).unwrap_or_else(|e| panic!("sim: {e}"));
        let control = SimControl::new(handle.local_addr());
        Sim {
            handle,
            settings,
            control,
        }
    }

    /// A config for `symbol` on this simulator.
    pub fn config(&self, symbol: &str, hedge: bool) -> Config {
        sim_config(&self.handle, &self.settings, symbol, hedge)
            .unwrap_or_else(|e| panic!("config: {e}"))
    }

    /// Tick and order size for `symbol`.
    pub fn size(&self, symbol: &str) -> (Price, Quantity) {
        order_size(&self.settings, symbol).unwrap_or_else(|| panic!("{symbol} not listed"))
    }

    /// Orders in the venue's ledger with this client id.
    pub fn ledger_count(&self, client_id: &str) -> usize {
        self.handle.with_venue(|v| {
            v.ledger()
                .orders
                .iter()
                .filter(|o| o.client_order_id == client_id)
                .count()
        })
    }

    /// Open orders of account 0 at the venue.
    pub fn open_orders(&self) -> usize {
        self.handle.with_venue(|v| v.open_order_count(0))
    }

    /// A probe on `symbol` sending `specs` that switches the simulator's
    /// `faults` on just before its first order, so the fault hits that order
    /// and not start-up.
    pub fn probe_with_faults(&self, symbol: &str, specs: Vec<Spec>, faults: &'static str) -> Probe {
        let (tick, _) = self.size(symbol);
        let mut probe = Probe::new(instrument(symbol), tick, specs);
        let control = self.control.clone();
        probe.before = Some(Box::new(move || {
            let _ = control.post("/sim/faults", faults);
        }));
        probe
    }

    /// One MARKET buy on `symbol` through an engine on `config`, with
    /// `faults` switched on just before it is sent. Waits up to `limit` until
    /// it is filled (by the stream, or by the query that resolved an unknown
    /// fate, which can beat the stream's fill), lets `linger` pass for late
    /// frames, stops the engine and asserts the order was filled.
    pub fn one_market_buy(
        &self,
        symbol: &str,
        config: Config,
        faults: &'static str,
        limit: Duration,
        linger: Duration,
    ) -> (EngineSummary, Seen) {
        let (_, q) = self.size(symbol);
        let probe = self.probe_with_faults(symbol, vec![Spec::MarketBuy(q)], faults);
        let seen_ = probe.seen.clone();
        let h = start_probe(config, probe);
        let done = wait_until(&seen_, limit, |s| {
            s.sent
                .first()
                .is_some_and(|id| filled_or_resolved_filled(s, *id))
        });
        std::thread::sleep(linger);
        let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
        assert!(done, "order not filled: {:?}", summary.events);
        let s = seen_.lock().map(|s| s.clone()).unwrap_or_default();
        (summary, s)
    }
}

pub fn instrument(symbol: &str) -> InstrumentId {
    InstrumentId::perp(Symbol::new(symbol).unwrap_or_else(|e| panic!("{e}")))
}

pub fn options() -> EngineOptions {
    options_with(Duration::from_millis(50), RUN_LIMIT)
}

/// Engine options with this strategy timer and run limit, no `.hgrm` files.
pub fn options_with(timer_interval: Duration, max_runtime: Duration) -> EngineOptions {
    EngineOptions {
        timer_interval: Some(timer_interval),
        max_runtime: Some(max_runtime),
        hgrm_dir: None,
    }
}

/// Runs order-cycle over `scenarios` and returns its report and the engine
/// summary.
pub fn run_cycle(
    sim: &Sim,
    symbol: &str,
    hedge: bool,
    scenarios: &[Scenario],
) -> (CycleReport, Result<EngineSummary, EngineError>) {
    let (tick, qty) = sim.size(symbol);
    let mut st = OrderCycleSettings::new(instrument(symbol), qty, tick);
    st.hedge = hedge;
    st.scenarios = scenarios.to_vec();
    let strategy = OrderCycle::new(st, Some(Box::new(sim.control.clone())));
    let report = strategy.report();
    let summary = Engine::start(sim.config(symbol, hedge), strategy, options())
        .and_then(|h| h.wait(RUN_LIMIT + Duration::from_secs(10)));
    let r = report
        .lock()
        .map(|r| r.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    (r, summary)
}

/// What the probe should send on the first book ticker.
#[derive(Debug, Clone, Copy)]
pub enum Spec {
    /// MARKET buy.
    MarketBuy(Quantity),
    /// LIMIT GTC buy 1 % under the bid (rests).
    RestingBuy(Quantity),
}

/// Side effects a test injects at fixed points (fault switches, ADL).
pub type Hook = Box<dyn FnMut() + Send>;

/// Everything a test strategy saw, shared with the test thread.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub sent: Vec<ClientOrderId>,
    pub submit_errors: Vec<String>,
    pub events: Vec<OrderEvent>,
    pub positions: Vec<PositionEvent>,
}

impl Seen {
    /// Fills (of our orders) in the order the strategy received them.
    pub fn fills(&self) -> Vec<Fill> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                OrderEventKind::Filled(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    /// How many orders the venue accepted.
    pub fn accepted(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, OrderEventKind::Accepted))
            .count()
    }

    /// The event kinds of `id`, in order.
    pub fn kinds_of(&self, id: ClientOrderId) -> Vec<OrderEventKind> {
        self.events
            .iter()
            .filter(|e| e.client_id == id)
            .map(|e| e.kind)
            .collect()
    }

    /// Records what a submit came to: the client id sent, or the error.
    pub fn record_submit(&mut self, r: Result<ClientOrderId, String>) {
        match r {
            Ok(id) => self.sent.push(id),
            Err(e) => self.submit_errors.push(e),
        }
    }
}

/// Builds-then-submits `order` and records the outcome in `seen_`: every test
/// strategy sends orders this way.
pub fn submit_recorded<C: Context>(
    ctx: &mut C,
    seen_: &Arc<Mutex<Seen>>,
    order: Result<Order, OrderError>,
) {
    let r = order
        .map_err(|e| e.to_string())
        .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()));
    seen(seen_).record_submit(r);
}

/// `p` times `pct` (e.g. "0.99"), floored to the tick; `p` itself when that
/// cannot be computed.
pub fn scaled(p: Decimal, pct: &str, tick: Price) -> Decimal {
    p.checked_mul(pct.parse().unwrap_or_default(), Rounding::Floor)
        .and_then(|x| x.round_to_step(tick.value(), Rounding::Floor).ok())
        .unwrap_or(p)
}

/// A scripted strategy: on the first ticker run `before`, then send `specs`;
/// run `after_fill` once on the first fill. Records everything.
pub struct Probe {
    pub instrument: InstrumentId,
    pub tick: Price,
    pub specs: Vec<Spec>,
    pub before: Option<Hook>,
    pub after_fill: Option<Hook>,
    pub seen: Arc<Mutex<Seen>>,
    started: bool,
}

impl Probe {
    pub fn new(instrument: InstrumentId, tick: Price, specs: Vec<Spec>) -> Probe {
        Probe {
            instrument,
            tick,
            specs,
            before: None,
            after_fill: None,
            seen: Arc::new(Mutex::new(Seen::default())),
            started: false,
        }
    }
}

/// The shared record, even after a strategy thread panicked holding it.
pub fn seen(s: &Arc<Mutex<Seen>>) -> MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl Strategy for Probe {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.started || t.bid_price.raw() <= 0 {
            return;
        }
        self.started = true;
        if let Some(h) = self.before.as_mut() {
            h();
        }
        for spec in self.specs.clone() {
            let order = match spec {
                Spec::MarketBuy(q) => {
                    ctx.orders()
                        .market(self.instrument, Side::Buy, q, Default::default())
                }
                Spec::RestingBuy(q) => {
                    let px = Price(scaled(t.bid_price.value(), "0.99", self.tick));
                    ctx.orders().limit(
                        self.instrument,
                        Side::Buy,
                        q,
                        px,
                        TimeInForce::Gtc,
                        Default::default(),
                    )
                }
            };
            submit_recorded(ctx, &self.seen, order);
        }
    }

    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, ev: &OrderEvent) {
        let is_fill = matches!(ev.kind, OrderEventKind::Filled(_));
        seen(&self.seen).events.push(*ev);
        if is_fill && let Some(mut h) = self.after_fill.take() {
            h();
        }
    }

    fn on_position<C: Context>(&mut self, _ctx: &mut C, ev: &PositionEvent) {
        seen(&self.seen).positions.push(*ev);
    }
}

/// Polls `seen` until `pred` holds or `limit` passes (10 ms steps).
pub fn wait_until(
    seen_: &Arc<Mutex<Seen>>,
    limit: Duration,
    mut pred: impl FnMut(&Seen) -> bool,
) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if pred(&seen(seen_)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    pred(&seen(seen_))
}

/// Starts the engine with a probe; panics with the engine's message if it
/// cannot start.
pub fn start_probe(config: Config, probe: Probe) -> EngineHandle {
    start_with(config, probe, options())
}

/// Starts the engine with any test strategy; panics with the engine's
/// message if it cannot start.
pub fn start_with<S: Strategy + Send + 'static>(
    config: Config,
    strategy: S,
    options: EngineOptions,
) -> EngineHandle {
    Engine::start(config, strategy, options).unwrap_or_else(|e| panic!("engine start: {e}"))
}

/// The final event kinds of `id`, in order.
pub fn kinds_of(s: &Seen, id: ClientOrderId) -> Vec<OrderEventKind> {
    s.kinds_of(id)
}

/// True when some summary event line mentions `what`: how these tests check
/// that the engine took a particular path (a resend, a fallback, a query).
pub fn noted(summary: &EngineSummary, what: &str) -> bool {
    summary.events.iter().any(|e| e.contains(what))
}

/// True when `id` has a fill.
pub fn filled(s: &Seen, id: ClientOrderId) -> bool {
    kinds_of(s, id)
        .iter()
        .any(|k| matches!(k, OrderEventKind::Filled(_)))
}

/// True when `id` has a fill or was resolved as FILLED (by the query that
/// settles an unknown fate, which can come before the stream's fill).
pub fn filled_or_resolved_filled(s: &Seen, id: ClientOrderId) -> bool {
    kinds_of(s, id).iter().any(|k| {
        matches!(
            k,
            OrderEventKind::Filled(_)
                | OrderEventKind::Resolved {
                    state: OrderState::Filled,
                    ..
                }
        )
    })
}
