//! Conditional (algo) orders in the journal and under bad venue input:
//! - the algo service's ack (`algoId`) and the trigger handoff (the child's
//!   order id) are journaled, so a restarted engine knows the order was
//!   accepted and which order its fills belong to;
//! - an ALGO_UPDATE with an algo status the engine does not know is counted
//!   as bad input and settled by querying the algo order.
//!
//! Bounded waits throughout; loopback only.

mod support;

use binance_exec::engine::journal::{OrderState as JState, read_journal};
use binance_exec::engine::strategy::OrderOptions;
use binance_exec::engine::{BookTicker, Context, Engine, EngineHandle, Strategy};
use binance_exec::model::{
    ClientOrderId, Decimal, InstrumentId, OrderEvent, OrderEventKind, OrderState, OrderStatus,
    PositionEvent, Price, Quantity, Rounding, Side,
};
use binance_exec::sim::transport::faults::FaultPatch;
use binance_exec::sim::venue::{Method, Params, Request};
use binance_exec::soak::compare::VenueView;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::{Sim, instrument, options};

const SYM: &str = "BTCUSDT";

#[derive(Debug, Default)]
struct Seen {
    stop: Option<ClientOrderId>,
    bid: Price,
    events: Vec<OrderEvent>,
    errors: Vec<String>,
}

fn lock(s: &Arc<Mutex<Seen>>) -> MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Buys with a MARKET order, then protects the position with a reduce-only
/// STOP_MARKET sell 2 % under the bid.
struct StopProbe {
    instrument: InstrumentId,
    tick: Price,
    qty: Quantity,
    entry: Option<ClientOrderId>,
    seen: Arc<Mutex<Seen>>,
}

impl Strategy for StopProbe {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.entry.is_some() || t.bid_price.raw() <= 0 {
            return;
        }
        lock(&self.seen).bid = t.bid_price;
        match ctx
            .orders()
            .market(
                self.instrument,
                Side::Buy,
                self.qty,
                OrderOptions::default(),
            )
            .map_err(|e| e.to_string())
            .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()))
        {
            Ok(id) => self.entry = Some(id),
            Err(e) => lock(&self.seen).errors.push(e),
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        lock(&self.seen).events.push(*ev);
        let entry_filled = matches!(ev.kind, OrderEventKind::Filled(_))
            && Some(ev.client_id) == self.entry
            && lock(&self.seen).stop.is_none();
        if !entry_filled {
            return;
        }
        let bid = lock(&self.seen).bid;
        let trigger = scaled(bid.value(), "0.98", self.tick);
        let r = ctx
            .orders()
            .stop_market(
                self.instrument,
                Side::Sell,
                self.qty,
                Price(trigger),
                OrderOptions::reduce_only(),
            )
            .map_err(|e| e.to_string())
            .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()));
        match r {
            Ok(id) => lock(&self.seen).stop = Some(id),
            Err(e) => lock(&self.seen).errors.push(e),
        }
    }

    fn on_position<C: Context>(&mut self, _ctx: &mut C, _ev: &PositionEvent) {}
}

fn scaled(p: Decimal, pct: &str, tick: Price) -> Decimal {
    p.checked_mul(pct.parse().unwrap_or_default(), Rounding::Floor)
        .and_then(|x| x.round_to_step(tick.value(), Rounding::Floor).ok())
        .unwrap_or(p)
}

