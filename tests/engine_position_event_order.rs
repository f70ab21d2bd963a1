//! Positions stay right whichever order the venue sends a fill's events in.
//!
//! The docs do not fix the order of ACCOUNT_UPDATE and ORDER_TRADE_UPDATE
//! for one fill; client logs from the live venue show the account update
//! first. An engine that applies the update and then books the fill counts
//! every fill twice until the next update (and the last one for good). The
//! simulator can send either order (`[sim.venue] account_update_first`).

mod support;

use binance_exec::model::{Decimal, PositionSide};
use std::time::Duration;
use support::{Probe, Sim, Spec, instrument, start_probe, wait_until};

fn venue_position(sim: &Sim) -> Decimal {
    sim.handle.with_venue(|v| {
        v.ledger()
            .positions
            .iter()
            .filter(|p| p.account == 0 && p.symbol == "BTCUSDT" && p.position_side == "BOTH")
            .map(|p| p.amount)
            .next()
            .unwrap_or(Decimal::ZERO)
    })
}

fn three_market_buys(account_update_first: bool) {
    let sim = Sim::start(false, |s| {
        s.venue.account_update_first = account_update_first
    });
    let (tick, qty) = sim.size("BTCUSDT");
    let probe = Probe::new(instrument("BTCUSDT"), tick, vec![Spec::MarketBuy(qty); 3]);
    let seen = probe.seen.clone();
    let h = start_probe(sim.config("BTCUSDT", false), probe);
    let all_filled = wait_until(&seen, Duration::from_secs(20), |s| {
        s.events
            .iter()
            .filter(|e| matches!(e.kind, binance_exec::model::OrderEventKind::Filled(_)))
            .count()
            >= 3
    });
    // Longer than the engine's wait for a fill an update already includes.
    std::thread::sleep(Duration::from_millis(400));
    let summary = h.stop().unwrap_or_else(|e| panic!("engine: {e}"));
    assert!(all_filled, "three market buys filled");
    let venue = venue_position(&sim);
    let expect = Decimal::from_raw(qty.raw() * 3);
    assert_eq!(venue, expect, "the venue holds three buys");
    let engine = summary
        .positions
        .iter()
        .find(|p| p.symbol.as_str() == "BTCUSDT" && p.position_side == PositionSide::Both)
        .map(|p| p.amount)
        .unwrap_or(Decimal::ZERO);
    assert_eq!(
        engine, venue,
        "engine position (account_update_first = {account_update_first}): {:#?}",
        summary.positions
    );
    // No moment where the strategy was told more than the venue held.
    let s = seen.lock().unwrap_or_else(|e| e.into_inner());
    let most = s
        .positions
        .iter()
        .map(|p| p.amount)
        .max()
        .unwrap_or(Decimal::ZERO);
    assert_eq!(
        most, venue,
        "position events seen by the strategy: {:#?}",
        s.positions
    );
}

#[test]
fn account_update_after_the_fill() {
    three_market_buys(false);
}

#[test]
fn account_update_before_the_fill() {
    three_market_buys(true);
}
