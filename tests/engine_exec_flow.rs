//! The execution thread's order flow against the in-process simulator over
//! real loopback sockets: start-up, a MARKET fill, a resting LIMIT that is
//! cancelled, a local filter rejection, clean shutdown with a summary.
//! Every wait is bounded.

mod sim_config;

use std::time::Duration;

use binance_exec::config::Config;
use binance_exec::engine::strategy::{BookTicker, Context, OrderOptions, Strategy};
use binance_exec::engine::{Engine, EngineError, EngineOptions};
use binance_exec::latency::LatencyPath;
use binance_exec::model::ids::ClientOrderId;
use binance_exec::model::{
    OrderEvent, OrderEventKind, OrderState, Price, Quantity, Side, TimeInForce,
};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};

fn sim() -> SimHandle {
    SimServer::start(&SimSettings::default()).expect("simulator starts")
}

fn config(sim: &SimHandle, extra: &str) -> Config {
    sim_config::config_for(sim, extra, "")
}

/// Market buy, a far LIMIT that gets cancelled, and an off-step quantity.
#[derive(Default)]
struct Flow {
    started: bool,
    market: Option<ClientOrderId>,
    limit: Option<ClientOrderId>,
    bad: Option<ClientOrderId>,
    market_filled: bool,
    limit_canceled: bool,
    bad_code: Option<i32>,
}

impl Flow {
    fn maybe_done<C: Context>(&self, ctx: &mut C) {
        if self.market_filled && self.limit_canceled && self.bad_code.is_some() {
            ctx.request_stop();
        }
    }
}

impl Strategy for Flow {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.started {
            return;
        }
        self.started = true;
        let q: Quantity = "0.01".parse().unwrap_or(Quantity::ZERO);
        let d = OrderOptions::default();
        if let Ok(o) = ctx.orders().market(t.instrument, Side::Buy, q, d) {
            self.market = ctx.submit(o).ok();
        }
        // Far below the market: rests, then we cancel it on the ack.
        let px = Price::from_raw((t.bid_price.raw() / 2 / 10_000_000) * 10_000_000);
        if let Ok(o) = ctx
            .orders()
            .limit(t.instrument, Side::Buy, q, px, TimeInForce::Gtc, d)
        {
            self.limit = ctx.submit(o).ok();
        }
        let off_step: Quantity = "0.0105".parse().unwrap_or(Quantity::ZERO);
        if let Ok(o) = ctx.orders().market(t.instrument, Side::Buy, off_step, d) {
            self.bad = ctx.submit(o).ok();
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, e: &OrderEvent) {
        let id = Some(e.client_id);
        match e.kind {
            OrderEventKind::Filled(_) if id == self.market => self.market_filled = true,
            OrderEventKind::Accepted if id == self.limit => {
                let _ = ctx.cancel(e.instrument, e.client_id);
            }
            OrderEventKind::Canceled if id == self.limit => self.limit_canceled = true,
            OrderEventKind::Rejected { code, .. } if id == self.bad => self.bad_code = Some(code),
            _ => {}
        }
        self.maybe_done(ctx);
    }
}

#[test]
fn market_fill_limit_cancel_local_reject_and_summary() {
    let sim = sim();
    let cfg = config(&sim, "");
    let dir = std::env::temp_dir().join(format!("bx-exec-hgrm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let opts = EngineOptions {
        hgrm_dir: Some(dir.clone()),
        ..EngineOptions::default()
    };
    let h = Engine::start(cfg, Flow::default(), opts).expect("engine starts");
    let s = h
        .wait(Duration::from_secs(20))
        .expect("strategy stops the run");
    let hgrm = std::fs::read_to_string(dir.join("submit_to_ack.hgrm")).unwrap_or_default();
    assert!(
        hgrm.contains("Percentile"),
        "an .hgrm file per path: {hgrm}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let c = &s.counters;
    eprintln!("{}\n{c:?}\n{:#?}", s.latency, s.events);
    assert_eq!(
        c.submitted, 2,
        "the off-step order is never sent: {c:?}\n{:#?}",
        s.events
    );
    assert!(c.acked >= 1, "{c:?}");
    assert!(c.filled >= 1, "{c:?}");
    assert_eq!(c.canceled, 1, "{c:?}");
    assert_eq!(c.rejected, 1, "{c:?}");
    assert_eq!(c.rejected_by_code.len(), 1, "{c:?}");
    let filled = s
        .orders
        .iter()
        .filter(|o| o.state == OrderState::Filled)
        .count();
    let canceled = s
        .orders
        .iter()
        .filter(|o| o.state == OrderState::Canceled)
        .count();
    assert_eq!((filled, canceled), (1, 1), "{:#?}", s.orders);
    let long = s
        .positions
        .iter()
        .find(|p| p.symbol.as_str() == "BTCUSDT")
        .expect("a BTCUSDT position");
    assert_eq!(long.amount, "0.01".parse().unwrap());
    assert!(
        s.latency
            .histogram(LatencyPath::SubmitToAck)
            .is_some_and(|h| !h.is_empty())
    );
    assert!(
        s.latency
            .histogram(LatencyPath::StrategyToWire)
            .is_some_and(|h| h.len() >= 2)
    );
}

#[test]
fn unknown_instrument_fails_at_start_naming_it() {
    let sim = sim();
    let mut cfg = config(&sim, "");
    cfg.instrument_provider.load_ids = vec!["NOPEUSDT-PERP.BINANCE".parse().unwrap()];
    match Engine::start(cfg, Flow::default(), EngineOptions::default()) {
        Err(EngineError::InvalidSymbol(s)) => assert!(s.contains("NOPEUSDT"), "{s}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("started with an unlisted instrument"),
    }
}

#[test]
fn position_mode_mismatch_is_refused() {
    let sim = sim();
    let cfg = config(&sim, "position_mode = \"hedge\"");
    match Engine::start(cfg, Flow::default(), EngineOptions::default()) {
        Err(EngineError::PositionModeMismatch { configured, actual }) => {
            assert_eq!((configured, actual), ("hedge", "one_way"));
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("started despite a position mode mismatch"),
    }
}