fn wait(seen: &Arc<Mutex<Seen>>, limit: Duration, mut pred: impl FnMut(&Seen) -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if pred(&lock(seen)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    pred(&lock(seen))
}

fn stop_has(s: &Seen, f: impl Fn(&OrderEventKind) -> bool) -> bool {
    s.stop
        .is_some_and(|id| s.events.iter().any(|e| e.client_id == id && f(&e.kind)))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn start(config: binance_exec::config::Config, p: StopProbe) -> EngineHandle {
    Engine::start(config, p, options()).unwrap_or_else(|e| panic!("engine start: {e}"))
}

fn probe(sim: &Sim) -> (StopProbe, Arc<Mutex<Seen>>) {
    let (tick, qty) = sim.size(SYM);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let p = StopProbe {
        instrument: instrument(SYM),
        tick,
        qty,
        entry: None,
        seen: seen.clone(),
    };
    (p, seen)
}

/// Starts the engine with the probe and waits for its stop order's ack
/// (stops the engine and fails with its log when none comes).
fn start_until_accepted(
    sim: &Sim,
    config: binance_exec::config::Config,
) -> (binance_exec::engine::EngineHandle, Arc<Mutex<Seen>>) {
    let (p, seen) = probe(sim);
    let h = start(config, p);
    let accepted = wait(&seen, Duration::from_secs(10), |s| {
        stop_has(s, |k| matches!(k, OrderEventKind::Accepted))
    });
    if !accepted {
        let sum = h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
        panic!("stop order not accepted: {:?}", sum.events);
    }
    (h, seen)
}

#[test]
fn a_conditional_orders_ack_and_child_are_journaled() {
    let sim = Sim::start(false, |_| {});
    let dir = scratch("algo-journal");
    let journal = dir.join("engine.journal");
    let mut config = sim.config(SYM, false);
    config.engine.journal_path = Some(journal.clone());
    let (h, seen) = start_until_accepted(&sim, config);
    // The price falls through the trigger: the algo order hands over to a
    // MARKET child, which fills.
    let (bid, tick) = (lock(&seen).bid, sim.size(SYM).0);
    let down = scaled(bid.value(), "0.95", tick);
    sim.handle.with_venue_events(|v, now, out| {
        v.set_price(SYM, Some(down), None, now, out)
            .unwrap_or_else(|e| panic!("set_price: {e:?}"))
    });
    let filled = wait(&seen, Duration::from_secs(10), |s| {
        stop_has(s, |k| matches!(k, OrderEventKind::Filled(_)))
    });
    let sum = h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(filled, "stop order did not fill: {:#?}", sum.events);
    let stop = lock(&seen).stop.unwrap_or_else(|| panic!("no stop order"));

    let venue = VenueView::from_sim(&sim.handle, 0);
    let algo = venue
        .algos
        .iter()
        .find(|a| a.client_id == stop.as_str())
        .unwrap_or_else(|| panic!("the venue has no algo order {stop}"));
    let child = venue
        .orders
        .iter()
        .find(|o| o.algo_id == algo.algo_id)
        .unwrap_or_else(|| panic!("the algo order {} has no child", algo.algo_id));
    let replay = read_journal(&journal).unwrap_or_else(|e| panic!("journal: {e}"));
    let o = replay
        .orders
        .get(&stop)
        .copied()
        .unwrap_or_else(|| panic!("{stop} not journaled"));
    assert_eq!(o.algo_id, Some(algo.algo_id), "{o:?}");
    assert_eq!(o.child_id, Some(child.order_id), "{o:?}");
    assert_eq!(o.state, JState::Status(OrderStatus::Filled), "{o:?}");
    assert_eq!(o.filled, o.qty, "{o:?}");
    sim.handle.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_algo_status_is_counted_and_settled_by_a_query() {
    let sim = Sim::start(false, |_| {});
    let mut config = sim.config(SYM, false);
    // No sweep or silence pass: only the reaction to the update may settle it.
    config.engine.reconcile_interval = Duration::ZERO;
    config.engine.user_stream_silence = Duration::ZERO;
    let (h, seen) = start_until_accepted(&sim, config);
    let stop = lock(&seen).stop.unwrap_or_else(|| panic!("no stop order"));
    let patch: FaultPatch = sonic_rs::from_str(r#"{"unknown_algo_status_next_frames":1}"#)
        .unwrap_or_else(|e| panic!("patch: {e}"));
    sim.handle.set_faults(&patch);
    // The venue cancels the order on its own; its only notice is the
    // ALGO_UPDATE the fault gives an unknown status.
    let status = sim.handle.with_venue_events(|v, now, out| {
        let params = Params {
            pairs: vec![("clientAlgoId".into(), stop.as_str().into())],
        };
        let req = Request {
            method: Method::Delete,
            path: "/fapi/v1/algoOrder",
            params: &params,
            account: Some(0),
        };
        v.handle(&req, now, out).status
    });
    assert_eq!(status, 200);
    let settled = wait(&seen, Duration::from_secs(10), |s| {
        stop_has(s, |k| {
            matches!(
                k,
                OrderEventKind::Canceled
                    | OrderEventKind::Resolved {
                        state: OrderState::Canceled,
                        ..
                    }
            )
        })
    });
    let sum = h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    let b = sum.counters.bad_input;
    assert!(settled, "not settled: {b:?} {:#?}", sum.events);
    assert_eq!(b.unknown_enums, 1, "{b:?}");
    let order = sum
        .orders
        .iter()
        .find(|o| o.client_id == stop)
        .unwrap_or_else(|| panic!("{stop} not tracked"));
    assert_eq!(order.state, OrderState::Canceled, "{order:?}");
    sim.handle.shutdown();
}
