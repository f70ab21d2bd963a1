//! The engine against bad venue input while orders are live: the
//! in-process simulator mangles stream frames, REST answers and WS-API
//! replies (its fault hooks, rotated), the soak's order mix keeps trading.
//! Every kind must be counted, the engine must keep running, and at the end
//! every order's state and every fill must agree with the venue's ledger —
//! nothing lost, nothing duplicated, nothing invented.

mod support;

use binance_exec::cli::demo::order_size;
use binance_exec::config::OrderEntry;
use binance_exec::engine::bad_input::BadKind;
use binance_exec::engine::{Engine, EngineOptions, EngineSummary};
use binance_exec::model::OrderEventKind;
use binance_exec::model::decimal::Decimal;
use binance_exec::model::{InstrumentId, Symbol};
use binance_exec::sim::transport::SimServer;
use binance_exec::sim::transport::faults::FaultPatch;
use binance_exec::soak::sim_run::{load_with_optional_keys, soak_sim_settings};
use binance_exec::soak::{
    Comparison, EngineView, MixSettings, SoakMix, SoakOptions, VenueView, compare,
};
use std::time::{Duration, Instant};
use support::{Probe, Sim, Spec, instrument, kinds_of, start_probe, wait_until};

const SYMBOL: &str = "BTCUSDT";

/// One fault to inject (a `POST /sim/faults` body) and the counter it must
/// move (`None`: input the engine must simply accept).
struct Step {
    patch: &'static str,
    counts: Option<BadKind>,
}

const fn step(patch: &'static str, counts: Option<BadKind>) -> Step {
    Step { patch, counts }
}

struct Outcome {
    summary: EngineSummary,
    comparison: Comparison,
    ran_by_itself: bool,
    submitted: usize,
}

/// Trades for `run_for` while injecting `steps` in rotation every
/// `every`, then drains, stops and audits against the ledger.
fn run(ws_api: bool, steps: &[Step], run_for: Duration, every: Duration, seed: u64) -> Outcome {
    let mut opts = SoakOptions::new(run_for);
    opts.faults = Vec::new();
    opts.seed = seed;
    let settings = soak_sim_settings(&opts);
    let sim = SimServer::start(&settings).expect("simulator starts");
    let (tick, qty) = order_size(&settings, SYMBOL).expect("symbol listed");
    // No periodic sweep during the run (the default is 30 s): what the
    // engine recovers, it recovers by reacting to the bad input itself.
    let optional: [String; 0] = [];
    let (mut config, _, _) =
        load_with_optional_keys(&sim, SYMBOL, &optional).expect("engine config");
    config.sim = Some(settings.clone());
    if ws_api {
        config.order_entry = OrderEntry::WsApi;
    }
    let instrument = InstrumentId::perp(Symbol::new(SYMBOL).expect("symbol"));
    let mix = SoakMix::new(MixSettings::new(instrument, qty, tick, seed));
    let shared = mix.shared();
    let eopts = EngineOptions {
        timer_interval: Some(Duration::from_millis(50)),
        ..EngineOptions::default()
    };
    let handle = Engine::start(config, mix, eopts).expect("engine starts");
    let start = Instant::now();
    // Faults stop 2 s before the end so the last ones settle while trading.
    let quiet = run_for.saturating_sub(Duration::from_secs(2));
    let mut ran_by_itself = false;
    for i in 0..10_000usize {
        if start.elapsed() >= run_for {
            break;
        }
        if handle.is_finished() {
            ran_by_itself = true;
            break;
        }
        if start.elapsed() < quiet {
            let s = &steps[i % steps.len()];
            let p: FaultPatch = sonic_rs::from_str(s.patch).expect("patch");
            sim.set_faults(&p);
        }
        std::thread::sleep(every);
    }
    sim.set_faults(&FaultPatch {
        clear: true,
        ..FaultPatch::default()
    });
    shared.start_draining();
    let drain = Instant::now();
    while !shared.is_drained() && drain.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        shared.is_drained(),
        "orders still live after 30 s of draining"
    );
    std::thread::sleep(Duration::from_millis(500));
    let summary = handle.stop().expect("engine stops cleanly");
    let log = std::mem::take(&mut *shared.log());
    let venue = VenueView::from_sim(&sim, 0);
    sim.shutdown();
    let comparison = compare(
        EngineView {
            submitted: &log.submitted,
            orders: &summary.orders,
            fills: &log.fills,
            positions: &summary.positions,
        },
        &venue,
    );
    Outcome {
        summary,
        comparison,
        ran_by_itself,
        submitted: log.submitted.len(),
    }
}

