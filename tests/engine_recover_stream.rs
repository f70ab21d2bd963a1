//! Reconciliation after user-stream gaps, against the in-process simulator:
//! fills that happen while the engine hears nothing are recovered from
//! `userTrades` after the reconnect (or the new listenKey), reach the
//! strategy exactly once and in trade-id order, and the engine's position
//! matches the venue's. Bounded in time.

mod support;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use binance_exec::sim::transport::faults::FaultPatch;
use support::recover::*;

const ORDERS: usize = 4;

/// Starts the engine with `ORDERS` resting buys and waits for their acks.
fn rested(
    sim: &Sim,
) -> (
    binance_exec::engine::EngineHandle,
    std::sync::Arc<std::sync::Mutex<Seen>>,
    std::sync::Arc<Switches>,
) {
    rested_with(sim, sim.config())
}

/// As [`rested`], with live events held behind a gap pass for at most
/// `hold` (`engine.reconcile_hold_max_ms`).
fn rested_holding(
    sim: &Sim,
    hold: Duration,
) -> (
    binance_exec::engine::EngineHandle,
    std::sync::Arc<std::sync::Mutex<Seen>>,
    std::sync::Arc<Switches>,
) {
    let mut config = sim.config();
    config.engine.reconcile_hold_max = hold;
    rested_with(sim, config)
}

/// As [`rested`], with the test's own client config.
fn rested_with(
    sim: &Sim,
    config: binance_exec::config::Config,
) -> (
    binance_exec::engine::EngineHandle,
    std::sync::Arc<std::sync::Mutex<Seen>>,
    std::sync::Arc<Switches>,
) {
    let (tick, qty) = sim.size();
    let strategy = Rester::new(ORDERS, qty, tick);
    let s = strategy.seen.clone();
    let sw = strategy.switches.clone();
    let h = start(config, strategy);
    assert!(
        wait_until(&s, Duration::from_secs(20), |x| x.accepted() == ORDERS),
        "orders not acked: {:?}",
        seen(&s)
    );
    (h, s, sw)
}

fn assert_recovered_once_in_order(s: &Seen, venue_trades: &[i64]) {
    let fills = s.fills();
    let ids: Vec<i64> = fills.iter().map(|f| f.trade_id).collect();
    assert_eq!(
        ids.len(),
        venue_trades.len(),
        "every venue fill once: {ids:?} vs {venue_trades:?}"
    );
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicate fill: {ids:?}");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "trade-id order: {ids:?}"
    );
    assert_eq!(ids, venue_trades, "exactly the venue's trades");
    assert!(
        fills.iter().all(|f| f.recovered),
        "marked recovered: {fills:?}"
    );
}

#[test]
fn fills_missed_while_the_user_socket_was_down_are_recovered_once_in_order() {
    let sim = Sim::start(|_| {});
    let (h, s, _) = rested(&sim);
    let (tick, _) = sim.size();
    // The venue fills every resting order; the engine hears nothing …
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let venue_trades = sim.venue_trade_ids();
    assert!(
        venue_trades.len() >= ORDERS,
        "venue filled the orders: {venue_trades:?}"
    );
    // … and its user socket drops.
    sim.handle.set_faults(&FaultPatch {
        drop_ws: true,
        ..FaultPatch::default()
    });
    let n = venue_trades.len();
    assert!(
        wait_until(&s, Duration::from_secs(25), |x| x.fills().len() >= n),
        "fills not recovered: {:?}",
        seen(&s).events
    );
    // Nothing more arrives later (no duplicate from a late stream event).
    std::thread::sleep(Duration::from_millis(300));
    let summary = stop(h);
    let s = seen(&s).clone();
    assert_recovered_once_in_order(&s, &venue_trades);
    let c = &summary.counters;
    assert!(c.reconnects >= 1, "{c:?}");
    assert_eq!(c.recovered_fills, n as u64, "{c:?}\n{:#?}", summary.events);
    assert_eq!(
        engine_position(&summary),
        sim.venue_position(),
        "{:#?}",
        summary.events
    );
    // Positions the strategy was told end where the venue is.
    let last = s
        .positions
        .last()
        .map(|p| p.amount.to_string())
        .unwrap_or_default();
    assert_eq!(last, sim.venue_position());
}

