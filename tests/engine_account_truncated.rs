//! An ACCOUNT_UPDATE that lists more positions than the engine keeps inline
//! (`MAX_POSITION_CHANGES`), end to end against the in-process simulator
//! with 13 symbols loaded: the engine applies the positions it kept, reads
//! positionRisk for the rest (paced by the reconciliation budget), and
//! delivers every corrected position to the strategy exactly once. The
//! second update also closes the positions that fell off its list, which
//! positionRisk then no longer shows: they must end flat.

mod support;

use binance_exec::binance::events::MAX_POSITION_CHANGES;
use binance_exec::engine::{Context, Engine, EngineSummary, Strategy};
use binance_exec::model::{Decimal, InstrumentId, PositionEvent, PositionSide};
use binance_exec::sim::venue::PositionLeg;
use binance_exec::sim::venue::settings::SymbolSettings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Sim, instrument, options};

/// Symbols whose positions change in one update: more than the inline list.
const CHANGED: usize = MAX_POSITION_CHANGES + 3;
const WAIT: Duration = Duration::from_secs(15);

#[derive(Default)]
struct Recorder {
    started: Arc<AtomicBool>,
    positions: Arc<Mutex<Vec<PositionEvent>>>,
}

impl Strategy for Recorder {
    fn on_start<C: Context>(&mut self, _ctx: &mut C) {
        self.started.store(true, Ordering::Release);
    }
    fn on_position<C: Context>(&mut self, _ctx: &mut C, ev: &PositionEvent) {
        self.positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(*ev);
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn extra_symbols() -> Vec<SymbolSettings> {
    let eth = SymbolSettings::default_set()
        .into_iter()
        .find(|s| s.symbol == "ETHUSDT")
        .unwrap_or_default();
    (0..10)
        .map(|i| SymbolSettings {
            symbol: format!("X{i}USDT"),
            base_asset: format!("X{i}"),
            ..eth.clone()
        })
        .collect()
}

/// Events received for `symbol` since index `from`.
fn events_for(seen: &[PositionEvent], from: usize, symbol: &str) -> Vec<PositionEvent> {
    seen.iter()
        .skip(from)
        .filter(|e| e.symbol.as_str() == symbol)
        .copied()
        .collect()
}

/// Waits until the last event of each `(symbol, amount)` shows that amount.
fn wait_amounts(seen: &Arc<Mutex<Vec<PositionEvent>>>, from: usize, want: &[(String, Decimal)]) {
    let end = Instant::now() + WAIT;
    loop {
        let ok = {
            let s = seen.lock().unwrap_or_else(|e| e.into_inner());
            want.iter().all(|(sym, amt)| {
                events_for(&s, from, sym)
                    .last()
                    .is_some_and(|e| e.amount == *amt)
            })
        };
        if ok {
            return;
        }
        if Instant::now() >= end {
            let s = seen.lock().unwrap_or_else(|e| e.into_inner());
            panic!(
                "positions not corrected within {WAIT:?}: want {want:?}, got {:?}",
                s.iter().skip(from).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn legs(symbols: &[String], amounts: &[Decimal]) -> Vec<PositionLeg> {
    symbols
        .iter()
        .zip(amounts)
        .map(|(s, a)| PositionLeg {
            symbol: s.clone(),
            position_side: PositionSide::Both,
            amount: *a,
            entry_price: dec("2401.5"),
        })
        .collect()
}

#[test]
fn truncated_account_update_is_completed_from_position_risk() {
    let sim = Sim::start(false, |s| s.venue.symbols.extend(extra_symbols()));
    let symbols: Vec<String> = sim
        .settings
        .venue
        .symbols
        .iter()
        .map(|s| s.symbol.clone())
        // BTCUSDT stays untouched; 币安人生USDT trades whole units.
        .filter(|s| s.ends_with("USDT") && s.is_ascii() && s != "BTCUSDT")
        .take(CHANGED)
        .collect();
    assert_eq!(symbols.len(), CHANGED);
    let mut config = sim.config("BTCUSDT", false);
    config.instrument_provider.load_ids = sim
        .settings
        .venue
        .symbols
        .iter()
        .map(|s| instrument(&s.symbol))
        .collect::<Vec<InstrumentId>>();
    let rec = Recorder::default();
    let (started, seen) = (rec.started.clone(), rec.positions.clone());
    let handle = Engine::start(config, rec, options()).unwrap_or_else(|e| panic!("start: {e}"));
    let end = Instant::now() + WAIT;
    while !started.load(Ordering::Acquire) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(started.load(Ordering::Acquire), "strategy never started");
    // The user stream is subscribed before on_start; give its socket a beat.
    std::thread::sleep(Duration::from_millis(300));

    // 1. Open CHANGED positions in one update: only the first
    //    MAX_POSITION_CHANGES fit the inline list.
    let first: Vec<Decimal> = (1..=CHANGED)
        .map(|i| {
            let a = dec(&format!("0.{i:03}"));
            if i % 2 == 0 {
                Decimal::ZERO.checked_sub(a).unwrap_or(a)
            } else {
                a
            }
        })
        .collect();
    let from = seen.lock().unwrap_or_else(|e| e.into_inner()).len();
    sim.handle
        .with_venue_events(|v, now, out| {
            v.set_positions(0, &legs(&symbols, &first), "ADJUSTMENT", now, out)
        })
        .unwrap_or_else(|e| panic!("set_positions: {e}"));
    let want: Vec<(String, Decimal)> = symbols.iter().cloned().zip(first.iter().copied()).collect();
    wait_amounts(&seen, from, &want);
    {
        let s = seen.lock().unwrap_or_else(|e| e.into_inner());
        for sym in &symbols {
            let n = events_for(&s, from, sym).len();
            assert_eq!(n, 1, "{sym}: delivered {n} times, want once");
        }
    }

    // 2. Change the first MAX_POSITION_CHANGES and close the rest, again in
    //    one update: the closed ones fall off the inline list and off
    //    positionRisk (it lists open positions only).
    let second: Vec<Decimal> = (0..CHANGED)
        .map(|i| {
            if i < MAX_POSITION_CHANGES {
                dec(&format!("0.{:03}", 100 + i))
            } else {
                Decimal::ZERO
            }
        })
        .collect();
    let from = seen.lock().unwrap_or_else(|e| e.into_inner()).len();
    sim.handle
        .with_venue_events(|v, now, out| {
            v.set_positions(0, &legs(&symbols, &second), "ADJUSTMENT", now, out)
        })
        .unwrap_or_else(|e| panic!("set_positions: {e}"));
    let want: Vec<(String, Decimal)> = symbols
        .iter()
        .cloned()
        .zip(second.iter().copied())
        .collect();
    wait_amounts(&seen, from, &want);

    let summary: EngineSummary = handle.stop().unwrap_or_else(|e| panic!("engine: {e}"));
    // The engine's final positions equal the venue's, leg by leg.
    let ledger = sim.handle.with_venue(|v| v.ledger());
    for p in ledger.positions.iter().filter(|p| p.account == 0) {
        let mine = summary
            .positions
            .iter()
            .find(|e| e.symbol.as_str() == p.symbol && e.position_side.as_str() == p.position_side)
            .unwrap_or_else(|| panic!("engine has no position for {}", p.symbol));
        assert_eq!(mine.amount, p.amount, "{}", p.symbol);
        if !p.amount.is_zero() {
            assert_eq!(mine.entry_price.value(), p.entry_price, "{}", p.symbol);
        }
    }
    for e in summary.positions.iter().filter(|e| !e.amount.is_zero()) {
        assert!(
            ledger
                .positions
                .iter()
                .any(|p| p.account == 0 && p.symbol == e.symbol.as_str() && p.amount == e.amount),
            "engine holds {} {} the venue does not",
            e.symbol,
            e.amount
        );
    }
    assert!(
        summary
            .events
            .iter()
            .any(|l| l.contains("beyond the inline lists")),
        "truncation not noted: {:?}",
        summary.events
    );
    // Both updates were completed by one positionRisk read each, which
    // corrected exactly the positions that fell off the inline list.
    let reads: Vec<&String> = summary
        .events
        .iter()
        .filter(|l| l.starts_with("positionRisk read"))
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    let fixed = CHANGED - MAX_POSITION_CHANGES;
    assert!(
        reads
            .iter()
            .all(|l| l.contains(&format!(": {fixed} position(s) corrected"))),
        "{reads:?}"
    );
    sim.handle.shutdown();
}
