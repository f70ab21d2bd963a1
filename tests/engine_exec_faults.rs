//! Error handling of the execution thread (FR-004) against the simulator's
//! injectable faults: an order whose reply is lost is resolved by query and
//! never resubmitted; a 429 backs off and retries the same order. Bounded.

mod sim_config;

use std::time::Duration;

use binance_exec::config::Config;
use binance_exec::engine::strategy::{BookTicker, Context, OrderOptions, Strategy};
use binance_exec::engine::{Engine, EngineOptions, EngineSummary};
use binance_exec::model::ids::ClientOrderId;
use binance_exec::model::{OrderEvent, OrderEventKind, OrderState, Quantity, Side};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::faults::FaultPatch;
use binance_exec::sim::transport::{SimHandle, SimServer};

fn config(sim: &SimHandle) -> Config {
    sim_config::config_for(
        sim,
        "retry_delay_secs = 0.05\nretry_delay_max_secs = 0.5",
        "",
    )
}

/// One MARKET buy; stops once it is filled (by event or by resolution).
#[derive(Default)]
struct BuyOnce {
    id: Option<ClientOrderId>,
    saw_unknown: bool,
}

impl Strategy for BuyOnce {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.id.is_some() {
            return;
        }
        let q: Quantity = "0.01".parse().unwrap_or(Quantity::ZERO);
        if let Ok(o) = ctx
            .orders()
            .market(t.instrument, Side::Buy, q, OrderOptions::default())
        {
            self.id = ctx.submit(o).ok();
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, e: &OrderEvent) {
        if Some(e.client_id) != self.id {
            return;
        }
        match e.kind {
            OrderEventKind::StatusUnknown { .. } => self.saw_unknown = true,
            OrderEventKind::Filled(_)
            | OrderEventKind::Resolved {
                state: OrderState::Filled,
                ..
            } => ctx.request_stop(),
            _ => {}
        }
    }
}

/// Starts the engine on a paused market, then applies `patch` and lets the
/// market run: the fault hits the strategy's order, not a start-up call.
fn run_with(patch: FaultPatch) -> EngineSummary {
    let sim = SimServer::start(&SimSettings::default()).expect("simulator starts");
    sim.set_faults(&FaultPatch {
        market_paused: Some(true),
        ..FaultPatch::default()
    });
    let h = Engine::start(config(&sim), BuyOnce::default(), EngineOptions::default())
        .expect("engine starts");
    sim.set_faults(&FaultPatch {
        market_paused: Some(false),
        ..patch
    });
    h.wait(Duration::from_secs(20)).expect("run ends")
}

fn btc_position(s: &EngineSummary) -> String {
    s.positions
        .iter()
        .find(|p| p.symbol.as_str() == "BTCUSDT")
        .map(|p| p.amount.to_string())
        .unwrap_or_default()
}

#[test]
fn lost_reply_is_resolved_by_query_never_resubmitted() {
    let s = run_with(FaultPatch {
        unknown_placed_next: Some(1),
        ..FaultPatch::default()
    });
    let c = &s.counters;
    assert_eq!(c.submitted, 1, "{c:?}\n{:#?}", s.events);
    assert_eq!(c.unknown_resolved, 1, "{c:?}\n{:#?}", s.events);
    assert!(
        s.events.iter().any(|l| l.contains("fate unknown")),
        "{:#?}",
        s.events
    );
    // Exactly one order's worth of position: nothing was doubled.
    assert_eq!(btc_position(&s), "0.01", "{:#?}", s.positions);
}

#[test]
fn rate_limited_order_backs_off_and_is_retried_once() {
    let s = run_with(FaultPatch {
        too_many_next: Some(1),
        ..FaultPatch::default()
    });
    let c = &s.counters;
    assert_eq!(c.submitted, 1, "{c:?}");
    assert_eq!(c.rate_limit_backoffs, 1, "{c:?}\n{:#?}", s.events);
    assert!(c.retries >= 1, "{c:?}");
    assert_eq!(c.filled, 1, "{c:?}\n{:#?}", s.events);
    assert_eq!(btc_position(&s), "0.01");
}