#[test]
fn expired_listen_key_gets_a_new_key_socket_and_reconciliation() {
    let sim = Sim::start(|_| {});
    let (h, s, sw) = rested(&sim);
    let (tick, _) = sim.size();
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let venue_trades = sim.venue_trade_ids();
    let n = venue_trades.len();
    assert!(n >= ORDERS, "{venue_trades:?}");
    sim.handle.set_faults(&FaultPatch {
        expire_listen_keys: true,
        ..FaultPatch::default()
    });
    assert!(
        wait_until(&s, Duration::from_secs(25), |x| x.fills().len() >= n),
        "fills not recovered after the key expired: {:?}",
        seen(&s).events
    );
    // The new socket on the new key carries live events: a MARKET buy's
    // fill arrives by stream (not recovered).
    sw.market_buy.store(true, Ordering::Release);
    assert!(
        wait_until(&s, Duration::from_secs(20), |x| x
            .fills()
            .iter()
            .any(|f| !f.recovered)),
        "no live fill on the new socket: {:?}",
        seen(&s).events
    );
    std::thread::sleep(Duration::from_millis(300));
    let summary = stop(h);
    let s = seen(&s).clone();
    let recovered: Vec<i64> = s
        .fills()
        .iter()
        .filter(|f| f.recovered)
        .map(|f| f.trade_id)
        .collect();
    assert_eq!(recovered, venue_trades, "{:#?}", summary.events);
    let all: Vec<i64> = s.fills().iter().map(|f| f.trade_id).collect();
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates: {all:?}");
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("listenKey expired")),
        "{:#?}",
        summary.events
    );
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("reconciled (new listenKey)")
                || l.contains("reconciled (user stream reconnect)")),
        "{:#?}",
        summary.events
    );
    assert_eq!(summary.counters.recovered_fills, n as u64);
    assert_eq!(engine_position(&summary), sim.venue_position());
}

#[test]
fn fills_held_by_a_pass_still_running_at_stop_reach_the_strategy() {
    // A reconnect pass whose REST calls are slow holds the live stream's
    // fills back (so the strategy sees them after the missed ones). The
    // engine is stopped before the pass ends: the held fills must reach the
    // strategy before its on_stop, not only the journal after it.
    let sim = Sim::start(|_| {});
    // Hold longer than the test needs to observe it.
    let (h, s, _) = rested_holding(&sim, Duration::from_secs(20));
    let (tick, _) = sim.size();
    sim.handle.set_faults(&FaultPatch {
        response_delay_ms: Some(4_000),
        drop_ws: true,
        ..FaultPatch::default()
    });
    // The socket comes back and its pass starts (then waits on the venue).
    std::thread::sleep(Duration::from_millis(1_500));
    let px = scaled(sim.last_price(), "0.97", tick);
    sim.handle.with_venue_events(|v, now, out| {
        v.set_price(SYMBOL, Some(px), None, now, out)
            .unwrap_or_else(|e| panic!("set_price: {e:?}"))
    });
    let venue_trades = sim.venue_trade_ids();
    assert!(venue_trades.len() >= ORDERS, "{venue_trades:?}");
    // Delivered to the engine, held by the pass.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        seen(&s).fills().is_empty(),
        "fills were not held (the pass was not running?): {:?}",
        seen(&s).fills()
    );
    let summary = stop(h);
    let ids: Vec<i64> = seen(&s).fills().iter().map(|f| f.trade_id).collect();
    assert_eq!(ids, venue_trades, "{:#?}", summary.events);
    assert_eq!(engine_position(&summary), sim.venue_position());
}