fn check(o: &Outcome, steps: &[Step]) {
    let c = &o.comparison;
    let b = &o.summary.counters.bad_input;
    let tail: Vec<&String> = o.summary.events.iter().rev().take(40).collect();
    let ctx = format!("{b:?}\n{c:?}\nlast events: {tail:#?}");
    eprintln!("bad input: {b:?}; orders checked {}", c.orders_checked);
    assert!(!o.ran_by_itself, "the engine stopped by itself: {ctx}");
    assert!(
        o.submitted > 50,
        "too little trading: {} {ctx}",
        o.submitted
    );
    for s in steps {
        if let Some(k) = s.counts {
            assert!(
                b.get(k) > 0,
                "{} not counted after {}: {ctx}",
                k.as_str(),
                s.patch
            );
        }
    }
    assert_eq!(c.lost, 0, "{ctx}");
    assert_eq!(c.duplicated_fills, 0, "{ctx}");
    assert_eq!(c.mismatches(), 0, "{ctx}");
    // Storms are rate-limited in the log, never in the counters.
    let logged = o
        .summary
        .events
        .iter()
        .filter(|e| e.starts_with("bad input ("))
        .count() as u64;
    assert!(logged >= 1 && logged <= b.total(), "{logged} lines: {ctx}");
}

#[test]
fn bad_frames_and_rest_replies_while_orders_are_live() {
    let steps = [
        step(
            r#"{"bad_frames_on":"user","corrupt_next_frames":1}"#,
            Some(BadKind::StreamFrame),
        ),
        step(
            r#"{"unknown_enum_next_frames":1}"#,
            Some(BadKind::UnknownEnum),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","truncated_reply_next":1}"#,
            Some(BadKind::OrderReply),
        ),
        step(
            r#"{"bad_frames_on":"user","unknown_event_next_frames":1}"#,
            Some(BadKind::UnknownEvent),
        ),
        step(
            r#"{"bad_frames_on":"user","missing_field_next_frames":1}"#,
            Some(BadKind::StreamFrame),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","html_502_next":1}"#,
            Some(BadKind::RestResponse),
        ),
        step(
            r#"{"bad_frames_on":"user","extra_fields_next_frames":1}"#,
            None,
        ),
        step(
            r#"{"bad_frames_on":"user","oversized_next_frames":1}"#,
            Some(BadKind::Oversized),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","wrong_shape_reply_next":1}"#,
            Some(BadKind::OrderReply),
        ),
        step(
            r#"{"bad_frames_on":"user","non_json_next_frames":1}"#,
            Some(BadKind::StreamFrame),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","bad_length_reply_next":1}"#,
            Some(BadKind::RestResponse),
        ),
        step(
            r#"{"bad_frames_on":"user","binary_next_frames":1}"#,
            Some(BadKind::StreamFrame),
        ),
        step(
            r#"{"bad_frames_on":"market","non_json_next_frames":2,"unknown_event_next_frames":1}"#,
            Some(BadKind::UnknownEvent),
        ),
        step(
            r#"{"bad_replies_to":"reads","html_502_next":1,"bad_length_reply_next":1}"#,
            Some(BadKind::RestResponse),
        ),
        step(r#"{"bad_frames_on":"user","at_limit_next_frames":1}"#, None),
    ];
    let o = run(
        false,
        &steps,
        Duration::from_secs(14),
        Duration::from_millis(300),
        21,
    );
    check(&o, &steps);
}

#[test]
fn bad_ws_api_replies_while_orders_are_live() {
    let steps = [
        step(
            r#"{"bad_replies_to":"order_writes","truncated_reply_next":1}"#,
            Some(BadKind::WsApiReply),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","wrong_shape_reply_next":1}"#,
            Some(BadKind::OrderReply),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","html_502_next":1}"#,
            Some(BadKind::WsApiReply),
        ),
        step(
            r#"{"bad_replies_to":"order_writes","bad_length_reply_next":1}"#,
            None,
        ),
    ];
    let o = run(
        true,
        &steps,
        Duration::from_secs(10),
        Duration::from_millis(400),
        22,
    );
    assert!(
        o.summary.counters.ws_api_order_requests > 0,
        "{:?}",
        o.summary.counters
    );
    check(&o, &steps);
}

/// Rests one buy, waits for its ack, arms `fault`, then moves the market
/// through the order so it fills. Returns the engine summary and what the
/// strategy saw, after waiting (bounded) for `done`.
fn fill_under_fault(
    fault: &str,
    done: impl FnMut(&support::Seen) -> bool,
) -> (bool, EngineSummary, support::Seen) {
    let sim = Sim::start(false, |_| {});
    let (tick, q) = sim.size(SYMBOL);
    let probe = Probe::new(instrument(SYMBOL), tick, vec![Spec::RestingBuy(q)]);
    let seen = probe.seen.clone();
    // The default config: no periodic sweep for 30 s, no silence check for
    // 60 s — whatever recovers the fill below is the reaction to the fault.
    let h = start_probe(sim.config(SYMBOL, false), probe);
    let acked = wait_until(&seen, Duration::from_secs(10), |s| {
        s.sent.len() == 1
            && kinds_of(s, s.sent[0])
                .iter()
                .any(|k| matches!(k, OrderEventKind::Accepted))
    });
    assert!(acked, "the order was never acknowledged");
    let price = sim.handle.with_venue(|v| {
        v.ledger()
            .orders
            .iter()
            .find(|o| o.status == "NEW")
            .map(|o| o.price)
    });
    let price = price.expect("resting order in the ledger");
    let p: FaultPatch = sonic_rs::from_str(fault).expect("patch");
    sim.handle.set_faults(&p);
    let through = price
        .checked_sub(Decimal::from_raw(price.raw() / 100))
        .expect("price");
    sim.control
        .post(
            "/sim/price",
            &format!(r#"{{"symbol":"{SYMBOL}","last":"{through}"}}"#),
        )
        .expect("price move");
    let ok = wait_until(&seen, Duration::from_secs(10), done);
    let summary = h.stop().expect("engine stops");
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    sim.handle.shutdown();
    (ok, summary, s)
}

fn fills_of(s: &support::Seen) -> usize {
    s.events
        .iter()
        .filter(|e| matches!(e.kind, OrderEventKind::Filled(_)))
        .count()
}

#[test]
fn a_fill_whose_events_were_all_unreadable_is_recovered_at_once() {
    // Every user frame of the fill (TRADE_LITE, ORDER_TRADE_UPDATE,
    // ACCOUNT_UPDATE) arrives as HTML: the fill exists only at the venue.
    let (ok, summary, s) = fill_under_fault(
        r#"{"bad_frames_on":"user","non_json_next_frames":3}"#,
        |s| fills_of(s) == 1,
    );
    let b = summary.counters.bad_input;
    assert!(ok, "fill not recovered: {b:?} {:#?}", summary.events);
    assert!(b.stream_frames >= 1, "{b:?}");
    assert!(
        summary.counters.reconciliations >= 1,
        "{:?}",
        summary.counters
    );
    assert_eq!(fills_of(&s), 1, "{:?}", s.events);
}

#[test]
fn an_unknown_status_never_moves_a_live_order_to_a_wrong_state() {
    let (ok, summary, s) = fill_under_fault(r#"{"unknown_enum_next_frames":1}"#, |s| {
        s.sent.len() == 1
            && kinds_of(s, s.sent[0])
                .iter()
                .any(|k| matches!(k, OrderEventKind::Filled(_)))
    });
    let b = summary.counters.bad_input;
    assert!(ok, "fill not seen: {b:?} {:#?}", summary.events);
    assert_eq!(b.unknown_enums, 1, "{b:?}");
    let kinds = kinds_of(&s, s.sent[0]);
    assert!(
        !kinds.iter().any(|k| matches!(
            k,
            OrderEventKind::Canceled
                | OrderEventKind::Expired { .. }
                | OrderEventKind::Rejected { .. }
        )),
        "{kinds:?}"
    );
    assert_eq!(fills_of(&s), 1, "{kinds:?}");
    let order = summary
        .orders
        .iter()
        .find(|o| o.client_id == s.sent[0])
        .expect("tracked");
    assert_eq!(order.state, binance_exec::model::OrderState::Filled);
}
