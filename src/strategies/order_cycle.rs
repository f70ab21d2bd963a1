//! `order-cycle`: every order type through its full venue lifecycle, one
//! scenario after another, with a verdict per scenario.
//!
//! Why a strategy and not a test: the same walk is the acceptance check of a
//! new venue connection (simulator, testnet, mainnet) — it proves that what
//! the venue does with each order type (fill, rest, reject with -5022/-5021,
//! amend, trigger) reaches the strategy as the protocol says it should, and
//! it measures submit→ack while doing so.
//!
//! Scenario order keeps the position bounded (it never exceeds one order's
//! quantity): MARKET buy, crossing LIMIT sell, IOC buy, STOP_MARKET sell,
//! STOP buy, TAKE_PROFIT_MARKET sell, TRAILING_STOP_MARKET buy, and a
//! reduce-only close of whatever is left. In hedge mode every leg is on the
//! LONG side (sells close it, so they are implicitly reduce-only).
//!
//! The strategy keeps a human-readable trace per scenario; that allocates,
//! which is fine for an acceptance run and why this is not a template for a
//! hot-path strategy (see [`super::maker`] for that shape).

use super::{PriceNudge, offset_bps};
use crate::engine::OrderOptions;
use crate::engine::{BookTicker, Context, Strategy};
use crate::model::{
    ClientOrderId, Decimal, InstrumentId, Order, OrderError, OrderEvent, OrderEventKind,
    PositionSide, Price, Quantity, Rounding, Side, TimeInForce,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Venue code for a post-only order that would take (GTX crossing).
pub const CODE_GTX_WOULD_CROSS: i32 = -5022;
/// Venue code for a FOK order that cannot fill completely at once.
pub const CODE_FOK_UNFILLABLE: i32 = -5021;

/// How long to wait for a fresh book before asking the venue for one.
const WAKE_AFTER_NS: u64 = 300_000_000;

/// One step of the walk: an order type and the lifecycle it must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// MARKET buy → FILLED.
    Market,
    /// LIMIT GTC far from the book → NEW, then our cancel → CANCELED.
    LimitRestCancel,
    /// LIMIT sell through the bid → FILLED.
    LimitCross,
    /// Post-only (GTX) far from the book → NEW, then cancel → CANCELED.
    PostOnlyRest,
    /// Post-only through the ask → rejected -5022, nothing live.
    PostOnlyCross,
    /// IOC buy through the ask → FILLED (or EXPIRED after a partial fill).
    Ioc,
    /// FOK buy below the book → rejected -5021.
    FokUnfillable,
    /// LIMIT rests, price modified → AMENDMENT, then cancel.
    Modify,
    /// STOP_MARKET sell (algo) → triggered by a falling price → FILLED.
    StopMarket,
    /// STOP (stop-limit) buy (algo) → triggered by a rising price → FILLED.
    StopLimit,
    /// TAKE_PROFIT_MARKET sell (algo) → triggered by a rising price → FILLED.
    TakeProfitMarket,
    /// TRAILING_STOP_MARKET buy (algo) → activated, then triggered by the
    /// rebound → FILLED.
    TrailingStop,
    /// Reduce-only MARKET that flattens the position → FILLED.
    ReduceOnlyClose,
}

impl Scenario {
    /// The whole walk, in the order that keeps the position bounded.
    pub const ALL: [Scenario; 13] = [
        Scenario::Market,
        Scenario::LimitRestCancel,
        Scenario::LimitCross,
        Scenario::PostOnlyRest,
        Scenario::PostOnlyCross,
        Scenario::Ioc,
        Scenario::FokUnfillable,
        Scenario::Modify,
        Scenario::StopMarket,
        Scenario::StopLimit,
        Scenario::TakeProfitMarket,
        Scenario::TrailingStop,
        Scenario::ReduceOnlyClose,
    ];