#[test]
fn a_slow_pass_holds_live_fills_only_up_to_the_bound() {
    // The venue fills the resting orders while the engine hears nothing,
    // then the user socket drops and every REST reply takes 3 s: the
    // reconnect pass needs ~10 s. A live MARKET fill during it waits at most
    // the hold bound (300 ms), not for the pass; the missed fills follow,
    // recovered, and nothing is booked twice.
    let sim = Sim::start(|_| {});
    let (h, s, sw) = rested_holding(&sim, Duration::from_millis(300));
    let (tick, _) = sim.size();
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let missed = sim.venue_trade_ids();
    assert!(missed.len() >= ORDERS, "{missed:?}");
    sim.handle.set_faults(&FaultPatch {
        response_delay_ms: Some(3_000),
        drop_ws: true,
        ..FaultPatch::default()
    });
    std::thread::sleep(Duration::from_millis(800));
    let t0 = std::time::Instant::now();
    sw.market_buy.store(true, Ordering::Release);
    assert!(
        wait_until(&s, Duration::from_secs(3), |x| x
            .fills()
            .iter()
            .any(|f| !f.recovered)),
        "the live fill waited for the pass: {:?}",
        seen(&s).events
    );
    let live_after = t0.elapsed();
    assert!(
        seen(&s).fills().iter().all(|f| !f.recovered),
        "the pass had already finished; nothing was held: {:?}",
        seen(&s).fills()
    );
    let venue_trades = sim.venue_trade_ids();
    let n = venue_trades.len();
    assert_eq!(n, missed.len() + 1, "{venue_trades:?}");
    assert!(
        wait_until(&s, Duration::from_secs(30), |x| x.fills().len() >= n),
        "missed fills not recovered: {:?}",
        seen(&s).events
    );
    std::thread::sleep(Duration::from_millis(300));
    let summary = stop(h);
    let fills = seen(&s).fills();
    let mut ids: Vec<i64> = fills.iter().map(|f| f.trade_id).collect();
    ids.sort_unstable();
    assert_eq!(
        ids, venue_trades,
        "each venue fill once: {:#?}",
        summary.events
    );
    let recovered: Vec<i64> = fills
        .iter()
        .filter(|f| f.recovered)
        .map(|f| f.trade_id)
        .collect();
    assert_eq!(recovered, missed, "{:#?}", summary.events);
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("released (missed fills follow")),
        "{:#?}",
        summary.events
    );
    // The gap pass itself found them (from where the gap began, not from
    // the released live fill's newer trade id).
    let whole = format!("{} fill(s) recovered", missed.len());
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.starts_with("reconciled (user stream reconnect)") && l.contains(&whole)),
        "{:#?}",
        summary.events
    );
    assert_eq!(engine_position(&summary), sim.venue_position());
    eprintln!("live fill reached the strategy {live_after:?} after the order");
}

#[test]
fn a_keepalive_refused_by_a_5xx_is_asked_again_not_replaced() {
    // A 503 on the listenKey keepalive says nothing about the key (it is
    // valid for 60 minutes): the engine asks again instead of creating a
    // new key and reconciling behind it. Only -1125 means the key is gone.
    let sim = Sim::start(|_| {});
    let mut config = sim.config();
    config.engine.listen_key_keepalive = Duration::from_secs(1);
    let (_, qty) = sim.size();
    let (tick, _) = sim.size();
    let h = start(config, Rester::new(0, qty, tick));
    std::thread::sleep(Duration::from_millis(300));
    // Nothing else is sent while idle (sweeps off): the next REST call is
    // the keepalive.
    sim.handle.set_faults(&FaultPatch {
        server_error_next: Some(1),
        server_error_status: Some(503),
        ..FaultPatch::default()
    });
    std::thread::sleep(Duration::from_millis(2_500));
    let summary = stop(h);
    let ev = &summary.events;
    assert!(
        ev.iter()
            .any(|l| l.starts_with("listenKey keepalive failed") && l.contains("asking again")),
        "{ev:#?}"
    );
    assert!(
        !ev.iter().any(|l| l.contains("creating a new listenKey")),
        "{ev:#?}"
    );
    assert!(
        !ev.iter()
            .any(|l| l.starts_with("reconciling (new listenKey)")),
        "{ev:#?}"
    );
}
