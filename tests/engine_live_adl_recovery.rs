//! An ADL fill the venue makes during a user-stream gap, while the engine
//! runs, is recovered by the reconnect's reconciliation pass as what it is:
//! `userTrades` has no client id, so the engine asks the venue whose order
//! the trade is (`adl_autoclose`), delivers it once to the strategy as a
//! recovered ADL fill under that id, and journals it. Bounded waits.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use binance_exec::engine::journal::read_journal;
use binance_exec::model::{FillKind, OrderEventKind, PositionSide};
use binance_exec::sim::transport::faults::FaultPatch;
use binance_exec::sim::venue::Outbox;
use binance_exec::sim::venue::control::AdlStyle;
use support::recover::*;

fn adl_fills(s: &Seen) -> Vec<binance_exec::model::Fill> {
    s.events
        .iter()
        .filter_map(|e| match e.kind {
            OrderEventKind::ExternalFill(f) if f.trade_id != 0 => Some(f),
            _ => None,
        })
        .collect()
}

#[test]
fn an_adl_fill_missed_in_a_stream_gap_is_delivered_once_as_adl_and_journaled() {
    let sim = Sim::start(|_| {});
    let dir = std::env::temp_dir().join(format!("bx-live-adl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let journal = dir.join("engine.journal");
    let mut config = sim.config();
    config.engine.journal_path = Some(journal.clone());
    let (tick, qty) = sim.size();
    let strategy = Rester::new(1, qty, tick);
    let s = strategy.seen.clone();
    let sw = strategy.switches.clone();
    let h = start(config, strategy);
    // A resting buy, then a position (and a booked trade) from a MARKET buy.
    assert!(
        wait_until(&s, Duration::from_secs(20), |x| x.accepted() == 1),
        "resting order not acked: {:?}",
        seen(&s)
    );
    sw.market_buy.store(true, Ordering::Release);
    assert!(
        wait_until(&s, Duration::from_secs(20), |x| x.fills().len() == 1),
        "MARKET buy not filled: {:?}",
        seen(&s)
    );

    // The engine hears nothing while the venue deleverages the position and
    // the resting buy fills …
    let adl_order = sim.handle.with_venue(|v| {
        let mut out = Outbox::default();
        v.inject_adl(
            0,
            SYMBOL,
            PositionSide::Both,
            Some(qty.value()),
            None,
            AdlStyle::Calculated,
            now_ms(),
            &mut out,
        )
        .unwrap_or_else(|e| panic!("inject ADL: {e}"))
    });
    sim.move_price_silently(scaled(sim.last_price(), "0.97", tick));
    // … then its user socket drops: the reconnect's pass reads userTrades.
    sim.handle.set_faults(&FaultPatch {
        drop_ws: true,
        ..FaultPatch::default()
    });
    let done = wait_until(&s, Duration::from_secs(25), |x| {
        x.fills().len() == 2 && !adl_fills(x).is_empty()
    });
    // Give a late stream copy (there is none: its events were dropped) or a
    // second booking a chance to show up.
    std::thread::sleep(Duration::from_millis(300));
    let summary = stop(h);
    let seen_now = seen(&s).clone();
    assert!(done, "not recovered: {seen_now:?}\n{:#?}", summary.events);
    let adl = adl_fills(&seen_now);
    assert_eq!(adl.len(), 1, "delivered once: {adl:?}");
    let f = adl[0];
    assert_eq!(f.kind, FillKind::Adl, "{f:?}");
    assert!(f.recovered, "{f:?}");
    assert_eq!(f.client_id.as_str(), "adl_autoclose", "{f:?}");
    assert_eq!(f.venue_order_id, adl_order, "{f:?}");
    let replay = read_journal(&journal).unwrap_or_else(|e| panic!("journal: {e}"));
    assert!(
        replay.has_fill(f.instrument.symbol, f.trade_id, f.client_id),
        "ADL fill not journaled"
    );
    assert_eq!(replay.duplicate_fills, 0);
    assert_eq!(engine_position(&summary), sim.venue_position());
    let _ = std::fs::remove_dir_all(&dir);
}
