//! The periodic open-order sweep, "unknown order" answers to cancels, and
//! reconciliation pacing, against the in-process simulator. Bounded in time.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use binance_exec::model::{OrderEventKind, OrderState};
use binance_exec::sim::transport::faults::FaultPatch;
use support::recover::*;

#[test]
fn order_cancelled_behind_the_engines_back_is_found_by_the_sweep() {
    let sim = Sim::start(|_| {});
    let (tick, qty) = sim.size();
    let strategy = Rester::new(2, qty, tick);
    let s = strategy.seen.clone();
    let mut config = sim.config();
    config.engine.reconcile_interval = Duration::from_secs(1);
    let h = start(config, strategy);
    assert!(wait_until(&s, Duration::from_secs(20), |x| x.accepted() == 2));
    let victim = seen(&s).sent[0];
    assert_eq!(sim.cancel_silently(victim.as_str()), 200);
    let found = wait_until(&s, Duration::from_secs(10), |x| {
        x.kinds_of(victim).iter().any(|k| {
            matches!(
                k,
                OrderEventKind::Resolved {
                    state: OrderState::Canceled,
                    ..
                }
            )
        })
    });
    let summary = stop(h);
    assert!(
        found,
        "{:?}\n{:#?}",
        seen(&s).kinds_of(victim),
        summary.events
    );
    let o = summary
        .orders
        .iter()
        .find(|o| o.client_id == victim)
        .expect("order in summary");
    assert_eq!(o.state, OrderState::Canceled);
    // The other order is untouched.
    let other = seen(&s).sent[1];
    let o2 = summary
        .orders
        .iter()
        .find(|o| o.client_id == other)
        .expect("order");
    assert_eq!(o2.state, OrderState::Accepted);
    assert!(
        summary.counters.reconcile_fixes >= 1,
        "{:?}",
        summary.counters
    );
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("reconciled (periodic sweep)")),
        "{:#?}",
        summary.events
    );
}

#[test]
fn cancel_answered_unknown_order_for_a_filled_order_recovers_the_fill() {
    let sim = Sim::start(|_| {});
    let (tick, qty) = sim.size();
    let strategy = Rester::new(1, qty, tick);
    let s = strategy.seen.clone();
    let sw = strategy.switches.clone();
    let h = start(sim.config(), strategy);
    assert!(wait_until(&s, Duration::from_secs(20), |x| x.accepted() == 1));
    let id = seen(&s).sent[0];
    // Filled at the venue, the engine never told; then the strategy cancels
    // and the venue answers -2011.
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let trades = sim.venue_trade_ids();
    assert!(!trades.is_empty());
    sw.cancel_all.store(true, Ordering::Release);
    let filled = wait_until(&s, Duration::from_secs(15), |x| {
        x.kinds_of(id)
            .iter()
            .any(|k| matches!(k, OrderEventKind::Filled(_)))
    });
    std::thread::sleep(Duration::from_millis(200));
    let summary = stop(h);
    let kinds = seen(&s).kinds_of(id);
    assert!(filled, "{kinds:?}\n{:#?}", summary.events);
    assert!(
        !kinds.iter().any(|k| matches!(
            k,
            OrderEventKind::Canceled
                | OrderEventKind::CancelRejected { .. }
                | OrderEventKind::Resolved {
                    state: OrderState::Canceled,
                    ..
                }
        )),
        "never reported cancelled or refused: {kinds:?}"
    );
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("-2011") && l.contains("re-querying")),
        "{:#?}",
        summary.events
    );
    let o = summary
        .orders
        .iter()
        .find(|o| o.client_id == id)
        .expect("order");
    assert_eq!(o.state, OrderState::Filled);
    assert_eq!(summary.counters.recovered_fills, trades.len() as u64);
    assert_eq!(engine_position(&summary), sim.venue_position());
}

#[test]
fn fifty_open_orders_reconcile_under_a_tight_weight_limit_without_a_429() {
    const N: usize = 50;
    // 300 weight per minute: the start-up (~45) plus a per-order
    // reconciliation (50 queries + 50 userTrades at 5 = 300) would be
    // refused; a paced, per-symbol one fits.
    let sim = Sim::start(|s| {
        s.server.limits.weight_per_minute = 300;
        s.server.limits.ban_after_429s = 1;
    });
    let (tick, qty) = sim.size();
    let strategy = Rester::new(N, qty, tick);
    let s = strategy.seen.clone();
    let h = start(sim.config(), strategy);
    assert!(
        wait_until(&s, Duration::from_secs(30), |x| x.accepted() == N),
        "{:?}",
        seen(&s).submit_errors
    );
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let trades = sim.venue_trade_ids();
    assert!(trades.len() >= N);
    sim.handle.set_faults(&FaultPatch {
        drop_ws: true,
        ..FaultPatch::default()
    });
    let done = wait_until(&s, Duration::from_secs(40), |x| {
        x.fills().len() >= trades.len()
    });
    let summary = stop(h);
    assert!(done, "{:#?}", summary.events);
    let refused: Vec<&String> = summary
        .events
        .iter()
        .filter(|l| l.contains("-1003") || l.contains("429") || l.contains("418"))
        .collect();
    assert!(refused.is_empty(), "the venue refused: {refused:#?}");
    assert_eq!(summary.counters.recovered_fills, trades.len() as u64);
    assert_eq!(engine_position(&summary), sim.venue_position());
}

#[test]
fn silence_on_the_user_stream_with_open_orders_triggers_reconciliation() {
    let sim = Sim::start(|_| {});
    let (tick, qty) = sim.size();
    let strategy = Rester::new(1, qty, tick);
    let s = strategy.seen.clone();
    let mut config = sim.config();
    config.engine.user_stream_silence = Duration::from_secs(1);
    let h = start(config, strategy);
    assert!(wait_until(&s, Duration::from_secs(20), |x| x.accepted() == 1));
    let id = seen(&s).sent[0];
    // The order fills while the stream says nothing (a half-dead socket).
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    let filled = wait_until(&s, Duration::from_secs(10), |x| {
        x.kinds_of(id)
            .iter()
            .any(|k| matches!(k, OrderEventKind::Filled(f) if f.recovered))
    });
    let summary = stop(h);
    assert!(filled, "{:#?}", summary.events);
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("reconciled (user stream silence)")),
        "{:#?}",
        summary.events
    );
    assert_eq!(summary.counters.reconnects, 0, "no reconnect involved");
    assert_eq!(engine_position(&summary), sim.venue_position());
}