    /// Short name for tables and `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Market => "market",
            Scenario::LimitRestCancel => "limit-rest-cancel",
            Scenario::LimitCross => "limit-cross",
            Scenario::PostOnlyRest => "post-only-rest",
            Scenario::PostOnlyCross => "post-only-cross",
            Scenario::Ioc => "ioc",
            Scenario::FokUnfillable => "fok-unfillable",
            Scenario::Modify => "modify",
            Scenario::StopMarket => "stop-market",
            Scenario::StopLimit => "stop-limit",
            Scenario::TakeProfitMarket => "take-profit-market",
            Scenario::TrailingStop => "trailing-stop",
            Scenario::ReduceOnlyClose => "reduce-only-close",
        }
    }

    /// The order as the venue would name it.
    pub fn order_type(self) -> &'static str {
        match self {
            Scenario::Market => "MARKET BUY",
            Scenario::LimitRestCancel => "LIMIT GTC BUY",
            Scenario::LimitCross => "LIMIT GTC SELL",
            Scenario::PostOnlyRest | Scenario::PostOnlyCross => "LIMIT GTX BUY",
            Scenario::Ioc => "LIMIT IOC BUY",
            Scenario::FokUnfillable => "LIMIT FOK BUY",
            Scenario::Modify => "LIMIT GTC BUY",
            Scenario::StopMarket => "STOP_MARKET SELL",
            Scenario::StopLimit => "STOP BUY",
            Scenario::TakeProfitMarket => "TAKE_PROFIT_MARKET SELL",
            Scenario::TrailingStop => "TRAILING_STOP_MARKET BUY",
            Scenario::ReduceOnlyClose => "MARKET SELL reduce-only",
        }
    }

    /// What the protocol says must happen.
    pub fn expected(self) -> &'static str {
        match self {
            Scenario::Market | Scenario::LimitCross | Scenario::ReduceOnlyClose => "FILLED",
            Scenario::LimitRestCancel | Scenario::PostOnlyRest => "NEW → CANCELED",
            Scenario::PostOnlyCross => "REJECTED -5022",
            Scenario::Ioc => "FILLED (or EXPIRED after fills)",
            Scenario::FokUnfillable => "REJECTED -5021",
            Scenario::Modify => "NEW → AMENDMENT → CANCELED",
            Scenario::StopMarket
            | Scenario::StopLimit
            | Scenario::TakeProfitMarket
            | Scenario::TrailingStop => "NEW → TRIGGERED → FILLED",
        }
    }

    /// Parses a name as printed by [`Scenario::name`].
    pub fn from_name(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|sc| sc.name() == s)
    }

    fn is_conditional(self) -> bool {
        matches!(
            self,
            Scenario::StopMarket
                | Scenario::StopLimit
                | Scenario::TakeProfitMarket
                | Scenario::TrailingStop
        )
    }
}

/// Knobs of the walk. Distances are in basis points of the touch so one
/// setting fits a 60 000 USDT and a 0.15 USDT contract alike.
#[derive(Debug, Clone)]
pub struct OrderCycleSettings {
    /// The instrument to trade.
    pub instrument: InstrumentId,
    /// Quantity of every order (must clear minQty and MIN_NOTIONAL).
    pub quantity: Quantity,
    /// Tick size (PRICE_FILTER), so every price is on the grid.
    pub tick: Price,
    /// Trade the LONG leg of a hedge-mode account instead of BOTH.
    pub hedge: bool,
    /// Distance of resting orders from the touch (100 = 1 %: far enough not
    /// to fill, inside PERCENT_PRICE).
    pub rest_bps: i64,
    /// How far through the touch crossing orders are priced.
    pub cross_bps: i64,
    /// Distance of trigger levels beyond the touch, and of each nudge past
    /// the trigger.
    pub trigger_bps: i64,
    /// Trailing stop callback rate in percent (venue range 0.1–10).
    pub trailing_callback: Decimal,
    /// Longest a scenario may take before it is recorded as a timeout.
    pub scenario_timeout: Duration,
    /// The scenarios to run, in order (default: [`Scenario::ALL`]).
    pub scenarios: Vec<Scenario>,
}

impl OrderCycleSettings {
    /// Defaults that suit the simulator's BTCUSDT-like contracts; callers set
    /// `quantity` and `tick` for their instrument.
    pub fn new(instrument: InstrumentId, quantity: Quantity, tick: Price) -> Self {
        OrderCycleSettings {
            instrument,
            quantity,
            tick,
            hedge: false,
            rest_bps: 100,
            cross_bps: 10,
            trigger_bps: 5,
            trailing_callback: Decimal::from_raw(Decimal::ONE.raw() / 10),
            scenario_timeout: Duration::from_secs(5),
            scenarios: Scenario::ALL.to_vec(),
        }
    }
}