#[test]
fn clock_skew_rejection_resyncs_and_retries_signed_again() {
    // The venue's clock jumps 10 s ahead after start-up: the first order is
    // refused with -1021, the engine re-measures the offset and re-signs.
    let s = run_with(FaultPatch {
        clock_skew_ms: Some(10_000),
        ..FaultPatch::default()
    });
    let c = &s.counters;
    assert!(
        s.events.iter().any(|l| l.contains("resyncing clock")),
        "{:#?}",
        s.events
    );
    assert!(
        s.events.iter().any(|l| l.contains("clock resynced")),
        "{:#?}",
        s.events
    );
    assert_eq!(c.filled, 1, "{c:?}\n{:#?}", s.events);
    assert_eq!(c.rejected, 0, "{c:?}");
}

/// Rests one LIMIT far below the market; once it is acknowledged, asks to
/// cancel it on every timer tick (as a draining strategy does) until the
/// venue confirms, then stops.
#[derive(Default)]
struct CancelInsistently {
    id: Option<ClientOrderId>,
    instrument: Option<binance_exec::model::ids::InstrumentId>,
    accepted: bool,
    cancel_calls: u32,
}

impl Strategy for CancelInsistently {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.id.is_some() {
            return;
        }
        let q: Quantity = "0.01".parse().unwrap_or(Quantity::ZERO);
        let px =
            binance_exec::model::Price::from_raw((t.bid_price.raw() / 2 / 10_000_000) * 10_000_000);
        if let Ok(o) = ctx.orders().limit(
            t.instrument,
            Side::Buy,
            q,
            px,
            binance_exec::model::TimeInForce::Gtc,
            OrderOptions::default(),
        ) {
            self.id = ctx.submit(o).ok();
            self.instrument = Some(t.instrument);
        }
    }

    fn on_timer<C: Context>(&mut self, ctx: &mut C, _timer_id: u64, _now_ns: u64) {
        if let (true, Some(id), Some(i)) = (self.accepted, self.id, self.instrument)
            && self.cancel_calls < 200
        {
            self.cancel_calls += 1;
            let _ = ctx.cancel(i, id);
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, e: &OrderEvent) {
        if Some(e.client_id) != self.id {
            return;
        }
        match e.kind {
            OrderEventKind::Accepted => self.accepted = true,
            OrderEventKind::Canceled => ctx.request_stop(),
            _ => {}
        }
    }
}

#[test]
fn repeated_cancels_of_a_pending_cancel_are_coalesced() {
    // Replies and stream events take 400 ms and the strategy asks every 20 ms: one cancel goes
    // to the venue, the repeats wait for its answer instead of spending
    // rate limit (and drawing -2011s once the first one has worked).
    let sim = SimServer::start(&SimSettings::default()).expect("simulator starts");
    let opts = EngineOptions {
        timer_interval: Some(Duration::from_millis(20)),
        ..EngineOptions::default()
    };
    let h = Engine::start(config(&sim), CancelInsistently::default(), opts).expect("engine starts");
    sim.set_faults(&FaultPatch {
        response_delay_ms: Some(400),
        stream_delay_ms: Some(400),
        ..FaultPatch::default()
    });
    let s = h.wait(Duration::from_secs(20)).expect("run ends");
    let c = &s.counters;
    assert_eq!(c.canceled, 1, "{c:?}\n{:#?}", s.events);
    assert!(c.cancels_coalesced >= 5, "{c:?}\n{:#?}", s.events);
    assert!(
        !s.events.iter().any(|l| l.contains("cancel answered")),
        "a repeated cancel reached the venue: {:#?}",
        s.events
    );
    assert_eq!(c.rejected, 0, "{c:?}");
}
