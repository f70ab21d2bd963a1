//! An ADL fill the venue makes while the engine is down is not lost: at the
//! next start the engine finds the trade in `userTrades`, asks the venue
//! which order it belongs to (the venue's own `adl_autoclose`), delivers it
//! to the strategy once as a recovered ADL fill and journals it, so a third
//! start does not deliver it again. Bounded waits throughout.

mod support;

use binance_exec::engine::journal::read_journal;
use binance_exec::model::{FillKind, OrderEvent, OrderEventKind, PositionSide};
use binance_exec::sim::venue::control::AdlStyle;
use std::time::Duration;
use support::{Probe, Sim, Spec, instrument, start_probe, wait_until};

const SYM: &str = "BTCUSDT";

fn adl_fills(events: &[OrderEvent]) -> Vec<(i64, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            OrderEventKind::ExternalFill(f) if f.kind == FillKind::Adl => {
                Some((f.trade_id, f.recovered))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn adl_fill_made_while_down_is_recovered_once_at_restart() {
    let sim = Sim::start(false, |_| {});
    let (tick, q) = sim.size(SYM);
    let dir = std::env::temp_dir().join(format!("bx-restart-adl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let journal = dir.join("engine.journal");
    let config = || {
        let mut c = sim.config(SYM, false);
        c.engine.journal_path = Some(journal.clone());
        c.engine.cancel_all_on_shutdown = false;
        c
    };

    // 1. Open a position, stop cleanly.
    let probe = Probe::new(instrument(SYM), tick, vec![Spec::MarketBuy(q)]);
    let seen = probe.seen.clone();
    let h = start_probe(config(), probe);
    assert!(
        wait_until(&seen, Duration::from_secs(10), |s| s
            .events
            .iter()
            .any(|e| matches!(e.kind, OrderEventKind::Filled(_)))),
        "the MARKET order did not fill"
    );
    h.stop().unwrap_or_else(|e| panic!("stop: {e}"));

    // 2. While the engine is down the venue deleverages the position.
    let adl_order = sim
        .handle
        .with_venue_events(|v, now, out| {
            v.inject_adl(
                0,
                SYM,
                PositionSide::Both,
                None,
                None,
                AdlStyle::Calculated,
                now,
                out,
            )
        })
        .unwrap_or_else(|e| panic!("inject ADL: {e}"));

    // 3. The next start delivers it once, as a recovered ADL fill.
    let probe = Probe::new(instrument(SYM), tick, vec![]);
    let seen = probe.seen.clone();
    let h = start_probe(config(), probe);
    let got = wait_until(&seen, Duration::from_secs(10), |s| {
        !adl_fills(&s.events).is_empty()
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(got, "no ADL fill at restart: {:#?}", summary.events);
    let fills = adl_fills(&seen.lock().unwrap_or_else(|e| e.into_inner()).events);
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert!(fills[0].1, "marked recovered");
    let journaled = read_journal(&journal).unwrap_or_else(|e| panic!("journal: {e}"));
    assert!(
        journaled.has_fill(
            SYM.parse().unwrap_or_else(|e| panic!("{e}")),
            fills[0].0,
            "adl_autoclose".parse().unwrap_or_else(|e| panic!("{e}"))
        ),
        "ADL fill (order {adl_order}) not journaled"
    );

    // 4. A third start has nothing new to deliver.
    let probe = Probe::new(instrument(SYM), tick, vec![]);
    let seen = probe.seen.clone();
    let h = start_probe(config(), probe);
    std::thread::sleep(Duration::from_millis(500));
    h.stop().unwrap_or_else(|e| panic!("stop: {e}"));
    let again = adl_fills(&seen.lock().unwrap_or_else(|e| e.into_inner()).events);
    assert!(again.is_empty(), "delivered again: {again:?}");
    sim.handle.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