/// The verdict of one scenario: one row of the demo's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub scenario: &'static str,
    /// Order type and side.
    pub order_type: &'static str,
    /// What the protocol says.
    pub expected: &'static str,
    /// What the strategy saw (event trace or the failure).
    pub observed: String,
    /// Whether observed matches expected.
    pub ok: bool,
    /// Submit → first venue answer (ack, reject or fill), µs.
    pub ack_latency_us: Option<u64>,
    /// Submit → scenario verdict, ms.
    pub duration_ms: u64,
}

/// Everything the walk found, shared with whoever started the engine (the
/// engine owns the strategy, so results travel through this handle).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    /// Instrument traded.
    pub instrument: String,
    /// One row per scenario, in run order.
    pub results: Vec<ScenarioResult>,
    /// Scenarios planned.
    pub planned: usize,
    /// True once every scenario has a verdict (or the run was stopped).
    pub finished: bool,
}

/// The handle the caller keeps to read results while / after the engine runs.
pub type SharedReport = Arc<Mutex<CycleReport>>;

impl CycleReport {
    /// True when every planned scenario ran and matched expectations.
    pub fn all_ok(&self) -> bool {
        self.results.len() == self.planned && self.results.iter().all(|r| r.ok)
    }

    /// The results as an aligned text table.
    pub fn table(&self) -> String {
        let mut rows: Vec<[String; 6]> = vec![[
            "scenario".into(),
            "order type".into(),
            "expected".into(),
            "observed".into(),
            "result".into(),
            "ack µs".into(),
        ]];
        for r in &self.results {
            rows.push([
                r.scenario.into(),
                r.order_type.into(),
                r.expected.into(),
                r.observed.clone(),
                if r.ok { "ok".into() } else { "FAIL".into() },
                r.ack_latency_us
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        let mut width = [0usize; 6];
        for row in &rows {
            for (w, cell) in width.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &rows {
            for (i, (w, cell)) in width.iter().zip(row.iter()).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                out.push_str(cell);
                if i + 1 < row.len() {
                    out.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            out.push('\n');
        }
        out
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        sonic_rs::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Where the running scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Order sent; waiting for the venue.
    Sent,
    /// Our cancel is in flight.
    Canceling,
    /// Our modify is in flight.
    Modifying,
    /// Conditional order is waiting for its trigger.
    Armed,
}

#[derive(Debug)]
struct Running {
    scenario: Scenario,
    client_id: ClientOrderId,
    started_ns: u64,
    ack_ns: Option<u64>,
    phase: Phase,
    trace: String,
    filled: Quantity,
    triggered: bool,
    amended: bool,
    /// Prices to nudge the market to once the conditional order is live.
    nudges: [Option<Price>; 2],
    /// Price a modify moves the order to.
    modify_to: Option<Price>,
}

impl Running {
    fn note(&mut self, s: &str) {
        if !self.trace.is_empty() {
            self.trace.push_str(" → ");
        }
        self.trace.push_str(s);
    }
}

/// The `order-cycle` strategy.
pub struct OrderCycle {
    settings: OrderCycleSettings,
    next: usize,
    running: Option<Running>,
    report: SharedReport,
    nudge: Option<Box<dyn PriceNudge>>,
    /// Books received before this time predate our last nudge: stale.
    fresh_after_ns: u64,
    /// When the strategy started waiting for a usable book.
    waiting_since_ns: Option<u64>,
    /// Net quantity our own fills moved (signed). The close is sized from it
    /// rather than from the position mirror, which may lag the last fill by
    /// one position event.
    net: Decimal,
    /// When the last wake was asked for.
    last_wake_ns: u64,
    done: bool,
}

impl std::fmt::Debug for OrderCycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderCycle")
            .field("settings", &self.settings)
            .field("next", &self.next)
            .field("running", &self.running)
            .field("has_nudge", &self.nudge.is_some())
            .finish()
    }
}

impl OrderCycle {
    /// A walk with `settings`; `nudge` moves the venue's price for the
    /// conditional scenarios (`None` against a real venue: wait for the
    /// market, within the scenario timeout).
    pub fn new(settings: OrderCycleSettings, nudge: Option<Box<dyn PriceNudge>>) -> Self {
        let report = CycleReport {
            instrument: settings.instrument.to_string(),
            planned: settings.scenarios.len(),
            ..CycleReport::default()
        };
        OrderCycle {
            settings,
            next: 0,
            running: None,
            report: Arc::new(Mutex::new(report)),
            nudge,
            fresh_after_ns: 0,
            waiting_since_ns: None,
            net: Decimal::ZERO,
            last_wake_ns: 0,
            done: false,
        }
    }

    /// The results handle; keep a clone before handing the strategy to the
    /// engine.
    pub fn report(&self) -> SharedReport {
        self.report.clone()
    }

    fn opts(&self, reduce: bool) -> OrderOptions {
        if self.settings.hedge {
            OrderOptions::hedge(PositionSide::Long)
        } else if reduce {
            OrderOptions::reduce_only()
        } else {
            OrderOptions::default()
        }
    }

    fn record(&mut self, run: Running, ok: bool, now_ns: u64, observed: Option<String>) {
        let result = ScenarioResult {
            scenario: run.scenario.name(),
            order_type: run.scenario.order_type(),
            expected: run.scenario.expected(),
            observed: observed.unwrap_or(run.trace),
            ok,
            ack_latency_us: run.ack_ns.map(|a| a.saturating_sub(run.started_ns) / 1_000),
            duration_ms: now_ns.saturating_sub(run.started_ns) / 1_000_000,
        };
        lock(&self.report).results.push(result);
    }

    fn record_unstarted(&mut self, scenario: Scenario, why: String) {
        lock(&self.report).results.push(ScenarioResult {
            scenario: scenario.name(),
            order_type: scenario.order_type(),
            expected: scenario.expected(),
            observed: why,
            ok: false,
            ack_latency_us: None,
            duration_ms: 0,
        });
    }

    /// Moves the walk forward: times out the running scenario, or starts the
    /// next one when a fresh book is available. Called from every callback.
    fn pump<C: Context>(&mut self, ctx: &mut C) {
        if self.done {
            return;
        }
        let now = ctx.now();
        let timeout_ns =
            u64::try_from(self.settings.scenario_timeout.as_nanos()).unwrap_or(u64::MAX);
        if let Some(run) = &self.running {
            if now.saturating_sub(run.started_ns) > timeout_ns {
                if let Some(mut run) = self.running.take() {
                    // Nothing may stay live behind a timed-out scenario.
                    let _ = ctx.cancel_all(self.settings.instrument);
                    run.note("timeout");
                    self.record(run, false, now, None);
                }
            } else {
                return;
            }
        }
        let Some(&scenario) = self.settings.scenarios.get(self.next) else {
            self.finish(ctx);
            return;
        };
        let book = ctx
            .book(&self.settings.instrument)
            .filter(|b| b.ts_recv_ns > self.fresh_after_ns && b.bid_price.raw() > 0);
        let Some(book) = book else {
            let since = *self.waiting_since_ns.get_or_insert(now);
            self.wake_market(now, since);
            if now.saturating_sub(since) > timeout_ns {
                self.next += 1;
                self.waiting_since_ns = None;
                self.record_unstarted(scenario, "no fresh book ticker before the timeout".into());
            }
            return;
        };
        self.waiting_since_ns = None;
        self.next += 1;
        self.start(ctx, scenario, &book);
    }

    fn start<C: Context>(&mut self, ctx: &mut C, scenario: Scenario, book: &BookTicker) {
        let started_ns = ctx.now();
        let built = self.build(ctx, scenario, book);
        let (order, nudges, modify_to) = match built {
            Ok(Some(b)) => b,
            Ok(None) => {
                self.record_unstarted(
                    scenario,
                    "no position to close (an earlier scenario did not fill)".into(),
                );
                return;
            }
            Err(e) => {
                self.record_unstarted(scenario, format!("could not build the order: {e}"));
                return;
            }
        };
        match ctx.submit(order) {
            Ok(client_id) => {
                self.running = Some(Running {
                    scenario,
                    client_id,
                    started_ns,
                    ack_ns: None,
                    phase: Phase::Sent,
                    trace: String::new(),
                    filled: Quantity::ZERO,
                    triggered: false,
                    amended: false,
                    nudges,
                    modify_to,
                });
            }
            Err(e) => self.record_unstarted(scenario, format!("not sent: {e}")),
        }
    }

    /// The scenario's order, the nudge targets of conditional orders and the
    /// modify target. `Ok(None)`: nothing to do (flat before the close).
    #[allow(clippy::type_complexity)]
    fn build<C: Context>(
        &self,
        ctx: &mut C,
        scenario: Scenario,
        book: &BookTicker,
    ) -> Result<Option<(Order, [Option<Price>; 2], Option<Price>)>, OrderError> {
        let s = &self.settings;
        let (inst, q, tick) = (s.instrument, s.quantity, s.tick);
        let bad = OrderError::Invalid("price out of range");
        let below = |p: Price, bps: i64| offset_bps(p, -bps, tick, Rounding::Floor).ok_or(bad);
        let above = |p: Price, bps: i64| offset_bps(p, bps, tick, Rounding::Ceil).ok_or(bad);
        let (bid, ask) = (book.bid_price, book.ask_price);
        let o = self.opts(false);
        let f = ctx.orders();
        let none = [None, None];
        let order = match scenario {
            Scenario::Market => f.market(inst, Side::Buy, q, o)?,
            Scenario::LimitRestCancel => f.limit(
                inst,
                Side::Buy,
                q,
                below(bid, s.rest_bps)?,
                TimeInForce::Gtc,
                o,
            )?,
            Scenario::LimitCross => f.limit(
                inst,
                Side::Sell,
                q,
                below(bid, s.cross_bps)?,
                TimeInForce::Gtc,
                o,
            )?,
            Scenario::PostOnlyRest => {
                f.post_only(inst, Side::Buy, q, below(bid, s.rest_bps)?, o)?
            }
            Scenario::PostOnlyCross => {
                f.post_only(inst, Side::Buy, q, above(ask, s.cross_bps)?, o)?
            }
            Scenario::Ioc => f.limit(
                inst,
                Side::Buy,
                q,
                above(ask, s.cross_bps)?,
                TimeInForce::Ioc,
                o,
            )?,
            Scenario::FokUnfillable => f.limit(
                inst,
                Side::Buy,
                q,
                below(bid, s.rest_bps)?,
                TimeInForce::Fok,
                o,
            )?,
            Scenario::Modify => {
                let px = below(bid, s.rest_bps)?;
                let to = below(px, s.trigger_bps.max(1))?;
                let order = f.limit(inst, Side::Buy, q, px, TimeInForce::Gtc, o)?;
                return Ok(Some((order, none, Some(to))));
            }
            Scenario::StopMarket => {
                let trigger = below(bid, s.trigger_bps)?;
                let order = f.stop_market(inst, Side::Sell, q, trigger, self.opts(false))?;
                return Ok(Some((
                    order,
                    [Some(below(trigger, s.trigger_bps)?), None],
                    None,
                )));
            }
            Scenario::StopLimit => {
                let trigger = above(ask, s.trigger_bps)?;
                let limit = above(trigger, s.cross_bps)?;
                let order = f.stop_limit(inst, Side::Buy, q, limit, trigger, o)?;
                return Ok(Some((
                    order,
                    [Some(above(trigger, s.trigger_bps)?), None],
                    None,
                )));
            }
            Scenario::TakeProfitMarket => {
                let trigger = above(ask, s.trigger_bps)?;
                let order = f.take_profit_market(inst, Side::Sell, q, trigger, o)?;
                return Ok(Some((
                    order,
                    [Some(above(trigger, s.trigger_bps)?), None],
                    None,
                )));
            }
            Scenario::TrailingStop => {
                let activate = below(bid, s.trigger_bps)?;
                let low = below(activate, s.trigger_bps)?;
                // Rebound past the callback: rate is in percent, 1 % = 100 bps.
                let cb_bps = s
                    .trailing_callback
                    .checked_mul(Decimal::from_raw(100 * Decimal::ONE.raw()), Rounding::Ceil)
                    .map(|d| d.raw() / Decimal::ONE.raw() + 1)
                    .ok_or(bad)?;
                let high = above(low, cb_bps + s.trigger_bps)?;
                let order = f.trailing_stop_market(
                    inst,
                    Side::Buy,
                    q,
                    s.trailing_callback,
                    Some(activate),
                    o,
                )?;
                return Ok(Some((order, [Some(low), Some(high)], None)));
            }
            Scenario::ReduceOnlyClose => {
                let amount = self.net;
                if amount.is_zero() {
                    return Ok(None);
                }
                let close_side = if amount.is_positive() {
                    Side::Sell
                } else {
                    Side::Buy
                };
                let o = self.opts(true);
                ctx.orders()
                    .market(inst, close_side, Quantity(amount.abs()), o)?
            }
        };
        Ok(Some((order, none, None)))
    }

    fn finish<C: Context>(&mut self, ctx: &mut C) {
        if self.done {
            return;
        }
        self.done = true;
        lock(&self.report).finished = true;
        // The walk is over: end the run instead of waiting for the operator.
        ctx.request_stop();
    }

    /// After [`WAKE_AFTER_NS`] without a usable book, asks the nudger (if
    /// any) to make the venue publish one, at most once per interval.
    fn wake_market(&mut self, now: u64, since: u64) {
        let waited = now.saturating_sub(since);
        if waited < WAKE_AFTER_NS || now.saturating_sub(self.last_wake_ns) < WAKE_AFTER_NS {
            return;
        }
        self.last_wake_ns = now;
        if let Some(n) = self.nudge.as_mut() {
            let symbol = self.settings.instrument.symbol;
            // A failed wake only delays the scenario; its timeout reports it.
            let _ = n.wake(symbol.as_str(), self.settings.tick);
        }
    }

    fn nudge_market(&mut self, now_ns: u64) {
        let Some(run) = self.running.as_mut() else {
            return;
        };
        let targets = std::mem::take(&mut run.nudges);
        let Some(n) = self.nudge.as_mut() else {
            return;
        };
        for target in targets.into_iter().flatten() {
            let symbol = self.settings.instrument.symbol;
            if let Err(e) = n.nudge(symbol.as_str(), target) {
                run.note(&format!("nudge failed: {e}"));
            } else {
                let mut t = String::new();
                let _ = write!(t, "price→{target}");
                run.note(&t);
            }
        }
        self.fresh_after_ns = now_ns;
    }
}

impl Strategy for OrderCycle {
    fn on_start<C: Context>(&mut self, ctx: &mut C) {
        self.pump(ctx);
    }

    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, _ticker: &BookTicker) {
        self.pump(ctx);
    }

    fn on_timer<C: Context>(&mut self, ctx: &mut C, _timer_id: u64, _now_ns: u64) {
        self.pump(ctx);
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        let Some(run) = self.running.as_mut() else {
            return;
        };
        if ev.client_id != run.client_id {
            return;
        }
        let venue_answer = !matches!(
            ev.kind,
            OrderEventKind::Submitted
                | OrderEventKind::PendingCancel
                | OrderEventKind::PendingUpdate
        );
        if venue_answer && run.ack_ns.is_none() {
            run.ack_ns = Some(ev.ts_local_ns);
        }
        let inst = self.settings.instrument;
        // The verdict: Some(ok) ends the scenario.
        let mut verdict: Option<bool> = None;
        match ev.kind {
            OrderEventKind::Submitted
            | OrderEventKind::PendingCancel
            | OrderEventKind::PendingUpdate
            | OrderEventKind::FillDetails(_) => {}
            OrderEventKind::Accepted => {
                run.note("NEW");
                match run.scenario {
                    Scenario::LimitRestCancel | Scenario::PostOnlyRest => {
                        run.phase = Phase::Canceling;
                        if let Err(e) = ctx.cancel(inst, run.client_id) {
                            run.note(&format!("cancel not sent: {e}"));
                            verdict = Some(false);
                        }
                    }
                    Scenario::Modify => {
                        if let Some(to) = run.modify_to.take() {
                            run.phase = Phase::Modifying;
                            if let Err(e) =
                                ctx.modify(inst, run.client_id, to, self.settings.quantity)
                            {
                                run.note(&format!("modify not sent: {e}"));
                                verdict = Some(false);
                            }
                        }
                    }
                    sc if sc.is_conditional() => run.phase = Phase::Armed,
                    _ => {}
                }
            }
            OrderEventKind::Amended { price, .. } => {
                run.note(&format!("AMENDMENT {price}"));
                run.amended = true;
                if run.scenario == Scenario::Modify {
                    run.phase = Phase::Canceling;
                    if let Err(e) = ctx.cancel(inst, run.client_id) {
                        run.note(&format!("cancel not sent: {e}"));
                        verdict = Some(false);
                    }
                }
            }
            OrderEventKind::ModifyRejected { code, reason } => {
                run.note(&format!("MODIFY REJECTED {code} {reason}"));
                verdict = Some(false);
            }
            OrderEventKind::CancelRejected { code, reason } => {
                run.note(&format!("CANCEL REJECTED {code} {reason}"));
                verdict = Some(false);
            }
            OrderEventKind::Triggered { .. } => {
                run.note("TRIGGERED");
                run.triggered = true;
            }
            OrderEventKind::Filled(fill) | OrderEventKind::ExternalFill(fill) => {
                self.net = self
                    .net
                    .checked_add(fill.signed_quantity())
                    .unwrap_or(self.net);
                run.filled = Quantity(
                    run.filled
                        .value()
                        .checked_add(fill.quantity.value())
                        .unwrap_or(run.filled.value()),
                );
                if run.filled.value() >= self.settings.quantity.value()
                    || run.scenario == Scenario::ReduceOnlyClose
                {
                    run.note("FILLED");
                } else {
                    run.note("PARTIALLY_FILLED");
                }
            }
            OrderEventKind::Canceled => {
                run.note("CANCELED");
                verdict = Some(match run.scenario {
                    Scenario::LimitRestCancel | Scenario::PostOnlyRest => {
                        run.phase == Phase::Canceling
                    }
                    Scenario::Modify => run.amended && run.phase == Phase::Canceling,
                    _ => false,
                });
            }
            OrderEventKind::Expired { reason } => {
                run.note(&format!("EXPIRED er={reason}"));
                verdict = Some(run.scenario == Scenario::Ioc && !run.filled.is_zero());
            }
            OrderEventKind::Rejected { code, reason } => {
                let expected = matches!(
                    (run.scenario, code),
                    (Scenario::PostOnlyCross, CODE_GTX_WOULD_CROSS)
                        | (Scenario::FokUnfillable, CODE_FOK_UNFILLABLE)
                );
                // The venue's text only helps when the code is a surprise.
                if expected {
                    run.note(&format!("REJECTED {code}"));
                } else {
                    run.note(&format!("REJECTED {code} {reason}"));
                }
                verdict = Some(expected);
            }
            OrderEventKind::StatusUnknown { code } => {
                run.note(&format!("UNKNOWN {code}"));
            }
            OrderEventKind::Resolved { state, .. } => {
                run.note(&format!("resolved {state:?}"));
            }
        }
        // A full fill ends every scenario that is meant to fill.
        if verdict.is_none()
            && run.scenario != Scenario::ReduceOnlyClose
            && run.filled.value() >= self.settings.quantity.value()
        {
            let filled_ok = match run.scenario {
                Scenario::Market | Scenario::LimitCross | Scenario::Ioc => true,
                sc if sc.is_conditional() => run.triggered,
                _ => false,
            };
            verdict = Some(filled_ok);
        }
        if verdict.is_none()
            && run.scenario == Scenario::ReduceOnlyClose
            && !run.filled.is_zero()
            && self.net.is_zero()
        {
            // The close's size is the position, not `quantity`.
            verdict = Some(true);
        }
        let arm = run.phase == Phase::Armed && run.nudges.iter().any(Option::is_some);
        let now = ctx.now();
        if arm {
            self.nudge_market(now);
        }
        if let Some(ok) = verdict
            && let Some(run) = self.running.take()
        {
            self.record(run, ok, now, None);
            self.pump(ctx);
        }
    }

    fn on_stop<C: Context>(&mut self, ctx: &mut C) {
        let now = ctx.now();
        if let Some(mut run) = self.running.take() {
            run.note("stopped before completion");
            self.record(run, false, now, None);
        }
        while let Some(&sc) = self.settings.scenarios.get(self.next) {
            self.next += 1;
            self.record_unstarted(sc, "not run (engine stopped)".into());
        }
        let _ = ctx.cancel_all(self.settings.instrument);
        self.done = true;
        lock(&self.report).finished = true;
    }
}

/// Locks the shared report; a panicked holder left plain data behind, so the
/// poison is ignored rather than losing the results.
fn lock(r: &SharedReport) -> std::sync::MutexGuard<'_, CycleReport> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}
