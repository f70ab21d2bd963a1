//! A stop that comes while a reconciliation is running still delivers what
//! that pass recovers to the strategy, before its `on_stop`.
//!
//! Regression for the CI soak's "fill … never delivered": a user-stream
//! reconnect near the end of the run started a pass that held a fill; the
//! pass concluded after the strategy had been told to stop, so the fill was
//! booked and journaled but reached no strategy. Here the venue fills every
//! resting order while the engine hears nothing, the user socket drops and
//! every REST reply is slowed, so the reconnect's pass is still running when
//! the stop comes. Bounded in time.

mod support;

use std::time::Duration;

use binance_exec::sim::transport::faults::FaultPatch;
use support::recover::*;

const ORDERS: usize = 3;

#[test]
fn fills_recovered_by_a_pass_running_at_stop_reach_the_strategy() {
    let sim = Sim::start(|_| {});
    let (tick, qty) = sim.size();
    let strategy = Rester::new(ORDERS, qty, tick);
    let s = strategy.seen.clone();
    let h = start(sim.config(), strategy);
    assert!(
        wait_until(&s, Duration::from_secs(20), |x| x.accepted() == ORDERS),
        "orders not acked: {:?}",
        seen(&s)
    );
    // The venue fills the resting orders; the engine hears nothing …
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let venue_trades = sim.venue_trade_ids();
    assert!(
        venue_trades.len() >= ORDERS,
        "venue filled the orders: {venue_trades:?}"
    );
    // … its user socket drops, and every REST reply now takes 300 ms, so the
    // reconnect's reconciliation is mid-way when the stop comes.
    sim.handle.set_faults(&FaultPatch {
        drop_ws: true,
        response_delay_ms: Some(300),
        ..FaultPatch::default()
    });
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        seen(&s).fills().is_empty(),
        "the pass finished before the stop; the test needs it running: {:?}",
        seen(&s).events
    );
    let summary = stop(h);
    let fills: Vec<i64> = seen(&s).fills().iter().map(|f| f.trade_id).collect();
    assert_eq!(
        fills, venue_trades,
        "every venue fill reaches the strategy before it stops\n{:#?}",
        summary.events
    );
}
