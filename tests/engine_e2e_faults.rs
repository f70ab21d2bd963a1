//! FR-004 end to end: the venue misbehaves (rate limits, insufficient
//! margin, 5xx, unknown outcomes) and the engine must neither lose nor
//! duplicate an order. Also: a bad symbol fails start-up by name, and an ADL
//! fill reaches the strategy marked as such.

mod support;

use binance_exec::engine::Engine;
use binance_exec::model::{FillKind, OrderEventKind, Quantity};
use std::time::Duration;
use support::{Probe, Sim, Spec, filled, instrument, kinds_of, options, start_probe, wait_until};

const SYM: &str = "BTCUSDT";
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn rate_limit_backs_off_and_every_order_lands() {
    let sim = Sim::start(false, |s| s.server.limits.orders_per_10s = 2);
    let (tick, q) = sim.size(SYM);
    let probe = Probe::new(instrument(SYM), tick, vec![Spec::RestingBuy(q); 3]);
    let seen = probe.seen.clone();
    let h = start_probe(sim.config(SYM, false), probe);
    let all = wait_until(&seen, WAIT, |s| {
        s.sent.len() == 3
            && s.sent.iter().all(|id| {
                kinds_of(s, *id)
                    .iter()
                    .any(|k| matches!(k, OrderEventKind::Accepted))
            })
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(all, "not every order was accepted: {:?}", summary.events);
    let backoffs = summary.counters.rate_limit_backoffs;
    let noted = summary
        .events
        .iter()
        .any(|e| e.to_lowercase().contains("rate"));
    assert!(
        backoffs >= 1 || noted,
        "no backoff visible: {:?}",
        summary.counters
    );
    sim.handle.shutdown();
}

#[test]
fn insufficient_margin_is_skipped_and_the_engine_continues() {
    let sim = Sim::start(false, |s| {
        if let Some(a) = s.venue.accounts.first_mut() {
            a.balance = "50".parse().unwrap_or_default();
        }
    });
    let (tick, q) = sim.size(SYM);
    let huge = Quantity::parse("50").unwrap_or_default();
    let probe = Probe::new(
        instrument(SYM),
        tick,
        vec![Spec::MarketBuy(huge), Spec::RestingBuy(q)],
    );
    let seen = probe.seen.clone();
    let h = start_probe(sim.config(SYM, false), probe);
    let settled = wait_until(&seen, WAIT, |s| {
        s.sent.len() == 2
            && matches!(
                kinds_of(s, s.sent[0]).last(),
                Some(OrderEventKind::Rejected { .. })
            )
            && kinds_of(s, s.sent[1])
                .iter()
                .any(|k| matches!(k, OrderEventKind::Accepted))
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(settled, "events: {:?}", summary.events);
    assert!(
        summary.counters.skipped_insufficient_margin >= 1,
        "{:?}",
        summary.counters
    );
    sim.handle.shutdown();
}

#[test]
fn unknown_symbol_in_load_ids_fails_start_naming_it() {
    let sim = Sim::start(false, |_| {});
    let mut config = sim.config(SYM, false);
    config.instrument_provider.load_ids = vec![instrument("NOPEUSDT")];
    let probe = Probe::new(
        instrument("NOPEUSDT"),
        "0.1".parse().unwrap_or_default(),
        vec![],
    );
    match Engine::start(config, probe, options()) {
        Ok(h) => {
            let _ = h.stop();
            panic!("engine started with an unlisted symbol");
        }
        Err(e) => assert!(e.to_string().contains("NOPEUSDT"), "{e}"),
    }
    sim.handle.shutdown();
}

#[test]
fn server_error_is_retried_and_the_order_lands_once() {
    let sim = Sim::start(false, |_| {});
    let (_, q) = sim.size(SYM);
    let probe = sim.probe_with_faults(
        SYM,
        vec![Spec::MarketBuy(q)],
        r#"{"server_error_next":1,"server_error_status":502}"#,
    );
    let seen = probe.seen.clone();
    let h = start_probe(sim.config(SYM, false), probe);
    let done = wait_until(&seen, WAIT, |s| {
        s.sent.first().is_some_and(|id| filled(s, *id))
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(done, "order not filled: {:?}", summary.events);
    let id = s.sent[0];
    assert_eq!(
        sim.ledger_count(id.as_str()),
        1,
        "exactly one order at the venue"
    );
    let c = &summary.counters;
    assert!(c.retries + c.unknown_resolved >= 1, "{c:?}");
    sim.handle.shutdown();
}

#[test]
fn timeout_unknown_outcome_resolves_without_duplicate() {
    let sim = Sim::start(false, |_| {});
    let (_, q) = sim.size(SYM);
    let probe = sim.probe_with_faults(
        SYM,
        vec![Spec::RestingBuy(q)],
        r#"{"unknown_placed_next":1,"unknown_as_timeout":true}"#,
    );
    let seen = probe.seen.clone();
    let h = start_probe(sim.config(SYM, false), probe);
    let resolved = wait_until(&seen, WAIT, |s| {
        s.sent.first().is_some_and(|id| {
            kinds_of(s, *id).iter().any(|k| {
                matches!(
                    k,
                    OrderEventKind::Resolved { .. } | OrderEventKind::Accepted
                )
            })
        })
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(resolved, "never resolved: {:?}", summary.events);
    let id = s.sent[0];
    let kinds = kinds_of(&s, id);
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, OrderEventKind::StatusUnknown { code: -1007 })),
        "the -1007 must reach the strategy as unknown: {kinds:?} {:?}",
        summary.events
    );
    assert_eq!(
        sim.ledger_count(id.as_str()),
        1,
        "no duplicate at the venue"
    );
    assert!(
        summary.counters.unknown_resolved >= 1,
        "{:?}",
        summary.counters
    );
    sim.handle.shutdown();
}

#[test]
fn adl_fill_reaches_the_strategy_marked_adl() {
    let sim = Sim::start(false, |_| {});
    let (tick, q) = sim.size(SYM);
    let mut probe = Probe::new(instrument(SYM), tick, vec![Spec::MarketBuy(q)]);
    let control = sim.control.clone();
    probe.after_fill = Some(Box::new(move || {
        let _ = control.post("/sim/inject", r#"{"kind":"adl","symbol":"BTCUSDT"}"#);
    }));
    let seen = probe.seen.clone();
    let h = start_probe(sim.config(SYM, false), probe);
    let adl = wait_until(&seen, WAIT, |s| {
        s.events
            .iter()
            .any(|e| e.kind.fill().is_some_and(|f| f.kind == FillKind::Adl))
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        adl,
        "no ADL fill reached the strategy: {:?}",
        summary.events
    );
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    // The ADL closed the position the market order opened.
    let flat = s.positions.last().is_some_and(|p| p.amount.is_zero());
    assert!(flat, "positions: {:?}", s.positions);
    sim.handle.shutdown();
}
